"""Time the CSV reader on hostile files at growing sizes: the cost must grow linearly with the file.

    python scripts/bench_hostile_csv.py                  # 1k, 10k, 100k rows; report in reports/bench_hostile_csv.json

Each shape is generated in memory at each size and read in full with `nlp.readers.read_csv` (best of
`--repeats`, 5); `open_seconds` is the header check the upload request does. `ratio` is the time of a size over
the time of the size before it: about the ratio of the sizes (10) when the cost is linear, 100 if quadratic.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from nlp.readers import CsvExport, FeedbackRow, read_csv  # noqa: E402
from scripts.benchlib import write_report  # noqa: E402

HEADER = "id,date,note,avis"


def _row(i: int) -> str:
    return f'R{i},2026-05-{1 + i % 28:02d},{1 + i % 5},"Avis {i} : accueil aimable, dossier réglé; merci ""top"""'


def clean(rows: int) -> str:
    """A well-formed export, every text quoted: the baseline."""
    return "\n".join([HEADER, *(_row(i) for i in range(rows))]) + "\n"


def stray_quote_line_2(rows: int) -> str:
    """Unquoted texts and one quote opened on line 2 that never closes (the issue's 1-row-of-1,001 file)."""
    lines = [HEADER, '0,2026-05-01,3,"Avis sans fin'] + [f"R{i},2026-05-01,4,Avis {i} aimable" for i in range(1, rows)]
    return "\n".join(lines) + "\n"


def stray_quote_every_100_lines(rows: int) -> str:
    """Quoted texts with a stray quote every 100 rows: each closes on the next line with text after it."""
    lines = [HEADER] + [_row(i) if i % 100 else f'R{i},2026-05-01,3,"stray' for i in range(rows)]
    return "\n".join(lines) + "\n"


def every_line_opens_a_quote(rows: int) -> str:
    """Every row opens a quote that never closes on its line: each one is a stray quote."""
    return "\n".join([HEADER, *(f'R{i},2026-05-01,3,"Avis {i}' for i in range(rows))]) + "\n"


def nul_every_1000_lines(rows: int) -> str:
    """A clean export with a NUL byte in one row of every thousand (the first at byte ~100)."""
    lines = [HEADER] + [_row(i).replace("Avis", "Av\x00is") if i % 1000 == 1 else _row(i) for i in range(rows)]
    return "\n".join(lines) + "\n"


def one_unclosed_field(rows: int) -> str:
    """Line 2 opens a quoted field that runs to the end of the file, no line end (~60 bytes a row)."""
    return HEADER + "\n" + '0,2026-05-01,3,"' + "mot " * (15 * rows)


SHAPES: dict[str, Callable[[int], str]] = {
    f.__name__: f
    for f in (
        clean,
        stray_quote_line_2,
        stray_quote_every_100_lines,
        every_line_opens_a_quote,
        nul_every_1000_lines,
        one_unclosed_field,
    )
}


def measure(data: bytes, repeats: int) -> dict[str, float | int]:
    """Read `data` in full `repeats` times; return the best times and what was read."""
    best_open, best_read, kept, errors = float("inf"), float("inf"), 0, 0
    for _ in range(repeats):
        started = time.perf_counter()
        CsvExport.open(io.BytesIO(data))
        best_open = min(best_open, time.perf_counter() - started)
        started = time.perf_counter()
        records = list(read_csv(io.BytesIO(data)))
        best_read = min(best_read, time.perf_counter() - started)
        kept = sum(isinstance(r, FeedbackRow) for r in records)
        errors = len(records) - kept
    return {
        "mb": round(len(data) / 1024**2, 2),
        "open_seconds": round(best_open, 4),
        "seconds": round(best_read, 4),
        "rows_kept": kept,
        "row_errors": errors,
        "records_per_second": round((kept + errors) / best_read) if kept + errors else 0,
        "mb_per_second": round(len(data) / 1024**2 / best_read, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Run every shape at every size and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench_hostile_csv.json")
    args = parser.parse_args(argv)

    shapes: dict[str, dict[str, object]] = {}
    runs = [(name, size) for name in SHAPES for size in args.sizes]
    for name, size in tqdm(runs, desc="hostile CSV", unit="file"):
        figures = measure(SHAPES[name](size).encode(), args.repeats)
        sizes = shapes.setdefault(name, {"doc": (SHAPES[name].__doc__ or "").strip(), "rows": {}})
        by_rows: dict[str, dict[str, float | int]] = sizes["rows"]  # type: ignore[assignment]
        previous = by_rows.get(str(args.sizes[args.sizes.index(size) - 1])) if args.sizes.index(size) else None
        if previous:
            figures["ratio"] = round(float(figures["seconds"]) / max(float(previous["seconds"]), 1e-9), 2)
        by_rows[str(size)] = figures
    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),  # timings are noisy on a loaded machine
        "sizes": args.sizes,
        "size_ratio": [b / a for a, b in zip(args.sizes, args.sizes[1:], strict=False)],
        "shapes": shapes,
    }
    write_report(args.report, report)


if __name__ == "__main__":
    main()
