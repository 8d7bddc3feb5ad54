"""GET /metrics (Prometheus text format) moves with the work done, and request logs can be JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.core.config import Settings
from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import ADMIN_TOKEN, new_workspace, wait_analysed, wait_for, wait_upload

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of GET /metrics: (name, sorted labels) -> value."""
    response = client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_admin_token_unless_public(settings: Settings, shipped: Pipeline) -> None:
    with TestClient(create_app(settings, pipeline=shipped)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    public = settings.model_copy(update={"metrics_public": True})
    with TestClient(create_app(public, pipeline=shipped)) as client:
        assert client.get("/metrics").status_code == 200


def test_metrics_move_with_queued_analysed_and_uploaded_feedback(settings: Settings, shipped: Pipeline) -> None:
    items = {"items": [{"text": t} for t in ("Livraison rapide.", "SAV injoignable.", "Colis abîmé.")]}
    # No workers first: the queue depth, read from the database, shows the waiting feedback.
    with TestClient(create_app(settings.model_copy(update={"run_worker": False}), pipeline=shipped)) as client:
        auth = new_workspace(client)
        before = scrape(client)
        accepted = client.post("/v1/feedback", json=items, headers=auth)
        assert accepted.status_code == 202
        queued = scrape(client)
        assert value(queued, "parcours_queue_depth", kind="analysis") == value(before, "parcours_queue_depth",
                                                                               kind="analysis") + 3  # fmt: skip
        requests = ("parcours_http_request_duration_seconds_count", {"method": "POST", "route": "/v1/feedback"})
        assert value(queued, requests[0], **requests[1], status="202") == value(
            before, requests[0], **requests[1], status="202") + 1  # fmt: skip
        ids = [item["id"] for item in accepted.json()["items"]]
        before = queued  # counters are per process: read before any worker can start on the queued feedback
    # With workers: the feedback is analysed, an upload is read, and the counters say so.
    with TestClient(create_app(settings, pipeline=shipped)) as client:
        wait_analysed(client, auth, ids)
        csv = b"text,rating\nAccueil chaleureux.,5\nAttente trop longue.,abc\nTrain en retard.,2\n"
        upload = client.post("/v1/uploads", files={"file": ("x.csv", csv, "text/csv")}, headers=auth)
        assert upload.status_code == 202, upload.text
        assert wait_upload(client, auth, upload.json()["id"])["status"] == "done"
        wait_for(lambda: value(scrape(client), "parcours_queue_depth", kind="analysis") == 0, what="an empty queue")
        after = scrape(client)
    assert value(after, "parcours_feedback_analysed_total") >= value(before, "parcours_feedback_analysed_total") + 5
    batches = "parcours_analysis_batch_seconds_count"
    assert value(after, batches) > value(before, batches)
    assert value(after, "parcours_upload_rows_total", outcome="stored") == value(
        before, "parcours_upload_rows_total", outcome="stored") + 2  # fmt: skip
    assert value(after, "parcours_upload_rows_total", outcome="failed") == value(
        before, "parcours_upload_rows_total", outcome="failed") + 1  # fmt: skip
    polled = ("parcours_http_request_duration_seconds_count", {"method": "GET", "route": "/v1/uploads/{upload_id}"})
    assert value(after, polled[0], **polled[1], status="200") > value(before, polled[0], **polled[1], status="200")
    # the database is shared by the session's tests: this upload is done, so the uploads queue holds no more than before
    assert value(after, "parcours_queue_depth", kind="uploads") <= value(before, "parcours_queue_depth", kind="uploads")
    for kind in ("topics", "reanalysis", "learning"):
        assert ("parcours_queue_depth", (("kind", kind),)) in after
    assert value(after, "process_resident_memory_bytes") > 0


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("parcours.access").setLevel(logging.NOTSET)


def test_json_logs_have_one_line_per_request_with_its_id_route_status_and_duration(
    settings: Settings, shipped: Pipeline, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configured = settings.model_copy(update={"log_format": "json", "run_worker": False})
    with TestClient(create_app(configured, pipeline=shipped)) as client:
        auth = new_workspace(client)
        response = client.get("/v1/feedback/123456789", headers=auth | {"X-Request-ID": "req-e1-42"})
        assert response.status_code == 404 and response.headers["X-Request-ID"] == "req-e1-42"
        generated = client.get("/health").headers["X-Request-ID"]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "parcours.access"]
    mine = [line for line in access if line.get("request_id") == "req-e1-42"]
    assert len(mine) == 1, access
    assert mine[0]["level"] == "INFO" and mine[0]["time"] and mine[0]["message"].startswith("GET /v1/feedback/")
    assert (mine[0]["method"], mine[0]["route"], mine[0]["status"]) == ("GET", "/v1/feedback/{feedback_id}", 404)
    assert mine[0]["duration_ms"] > 0
    assert [line["route"] for line in access if line["request_id"] == generated] == ["/health"]
