"""DELETE /v1/feedback/{id}: the erased words are nowhere any more, in no table, no file and no answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from app.core.config import Settings
from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import new_workspace, wait_analysed, wait_for, wait_upload
from tests.nlp.test_topics import THEMES

SURNAME = "Zorglubovski"
EMAIL = "zorglubovski.k@exemple.fr"
ERASED_WORDS = (SURNAME.lower(), EMAIL)


def found_in_database(engine: Engine) -> dict[str, set[str]]:
    """Every table of the database (introspected, not our models) -> the columns holding an erased word."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    found: dict[str, set[str]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    text = (value if isinstance(value, str) else json.dumps(value, default=str)).lower()
                    if any(word in text for word in ERASED_WORDS):
                        found.setdefault(table.name, set()).add(column)
    return found


def found_in_files(folder: Path) -> list[str]:
    """The files under `folder` holding an erased word."""
    words = [word.encode() for word in ERASED_WORDS]
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and any(w in p.read_bytes().lower() for w in words))


def feedback_ids(answer: Any) -> set[int]:
    """Every feedback id an answer quotes (verbatims), at any depth."""
    if isinstance(answer, dict):
        own = {answer["feedback_id"]} if "feedback_id" in answer else set()
        return own.union(*(feedback_ids(value) for value in answer.values()))
    if isinstance(answer, list):
        return set().union(*(feedback_ids(value) for value in answer))
    return set()


def topics(client: TestClient, auth: dict[str, str], **headers: str) -> Any:
    return client.get("/v1/topics", params={"polarity": "irritant"}, headers={**auth, **headers})


def test_erased_feedback_is_gone_from_every_table_file_topic_and_cached_answer(
    settings: Settings, shipped: Pipeline
) -> None:
    # Polls may reuse the workspace row for a minute here, and uploaded files are kept for an hour: the erasure
    # itself has to reach the caches and the files.
    configured = settings.model_copy(update={"workspace_ttl_seconds": 60.0, "keep_upload_files_seconds": 3600.0})
    with TestClient(create_app(configured, pipeline=shipped)) as client:
        auth = new_workspace(client, mask_pii=[])  # stored as sent: only the erasure can take the words away
        # the words inside the complaint itself: in its mention, so in the topics' words and verbatims
        erased = [f"{text} pour {SURNAME} {EMAIL}, vraiment pas content" for text in THEMES["delivery"][:6]]
        csv = "avis\r\n" + "".join(f'"{text}"\r\n' for text in erased)
        response = client.post("/v1/uploads", files={"file": ("export.csv", csv.encode())}, headers=auth)
        assert wait_upload(client, auth, response.json()["id"])["status"] == "done"
        others = [f"{t}, vraiment pas content." for group in THEMES.values() for t in group][6:]
        body = client.post("/v1/feedback", json={"items": [{"text": t} for t in others]}, headers=auth).json()
        listed = client.get("/v1/feedback", params={"limit": 500}, headers=auth).json()["data"]
        erased_ids = [f["id"] for f in listed if SURNAME in f["text"]]
        assert len(erased_ids) == 6
        wait_analysed(client, auth, erased_ids + [i["id"] for i in body["items"]])
        topics(client, auth)
        before = wait_for(lambda: (a := topics(client, auth).json())["status"] == "done" and a, 180, "the topics")
        assert before["topics"], before
        engine = client.app.state.engine  # type: ignore[attr-defined]
        where = found_in_database(engine)
        assert {"feedback", "topic_model"} <= set(where), where  # the test looks where the words are
        assert found_in_files(configured.data_dir)  # the kept upload
        served = topics(client, auth)
        assert SURNAME in served.text  # and this answer is cached now
        # a write reads the workspace row afresh: the cached row and the cached answer are of the current version
        assert client.patch("/v1/workspace", json={"mask_pii": []}, headers=auth).status_code == 200
        irritants = client.get("/v1/irritants", headers=auth)
        quoted = sorted(set(erased_ids) & feedback_ids(irritants.json()))
        assert quoted  # a verbatim of the cached answer

        # One erasure: the next poll (with the workspace row cached for a minute) no longer gets it.
        assert client.delete(f"/v1/feedback/{quoted[0]}", headers=auth).status_code == 204
        after = client.get("/v1/irritants", headers=auth)
        assert after.headers["etag"] != irritants.headers["etag"] and quoted[0] not in feedback_ids(after.json())
        for feedback_id in set(erased_ids) - {quoted[0]}:
            assert client.delete(f"/v1/feedback/{feedback_id}", headers=auth).status_code == 204

        assert found_in_database(engine) == {}
        assert found_in_files(configured.data_dir) == []
        now = topics(client, auth)
        assert now.status_code == 200 and now.headers["etag"] != served.headers["etag"]
        assert SURNAME.lower() not in now.text.lower()
        assert topics(client, auth, **{"If-None-Match": served.headers["etag"]}).status_code == 200
        for path in ("/v1/irritants", "/v1/feedback"):
            assert SURNAME.lower() not in client.get(path, headers=auth).text.lower()

        again = wait_for(lambda: (a := topics(client, auth).json())["status"] == "done" and a, 180, "the topics")
        assert again["topics"] and SURNAME.lower() not in json.dumps(again).lower()
        assert found_in_database(engine) == {}
