"""Database engine, sessions and migrations (Alembic, applied on start or by `parcours db upgrade`)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from app.core.errors import AppError

logger = logging.getLogger(__name__)

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create the engine for `url`; SQLite gets WAL, foreign keys and a busy timeout (the workers write too)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # Writers take the write lock up front: a deferred transaction that reads then writes fails at
            # once (SQLITE_BUSY_SNAPSHOT) when another thread wrote in between, whatever the busy timeout.
            # Readers (see `reader`) begin deferred and never wait for writers (WAL).
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


READ_ONLY = "parcours_read_only"


def reader(engine: Engine) -> Engine:
    """Return the engine for read-only work (on SQLite its transactions never take the write lock)."""
    return engine.execution_options(**{READ_ONLY: True})


def is_postgres(engine: Engine) -> bool:
    """Tell whether `engine` talks to PostgreSQL (row locks with SKIP LOCKED are available)."""
    return engine.dialect.name == "postgresql"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# A transaction that lost a race to another one and may simply be run again: PostgreSQL's serialization failure
# and deadlock victim, SQLite's busy database (its busy timeout ran out while another writer held the lock).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")


def is_retryable(error: DBAPIError) -> bool:
    """Tell whether `error` says that the transaction lost a race (deadlock, serialization, busy SQLite)."""
    cause = error.orig
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    if getattr(cause, "sqlite_errorname", None) in _SQLITE_BUSY:
        return True
    return "database is locked" in str(cause)


def retry_transaction(
    session: Session, work: Callable[[], T], *, attempts: int = 6, first_wait: float = 0.02, what: str = "the write"
) -> T:
    """Run `work` in the session and commit; a transaction that lost a race is rolled back and run again.

    Waits double from `first_wait` (with jitter, so that the losers do not meet again) for at most `attempts`
    runs; then answers 503 `database_busy` with Retry-After, never a 500. Other errors are raised at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as error:
            session.rollback()
            if not is_retryable(error):
                raise
            if attempt == attempts:
                logger.warning("%s lost %d races in a row; giving up: %s", what, attempts, error.orig)
                raise AppError(
                    503,
                    "database_busy",
                    f"The database was too busy to complete {what}; nothing was stored, send it again",
                    headers={"Retry-After": "1"},
                ) from error
            logger.info("%s lost a race (attempt %d of %d); running it again: %s", what, attempt, attempts, error.orig)
            time.sleep(first_wait * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # the loop returns or raises


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# pg_advisory_lock's key for "migrating this database" (any constant both processes agree on: 'parcours').
_MIGRATION_LOCK = 0x70617263_6F757273


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's migration lock: processes that start together migrate one after the other.

    PostgreSQL: a session advisory lock, on a connection of its own, for as long as the migration runs.
    SQLite: an exclusive lock on `<database>.migrate.lock` next to the file (the migration's own BEGIN IMMEDIATE
    would also serialise them, but only for the 30 s busy timeout).
    """
    if is_postgres(engine):
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
            connection.commit()  # a session lock: it outlives the transaction, the connection stays idle
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl  # POSIX: the service runs on Linux (see the Dockerfile)

    with open(f"{database}.migrate.lock", "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (idempotent; processes starting at once take turns: `migration_lock`)."""
    from alembic import command

    with migration_lock(engine):
        command.upgrade(_alembic_config(engine), revision)


def current_revision(connection: Connection) -> str | None:
    """Return the database's migration revision (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """Return the newest migration revision shipped with this code."""
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    return ScriptDirectory.from_config(config).get_current_head()
