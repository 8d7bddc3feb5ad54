"""Hostile CSV exports: every valid row around a broken line is kept, with the file's own line numbers.

Small files live in tests/data/hostile/ (see its README); big ones are generated here. No timing is asserted:
bounded work is checked by how far into the file reading had to go.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from nlp.csv_records import MAX_LINE_CHARS, MAX_RECORD_LINES
from nlp.errors import InputError
from nlp.readers import SAMPLE_BYTES, CsvExport, FeedbackRow, RowError, detect_delimiter, read_csv

CORPUS = Path(__file__).resolve().parent.parent / "data" / "hostile"


def read(data: bytes) -> tuple[list[FeedbackRow], list[RowError]]:
    records = list(read_csv(io.BytesIO(data)))
    return [r for r in records if isinstance(r, FeedbackRow)], [r for r in records if isinstance(r, RowError)]


def export(rows: int, *, delimiter: str = ",", quoted: bool = False, end: str = "\n") -> list[str]:
    """The lines of an export: header `id,avis,note`, then row i on line i + 1."""
    lines = [delimiter.join(["id", "avis", "note"])]
    for i in range(1, rows + 1):
        text = f"Avis {i}, conseiller aimable; rapide | merci" if quoted else f"Avis {i} conseiller aimable"
        lines.append(delimiter.join([f"r{i}", f'"{text}"' if quoted else text, str(1 + i % 5)]))
    return lines


def joined(lines: list[str], end: str = "\n") -> bytes:
    return (end.join(lines) + end).encode()


@pytest.mark.parametrize("quoted", [False, True], ids=["unquoted", "quoted"])
def test_a_stray_quote_on_line_2_of_1001_rows_keeps_the_other_1000(quoted: bool) -> None:
    lines = export(1001, quoted=quoted)
    lines[1] = 'r1,"Avis sans guillemet fermant,3'
    rows, errors = read(joined(lines))
    assert [(e.line, e.reason.split(":")[0]) for e in errors] == [(2, "stray quote")]
    assert "line 2" in errors[0].reason
    assert len(rows) == 1000
    assert [(r.line, r.id) for r in rows[:2]] == [(3, "r2"), (4, "r3")]
    assert (rows[-1].line, rows[-1].id, rows[-1].text[:9]) == (1002, "r1001", "Avis 1001")


def test_a_stray_quote_in_the_middle_keeps_the_rows_after_it() -> None:
    lines = export(1001)
    lines[499] = 'r499,"Avis 499 sans fin,3'
    rows, errors = read(joined(lines))
    assert [e.line for e in errors] == [500]
    assert len(rows) == 1000 and [r.line for r in rows] == [n for n in range(2, 1003) if n != 500]


def test_a_quote_open_for_more_lines_than_the_bound_is_a_stray_quote() -> None:
    """Quoted fields on every line: the stray quote's field would close far down, bound or not."""
    lines = export(MAX_RECORD_LINES + 50)
    lines[1] = 'r1,"stray'
    lines.append('r_end,fin" de texte,2')
    rows, errors = read(joined(lines))
    assert [e.line for e in errors] == [2]
    assert f"{MAX_RECORD_LINES:,} lines" in errors[0].reason
    assert len(rows) == MAX_RECORD_LINES + 50


def test_legitimate_multi_line_fields_keep_their_rows_and_the_physical_line_numbers() -> None:
    data = (
        b'id,avis,note\r\nr1,"Ligne un\r\nligne deux\r\n\r\nligne quatre",5\r\n'
        b'r2,Suite,4\r\nr3,"Il dit ""oui""\net part",1\r\nr4,"Deux\nlignes"  ,2\r\nr5,Fin,3\r\n'
    )
    rows, errors = read(data)
    assert errors == []
    assert [(r.line, r.id) for r in rows] == [(2, "r1"), (6, "r2"), (7, "r3"), (9, "r4"), (11, "r5")]
    assert rows[0].text == "Ligne un\r\nligne deux\r\n\r\nligne quatre" and rows[2].text == 'Il dit "oui"\net part'


def test_a_nul_byte_at_byte_100_is_one_row_error_not_a_refused_file() -> None:
    data = bytearray(joined(export(1001)))
    data[100] = 0
    line = data[:100].count(b"\n") + 1
    rows, errors = read(bytes(data))
    assert [(e.line, e.reason) for e in errors] == [(line, "a NUL byte (binary data)")]
    assert len(rows) == 1000


