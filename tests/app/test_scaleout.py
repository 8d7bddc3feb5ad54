"""Scale-out: the API and any number of `parcours worker` processes against one PostgreSQL database.

The workers run as separate hosts: each in its own network namespace (`ip netns`, we are root on the test
machine), reaching PostgreSQL through a veth pair and a small TCP relay on the host side address (the server
listens on 127.0.0.1 only). Where namespaces cannot be made (not root, no `ip`), the workers are separate
processes with their own environment on this host, and the test says so in its output.

The API runs without workers (`run_worker=False`): nobody wakes the workers, they find work by polling.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.core.config import Settings
from app.main import create_app
from app.models import Feedback, FeedbackStatus, JourneyRollup, MentionRow, TopicModel
from nlp.pipeline import Pipeline
from tests.app.conftest import ADMIN_TOKEN, _postgres_database, new_workspace, wait_for
from tests.app.upload_checks import assert_done_exactly_once, csv_export

LEASE_SECONDS = 3


class Relay:
    """Forward TCP connections accepted on (host, port) to PostgreSQL on 127.0.0.1."""

    def __init__(self, host: str, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server((host, 0))
        self.port = int(self.server.getsockname()[1])
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:  # a killed worker's connection: close both ends, PostgreSQL then ends its session
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        self.server.close()


@dataclass(frozen=True)
class Host:
    """Where a worker runs: a network namespace (None: this host) and the database URL it uses from there."""

    netns: str | None
    database_url: str


@contextmanager
def hosts(database_url: str, count: int) -> Iterator[list[Host]]:
    """`count` network namespaces, each reaching the database through its own veth pair and relay."""
    url = make_url(database_url)
    target = (url.host or "127.0.0.1", url.port or 5432)
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("scale-out test: no network namespaces here (not root or no `ip`); workers are plain processes")
        yield [Host(None, database_url) for _ in range(count)]
        return
    tag = uuid.uuid4().hex[:5]
    subnet = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
    made: list[str] = []
    relays: list[Relay] = []

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    try:
        found = []
        for i in range(count):
            name, outside, inside = f"pc{tag}{i}", f"pc{tag}{i}h", f"pc{tag}{i}n"
            host_ip, ns_ip = f"{subnet}.{4 * i + 1}", f"{subnet}.{4 * i + 2}"
            ip("netns", "add", name)
            made.append(name)
            ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", name)
            ip("addr", "add", f"{host_ip}/30", "dev", outside)
            ip("link", "set", outside, "up")
            ip("netns", "exec", name, "ip", "addr", "add", f"{ns_ip}/30", "dev", inside)
            ip("netns", "exec", name, "ip", "link", "set", inside, "up")
            ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
            relay = Relay(host_ip, target)
            relays.append(relay)
            seen = url.set(host=host_ip, port=relay.port).render_as_string(hide_password=False)
            found.append(Host(name, seen))
        yield found
    finally:
        for relay in relays:
            relay.close()
        for name in made:  # deleting a namespace deletes its end of the veth pair, and so the pair
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=10)


class Worker:
    """`parcours worker` in a child process, in a network namespace when its host has one."""

    def __init__(self, host: Host, env: dict[str, str], log: Path, kinds: str) -> None:
        command = [sys.executable, "-c", "from app.cli import main; main()", "worker", "--kinds", kinds]
        if host.netns is not None:
            command = ["ip", "netns", "exec", host.netns, *command]
        self.log = log
        self.process = subprocess.Popen(
            command,
            env={**env, "PARCOURS_DATABASE_URL": host.database_url},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, self.output()[-3000:]
            return " ready: " in self.output()

        wait_for(ready, timeout=120, what=f"worker {self.process.pid} to start")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


@pytest.fixture
def api(postgres_url: str, tmp_path: Path, tiny: Pipeline) -> Iterator[TestClient]:
    """The API alone: no worker runs in its process."""
    settings = Settings(
        database_url=postgres_url, data_dir=tmp_path / "var", admin_token=ADMIN_TOKEN, run_worker=False,
        workspace_ttl_seconds=0,
    )  # fmt: skip
    with TestClient(create_app(settings, pipeline=tiny)) as client:
        yield client


@pytest.fixture
def worker_env(tmp_path: Path, tiny_model_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARCOURS_DATA_DIR": str(tmp_path / "var"),  # uploaded files: a volume shared with the API
        "PARCOURS_MODEL": str(tiny_model_dir),
        "PARCOURS_LEASE_SECONDS": str(LEASE_SECONDS),
        "PARCOURS_UPLOAD_CHUNK_ROWS": "20",
        "PARCOURS_ANALYSIS_BATCH_SIZE": "32",
        "PARCOURS_IDLE_POLL_SECONDS": "0.2",
    }


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.end()


ROWS = 1500
BAD_EVERY = 101


def test_two_worker_hosts_share_an_upload_and_the_survivor_finishes_after_a_sigkill(
    api: TestClient, postgres_url: str, worker_env: dict[str, str], workers: list[Worker], tmp_path: Path
) -> None:
    headers = new_workspace(api)
    with ExitStack() as stack:
        first, second = stack.enter_context(hosts(postgres_url, 2))
        for name, host in (("a", first), ("b", second)):
            workers.append(Worker(host, worker_env, tmp_path / f"worker-{name}.log", "analysis,uploads"))
        for worker in workers:
            worker.wait_ready()
        doomed, survivor = workers
        response = api.post(
            "/v1/uploads", files={"file": ("big.csv", csv_export(ROWS, BAD_EVERY, "S"), "text/csv")}, headers=headers
        )
        assert response.status_code == 202, response.text
        upload_id = response.json()["id"]

        def job() -> dict[str, Any]:
            return api.get(f"/v1/uploads/{upload_id}", headers=headers).json()  # type: ignore[no-any-return]

        # both hosts take work from the one queue; one dies while the job is still going
        wait_for(lambda: "analysed" in doomed.output() and "analysed" in survivor.output(), what="both workers")
        assert job()["status"] == "running"
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait(10)
        done = wait_for(lambda: (lambda s: s if s["status"] == "done" else None)(job()), timeout=240, what="the end")

    engine = create_engine(postgres_url)
    with Session(engine) as session:
        workspace_id = session.scalar(select(Feedback.workspace_id).where(Feedback.upload_id == upload_id))
        assert_done_exactly_once(session, done, upload_id, ROWS, BAD_EVERY)
        # analysed once: the rollup (added to by each analysis) counts every stored mention exactly once
        mentions = session.scalar(
            select(func.count()).select_from(MentionRow).where(MentionRow.workspace_id == workspace_id)
        )
        rolled = session.scalar(
            select(func.sum(JourneyRollup.mentions)).where(
                JourneyRollup.workspace_id == workspace_id,
                JourneyRollup.touchpoint == "*",
                JourneyRollup.emotion == "*",
            )
        )
        assert mentions and rolled == mentions
    engine.dispose()


def feedback_items(count: int) -> list[dict[str, Any]]:
    """Varied complaints about a few subjects, so that the topics have something to find."""
    subjects = ["le colis", "le remboursement", "la hotline", "l'application", "le conseiller", "la facture"]
    problems = ["arrive en retard", "ne marche pas", "est introuvable", "coûte trop cher", "répond jamais"]
    return [
        {"text": f"{subjects[i % 6]} {problems[i % 5]}, dossier {i}, {['hélas', 'encore', 'vraiment'][i % 3]}",
         "external_id": f"t{i}", "created_at": f"2026-03-{1 + i % 28:02d}"}
        for i in range(count)
    ]  # fmt: skip


def test_sigterm_during_topic_computation_stops_in_seconds_and_the_job_is_taken_up_again(
    api: TestClient, postgres_url: str, worker_env: dict[str, str], workers: list[Worker], tmp_path: Path
) -> None:
    headers = new_workspace(api)
    items = feedback_items(3000)
    for start in range(0, len(items), 1000):
        stored = api.post("/v1/feedback", json={"items": items[start : start + 1000]}, headers=headers)
        assert stored.status_code == 202, stored.text
    local = Host(None, postgres_url)
    workers.append(Worker(local, worker_env, tmp_path / "analysis.log", "analysis"))
    engine = create_engine(postgres_url)

    def waiting() -> int:
        with Session(engine) as session:
            statuses = [FeedbackStatus.pending.value, FeedbackStatus.analysing.value]
            return int(session.scalar(select(func.count()).where(Feedback.status.in_(statuses))) or 0)

    wait_for(lambda: waiting() == 0, timeout=240, what="the analysis")
    assert api.get("/v1/topics", headers=headers).json()["status"] == "computing"  # queued

    def status() -> tuple[str, Any]:
        with Session(engine) as session:
            row = session.execute(
                select(TopicModel.status, TopicModel.lease_until).order_by(TopicModel.id.desc())
            ).first()
            assert row is not None
            return row[0], row[1]

    stopped = Worker(local, worker_env, tmp_path / "topics-1.log", "topics")
    workers.append(stopped)
    wait_for(lambda: status()[0] == "computing", timeout=120, what="the topic computation to start")
    wait_for(lambda: "fitting topics" in stopped.output(), timeout=60, what="BERTopic to start")  # the long stage
    signalled = time.monotonic()
    stopped.process.send_signal(signal.SIGTERM)
    code = stopped.process.wait(30)
    took = time.monotonic() - signalled
    print(f"worker stopped {took:.1f} s after SIGTERM during the topic computation")
    assert code == 0, stopped.output()[-3000:]
    assert took < 10, stopped.output()[-3000:]
    assert "given back to the queue" in stopped.output()
    assert status() == ("queued", None)  # not left to a 30-minute lease

    workers.append(Worker(local, worker_env, tmp_path / "topics-2.log", "topics"))
    answer = wait_for(
        lambda: (lambda a: a if a["status"] == "done" else None)(api.get("/v1/topics", headers=headers).json()),
        timeout=240,
        what="the topics",
    )
    assert answer["mentions"] > 0 and answer["topics"]
    engine.dispose()
