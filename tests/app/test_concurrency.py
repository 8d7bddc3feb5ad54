"""Concurrent clients on SQLite and PostgreSQL: overlapping ingest, one workspace name, migrations at once.

Each test lets real threads (or processes) race through the service and checks what they see: every answer
well-defined (never a 500), nothing stored twice, the counts adding up.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlmodel import Session

from app.core.db import current_revision, head_revision, is_postgres, make_engine, retry_transaction
from app.feedback.store import bump_version, erase_feedback
from app.models import ALL, Feedback, JourneyRollup, MentionRow, Workspace
from tests.app.conftest import ADMIN_TOKEN, _postgres_database, new_workspace, wait_analysed, wait_for

CLIENTS = 20


def race(clients: int, work: Callable[[int], list[Any]]) -> list[Any]:
    """Run `work(n)` in `clients` threads released at once; return all their results (an exception is a result)."""
    start = threading.Barrier(clients)
    results: list[list[Any]] = [[] for _ in range(clients)]

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = work(n)
        except Exception as error:  # the race's outcome: reported by the test, never lost in a thread
            results[n] = [error]  # a server error surfaces here (the test client raises it)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return [r for rs in results for r in rs]


def answer(response: Any) -> tuple[int, Any]:
    """The status and the JSON body (or the text of a body that is not JSON, as a 500's is)."""
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def test_overlapping_batches_in_different_orders_are_all_accepted_and_stored_once(
    client: TestClient, auth: dict[str, str]
) -> None:
    pool = [f"order-{n:03d}" for n in range(60)]
    rounds = 3

    def work(n: int) -> list[Any]:
        rng = random.Random(n)
        answers = []
        for r in range(rounds):
            ids = rng.sample(pool, 30) + [f"own-{n}-{r}"]  # shared ids in this client's order, and one of its own
            rng.shuffle(ids)
            items = [{"external_id": i, "text": f"Commande {i} : livraison en retard, SAV aimable"} for i in ids]
            response = client.post("/v1/feedback", json={"items": items}, headers=auth)
            answers.append(answer(response))
        return answers

    answers = race(CLIENTS, work)
    assert [a for a in answers if isinstance(a, Exception) or a[0] != 202] == []
    sent = Counter(item["id"] for _, body in answers for item in body["items"])
    with Session(client.app.state.engine) as session:
        workspace_rows = session.execute(
            select(Feedback.external_id, func.count()).where(Feedback.id.in_(list(sent))).group_by(Feedback.external_id)
        ).all()
    stored_per_id = dict(workspace_rows)
    expected = set(pool) | {f"own-{n}-{r}" for n in range(CLIENTS) for r in range(rounds)}
    assert set(stored_per_id) <= expected and set(stored_per_id) >= expected - set(pool)
    assert max(stored_per_id.values()) == 1  # nothing stored twice
    assert sum(body["stored"] for _, body in answers) == len(stored_per_id)
    assert sum(body["duplicates"] for _, body in answers) == CLIENTS * rounds * 31 - len(stored_per_id)


def test_creating_one_workspace_name_at_once_gives_one_201_and_409s(client: TestClient) -> None:
    name = f"acme-{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def work(_n: int) -> list[Any]:
        response = client.post("/admin/workspaces", json={"name": name}, headers=admin)
        return [answer(response)]

    answers = race(CLIENTS, work)
    assert [a for a in answers if isinstance(a, Exception)] == []
    assert sorted(status for status, _ in answers) == [201] + [409] * (CLIENTS - 1)
    conflicts = [body for status, body in answers if status == 409]
    assert {body["code"] for body in conflicts} == {"workspace_exists"}
    assert all(name in body["detail"] and body["name"] == name for body in conflicts)


def migrate(url: str, start: Any) -> None:
    """One process starting the service: migrate `url` to head once every process is ready (child process)."""
    from app.core.db import make_engine, upgrade

    engine = make_engine(url)
    start.wait()
    upgrade(engine)
    engine.dispose()


def migrate_at_once(url: str, processes: int = 3) -> list[int]:
    """Run `upgrade()` in `processes` processes at the same moment; return their exit codes."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    children = [context.Process(target=migrate, args=(url, start)) for _ in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    return [child.exitcode for child in children]


def schema_revision(url: str) -> tuple[str | None, set[str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection), set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_processes_migrating_a_fresh_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert migrate_at_once(url) == [0, 0, 0]
    revision, tables = schema_revision(url)
    assert revision == head_revision() and {"workspace", "feedback", "upload_error", "journey_rollup"} <= tables


def test_processes_migrating_a_fresh_postgresql_database_at_once_all_succeed() -> None:
    fresh = _postgres_database()
    url = next(fresh)
    try:
        assert migrate_at_once(url) == [0, 0, 0]
        revision, tables = schema_revision(url)
        assert revision == head_revision() and {"workspace", "feedback", "upload_error", "journey_rollup"} <= tables
    finally:
        next(fresh, None)  # drops the database


def rollup_and_mentions(client: TestClient, auth: dict[str, str]) -> tuple[int, int]:
    """The workspace's mentions as the rollup counts them (all touchpoints, all emotions) and as stored rows."""
    workspace_id = client.get("/v1/workspace", headers=auth).json()["id"]
    with Session(client.app.state.engine) as session:
        counted = session.scalar(
            select(func.coalesce(func.sum(JourneyRollup.mentions), 0)).where(
                JourneyRollup.workspace_id == workspace_id,
                JourneyRollup.touchpoint == ALL,
                JourneyRollup.emotion == ALL,
            )
        )
        stored = session.scalar(
            select(func.count()).select_from(MentionRow).where(MentionRow.workspace_id == workspace_id)
        )
    return int(counted or 0), int(stored or 0)


def test_erasing_one_feedback_twice_at_once_takes_it_out_of_the_rollup_once(
    client: TestClient, auth: dict[str, str]
) -> None:
    engine = client.app.state.engine
    if not is_postgres(engine):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): two erasures cannot interleave")
    # the same text twice (two sources): the two share every rollup cell, one erased twice would show there
    text = "Livraison rapide mais le SAV ne répond jamais"
    items = [{"text": text, "source": source} for source in ("email", "app")]
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    erased, kept = wait_analysed(client, auth, [item["id"] for item in body["items"]])
    assert erased["mentions"] and kept["mentions"]
    assert rollup_and_mentions(client, auth) == (len(erased["mentions"]) + len(kept["mentions"]),) * 2
    with Session(engine) as first, Session(engine) as second:
        feedback = first.get(Feedback, erased["id"])
        assert feedback is not None
        erase_feedback(session=first, feedback=feedback)  # not committed yet: the second erasure must wait

        def erase_again() -> None:
            erase_feedback(session=second, feedback=feedback)
            second.commit()

        waiting = threading.Thread(target=erase_again)
        waiting.start()
        wait_for(lambda: lock_waits(engine), what="the second erasure to wait for the first")
        first.commit()
        waiting.join(30)
    assert client.get(f"/v1/feedback/{erased['id']}", headers=auth).status_code == 404
    assert rollup_and_mentions(client, auth) == (len(kept["mentions"]),) * 2


