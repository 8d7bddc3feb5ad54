"""Read feedback rows from CSV or JSONL exports: encoding and dialect sniffing, streaming, per-row errors.

Nothing valid is dropped: a bad row yields a `RowError` (line number, column, reason) and reading
goes on. Only a file that cannot be read at all (binary, missing text column, no header) raises.
A broken line (stray quote, NUL byte, over-long line) is one RowError; the cost of reading stays linear
in the file's size whatever it holds (record splitting and delimiter sniffing: `nlp/csv_records.py`).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from nlp.csv_records import (
    BrokenRecord,
    Record,
    physical_lines,
    record_fields,
    sniff_delimiter,
    split_records,
)
from nlp.errors import InputError

SAMPLE_BYTES = 256 * 1024
# Blank lines skipped before the header, at most (the header check runs in the upload request).
HEADER_WITHIN_RECORDS = 100
# A header wider than this is not a feedback export (a row keeps at most 50 other columns as metadata).
MAX_COLUMNS = 10_000
# Share of control bytes (NUL included) above which a file is binary rather than text with a few bad bytes.
BINARY_CONTROL_SHARE = 0.1
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx or .ods workbook?)",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an Office document (an .xls workbook?)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\n\r\x0c") + b"\x7f"
_TEXT_BYTES = bytes(c for c in range(256) if c not in _CONTROL_BYTES)
# Western encodings real exports come in; charset-normalizer picks among these only, so French
# cp1252 text is not mistaken for a Central European code page.
CANDIDATE_ENCODINGS = ["utf_8", "cp1252", "latin_1", "iso8859_15", "mac_roman"]
TEXT_COLUMNS = (
    "text",
    "texte",
    "comment",
    "comments",
    "commentaire",
    "commentaires",
    "review",
    "reviews",
    "avis",
    "verbatim",
    "verbatims",
    "message",
    "feedback",
    "content",
    "body",
    "review_text",
    "comment_text",
    "contenu",
    "remarque",
    "remarques",
)
ID_COLUMNS = ("id", "external_id", "review_id", "identifiant", "uuid", "reference")


@dataclass(frozen=True)
class RowError:
    """Why one input row was not read: `line` is 1-based in the file (the header is line 1)."""

    line: int
    reason: str
    column: str | None = None


@dataclass(frozen=True)
class FeedbackRow:
    """One valid input row: its text, its id and every other column as read."""

    line: int
    id: str
    text: str
    fields: dict[str, str] = field(default_factory=dict)


def detect_encoding(sample: bytes) -> str:
    """Return the codec of a file from its first bytes; raise InputError for binary content.

    A few NUL or control bytes are damaged rows, reported one by one; a file is binary when it starts
    like a known binary format or when control bytes are more than a tenth of it. UTF-16 is recognised
    by its BOM, or without one by the NUL halves of its ASCII characters.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for signature, what in _SIGNATURES.items():
        if sample.startswith(signature):
            raise InputError(f"The file is binary, not text ({what}); export it as CSV or JSONL", "binary_file")
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    controls = len(sample.translate(None, _TEXT_BYTES))
    if controls > BINARY_CONTROL_SHARE * len(sample):
        raise InputError(
            f"The file is binary, not text ({controls:,} NUL or control bytes in its first {len(sample):,}); "
            "export it as CSV or JSONL",
            "binary_file",
        )
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 4:  # a character cut by the sample's end
            return "utf-8"
    # Mostly valid UTF-8 with a few damaged bytes: stay UTF-8 and report the damaged rows.
    decoded = sample.decode("utf-8", errors="surrogateescape")
    damaged = sum("\udc80" <= ch <= "\udcff" for ch in decoded)
    valid_multibyte = sum(ord(ch) > 127 and not "\udc80" <= ch <= "\udcff" for ch in decoded)
    if valid_multibyte >= damaged or damaged <= len(sample) // 1000:
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=CANDIDATE_ENCODINGS).best()
    if best is None:  # read as UTF-8: rows with undecodable bytes are reported one by one
        return "utf-8"
    encoding = str(best.encoding)
    return "cp1252" if encoding in ("latin_1", "iso8859_15") else encoding


