from __future__ import annotations

import io
import json

import pytest

from nlp.errors import InputError
from nlp.readers import FeedbackRow, RowError, read_csv, read_jsonl

REVIEWS = [("r1", "Très déçu, à éviter"), ("r2", 'Accueil "super" ; rapide'), ("r3", "Ligne 1\nLigne 2 de l'avis")]


def csv_bytes(delimiter: str, encoding: str, header: str = "id{d}avis{d}note") -> bytes:
    lines = [header.format(d=delimiter)]
    for number, (row_id, text) in enumerate(REVIEWS, start=1):
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(delimiter.join([row_id, quoted, str(number)]))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_csv_variants_give_the_same_rows(delimiter: str, encoding: str) -> None:
    rows = list(read_csv(io.BytesIO(csv_bytes(delimiter, encoding)), text_column="avis", id_column="id"))
    assert [(r.id, r.text) for r in rows if isinstance(r, FeedbackRow)] == REVIEWS
    assert [r.line for r in rows] == [2, 3, 4]


def test_text_column_is_found_from_common_export_headers() -> None:
    rows = list(read_csv(io.BytesIO(csv_bytes(";", "utf-8", header="id{d}Commentaire{d}Note"))))
    assert [r.text for r in rows if isinstance(r, FeedbackRow)] == [t for _, t in REVIEWS]
    # the id column is detected too
    assert [r.id for r in rows if isinstance(r, FeedbackRow)] == ["r1", "r2", "r3"]


def test_missing_text_column_names_the_available_columns() -> None:
    with pytest.raises(InputError, match="No column 'texte'.*Available columns: id, avis, note"):
        list(read_csv(io.BytesIO(csv_bytes(",", "utf-8")), text_column="texte"))


def test_bad_rows_are_reported_by_line_and_valid_rows_kept() -> None:
    data = (
        ("id,avis,note\na,Bon service,5\nb,,3\nc\nd,Encore bon,4\nf,Déjà très bien,2\n").encode()
        + b"e,caf\xe9 \xff\xfe froid,2\n"
        + b"g,ctrl \x01\x02 bytes,1\n"
        + "h,Dernier avis été,1\n".encode()
    )
    rows = list(read_csv(io.BytesIO(data)))
    valid = [(r.id, r.text) for r in rows if isinstance(r, FeedbackRow)]
    errors = [(e.line, e.column, e.reason) for e in rows if isinstance(e, RowError)]
    assert valid == [("a", "Bon service"), ("d", "Encore bon"), ("f", "Déjà très bien"), ("h", "Dernier avis été")]
    assert errors == [
        (3, "avis", "empty text"),
        (4, "avis", "the row has 1 fields, the header 3: no text"),
        (7, "avis", "non-text bytes (not valid utf-8 text)"),
        (8, "avis", "non-text bytes (not valid utf-8 text)"),
    ]


def test_row_number_is_the_id_without_an_id_column() -> None:
    rows = list(read_csv(io.BytesIO(b"avis\nun\ndeux\n")))
    assert [(r.id, r.text) for r in rows if isinstance(r, FeedbackRow)] == [("1", "un"), ("2", "deux")]


def test_binary_and_empty_files_are_refused_clearly() -> None:
    with pytest.raises(InputError, match="binary"):
        list(read_csv(io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)))
    with pytest.raises(InputError, match="empty"):
        list(read_csv(io.BytesIO(b"  \n")))


def test_jsonl_rows_and_errors() -> None:
    lines = [
        json.dumps({"id": 7, "text": "Super appli"}),
        "{not json",
        json.dumps({"text": ""}),
        json.dumps({"id": "x", "text": "Colis en retard"}),
    ]
    rows = list(read_jsonl(io.BytesIO("\n".join(lines).encode())))
    assert [(r.id, r.text) for r in rows if isinstance(r, FeedbackRow)] == [
        ("7", "Super appli"),
        ("x", "Colis en retard"),
    ]
    assert [(e.line, e.reason.split(":")[0]) for e in rows if isinstance(e, RowError)] == [
        (2, "invalid JSON"),
        (3, "empty text"),
    ]


def test_ragged_rows_are_errors_unless_the_overflow_is_the_last_text_column() -> None:
    data = b"avis,note\nBien,5\nTrop,de,champs\nMal,1\n"
    items = list(read_csv(io.BytesIO(data)))
    assert [(i.line, i.text) for i in items if isinstance(i, FeedbackRow)] == [(2, "Bien"), (4, "Mal")]
    assert [(e.line, e.reason) for e in items if isinstance(e, RowError)] == [(3, "the row has 3 fields, the header 2")]
    tail = list(read_csv(io.BytesIO(b"note,avis\n5,Bien, vraiment bien\n")))
    assert [i.text for i in tail if isinstance(i, FeedbackRow)] == ["Bien, vraiment bien"]