def test_a_nul_byte_on_line_900_is_one_row_error() -> None:
    lines = export(1001)
    lines[899] = "r899,Avis \x00 nul,3"
    rows, errors = read(joined(lines))
    assert [(e.line, e.column) for e in errors] == [(900, "avis")]
    assert len(rows) == 1000


@pytest.mark.parametrize(
    "data",
    [
        b"\x00" * 4000,
        b"id,avis\n" + b"\x00\x01\x02\x03 binary" * 500,
        b"PK\x03\x04\x14\x00\x06\x00" + b"xl/workbook.xml" * 40,
    ],
    ids=["only-nuls", "mostly-control-bytes", "xlsx"],
)
def test_genuinely_binary_files_are_still_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="binary") as error:
        read(data)
    assert error.value.code == "binary_file"


@pytest.mark.parametrize("end", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_every_line_end_gives_the_same_rows_and_lines(end: str) -> None:
    lines = export(30, quoted=True)
    lines[5] = 'r5,"Première ligne' + end + 'deuxième ligne",2'
    rows, errors = read(joined(lines, end))
    assert errors == []
    assert [r.line for r in rows] == [*range(2, 7), *range(8, 33)]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "utf16be-no-bom"],
)
def test_boms_and_utf16_without_bom(encoding: str, bom: bytes) -> None:
    lines = [line.replace("Avis", "Avis été") for line in export(40, delimiter=";", quoted=True)]
    rows, errors = read(bom + ("\r\n".join(lines) + "\r\n").encode(encoding))
    assert errors == [] and len(rows) == 40
    assert rows[0].text == "Avis été 1, conseiller aimable; rapide | merci"
    assert list(rows[0].fields) == ["id", "avis", "note"]  # no BOM left on the first column name


def test_a_latin1_byte_in_a_utf8_file_is_one_row_error() -> None:
    lines = export(300)
    data = joined(lines).replace(b"Avis 150 ", "Avis 150 café ".encode("latin-1"))
    rows, errors = read(data.replace(b"Avis 151 ", "Avis 151 été ".encode()))
    assert [(e.line, e.reason) for e in errors] == [(151, "non-text bytes (not valid utf-8 text)")]
    assert len(rows) == 299 and rows[149].text == "Avis 151 été conseiller aimable"


def test_a_1mb_field_is_one_row_error_and_the_rest_is_kept() -> None:
    lines = export(20)
    lines[5] = 'r5,"' + "x" * 1_000_000 + '",3'
    lines[10] = "r10," + "y" * 1_000_000 + ",3"
    rows, errors = read(joined(lines))
    assert [(e.line, e.reason) for e in errors] == [
        (6, f"the line is longer than {MAX_LINE_CHARS:,} characters"),
        (11, f"the line is longer than {MAX_LINE_CHARS:,} characters"),
    ]
    assert len(rows) == 18 and rows[-1].line == 21


def test_a_field_just_under_the_line_bound_is_read() -> None:
    rows, errors = read(b'id,avis\n1,"' + b"x" * (MAX_LINE_CHARS - 20) + b'"\n2,fin\n')
    assert errors == [] and [len(r.text) for r in rows] == [MAX_LINE_CHARS - 20, 3]


def test_an_unclosed_1mb_field_on_line_2_is_sniffed_and_read_in_bounded_work() -> None:
    """clevercsv's sniffer took minutes on this sample; reading it also must not hold the whole field."""
    data = b'id,avis\n1,"' + b"mot " * 250_000 + b"\n2,fin\n"
    assert detect_delimiter(data[:SAMPLE_BYTES].decode()) == ","
    rows, errors = read(data)
    assert [(r.line, r.text) for r in rows] == [(3, "fin")]
    assert [e.line for e in errors] == [2]


def test_a_100k_column_header_is_refused_after_reading_a_bounded_part_of_the_file() -> None:
    header = ",".join(["avis", *(f"colonne_{i}" for i in range(100_000))])
    stream = io.BytesIO((header + "\n" + "texte,1\n" * 200_000).encode())
    with pytest.raises(InputError, match="header row") as error:
        CsvExport.open(stream)
    assert error.value.code == "bad_header"
    assert stream.tell() < 2 * MAX_LINE_CHARS + SAMPLE_BYTES  # not the 3 MB file


def test_a_wide_header_under_the_line_bound_is_refused_with_a_short_message() -> None:
    header = ",".join(f"c{i}" for i in range(20_000))
    with pytest.raises(InputError, match="20,000 columns") as error:
        CsvExport.open(io.BytesIO((header + "\n").encode()))
    assert error.value.code == "bad_header" and len(str(error.value)) < 300


