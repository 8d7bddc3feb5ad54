"""Split CSV text into records at a cost linear in its size, whatever the file holds.

A stray quote must not swallow the rest of a file, and a hostile line must not make reading quadratic:

- lines are read in chunks and cut at `MAX_LINE_CHARS` (a cut line is one broken record);
- a quoted field that does not close within `MAX_RECORD_LINES` lines or `MAX_RECORD_CHARS` characters, or
  that closes on a later line with text right after its closing quote, is a stray quote: its first line is one
  broken record and reading resumes on the next line, the lines it had taken each read as a record of their own;
- the delimiter is sniffed on a bounded sample by the consistency of field counts per record (the way DuckDB's
  CSV sniffer ranks dialects), never by a parser whose cost grows with the square of a field.

Quotes follow Python's `csv` module (excel dialect): a quote is special only at the start of a field, `""`
inside quotes is one quote, text after a closing quote on the same line is kept as `csv` keeps it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple, TextIO

DELIMITERS = (",", ";", "\t", "|")
# A valid row is at most ~75,000 characters (a 20,000-character text and 50 metadata values of 1,000): the
# bounds are far above it and keep what one record can hold (and cost) small.
MAX_LINE_CHARS = 256 * 1024
MAX_RECORD_CHARS = 256 * 1024
MAX_RECORD_LINES = 1_000
# `csv` refuses fields over 131,072 characters by default: let every field a record can hold through.
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS))
SNIFF_LINES = 50
SNIFF_CHARS = 64 * 1024
_CHUNK_CHARS = 64 * 1024
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line and its end, as `csv` ends records
# str.splitlines (fast) also ends lines on these, which `csv` keeps inside a field.
_OTHER_LINE_ENDS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


# Named tuples rather than dataclasses: one of each per line of a file, they are built ten times faster.
class Line(NamedTuple):
    """One physical line of the file: 1-based number, text with its line end; a `cut` line (too long) has no text."""

    number: int
    text: str
    cut: bool = False


class Record(NamedTuple):
    """The physical lines of one CSV record; `line` is where it starts."""

    line: int
    lines: list[str]


class BrokenRecord(NamedTuple):
    """A line that cannot start a record (stray quote, too long); `line` is where it starts."""

    line: int
    reason: str


def physical_lines(text: TextIO, limit: int = MAX_LINE_CHARS) -> Iterator[Line]:
    """Yield the lines of `text` (ended by CRLF, LF or CR); a line over `limit` characters comes out cut.

    A cut line is yielded (without its text) as soon as it passes the limit and the rest of it is skipped,
    so reading a header that never ends costs `limit` characters, not the file.
    """
    head: list[str] = []
    size, number, skipping = 0, 0, False
    while chunk := text.read(_CHUNK_CHARS):
        if chunk.endswith("\r"):
            chunk += text.read(1)  # a CRLF cut by the chunk's end stays one line end
        pieces = _LINE.findall(chunk) if _OTHER_LINE_ENDS.search(chunk) else chunk.splitlines(keepends=True)
        for piece in pieces:
            ends = piece.endswith(("\n", "\r"))
            if skipping:
                skipping = not ends
            elif size + len(piece) > limit:
                number += 1
                yield Line(number, "", cut=True)
                head, size, skipping = [], 0, not ends
            elif ends:
                number += 1
                yield Line(number, "".join(head) + piece if head else piece)
                head, size = [], 0
            else:
                head.append(piece)
                size += len(piece)
    if head:
        yield Line(number + 1, "".join(head))


def quote_state(line: str, delimiter: str, in_quotes: bool) -> tuple[bool, int]:
    """Return whether the line ends inside quotes, and where a field open at its start closes (-1: it does not).

    The closing position is the index just after the closing quote.
    """
    if '"' not in line:
        return in_quotes, -1
    end = len(line.rstrip("\r\n"))
    position, closed_at, continued = 0, -1, in_quotes
    while position < end:
        if in_quotes:
            close = line.find('"', position, end)
            if close < 0:
                return True, closed_at
            if line.startswith('"', close + 1):  # "" is one quote inside a quoted field
                position = close + 2
                continue
            in_quotes, position = False, close + 1
            if continued:
                closed_at, continued = position, False
            continue
        opening = line.find('"', position, end)
        if opening < 0:
            return False, closed_at
        # A quote opens a field only at the field's start; elsewhere `csv` keeps it as text.
        in_quotes = opening == 0 or line[opening - 1] == delimiter
        position = opening + 1
    return in_quotes, closed_at


def split_records(
    lines: Iterable[Line],
    delimiter: str,
    *,
    max_lines: int = MAX_RECORD_LINES,
    max_chars: int = MAX_RECORD_CHARS,
) -> Iterator[Record | BrokenRecord]:
    """Group physical lines into records; a stray quote or an over-long line is a BrokenRecord, never more.

    Each line is read at most twice: a record that breaks hands its later lines back, and those up to the one
    where it broke are read as one record each (they were inside the broken one, so they cannot open another).
    """
    source = iter(lines)
    taken_back: deque[Line] = deque()
    single_until = 0  # lines up to this number are records of their own
    while line := taken_back.popleft() if taken_back else next(source, None):
        if line.cut:
            yield BrokenRecord(line.number, f"the line is longer than {MAX_LINE_CHARS:,} characters")
            continue
        in_quotes, _ = quote_state(line.text, delimiter, False)
        if not in_quotes or line.number <= single_until:
            yield Record(line.number, [line.text])
            continue
        taken, size, opened_on, reason = [line], len(line.text), line.number, ""
        while not reason:
            following = taken_back.popleft() if taken_back else next(source, None)
            if following is None:
                reason = f"the quote opened on line {opened_on} is still open at the end of the file"
                break
            taken.append(following)
            size += len(following.text)
            if following.cut or size > max_chars or len(taken) > max_lines:
                reason = (
                    f"the quote opened on line {opened_on} does not close within {max_lines:,} lines "
                    f"or {max_chars:,} characters"
                )
                break
            still_open, closed_at = quote_state(following.text, delimiter, True)
            after = following.text[closed_at:].lstrip(" ") if closed_at >= 0 else ""
            if after and after[0] not in (delimiter, "\r", "\n"):
                reason = (
                    f"the quote opened on line {opened_on} closes on line {following.number} with text right after it"
                )
            elif not still_open:
                yield Record(line.number, [taken_line.text for taken_line in taken])
                break
            elif closed_at >= 0:
                opened_on = following.number  # closed, then another quoted field opened on this line
        if reason:
            yield BrokenRecord(line.number, f"stray quote: {reason}; the line is skipped")
            taken_back.extendleft(reversed(taken[1:]))
            single_until = taken[-1].number - 1


def record_fields(record: Record, delimiter: str) -> list[str]:
    """Return the fields of one record as `csv` reads them (an empty list for a blank line)."""
    return next(csv.reader(record.lines, delimiter=delimiter), [])


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter among `, ; TAB |` that gives the sample's records one field count, the header's.

    Only the first `SNIFF_LINES` lines of the first `SNIFF_CHARS` characters are read. Ties go to the
    delimiter with more fields, then to the order of DELIMITERS; without any, a single column: `,`.
    """
    lines = list(physical_lines(io.StringIO(sample[:SNIFF_CHARS])))[:SNIFF_LINES]
    if len(lines) > 1 and not lines[-1].text.endswith(("\n", "\r")):
        lines.pop()  # cut by the sample's end
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [
            len(fields)
            for record in split_records(lines, delimiter)
            if isinstance(record, Record) and (fields := _sample_fields(record, delimiter))
        ]
        if not counts or counts[0] < 2:
            continue
        score = (sum(count == counts[0] for count in counts[1:]), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_fields(record: Record, delimiter: str) -> list[str]:
    try:
        return record_fields(record, delimiter)
    except csv.Error:
        return []