def _utf16_without_bom(sample: bytes) -> str | None:
    """Return utf-16-le/-be when every other byte of the sample is mostly NUL (ASCII in UTF-16), else None."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nul, odd_nul = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    for encoding, high, low in (("utf-16-le", odd_nul, even_nul), ("utf-16-be", even_nul, odd_nul)):
        if high > 0.3 * pairs and low < 0.05 * pairs:
            return encoding
    return None


def detect_delimiter(sample: str) -> str:
    """Return the delimiter among `, ; TAB |` that structures the sample's first lines (bounded work)."""
    return sniff_delimiter(sample)


def pick_column(header: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str) -> str | None:
    """Return the header column for `wanted`, or the first known candidate name; error lists the columns."""
    normalised = {fold_name(name): name for name in header}
    if wanted is not None:
        if fold_name(wanted) in normalised:
            return normalised[fold_name(wanted)]
        raise InputError(
            f"No column '{wanted}' for the {what}. Available columns: {column_list(header)}",
            "missing_column",
            tuple(header),
        )
    for candidate in candidates:
        if candidate in normalised:
            return normalised[candidate]
    return None


def column_list(header: Sequence[str], shown: int = 50) -> str:
    """Return the header's names for a message: the first `shown`, then how many more."""
    names = ", ".join(header[:shown])
    return names if len(header) <= shown else f"{names} and {len(header) - shown:,} more"


def fold_name(name: str) -> str:
    """Fold a column name for matching: lower case, no accents, spaces as underscores."""
    stripped = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(ch for ch in stripped if not unicodedata.combining(ch)).replace(" ", "_")


# Control characters (NUL included) and the lone surrogates the decoder leaves for undecodable bytes.
_BAD_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\udc00-\udcff]")


