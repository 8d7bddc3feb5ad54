"""Read feedback rows from CSV or JSONL exports: encoding and dialect sniffing, streaming, per-row errors.

Nothing valid is dropped: a bad row yields a `RowError` (line number, column, reason) and reading
goes on. Only a file that cannot be read at all (binary, missing text column, no header) raises.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from nlp.errors import InputError

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
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
csv.field_size_limit(16 * 1024 * 1024)


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
    """Return the codec of a file from its first bytes; raise InputError for binary content."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise InputError(
            "The file is binary, not text (it contains NUL bytes); export it as CSV or JSONL", "binary_file"
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


def detect_delimiter(sample: str) -> str:
    """Return the delimiter among `, ; TAB |` that structures the sample's first lines."""
    import clevercsv

    lines = sample.splitlines()[:50]
    try:
        dialect = clevercsv.Sniffer().sniff("\n".join(lines), delimiters=list(DELIMITERS))
    except Exception:  # clevercsv raises bare errors on odd samples; fall back to counting below
        dialect = None
    if dialect is not None and dialect.delimiter in DELIMITERS:
        return str(dialect.delimiter)
    header = lines[0] if lines else ""
    return max(DELIMITERS, key=header.count)


def pick_column(header: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str) -> str | None:
    """Return the header column for `wanted`, or the first known candidate name; error lists the columns."""
    normalised = {fold_name(name): name for name in header}
    if wanted is not None:
        if fold_name(wanted) in normalised:
            return normalised[fold_name(wanted)]
        raise InputError(
            f"No column '{wanted}' for the {what}. Available columns: {', '.join(header)}", "missing_column"
        )
    for candidate in candidates:
        if candidate in normalised:
            return normalised[candidate]
    return None


def fold_name(name: str) -> str:
    """Fold a column name for matching: lower case, no accents, spaces as underscores."""
    stripped = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(ch for ch in stripped if not unicodedata.combining(ch)).replace(" ", "_")


_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def _bad_characters(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" or ch in _CONTROL for ch in text)


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
    _reader: Any = field(repr=False)  # the csv reader, positioned after the header

    @classmethod
    def open(cls, stream: BinaryIO, text_column: str | None = None, id_column: str | None = None) -> CsvExport:
        """Sniff and read the header of a seekable binary stream; raise InputError if it is not a usable CSV."""
        sample = stream.read(SAMPLE_BYTES)
        if not sample.strip():
            raise InputError("The file is empty", "empty_file")
        encoding = detect_encoding(sample)
        stream.seek(0)
        text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
        delimiter = detect_delimiter(sample.decode(encoding, errors="replace"))
        reader = csv.reader(text_stream, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader, [])]
        except csv.Error as error:
            raise InputError(f"The header row cannot be read: {error}", "bad_header") from error
        if not header or not any(header):
            raise InputError("The file has no header row", "bad_header")
        if any(_bad_characters(name) for name in header):
            raise InputError(f"The header row holds bytes that are not {encoding} text", "bad_header")
        text_name = pick_column(header, text_column, TEXT_COLUMNS, "text")
        if text_name is None:
            raise InputError(
                f"No text column found: name it explicitly. Available columns: {', '.join(header)}",
                "missing_text_column",
            )
        id_name = pick_column(header, id_column, ID_COLUMNS if id_column is None else (), "id")
        return cls(stream, encoding, delimiter, header, text_name, id_name, reader)

    def position(self) -> int:
        """Return the number of bytes of the file read so far."""
        return self.stream.tell()

    def rows(self) -> Iterator[FeedbackRow | RowError]:
        """Stream the records as FeedbackRow or RowError, in file order (`line` is where the record starts)."""
        reader, header = self._reader, self.header
        text_index = header.index(self.text_column)
        row_number = 0
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
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
            bad = [name for name, value in fields.items() if _bad_characters(value)]
            if bad:
                yield RowError(line, f"non-text bytes (not valid {self.encoding} text)", bad[0])
                continue
            text = values[text_index].strip()
            if not text:
                yield RowError(line, "empty text", self.text_column)
                continue
            row_id = fields.get(self.id_column, "").strip() if self.id_column else ""
            yield FeedbackRow(line, row_id or str(row_number), text, fields)


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
