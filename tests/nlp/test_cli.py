from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlp.cli import cli

REVIEWS = [
    ("a1", "Livraison rapide mais le SAV ne répond jamais"),
    ("a2", "Great crew but the seat was broken"),
    ("a3", "Très bon accueil en agence, je recommande"),
]


def write_csv(path: Path, delimiter: str, encoding: str) -> Path:
    lines = [delimiter.join(["ref", "avis", "note"])]
    lines += [delimiter.join([ref, f'"{text}"', "3"]) for ref, text in REVIEWS]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("delimiter", "encoding"), [(",", "utf-8"), (";", "cp1252"), (";", "utf-8-sig")])
def test_analyze_csv_writes_one_line_per_row(
    tmp_path: Path, tiny_model_dir: Path, delimiter: str, encoding: str
) -> None:
    source = write_csv(tmp_path / "reviews.csv", delimiter, encoding)
    output = tmp_path / "out.jsonl"
    code, _, err = run(
        [
            "analyze",
            str(source),
            "--text-column",
            "avis",
            "--id-column",
            "ref",
            "-o",
            str(output),
            "--model",
            str(tiny_model_dir),
        ]
    )
    assert code == 0, err
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["a1", "a2", "a3"]
    for line, (_, text) in zip(lines, REVIEWS, strict=True):
        assert set(line) == {"id", "language", "segments", "mentions"}
        for segment in line["segments"]:
            assert text[segment["start"] : segment["end"]] == segment["text"]
            assert set(segment) >= {
                "stage",
                "stage_score",
                "touchpoint",
                "touchpoint_score",
                "sentiment",
                "polarity",
                "emotion",
                "emotion_score",
            }
        for mention in line["mentions"]:
            assert set(mention) == {
                "stage",
                "touchpoint",
                "polarity",
                "sentiment",
                "emotion",
                "start",
                "end",
                "confidence",
            }
    assert "3 rows analysed, 0 rejected" in err


def test_analyze_jsonl_to_stdout_with_row_numbers(tmp_path: Path, tiny_model_dir: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps({"text": t}) for _, t in REVIEWS), encoding="utf-8")
    code, out, err = run(["analyze", str(source), "--model", str(tiny_model_dir)])
    assert code == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["1", "2", "3"]


def test_bad_rows_are_reported_and_valid_rows_still_analysed(tmp_path: Path, tiny_model_dir: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_bytes(
        "id,avis\n1,Très bon service\n2,\n3,café ok, déjà vu\n".encode()
        + b"4,bad \xff\xfe bytes here\n"
        + "5,Colis reçu en retard\n".encode()
    )
    output = tmp_path / "out.jsonl"
    code, _, err = run(["analyze", str(source), "-o", str(output), "--model", str(tiny_model_dir)])
    assert code == 1
    analysed = [json.loads(line) for line in output.read_text().splitlines()]
    assert [a["id"] for a in analysed] == ["1", "3", "5"]
    assert analysed[1]["segments"][-1]["text"].endswith("déjà vu")  # unquoted comma in the last column kept
    assert f"{source}:3 (column 'avis'): empty text; row skipped" in err
    assert f"{source}:5 (column 'avis'): non-text bytes" in err
    assert "3 rows analysed, 2 rejected" in err


def test_missing_column_is_a_clear_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    source = write_csv(tmp_path / "reviews.csv", ",", "utf-8")
    code, _, err = run(["analyze", str(source), "--text-column", "comment", "--model", str(tiny_model_dir)])
    assert code == 2
    assert "No column 'comment' for the text. Available columns: ref, avis, note" in err


def test_installed_command_runs_with_the_shipped_model(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "reviews.csv", ";", "cp1252")
    output = tmp_path / "out.jsonl"
    command = Path(sys.executable).with_name("parcours")
    completed = subprocess.run(
        [str(command), "analyze", str(source), "--text-column", "avis", "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    first = json.loads(output.read_text(encoding="utf-8").splitlines()[0])
    assert [m["polarity"] for m in first["mentions"]] == ["delight", "irritant"]
    assert first["mentions"][1]["stage"] == "support"


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(tmp_path: Path, tiny_model_dir: Path) -> None:
    """`analyze` draws its progress on stderr when stderr is a terminal, and keeps logs clean otherwise."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    source = write_csv(tmp_path / "reviews.csv", ",", "utf-8")
    command = [sys.executable, "-c", "from nlp.cli import main; main()", "analyze", str(source), "--text-column"]
    command += ["avis", "--model", str(tiny_model_dir), "-o", str(tmp_path / "out.jsonl")]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a new pty is 0 columns wide
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(120) == 0, shown.decode(errors="replace")
    assert "analysing: 3 rows" in shown.decode(errors="replace")
    piped = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert piped.returncode == 0 and "analysing" not in piped.stderr
    assert "3 rows analysed, 0 rejected" in piped.stderr