def _flag_undecodable(error: UnicodeError) -> tuple[str, int]:
    """Decode each undecodable byte to a lone surrogate (as surrogateescape does, bytes below 128 included)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(0xDC00 + byte) for byte in error.object[error.start : error.end]), error.end


codecs.register_error("parcours.flag", _flag_undecodable)


def _bad_characters(text: str) -> bool:
    return _BAD_CHARACTERS.search(text) is not None


def _bad_record(record: Record) -> bool:
    return any(_BAD_CHARACTERS.search(line) for line in record.lines)


@dataclass
class CsvExport:
    """An opened CSV export: sniffed encoding and delimiter, the header, the chosen text and id columns.

    `rows()` streams the records after the header; `position()` is how far into the file (in bytes)
    reading has got, for progress bars.
    """

    stream: BinaryIO
    encoding: str
    delimiter: str
    header: list[str]
    text_column: str
    id_column: str | None
    _records: Iterator[Record | BrokenRecord] = field(repr=False)  # positioned after the header
    _text: io.TextIOWrapper = field(repr=False)  # kept open as long as the export is

    @classmethod
    def open(cls, stream: BinaryIO, text_column: str | None = None, id_column: str | None = None) -> CsvExport:
        """Sniff and read the header of a seekable binary stream; raise InputError if it is not a usable CSV.

        The work is bounded whatever the file: a 256 KB sample and the header record (at most 256K characters).
        """
        sample = stream.read(SAMPLE_BYTES)
        if not sample.strip():
            raise InputError("The file is empty", "empty_file")
        encoding = detect_encoding(sample)
        delimiter = detect_delimiter(sample.decode(encoding, errors="replace"))
        stream.seek(0)
        text = io.TextIOWrapper(stream, encoding=encoding, errors="parcours.flag", newline="")
        records = split_records(physical_lines(text), delimiter)
        header = [h.strip() for h in _header_fields(records, delimiter)]
        if not header or not any(header):
            raise InputError("The file has no header row", "bad_header")
        if len(header) > MAX_COLUMNS:
            raise InputError(
                f"The header row has {len(header):,} columns, more than the {MAX_COLUMNS:,} a feedback export can "
                f"have (is '{delimiter}' the delimiter?)",
                "bad_header",
            )
        if any(_bad_characters(name) for name in header):
            raise InputError(f"The header row holds bytes that are not {encoding} text", "bad_header")
        text_name = pick_column(header, text_column, TEXT_COLUMNS, "text")
        if text_name is None:
            raise InputError(
                f"No text column found: name it explicitly. Available columns: {column_list(header)}",
                "missing_text_column",
                tuple(header),
            )
        id_name = pick_column(header, id_column, ID_COLUMNS if id_column is None else (), "id")
        return cls(stream, encoding, delimiter, header, text_name, id_name, records, text)

    def position(self) -> int:
        """Return the number of bytes of the file read so far."""
        return self.stream.tell()

    def rows(self) -> Iterator[FeedbackRow | RowError]:
        """Stream the records as FeedbackRow or RowError, in file order (`line` is where the record starts)."""
        header = self.header
        text_index = header.index(self.text_column)
        row_number = 0
        for record in self._records:
            if isinstance(record, BrokenRecord):
                yield RowError(record.line, record.reason)
                continue
            line = record.line
            try:
                values = record_fields(record, self.delimiter)
            except csv.Error as error:
                yield RowError(line, f"malformed CSV: {error}")
                continue
            if not values or not any(v.strip() for v in values):
                continue
            row_number += 1
            if len(values) <= text_index:
                yield RowError(
                    line, f"the row has {len(values)} fields, the header {len(header)}: no text", self.text_column
                )
                continue
            if len(values) > len(header):
                if text_index != len(header) - 1:
                    yield RowError(line, f"the row has {len(values)} fields, the header {len(header)}")
                    continue
                # An unquoted delimiter inside a last, free-text column: the overflow is the rest of the text.
                values = [*values[:text_index], self.delimiter.join(values[text_index:])]
            fields = dict(zip(header, values, strict=False))
            bad = [name for name, value in fields.items() if _bad_characters(value)] if _bad_record(record) else []
            if bad:
                nul = "\x00" in fields[bad[0]]
                reason = "a NUL byte (binary data)" if nul else f"non-text bytes (not valid {self.encoding} text)"
                yield RowError(line, reason, bad[0])
                continue
            text = values[text_index].strip()
            if not text:
                yield RowError(line, "empty text", self.text_column)
                continue
            row_id = fields.get(self.id_column, "").strip() if self.id_column else ""
            yield FeedbackRow(line, row_id or str(row_number), text, fields)


def _header_fields(records: Iterator[Record | BrokenRecord], delimiter: str) -> list[str]:
    """Return the fields of the first non-blank record of the first 100; raise InputError if it cannot be read."""
    for record in itertools.islice(records, HEADER_WITHIN_RECORDS):
        if isinstance(record, BrokenRecord):
            raise InputError(f"The header row (line {record.line}) cannot be read: {record.reason}", "bad_header")
        try:
            fields = record_fields(record, delimiter)
        except csv.Error as error:
            raise InputError(f"The header row cannot be read: {error}", "bad_header") from error
        if any(value.strip() for value in fields):
            return fields
    return []


def read_csv(
    stream: BinaryIO,
    text_column: str | None = None,
    id_column: str | None = None,
) -> Iterator[FeedbackRow | RowError]:
    """Stream the rows of a CSV export as FeedbackRow or RowError, in file order."""
    yield from CsvExport.open(stream, text_column, id_column).rows()


def read_jsonl(
    stream: BinaryIO,
    text_column: str | None = None,
    id_column: str | None = None,
) -> Iterator[FeedbackRow | RowError]:
    """Stream a JSON Lines file: one object per line with a text field."""
    text_key = text_column or "text"
    id_key = id_column or "id"
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8-sig" if line == 1 else "utf-8"))
        except UnicodeDecodeError:
            yield RowError(line, "bytes that are not UTF-8 text")
            continue
        except json.JSONDecodeError as error:
            yield RowError(line, f"invalid JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(record, dict):
            yield RowError(line, "expected a JSON object")
            continue
        text = record.get(text_key)
        if not isinstance(text, str) or not text.strip():
            reason = (
                "missing text" if text is None else "empty text" if isinstance(text, str) else "text is not a string"
            )
            yield RowError(line, reason, text_key)
            continue
        row_id = record.get(id_key)
        yield FeedbackRow(
            line,
            str(row_id) if row_id is not None else str(line),
            text.strip(),
            {k: v for k, v in record.items() if isinstance(v, str)},
        )


def read_rows(
    path: Path,
    text_column: str | None = None,
    id_column: str | None = None,
) -> Iterator[FeedbackRow | RowError]:
    """Read `path` as JSONL (`.jsonl`, `.ndjson`) or CSV (anything else)."""
    if not path.exists():
        raise InputError(f"No such file: {path}", "no_such_file")
    reader = read_jsonl if path.suffix.lower() in (".jsonl", ".ndjson") else read_csv
    with path.open("rb") as stream:
        yield from reader(stream, text_column, id_column)