def test_a_missing_text_column_lists_a_bounded_number_of_columns() -> None:
    header = ",".join(f"c{i}" for i in range(500))
    with pytest.raises(InputError, match="and 450 more") as error:
        CsvExport.open(io.BytesIO((header + "\n1\n").encode()))
    assert error.value.code == "missing_text_column"


def test_a_stray_quote_in_the_header_refuses_the_file_with_its_line() -> None:
    with pytest.raises(InputError, match=r"header row \(line 1\).*stray quote") as error:
        CsvExport.open(io.BytesIO(b'id,"avis,note\n' + b"r1,bien,5\n" * 10))
    assert error.value.code == "bad_header"


def test_a_header_after_too_many_blank_lines_is_not_searched_for_through_the_file() -> None:
    stream = io.BytesIO(b" ,\n" * 1_000_000 + b"id,avis\nr1,bien\n")
    with pytest.raises(InputError, match="no header row") as error:
        CsvExport.open(stream)
    assert error.value.code == "bad_header" and stream.tell() < 2 * SAMPLE_BYTES


def test_only_a_header_gives_no_rows_and_no_errors() -> None:
    export_ = CsvExport.open(io.BytesIO(b"id;avis;note\r\n"))
    assert (export_.delimiter, export_.header, list(export_.rows())) == (";", ["id", "avis", "note"], [])


def test_empty_lines_and_ragged_rows_keep_their_line_numbers() -> None:
    data = b"\n\nid,avis,note\nr1,Bien,5\n\n\nr2,Un,de,trop\nr3\nr4,Encore,4\n   \nr5,Fin,3"
    rows, errors = read(data)
    assert [(r.line, r.id) for r in rows] == [(4, "r1"), (9, "r4"), (11, "r5")]
    assert [(e.line, e.reason) for e in errors] == [
        (7, "the row has 4 fields, the header 3"),
        (8, "the row has 1 fields, the header 3: no text"),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_each_delimiter_is_sniffed_with_quoted_texts_holding_the_others(delimiter: str) -> None:
    lines = export(60, delimiter=delimiter, quoted=True)
    lines[3] = lines[3].replace('"Avis 3', '"Avis 3 ""cité""')
    rows, errors = read(joined(lines))
    assert errors == [] and len(rows) == 60
    assert rows[2].text == 'Avis 3 "cité", conseiller aimable; rapide | merci'


def test_the_sniffer_reads_a_bounded_sample_even_with_a_stray_quote_in_it() -> None:
    lines = export(5000, delimiter=";")
    lines[1] = 'r1;"stray;3'
    assert detect_delimiter("\n".join(lines)) == ";"


# file -> (ids of the rows kept, (line, start of the reason) of each row error)
EXPECTED: dict[str, tuple[list[str], list[tuple[int, str]]]] = {
    "stray_quote_middle.csv": ([f"r{i}" for i in range(1, 21) if i != 9], [(10, "stray quote")]),
    "nul_byte.csv": ([f"r{i}" for i in range(1, 11) if i != 2], [(3, "a NUL byte")]),
    "cr_only_multiline.csv": (["r1", "r2", "r2b", "r3", "r4", "r5"], []),
    "utf16be_bom.csv": ([f"r{i}" for i in range(1, 6)], []),
    "utf16le_no_bom.csv": ([f"r{i}" for i in range(1, 6)], []),
    "latin1_in_utf8.csv": (["r1", "r2", "r4", "r5", "r6"], [(4, "non-text bytes")]),
    "semicolon_quotes.csv": ([f"r{i}" for i in range(1, 6)], []),
    "tab_quotes.tsv": ([f"r{i}" for i in range(1, 6)], []),
    "pipe_quotes.csv": ([f"r{i}" for i in range(1, 6)], []),
    "ragged_and_empty_lines.csv": (
        ["r1", "r4"],
        [(4, "the row has 4 fields"), (5, "the row has 1 fields"), (9, "empty text")],
    ),
}


def test_the_corpus_is_listed_in_full() -> None:
    assert sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".tsv")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name: str) -> None:
    rows, errors = read((CORPUS / name).read_bytes())
    ids, expected_errors = EXPECTED[name]
    assert [r.id for r in rows] == ids
    assert [(e.line, e.reason[: len(reason)]) for e, (_, reason) in zip(errors, expected_errors, strict=False)] == (
        expected_errors
    )
    assert len(errors) == len(expected_errors)