def lock_waits(engine: Any) -> int:
    """How many sessions of this database wait for a lock (PostgreSQL)."""
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        return int(connection.exec_driver_sql(query).scalar_one())


def test_a_transaction_chosen_as_deadlock_victim_is_run_again_and_both_complete(client: TestClient) -> None:
    engine = client.app.state.engine
    if not is_postgres(engine):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): no deadlock to lose")
    first, second = (client.get("/v1/workspace", headers=new_workspace(client)).json()["id"] for _ in range(2))
    both_hold_one = threading.Barrier(2)
    attempts: Counter[str] = Counter()

    def bump(session: Session, name: str, order: tuple[int, int]) -> None:
        attempts[name] += 1
        bump_version(session=session, workspace_ids=[order[0]])
        if attempts[name] == 1:
            both_hold_one.wait(10)  # each holds one row and wants the other's: PostgreSQL picks a victim
        bump_version(session=session, workspace_ids=[order[1]])

    def run(name: str, order: tuple[int, int]) -> list[Any]:
        with Session(engine) as session:
            retry_transaction(session, lambda: bump(session, name, order))
        return []

    answers = race(2, lambda n: run(f"t{n}", (first, second) if n == 0 else (second, first)))
    assert answers == []  # both committed
    assert sorted(attempts.values()) == [1, 2]  # the victim ran twice
    with Session(engine) as session:
        versions = session.execute(select(Workspace.data_version).where(Workspace.id.in_([first, second]))).scalars()
        assert list(versions) == [2, 2]  # each bumped once by each transaction: nothing lost, nothing twice
