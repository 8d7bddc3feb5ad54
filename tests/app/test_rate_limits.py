"""Rate limits: failed authentications per client address, heavy endpoints per workspace; in memory and in Redis.

Requests come from a chosen client address through uvicorn's proxy-headers middleware (X-Forwarded-For),
as they do behind a reverse proxy.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.core.config import Settings
from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import new_workspace, wait_for

REDIS_URL = os.environ.get("PARCOURS_TEST_REDIS", "redis://127.0.0.1:6379")


def _redis_reachable() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        _redis_reachable()
        return REDIS_URL
    return "memory://"


Serve = Callable[..., Any]


@pytest.fixture
def serve(settings: Settings, shipped: Pipeline, storage: str) -> Iterator[Serve]:
    """Start the service with the given limits on the parametrized storage (a fresh Redis key prefix)."""

    @contextmanager
    def opener(**limits: str) -> Iterator[TestClient]:
        configured = settings.model_copy(
            update={"rate_limit_storage": storage, "rate_limit_prefix": f"test-{uuid.uuid4().hex}", **limits}
        )
        app = ProxyHeadersMiddleware(create_app(configured, pipeline=shipped), trusted_hosts="*")  # type: ignore[arg-type]
        with TestClient(app) as client:  # type: ignore[arg-type]
            yield client

    yield opener


def address() -> dict[str, str]:
    """Headers of a request from a new client address."""
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


def test_wrong_keys_from_one_address_get_429_after_the_limit_and_other_clients_still_get_in(serve: Serve) -> None:
    with serve(rate_limit_auth_failures="5/minute") as client:
        key = new_workspace(client)
        guesser, other = address(), address()
        assert client.get("/v1/kpis", headers=guesser | key).status_code == 200  # the key is now cached
        statuses = []
        for _ in range(30):
            response = client.get("/v1/workspace", headers=guesser | {"Authorization": f"Bearer pk_{uuid.uuid4()}"})
            statuses.append(response.status_code)
        assert statuses == [401] * 5 + [429] * 25
        assert response.json()["code"] == "rate_limited" and "failed authentications" in response.json()["detail"]
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        # the blocked address gets 429 whatever key it sends: a right one would otherwise tell it apart
        assert client.get("/v1/workspace", headers=guesser | key).status_code == 429
        assert client.get("/v1/kpis", headers=guesser | key).status_code == 429  # polls answered early too
        assert client.get("/v1/workspace", headers=other | key).status_code == 200
        assert client.get("/health", headers=guesser).status_code == 200  # no key, nothing to refuse


def test_the_failed_authentication_limit_resets(serve: Serve) -> None:
    with serve(rate_limit_auth_failures="3 per 2 seconds") as client:
        key = new_workspace(client)
        guesser = address()
        refused = None
        for _ in range(30):
            refused = client.get("/v1/workspace", headers=guesser | {"X-API-Key": "pk_wrong"})
            if refused.status_code == 429:
                break
        assert refused is not None and refused.status_code == 429
        assert int(refused.headers["Retry-After"]) <= 2
        wait_for(lambda: client.get("/v1/workspace", headers=guesser | key).status_code == 200, timeout=10,
                 what="the window to move past the failures")  # fmt: skip


def test_heavy_endpoints_are_limited_per_workspace(serve: Serve) -> None:
    limits = {"rate_limit_analyze": "2/minute", "rate_limit_feedback": "1/minute", "rate_limit_uploads": "1/minute"}
    with serve(**limits) as client:
        busy, calm = new_workspace(client), new_workspace(client)
        texts = {"items": [{"text": "Livraison rapide, SAV injoignable."}]}
        assert [client.post("/v1/analyze", json=texts, headers=busy).status_code for _ in range(2)] == [200, 200]
        refused = client.post("/v1/analyze", json=texts, headers=busy)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert "/v1/analyze" in refused.json()["detail"] and int(refused.headers["Retry-After"]) >= 1
        assert client.post("/v1/analyze", json=texts, headers=calm).status_code == 200  # another workspace
        assert client.get("/v1/workspace", headers=busy).status_code == 200  # other endpoints unaffected

        first = {"items": [{"text": "Le colis est arrivé cassé."}]}
        second = {"items": [{"text": "Très bon accueil en boutique."}]}
        assert client.post("/v1/feedback", json=first, headers=busy).status_code == 202
        assert client.post("/v1/feedback", json=second, headers=busy).status_code == 429
        stored = client.get("/v1/feedback", headers=busy).json()
        assert [item["text"] for item in stored["data"]] == ["Le colis est arrivé cassé."]  # nothing of the 429

        csv = {"file": ("export.csv", b"text\nTrop d'attente au guichet.\n", "text/csv")}
        assert client.post("/v1/uploads", files=csv, headers=busy).status_code == 202
        again = client.post("/v1/uploads", files=csv, headers=busy)
        assert again.status_code == 429 and again.json()["code"] == "rate_limited"
        assert client.post("/v1/uploads", files=csv, headers=calm).status_code == 202


def test_wrong_admin_tokens_count_as_failed_authentications(serve: Serve) -> None:
    with serve(rate_limit_auth_failures="3/minute") as client:
        guesser, other = address(), address()
        statuses = [
            client.post("/admin/workspaces", json={"name": "guess"},
                        headers=guesser | {"Authorization": f"Bearer guess-{n}"}).status_code
            for n in range(6)
        ]  # fmt: skip
        assert statuses == [401] * 3 + [429] * 3
        # the right token from the blocked address is refused too; from another address it works
        right = {"Authorization": "Bearer test-admin-token"}
        refused = client.post("/admin/workspaces", json={"name": f"x-{uuid.uuid4()}"}, headers=guesser | right)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        created = client.post("/admin/workspaces", json={"name": f"y-{uuid.uuid4()}"}, headers=other | right)
        assert created.status_code == 201, created.text
