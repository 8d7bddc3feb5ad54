"""Privacy by construction: no free-text field stores personal data raw, and uploaded files do not stay on disk."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.config import Settings
from app.main import create_app
from app.models import Feedback, MentionRow, Upload, UploadRowError
from app.uploads.files import ORPHAN_GRACE_SECONDS
from nlp.pipeline import Pipeline
from tests.app.conftest import new_workspace, wait_analysed, wait_for, wait_upload

EMAIL = "jeanne.kowalczyk@exemple.fr"
PHONE = "06 12 34 56 78"
ITEM: dict[str, Any] = {
    "external_id": f"crm-{EMAIL}",
    "text": f"Colis perdu, écrivez-moi à {EMAIL} ou au {PHONE}.",
    "source": f"mail de {EMAIL}",
    "channel": f"appel du {PHONE}",
    "segment": f"client {EMAIL}",
    "metadata": {"author": EMAIL, "note": f"rappeler au {PHONE}", "visits": 3},
}


def rows_of(client: TestClient, table: Any, *conditions: Any) -> list[Any]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(table).where(*conditions)).all())


def raw_values(row: Any) -> str:
    return repr(row.model_dump())


def test_every_free_text_field_is_masked_and_a_personal_external_id_is_digested(client: TestClient) -> None:
    auth = new_workspace(client)
    first = client.post("/v1/feedback", json={"items": [ITEM]}, headers=auth).json()
    assert first["stored"] == 1
    feedback_id = first["items"][0]["id"]
    [row] = rows_of(client, Feedback, Feedback.id == feedback_id)
    stored = raw_values(row)
    assert EMAIL not in stored and PHONE not in stored and "kowalczyk" not in stored.lower()
    assert row.text == "Colis perdu, écrivez-moi à [email] ou au [phone]."
    assert (row.source, row.channel, row.segment) == ("mail de [email]", "appel du [phone]", "client [email]")
    assert row.meta == {"author": "[email]", "note": "rappeler au [phone]", "visits": 3}
    assert row.external_id.startswith("pii:") and len(row.external_id) == 36

    again = client.post("/v1/feedback", json={"items": [ITEM, {**ITEM, "text": "autre texte"}]}, headers=auth).json()
    assert again["stored"] == 0 and again["duplicates"] == 2  # same external id: the same item
    assert [i["id"] for i in again["items"]] == [feedback_id, feedback_id]
    other = client.post("/v1/feedback", json={"items": [{**ITEM, "external_id": "crm-paul@exemple.fr"}]}, headers=auth)
    assert other.json()["stored"] == 1  # another customer's id does not collide with the first one

    wait_analysed(client, auth, [feedback_id])
    for mention in rows_of(client, MentionRow, MentionRow.feedback_id == feedback_id):
        assert EMAIL not in raw_values(mention) and PHONE not in raw_values(mention)


def test_the_same_personal_external_id_gets_a_different_digest_in_another_workspace(client: TestClient) -> None:
    ids = []
    for auth in (new_workspace(client), new_workspace(client)):
        body = client.post("/v1/feedback", json={"items": [ITEM]}, headers=auth).json()
        [row] = rows_of(client, Feedback, Feedback.id == body["items"][0]["id"])
        ids.append(row.external_id)
    assert ids[0] != ids[1] and all(i.startswith("pii:") for i in ids)


def test_a_workspace_that_masks_nothing_stores_items_as_sent(client: TestClient) -> None:
    auth = new_workspace(client, mask_pii=[])
    body = client.post("/v1/feedback", json={"items": [ITEM]}, headers=auth).json()
    [row] = rows_of(client, Feedback, Feedback.id == body["items"][0]["id"])
    assert (row.external_id, row.text, row.source, row.meta["author"]) == (
        ITEM["external_id"], ITEM["text"], ITEM["source"], EMAIL,
    )  # fmt: skip


def csv_export(rows: list[tuple[str, ...]]) -> bytes:
    header = "id,date,note,auteur,email,titre,avis"
    return ("\r\n".join([header, *(",".join(row) for row in rows)]) + "\r\n").encode()


def uploaded_files(settings: Settings) -> list[Path]:
    folder = settings.data_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_upload_stores_no_raw_personal_data_and_its_file_is_deleted(client: TestClient, settings: Settings) -> None:
    auth = new_workspace(client)
    data = csv_export([
        (EMAIL, "2026-05-01", "1", "Jeanne K", EMAIL, f"Appelez le {PHONE}", "Colis perdu et SAV muet"),
        ("R2", f"le {EMAIL}", "1", "Paul", "paul@exemple.fr", "Retard", "Livraison en retard"),
        ("R3", "2026-05-03", f"{PHONE}", "Léa", "lea@exemple.fr", "Bug", "Appli plante"),
    ])  # fmt: skip
    response = client.post(
        "/v1/uploads",
        files={"file": (f"export {EMAIL}.csv", data, "text/csv")},
        data={"source": f"boîte de {EMAIL}"},
        headers=auth,
    )
    assert response.status_code == 202, response.text
    state = wait_upload(client, auth, response.json()["id"])
    assert state["status"] == "done" and state["rows_stored"] == 1 and state["rows_failed"] == 2
    assert uploaded_files(settings) == []  # read to its end: deleted

    [upload] = rows_of(client, Upload, Upload.id == state["id"])
    errors = rows_of(client, UploadRowError, UploadRowError.upload_id == upload.id)
    feedback = rows_of(client, Feedback, Feedback.upload_id == upload.id)
    for row in [upload, *errors, *feedback]:
        assert EMAIL not in raw_values(row) and PHONE not in raw_values(row), raw_values(row)
    assert sorted((e.line, e.column, e.reason) for e in errors) == [
        (3, "date", "date 'le [email]' is not a date"),
        (4, "note", "rating '[phone]' is not a number"),
    ]
    assert upload.filename == "export [email]" and upload.source == "boîte de [email]"  # ".csv" read as a domain
    assert feedback[0].meta == {"author": "Jeanne K", "email": "[email]", "title": "Appelez le [phone]"}
    assert feedback[0].external_id.startswith("pii:") and feedback[0].source == "boîte de [email]"


def test_an_error_message_shows_a_long_cell_value_truncated(client: TestClient, auth: dict[str, str]) -> None:
    long_date = "Jean-Christophe de la Fontaine-Dupont le troisième jour"
    response = client.post(
        "/v1/uploads",
        files={"file": ("x.csv", csv_export([("R1", long_date, "1", "a", "b", "c", "Colis perdu")]), "text/csv")},
        headers=auth,
    )
    state = wait_upload(client, auth, response.json()["id"])
    [error] = state["errors"]
    assert error["reason"] == "date 'Jean-Christophe de la F…' is not a date"


def test_a_refused_upload_leaves_no_file(client: TestClient, auth: dict[str, str], settings: Settings) -> None:
    for data, status in ((b"\x00\x01\x02binary", 422), (b"a,b\r\n1,2\r\n", 422)):
        response = client.post("/v1/uploads", files={"file": ("x.csv", data, "text/csv")}, headers=auth)
        assert response.status_code == status, response.text
    assert uploaded_files(settings) == []


def test_the_upload_worker_sweeps_files_left_behind_and_keeps_them_as_long_as_told(
    settings: Settings, shipped: Pipeline
) -> None:
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True)
    old, fresh = folder / "left-by-a-crash.csv", folder / "being-uploaded.csv"
    for path in (old, fresh):
        path.write_text(f"avis\r\nmail {EMAIL}\r\n")
    keep = 3600.0
    past = time.time() - max(keep, ORPHAN_GRACE_SECONDS) - 60  # older than the retention and the grace
    os.utime(old, (past, past))
    kept = settings.model_copy(update={"keep_upload_files_seconds": keep})
    with TestClient(create_app(kept, pipeline=shipped)) as client:
        wait_for(lambda: not old.exists(), what="the sweep of a file of no upload")
        assert fresh.exists()  # a request may still be checking it
        auth = new_workspace(client)
        response = client.post("/v1/uploads", files={"file": ("x.csv", b"avis\r\nColis perdu\r\n")}, headers=auth)
        assert wait_upload(client, auth, response.json()["id"])["status"] == "done"
        assert len(uploaded_files(kept)) == 2  # read, but kept for an hour as configured
