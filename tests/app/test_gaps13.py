"""Issue 13's last gaps: values stored before the limits, the upload form's rating scale, 503 database_busy in the
OpenAPI document, lost races of the analysis worker and of erasures run again at once, failure messages without
personal data, and the columns of a file with no text column (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import is_postgres
from app.jobs.queue import JobKind
from app.jobs.workers import AnalysisWorker
from app.journey.topics import slice_key
from app.main import create_app
from app.models import Feedback, TopicModel, Workspace
from nlp.pipeline import Pipeline
from tests.app.conftest import new_workspace, wait_analysed, wait_for
from tests.app.test_concurrency import lock_waits
from tests.app.test_edge_values import assert_finite_answers, strict_json
from tests.app.test_uploads import export, upload

EMAIL = "jean.dupont@example.fr"


# 1. Rows stored before the limits, with NaN or Infinity in them


def test_non_finite_values_stored_before_the_limits_are_listed_filtered_and_answered(
    client: TestClient, auth: dict[str, str]
) -> None:
    items = [
        {"text": "Colis arrivé cassé, SAV injoignable", "rating": 2, "metadata": {"store": "Lyon", "score": 1}},
        {"text": "Accueil parfait en agence", "rating": 5, "metadata": {"store": "Paris"}},
    ]
    ids = [i["id"] for i in client.post("/v1/feedback", json={"items": items}, headers=auth).json()["items"]]
    wait_analysed(client, auth, ids)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:  # as rows written before the door checked numbers hold them
        connection.execute(
            text("UPDATE feedback SET rating = :nan, sentiment = :inf WHERE id = :id"),
            {"nan": float("nan"), "inf": float("inf"), "id": ids[0]},
        )
        if not is_postgres(engine):  # SQLite's JSON column holds what Python's json wrote; PostgreSQL's json refuses it
            connection.execute(
                text("UPDATE feedback SET metadata = :m WHERE id = :id"),
                {"m": '{"store": "Lyon", "score": NaN, "low": -Infinity, "high": Infinity}', "id": ids[0]},
            )
    listed = client.get("/v1/feedback", params={"include": "mentions"}, headers=auth)
    assert listed.status_code == 200, listed.text
    first = next(f for f in strict_json(listed.text)["data"] if f["id"] == ids[0])
    assert (first["rating"], first["sentiment"]) == (None, None)
    if not is_postgres(engine):
        assert first["metadata"] == {"store": "Lyon", "score": None, "low": None, "high": None}
    detail = client.get(f"/v1/feedback/{ids[0]}", headers=auth)
    assert detail.status_code == 200 and strict_json(detail.text)["rating"] is None
    for store, expected in (("Lyon", [ids[0]]), ("Paris", [ids[1]]), ("Nantes", [])):
        found = client.get("/v1/feedback", params={"metadata": f"store={store}"}, headers=auth)
        assert found.status_code == 200, found.text
        assert [f["id"] for f in strict_json(found.text)["data"]] == expected
    assert_finite_answers(client, auth, {"metadata": "store=Lyon"})
    assert_finite_answers(client, auth)
    lyon = client.get("/v1/kpis", params={"metadata": "store=Lyon"}, headers=auth).json()
    assert lyon["overall"]["feedback"] == 1


def test_metadata_filters_address_keys_holding_quotes_and_dots(client: TestClient, auth: dict[str, str]) -> None:
    items = [{"text": "Livraison rapide", "metadata": {'say "hi"': "yes", "a.b": "dot", "b": "nested"}}]
    stored = client.post("/v1/feedback", json={"items": items}, headers=auth)
    assert stored.status_code == 202, stored.text
    [item] = stored.json()["items"]
    for pair, expected in (('say "hi"=yes', [item["id"]]), ("a.b=dot", [item["id"]]), ("a.b=nested", [])):
        found = client.get("/v1/feedback", params={"metadata": pair}, headers=auth)
        assert found.status_code == 200, (pair, found.text)
        assert [f["id"] for f in found.json()["data"]] == expected, pair


# 2. The upload form's rating scale, checked as the items' own


@pytest.mark.parametrize("scale", ["0.5", "1001", "inf", "nan", "1e400"])
def test_an_upload_with_a_rating_scale_out_of_1_to_1000_is_422_naming_it(
    client: TestClient, auth: dict[str, str], scale: str
) -> None:
    response = upload(client, auth, export(), rating_scale=scale)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["rating_scale"]
    assert client.get("/v1/uploads", headers=auth).json()["data"] == []  # nothing queued


def test_an_upload_with_a_rating_scale_within_1_to_1000_is_stored_on_it(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = upload(client, auth, export(), rating_scale="1000")
    assert response.status_code == 202, response.text
    listed = wait_for(lambda: client.get("/v1/feedback", headers=auth).json()["data"], what="stored rows")
    assert {f["rating_scale"] for f in listed} == {1000}


# 3. 503 database_busy in the OpenAPI document


def test_every_v1_write_documents_503_database_busy_and_reads_do_not(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    writes = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete") and (method, path) != ("post", "/v1/analyze")
    ]
    assert {("post", "/v1/feedback"), ("delete", "/v1/feedback/{feedback_id}"), ("post", "/v1/uploads"),
            ("patch", "/v1/workspace")} <= {(m, p) for m, p, _ in writes}  # fmt: skip
    for method, path, operation in writes:
        busy = operation["responses"].get("503")
        assert busy is not None, f"{method} {path}: 503 not documented"
        assert busy["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
        assert busy["content"]["application/json"]["example"]["code"] == "database_busy", (method, path)
    assert "503" not in spec["paths"]["/v1/kpis"]["get"]["responses"]
    assert "503" not in spec["paths"]["/v1/analyze"]["post"]["responses"]


# 4. Lost races of the analysis worker (and of an erasure) run again at once


def deadlock_against(engine: Any, feedback_id: int, workspace_id: int, write: Callable[[], Any]) -> tuple[Any, float]:
    """Run `write` in a thread while another transaction takes the workspace row, waits for `write` to wait on it,
    then asks for the feedback row `write` holds: PostgreSQL ends the cycle by failing `write`'s transaction (the
    other one's deadlock_timeout is longer). Return what `write` returned (or raised) and how long it took."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["result"] = write()
        except Exception as error:  # noqa: BLE001 - the test asserts on it
            outcome["result"] = error
        outcome["seconds"] = time.monotonic() - started

    with Session(engine) as other:
        other.execute(text("SET LOCAL deadlock_timeout = '20s'"))
        other.execute(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
        thread = threading.Thread(target=run)
        thread.start()
        wait_for(lambda: lock_waits(engine), what="the write to wait for the workspace row")
        other.execute(select(Feedback.id).where(Feedback.id == feedback_id).with_for_update())  # the write loses
        other.commit()
    thread.join(60)
    assert not thread.is_alive()
    return outcome["result"], outcome["seconds"]


@pytest.fixture
def idle_client(settings: Settings, shipped: Pipeline) -> Iterator[TestClient]:
    """The service with no worker running and a lease of two minutes: a batch stored late is not hidden by it."""
    quiet = settings.model_copy(update={"run_worker": False, "lease_seconds": 120})
    with TestClient(create_app(quiet, pipeline=shipped)) as test_client:
        yield test_client


def test_the_analysis_worker_runs_a_store_that_lost_a_race_again_at_once(
    idle_client: TestClient, shipped: Pipeline
) -> None:
    engine = idle_client.app.state.engine  # type: ignore[attr-defined]
    if not is_postgres(engine):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): no deadlock to lose")
    auth = new_workspace(idle_client)
    body = idle_client.post("/v1/feedback", json={"items": [{"text": "SAV injoignable, colis perdu"}]}, headers=auth)
    [item] = body.json()["items"]
    workspace_id = idle_client.get("/v1/workspace", headers=auth).json()["id"]
    worker = AnalysisWorker(engine, shipped, idle_client.app.state.settings, threading.Lock())  # type: ignore[attr-defined]
    result, seconds = deadlock_against(engine, item["id"], workspace_id, worker.run_once)
    assert result == 1, result  # stored by this run: not failed, not left to the lease (120 s)
    assert seconds < 60
    stored = idle_client.get(f"/v1/feedback/{item['id']}", headers=auth).json()
    assert stored["status"] == "analysed" and stored["mentions"], stored


