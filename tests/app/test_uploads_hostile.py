"""POST /v1/uploads with hostile CSV files: a broken line costs one row error, never the rest of the file."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.models import Feedback
from tests.app.conftest import wait_upload


def upload(client: TestClient, auth: dict[str, str], data: bytes) -> Any:
    return client.post("/v1/uploads", files={"file": ("export.csv", data, "text/csv")}, headers=auth)


def export(rows: int) -> list[str]:
    return ["id;avis;note"] + [f"R{i};Avis numéro {i} : conseiller aimable;{1 + i % 5}" for i in range(1, rows + 1)]


def stored_ids(client: TestClient, upload_id: int) -> set[str]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return {str(f.external_id) for f in session.scalars(select(Feedback).where(Feedback.upload_id == upload_id))}


def test_a_stray_quote_on_line_2_of_1001_rows_keeps_1000_and_reports_the_line(
    client: TestClient, auth: dict[str, str]
) -> None:
    lines = export(1001)
    lines[1] = 'R1;"Avis sans guillemet fermant;3'
    response = upload(client, auth, ("\r\n".join(lines) + "\r\n").encode())
    assert response.status_code == 202, response.text
    assert response.json()["delimiter"] == ";"
    done = wait_upload(client, auth, response.json()["id"])
    assert (done["status"], done["rows_read"], done["rows_stored"], done["rows_failed"]) == ("done", 1001, 1000, 1)
    ((line, column, reason),) = [(e["line"], e["column"], e["reason"]) for e in done["errors"]]
    assert (line, column) == (2, None) and reason.startswith("stray quote") and "line 2" in reason
    assert stored_ids(client, done["id"]) == {f"R{i}" for i in range(2, 1002)}


def test_a_nul_byte_near_the_top_is_one_row_error_not_a_refused_upload(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = bytearray(("\n".join(export(20)) + "\n").encode())
    data[100] = 0
    line = data[:100].count(b"\n") + 1
    response = upload(client, auth, bytes(data))
    assert response.status_code == 202, response.text
    done = wait_upload(client, auth, response.json()["id"])
    assert (done["rows_stored"], done["rows_failed"]) == (19, 1)
    assert [(e["line"], e["reason"]) for e in done["errors"]] == [(line, "a NUL byte (binary data)")]


def test_a_100k_column_header_is_refused_at_once(client: TestClient, auth: dict[str, str]) -> None:
    header = ";".join(["avis", *(f"colonne_{i}" for i in range(100_000))])
    response = upload(client, auth, (header + "\n" + "texte;1\n" * 1000).encode())
    assert response.status_code == 422
    assert response.json()["code"] == "bad_header" and "longer than" in response.json()["detail"]
