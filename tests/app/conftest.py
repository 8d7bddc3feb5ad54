"""Service fixtures: every storage test runs on SQLite and on the machine's PostgreSQL server."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from nlp.pipeline import Pipeline

ADMIN_TOKEN = "test-admin-token"
POSTGRES_ADMIN_URL = os.environ.get("PARCOURS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_database() -> Iterator[str]:
    import psycopg

    name = f"parcours_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database per backend for the whole session (tests isolate themselves by workspace)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'parcours.db'}"
    else:
        yield from _postgres_database()


def service_settings(database_url: str, folder: Path, **overrides: Any) -> Settings:
    """The tests' service settings over `database_url`, files under `folder`: fast polls, short leases."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": folder / "var",
        "admin_token": ADMIN_TOKEN,
        "idle_poll_seconds": 0.05,
        "lease_seconds": 5,
        "upload_chunk_rows": 50,
        "workspace_ttl_seconds": 0,  # every poll sees the latest data version (the default lets it lag 1 s)
    }
    return Settings(**(values | overrides))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn on a free local port in a thread (lifespan and workers included); yield its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def client(settings: Settings, shipped: Pipeline) -> Iterator[TestClient]:
    """The service with its workers running, on the shipped model."""
    with TestClient(create_app(settings, pipeline=shipped)) as test_client:
        yield test_client


def new_workspace(client: TestClient, mask_pii: list[str] | None = None) -> dict[str, str]:
    """Create a workspace through the admin endpoint; return auth headers for its key."""
    body: dict[str, Any] = {"name": f"ws-{uuid.uuid4().hex[:8]}"}
    if mask_pii is not None:
        body["mask_pii"] = mask_pii
    response = client.post("/admin/workspaces", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['api_key']}"}


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    return new_workspace(client)


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_analysed(client: TestClient, auth: dict[str, str], ids: list[int]) -> list[dict[str, Any]]:
    """Wait until every feedback id is analysed; return their detail views."""

    def details() -> list[dict[str, Any]] | None:
        found = [client.get(f"/v1/feedback/{i}", headers=auth).json() for i in ids]
        return found if all(f["status"] == "analysed" for f in found) else None

    return wait_for(details, what=f"analysis of {ids}")  # type: ignore[no-any-return]


def wait_upload(client: TestClient, auth: dict[str, str], upload_id: int) -> dict[str, Any]:
    """Wait until an upload is done or failed; return its state."""

    def state() -> dict[str, Any] | None:
        body = client.get(f"/v1/uploads/{upload_id}", headers=auth).json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(state, what=f"upload {upload_id}")  # type: ignore[no-any-return]
