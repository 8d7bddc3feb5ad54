"""A crash in the middle of an upload loses nothing acknowledged and duplicates nothing.

The service runs as a real process (`parcours serve`), is killed with SIGKILL while it reads the upload,
started again, killed again while it analyses, and started a third time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from tests.app.conftest import ADMIN_TOKEN, wait_for
from tests.app.upload_checks import assert_done_exactly_once, csv_export

ROWS = 3000
BAD_EVERY = 97  # rows with an empty text: failed, counted, never stored


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`parcours serve` in a child process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

        def up() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=120, what="the service to start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def server(database_url: str, tmp_path: Path, tiny_model_dir: Path) -> Iterator[Server]:
    env = {
        **os.environ,
        "PARCOURS_DATABASE_URL": database_url,
        "PARCOURS_DATA_DIR": str(tmp_path / "var"),
        "PARCOURS_MODEL": str(tiny_model_dir),  # the real pipeline on the fast hashing embedder
        "PARCOURS_ADMIN_TOKEN": ADMIN_TOKEN,
        "PARCOURS_LEASE_SECONDS": "2",
        "PARCOURS_UPLOAD_CHUNK_ROWS": "10",
        "PARCOURS_ANALYSIS_BATCH_SIZE": "64",
        "PARCOURS_IDLE_POLL_SECONDS": "0.1",
    }
    instance = Server(env, tmp_path / "server.log")
    yield instance
    if instance.process is not None and instance.process.poll() is None:
        instance.process.terminate()
        instance.process.wait(30)


def job(server: Server, headers: dict[str, str], upload_id: int) -> dict[str, Any]:
    return httpx.get(f"{server.url}/v1/uploads/{upload_id}", headers=headers, timeout=10).json()  # type: ignore[no-any-return]


def test_killed_twice_mid_upload_the_job_completes_with_exact_counts(server: Server, database_url: str) -> None:
    server.start()
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = httpx.post(f"{server.url}/admin/workspaces", json={"name": f"restart-{server.port}"}, headers=admin)
    headers = {"Authorization": f"Bearer {created.json()['api_key']}"}
    response = httpx.post(
        f"{server.url}/v1/uploads",
        files={"file": ("big.csv", csv_export(ROWS, BAD_EVERY, "C"), "text/csv")},
        headers=headers,
        timeout=60,
    )
    assert response.status_code == 202, response.text
    upload_id = response.json()["id"]

    wait_for(lambda: 0 < job(server, headers, upload_id)["rows_read"] < ROWS, timeout=60, what="reading to start")
    server.kill()  # mid-reading
    server.start()
    wait_for(lambda: job(server, headers, upload_id)["rows_read"] == ROWS, timeout=120, what="reading to resume")
    state = job(server, headers, upload_id)
    if state["status"] != "done":
        wait_for(lambda: job(server, headers, upload_id)["rows_analysed"] > 0, timeout=60, what="analysis")
        server.kill()  # mid-analysis (or just after it, on a fast machine)
        server.start()
    done = wait_for(
        lambda: (lambda s: s if s["status"] == "done" else None)(job(server, headers, upload_id)),
        timeout=300,
        what="the upload to finish",
    )

    assert [e["line"] for e in done["errors"]] == [i + 2 for i in range(0, ROWS, BAD_EVERY)]
    engine = create_engine(database_url)
    with Session(engine) as session:
        ids = assert_done_exactly_once(session, done, upload_id, ROWS, BAD_EVERY)
        assert set(ids) == {f"C{i}" for i in range(ROWS) if i % BAD_EVERY}
    engine.dispose()
