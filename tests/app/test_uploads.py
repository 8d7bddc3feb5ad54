"""POST /v1/uploads: CSV exports in their real-world variants, broken ones included."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.models import Feedback
from tests.app.conftest import new_workspace, wait_upload

ROWS = [
    ("R1", "2026-05-01", "5", "Accueil très aimable en agence, dossier réglé en 10 minutes"),
    ("R2", "02/05/2026", "1", 'Le SAV "ne répond jamais"; trois appels sans réponse'),
    ("R3", "03/05/2026", "4", "Livraison rapide\nmais colis un peu abîmé"),
]


def export(delimiter: str = ",", encoding: str = "utf-8", header: tuple[str, ...] = ("id", "date", "note", "avis"),
           rows: list[tuple[str, ...]] = ROWS) -> bytes:  # fmt: skip
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in f'{delimiter}"\n;') else value

    lines = [delimiter.join(header)] + [delimiter.join(cell(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(client: TestClient, auth: dict[str, str], data: bytes, name: str = "export.csv", **form: str) -> Any:
    return client.post("/v1/uploads", files={"file": (name, data, "text/csv")}, data=form, headers=auth)


def stored_texts(client: TestClient, auth: dict[str, str]) -> list[str]:
    return [f["text"] for f in client.get("/v1/feedback", params={"limit": 500}, headers=auth).json()["data"]][::-1]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_every_common_delimiter_and_encoding_gives_the_same_feedback(
    client: TestClient, auth: dict[str, str], delimiter: str, encoding: str
) -> None:
    response = upload(client, auth, export(delimiter, encoding))
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running", "done") and job["delimiter"] == delimiter
    assert job["columns"] == {"text": "avis", "external_id": "id", "created_at": "date", "rating": "note"}
    done = wait_upload(client, auth, job["id"])
    assert (done["status"], done["rows_read"], done["rows_stored"], done["rows_failed"]) == ("done", 3, 3, 0)
    assert done["rows_analysed"] == 3 and done["progress"] == 1.0
    assert stored_texts(client, auth) == [text for *_, text in ROWS]
    listed = client.get("/v1/feedback", headers=auth).json()["data"]
    assert sorted(f["created_at"][:10] for f in listed) == ["2026-05-01", "2026-05-02", "2026-05-03"]
    assert sorted(f["rating"] for f in listed) == [1, 4, 5]


def test_uploading_the_same_file_twice_stores_nothing_new(client: TestClient, auth: dict[str, str]) -> None:
    data = export(";", "cp1252")
    first = wait_upload(client, auth, upload(client, auth, data).json()["id"])
    second = wait_upload(client, auth, upload(client, auth, data).json()["id"])
    assert (first["rows_stored"], first["rows_duplicate"]) == (3, 0)
    assert (second["status"], second["rows_read"], second["rows_stored"], second["rows_duplicate"]) == ("done", 3, 0, 3)
    assert len(stored_texts(client, auth)) == 3


def test_french_export_headers_map_automatically(client: TestClient, auth: dict[str, str]) -> None:
    header = ("Référence", "Date de publication", "Note", "Titre", "Auteur", "Commentaire", "Agence")
    rows = [("A7", "12 mars 2026", "4/5", "Bien", "Marie D.", "Conseiller à l'écoute et rapide", "Lyon")]
    job = upload(client, auth, export(";", "cp1252", header, rows)).json()
    assert job["columns"] == {
        "text": "Commentaire", "external_id": "Référence", "created_at": "Date de publication", "rating": "Note",
        "title": "Titre", "author": "Auteur",
    }  # fmt: skip
    wait_upload(client, auth, job["id"])
    (stored,) = client.get("/v1/feedback", headers=auth).json()["data"]
    assert stored["external_id"] == "A7" and stored["created_at"].startswith("2026-03-12")
    assert (stored["rating"], stored["rating_scale"]) == (4, 5)
    assert stored["metadata"] == {"title": "Bien", "author": "Marie D.", "Agence": "Lyon"}


def test_explicit_mapping_and_upload_defaults(client: TestClient, auth: dict[str, str]) -> None:
    header = ("ticket", "when", "body", "score10", "nps")
    rows = [("T1", "05/03/2026", "The agent fixed it on the first call", "9", "10")]
    mapping = '{"text": "body", "external_id": "ticket", "created_at": "when", "rating": "score10"}'
    job = upload(
        client, auth, export(",", "utf-8", header, rows), mapping=mapping, kind="survey", source="zendesk",
        rating_scale="10", dayfirst="false",
    ).json()  # fmt: skip
    assert wait_upload(client, auth, job["id"])["rows_stored"] == 1
    (stored,) = client.get("/v1/feedback", headers=auth).json()["data"]
    assert (stored["kind"], stored["source"], stored["rating"], stored["rating_scale"], stored["nps"]) == (
        "survey", "zendesk", 9, 10, 10,
    )  # fmt: skip
    assert stored["created_at"].startswith("2026-05-03")  # month first
    bad = upload(client, auth, export(), mapping='{"text": "verbatim"}')
    assert bad.status_code == 422 and bad.json()["code"] == "missing_column"
    assert "verbatim" in bad.json()["detail"] and "avis" in bad.json()["detail"]
    unknown = upload(client, auth, export(), mapping='{"txt": "avis"}')
    assert unknown.status_code == 422 and "txt" in unknown.json()["detail"]


def test_broken_rows_are_reported_with_line_and_column_and_valid_rows_kept(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = (
        (
            "id;date;note;avis\r\n"
            "1;2026-05-01;5;Très bon service\r\n"
            "2;2026-05-01;3;\r\n"  # empty text
            "3;2026-05-02;x;Colis en retard\r\n"  # rating not a number
            "4;pas une date;2;Appli lente\r\n"  # date not a date
            "5;2026-05-03\r\n"  # ragged: no text
            "6;2026-05-03;2;Trop;de;champs\r\n"  # the last column overflows: kept as text
        ).encode()
        + b"7;2026-05-04;1;octets \xff\xfe invalides\r\n"
        + "8;2026-05-04;4;Conseillère géniale\r\n".encode()
    )
    done = wait_upload(client, auth, upload(client, auth, data).json()["id"])
    assert (done["rows_read"], done["rows_stored"], done["rows_failed"]) == (8, 3, 5)
    assert [(e["line"], e["column"]) for e in done["errors"]] == [
        (3, "avis"), (4, "note"), (5, "date"), (6, "avis"), (8, "avis"),
    ]  # fmt: skip
    reasons = {e["line"]: e["reason"] for e in done["errors"]}
    assert reasons[3] == "empty text" and "not a number" in reasons[4] and "not a date" in reasons[5]
    assert "fields" in reasons[6] and "non-text bytes" in reasons[8]
    assert stored_texts(client, auth) == ["Très bon service", "Trop;de;champs", "Conseillère géniale"]


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "empty_file", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 50, "binary_file", "binary"),
        (b"ref;note;date\n1;5;2026-01-01\n", "missing_text_column", "Available columns: ref, note, date"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_422(
    client: TestClient, auth: dict[str, str], data: bytes, code: str, message: str
) -> None:
    response = upload(client, auth, data, name="broken.csv")
    assert response.status_code == 422
    assert response.json()["code"] == code and message in response.json()["detail"]
    assert stored_texts(client, auth) == []


def test_a_large_upload_lists_the_first_errors_and_counts_them_all(
    client: TestClient, auth: dict[str, str], settings: Any
) -> None:
    rows = [(str(i), "2026-01-01", "x" if i % 2 else "3", f"avis numéro {i}") for i in range(300)]
    client.app.state.settings.max_listed_errors = 20  # type: ignore[attr-defined]
    done = wait_upload(client, auth, upload(client, auth, export(rows=rows)).json()["id"])
    assert (done["rows_read"], done["rows_stored"], done["rows_failed"]) == (300, 150, 150)
    assert done["errors_listed"] == 20 and [e["line"] for e in done["errors"]][:3] == [3, 5, 7]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(Feedback).where(Feedback.upload_id == done["id"])) == 150


def test_another_workspace_cannot_see_an_upload(client: TestClient, auth: dict[str, str]) -> None:
    from tests.app.conftest import new_workspace

    job = upload(client, auth, export()).json()
    response = client.get(f"/v1/uploads/{job['id']}", headers=new_workspace(client))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_source_and_kind_chosen_by_the_user_win_over_columns(client: TestClient, auth: dict[str, str]) -> None:
    header = ("id", "site", "kind", "avis")
    rows = [("S1", "trustpilot", "social", "Livraison rapide, merci"), ("S2", "google", "survey", "Colis abîmé")]
    chosen = wait_upload(client, auth, upload(client, auth, export(",", "utf-8", header, rows), source="shop",
                                              kind="review").json()["id"])  # fmt: skip
    assert chosen["source"] == "shop" and chosen["kind"] == "review" and chosen["rows_stored"] == 2
    stored = client.get("/v1/feedback", headers=auth).json()["data"]
    assert {(f["source"], f["kind"]) for f in stored} == {("shop", "review")}
    # the overruled columns are not lost: they stay in each row's metadata
    assert sorted((f["metadata"]["site"], f["metadata"]["kind"]) for f in stored) == [
        ("google", "survey"), ("trustpilot", "social"),
    ]  # fmt: skip
    other = new_workspace(client)
    unchosen = wait_upload(client, other, upload(client, other, export(",", "utf-8", header, rows)).json()["id"])
    assert unchosen["kind"] == "review" and unchosen["source"] is None
    by_columns = client.get("/v1/feedback", headers=other).json()["data"]
    assert sorted((f["source"], f["kind"]) for f in by_columns) == [("google", "survey"), ("trustpilot", "social")]


def test_uploads_are_listed_newest_first_page_by_page(client: TestClient, auth: dict[str, str]) -> None:
    ids = []
    for n in range(3):
        rows = [(f"L{n}", "2026-05-01", "4", f"Avis numéro {n}, conseiller aimable")]
        job = upload(client, auth, export(rows=rows), name=f"e{n}.csv").json()
        ids.append(wait_upload(client, auth, job["id"])["id"])
    first = client.get("/v1/uploads", params={"limit": 2}, headers=auth)
    assert first.status_code == 200
    page = first.json()
    assert [u["id"] for u in page["data"]] == ids[::-1][:2] and page["next_cursor"]
    assert page["data"][0] == client.get(f"/v1/uploads/{ids[2]}", headers=auth).json()  # the same public shape
    rest = client.get("/v1/uploads", params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth).json()
    assert [u["id"] for u in rest["data"]] == [ids[0]] and rest["next_cursor"] is None
    assert rest["data"][0]["filename"] == "e0.csv"
    assert client.get("/v1/uploads", headers=new_workspace(client)).json() == {"data": [], "next_cursor": None}
    bad = client.get("/v1/uploads", params={"cursor": "nonsense!"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


def test_progress_counts_analysed_rows(client: TestClient, auth: dict[str, str]) -> None:
    client.app.state.settings.analysis_batch_size = 5  # type: ignore[attr-defined]
    rows = [(str(i), "2026-01-01", "3", f"Conseiller numéro {i} très aimable, dossier réglé") for i in range(40)]
    job = upload(client, auth, export(rows=rows)).json()
    seen, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:  # every state the page could show, as fast as it could poll
        state = client.get(f"/v1/uploads/{job['id']}", headers=auth).json()
        seen.append(state)
        if state["status"] in ("done", "failed"):
            break
    done = seen[-1]
    assert (done["status"], done["rows_stored"], done["rows_analysed"], done["progress"]) == ("done", 40, 40, 1.0)
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)  # never goes back
    read = [s for s in seen if s["status"] == "running" and s["rows_read"] == 40]
    for state in read:  # once the file is read, progress is 0.1 + 0.9 x the analysed share
        assert state["progress"] == pytest.approx(min(0.1 + 0.9 * state["rows_analysed"] / 40, 0.99), abs=1e-4)
    assert any(0 < s["rows_analysed"] < 40 and 0.1 < s["progress"] < 1 for s in read), progress