def test_an_erasure_that_lost_a_race_is_run_again_and_answers_204(client: TestClient, auth: dict[str, str]) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    if not is_postgres(engine):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): no deadlock to lose")
    body = client.post("/v1/feedback", json={"items": [{"text": "Livraison en retard, aucun suivi"}]}, headers=auth)
    [item] = body.json()["items"]
    wait_analysed(client, auth, [item["id"]])
    workspace_id = client.get("/v1/workspace", headers=auth).json()["id"]
    response, _ = deadlock_against(
        engine, item["id"], workspace_id, lambda: client.delete(f"/v1/feedback/{item['id']}", headers=auth)
    )
    assert response.status_code == 204, response.text
    assert client.get(f"/v1/feedback/{item['id']}", headers=auth).status_code == 404


# 5. Failure messages stored without personal data


def test_a_failed_analysis_stores_its_message_masked_and_cut(client: TestClient, auth: dict[str, str]) -> None:
    from app.feedback.store import mark_failed

    body = client.post("/v1/feedback", json={"items": [{"text": "Rappelez-moi vite"}]}, headers=auth)
    [item] = body.json()["items"]
    wait_analysed(client, auth, [item["id"]])
    engine = client.app.state.engine  # type: ignore[attr-defined]
    message = f"ValueError: cannot read 'écrire à {EMAIL} ou au 06 12 34 56 78' " + "x" * 5000
    with Session(engine) as session:
        mark_failed(session=session, feedback_id=item["id"], error=message)
        session.commit()
        stored = session.scalar(select(Feedback.error).where(Feedback.id == item["id"]))
    assert stored is not None and EMAIL not in stored and "06 12 34 56 78" not in stored
    assert "[email]" in stored and "[phone]" in stored and len(stored) <= 2000


