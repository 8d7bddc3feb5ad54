"""Size limits where input enters: request bodies counted while they are read, texts and their number bounded."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.limits import FORM_ALLOWANCE
from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import new_workspace

CHUNK = 256 * 1024


class Streamed:
    """A request body sent in chunks, recording how much of it the server has pulled."""

    def __init__(self, total: int, first: bytes = b'{"items": [') -> None:
        self.total, self.first, self.consumed = total, first, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = self.first + b" " * (CHUNK - len(self.first))
        while self.consumed < self.total:
            self.consumed += len(chunk)
            yield chunk
            chunk = b" " * CHUNK


def send(
    client: TestClient, path: str, body: Streamed, headers: dict[str, str], content_type: str = "application/json"
) -> httpx.Response:
    """Send `body` to the running app chunk by chunk (on the app's own event loop), as a real server would."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as streaming:
            return await streaming.post(path, content=body, headers={**headers, "Content-Type": content_type})

    assert client.portal is not None
    return client.portal.call(call)


def test_a_json_body_over_the_limit_is_413_before_it_is_read_whole(
    client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    limit = settings.max_body_bytes
    body = Streamed(total=40 * limit)
    response = send(client, "/v1/feedback", body, auth)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "body_too_large" and response.json()["limit"] == limit
    assert str(limit) in response.json()["detail"]
    assert limit < body.consumed <= limit + CHUNK  # stopped at the chunk that crossed the limit


def test_a_declared_content_length_over_the_limit_is_413_without_reading(
    client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    body = Streamed(total=2 * settings.max_body_bytes)
    declared = {**auth, "Content-Length": str(2 * settings.max_body_bytes)}
    for path in ("/v1/feedback", "/v1/analyze"):
        response = send(client, path, body, declared)
        assert response.status_code == 413 and response.json()["code"] == "body_too_large", response.text
    assert body.consumed == 0


def test_a_body_under_the_limit_is_served(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/v1/feedback", json={"items": [{"text": "Livraison rapide " * 500}]}, headers=auth)
    assert response.status_code == 202, response.text


@pytest.fixture
def small(settings: Settings, shipped: Pipeline) -> Iterator[TestClient]:
    """The service with small body limits (no workers: nothing here needs analysis)."""
    limits = {"max_body_bytes": 4096, "max_upload_bytes": 64 * 1024, "run_worker": False}
    app: FastAPI = create_app(settings.model_copy(update=limits), pipeline=shipped)
    with TestClient(app) as small_client:
        yield small_client


def test_each_route_has_its_own_body_limit(small: TestClient) -> None:
    auth = new_workspace(small)
    csv = ("texte\n" + "Livraison rapide et soignée\n" * 1000).encode()  # 28 kB: over the JSON limit, under the file's
    accepted = small.post("/v1/uploads", files={"file": ("avis.csv", csv, "text/csv")}, headers=auth)
    assert accepted.status_code == 202, accepted.text
    json_body = small.post("/v1/feedback", json={"items": [{"text": "x" * 5000}]}, headers=auth)
    assert json_body.status_code == 413 and json_body.json()["code"] == "body_too_large"
    boundary = "limit-test"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\ntexte\n"
    ).encode()
    body = Streamed(total=8 * FORM_ALLOWANCE, first=head)
    response = send(small, "/v1/uploads", body, auth, f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "body_too_large"
    assert body.consumed <= 64 * 1024 + FORM_ALLOWANCE + CHUNK  # the file's limit, the form's allowance, one chunk


def analyze(client: TestClient, auth: dict[str, str], body: dict[str, Any]) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = client.post("/v1/analyze", json=body, headers=auth)
    return response, time.perf_counter() - start


def test_a_too_long_text_to_analyze_is_refused_naming_it_quickly(
    client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    long = "Le colis est arrivé en retard. " * (1_000_000 // 31)  # the 1 MB text that once ran 96 s
    response, seconds = analyze(client, auth, {"texts": ["Livraison rapide", long]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "texts.1"
    assert str(settings.max_text_chars) in response.json()["errors"][0]["message"]
    assert seconds < 5
    response, _ = analyze(client, auth, {"items": [{"text": "ok"}, {"text": "ok"}, {"text": long}]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "items.2.text"


def test_too_many_texts_or_characters_to_analyze_are_413_with_the_limit(
    client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    many, _ = analyze(client, auth, {"texts": ["ok"] * (settings.max_analyze_texts + 1)})
    assert many.status_code == 413 and many.json()["code"] == "batch_too_large"
    assert many.json()["limit"] == settings.max_analyze_texts
    per_text = settings.max_text_chars
    count = settings.max_analyze_chars // per_text + 1
    heavy, seconds = analyze(client, auth, {"texts": ["Colis en retard. " * (per_text // 17)] * count})
    assert heavy.status_code == 413, heavy.text
    assert heavy.json()["code"] == "analysis_too_large" and heavy.json()["limit"] == settings.max_analyze_chars
    assert seconds < 5
    fine, _ = analyze(client, auth, {"texts": ["Livraison rapide"]})
    assert fine.status_code == 200 and len(fine.json()["analyses"]) == 1


def test_a_too_long_feedback_text_is_named_with_its_index(client: TestClient, auth: dict[str, str]) -> None:
    items = [{"text": "Livraison rapide"}, {"text": "x" * 20_001}]
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    assert body["stored"] == 1 and [(e["index"], e["field"]) for e in body["errors"]] == [(1, "text")]