def test_a_failed_topic_computation_shows_its_message_masked(client: TestClient, auth: dict[str, str]) -> None:
    body = client.post("/v1/feedback", json={"items": [{"text": "SAV injoignable, colis perdu"}]}, headers=auth)
    wait_analysed(client, auth, [i["id"] for i in body.json()["items"]])
    workspace_id = client.get("/v1/workspace", headers=auth).json()["id"]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    # A stored result, broken: reading it back fails quoting the value (float('... address ...'))
    topic = {"id": 0, "label": "sav", "words": ["sav"], "size": 1, "mean_sentiment": -0.5, "verbatims": []}
    broken = {"topics": [topic | {"centroid": [0.0], "coverage": f"écrire à {EMAIL}"}], "mentions": 1}
    with Session(engine) as session:
        session.add(TopicModel(workspace_id=workspace_id, slice=slice_key(None, "irritant"), result=broken))
        session.commit()
    client.app.state.workers.wake(JobKind.topics)  # type: ignore[attr-defined]

    def failed() -> dict[str, Any] | None:
        answer = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth).json()
        return answer if answer["status"] == "failed" else None

    answer = wait_for(failed, timeout=60, what="the topic computation to fail")
    assert EMAIL not in answer["error"] and "[email]" in answer["error"], answer["error"]


# 6. A file with no text column: its columns, masked and cut, in the 422


def test_a_file_with_no_text_column_is_refused_listing_its_columns_masked(
    client: TestClient, auth: dict[str, str]
) -> None:
    header = ("ref", "note", f"contact {EMAIL}", "x" * 300)
    response = upload(client, auth, export(header=header, rows=[("1", "5", "a", "b")]))
    assert response.status_code == 422, response.text
    body = strict_json(response.text)
    assert body["code"] == "missing_text_column"
    assert body["columns"][:3] == ["ref", "note", "contact [email]"]
    assert len(body["columns"][3]) == 200 and body["columns"][3].endswith("…")
    assert body["columns_total"] == 4
    assert EMAIL not in response.text
    wide = upload(client, auth, export(header=tuple(f"c{i}" for i in range(700)), rows=[]))
    assert wide.status_code == 422, wide.text
    assert len(wide.json()["columns"]) == 500 and wide.json()["columns_total"] == 700


def test_a_mapping_naming_a_missing_column_is_refused_listing_the_columns(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = upload(client, auth, export(), mapping='{"created_at": "Quand"}')
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "missing_column" and body["columns"] == ["id", "date", "note", "avis"]
    named_text = upload(client, auth, export(), mapping='{"text": "Verbatim"}')
    assert named_text.status_code == 422 and named_text.json()["columns"] == ["id", "date", "note", "avis"]
