"""`parcours` command line: `analyze` (the library), `serve`, `worker`, `workspace create|list|revoke|rotate`,
`db upgrade`."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from nlp.cli import cli

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

workspace_cli = typer.Typer(help="Workspaces and their API keys.", no_args_is_help=True, rich_markup_mode="markdown")
db_cli = typer.Typer(
    help="The database schema (Alembic migrations).", no_args_is_help=True, rich_markup_mode="markdown"
)
cli.add_typer(workspace_cli, name="workspace")
cli.add_typer(db_cli, name="db")

ALL_KINDS = "analysis,uploads,topics,reanalysis"
STOP_GRACE_SECONDS = 5.0  # a stop finishes the batch in hand; a topic computation is given back after this

logger = logging.getLogger("parcours")


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _exit_past_abandoned_threads() -> None:
    """End the process now if a stop left a worker thread behind (a topic computation Python cannot interrupt):
    the interpreter's shutdown would otherwise wait for it, or crash under it inside native code."""
    if any(t.is_alive() and t.daemon and t.name.startswith("parcours-") for t in threading.enumerate()):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load and analyse the demo dataset, print a demo API key.")] = False,
) -> None:
    """Start the service (database from PARCOURS_DATABASE_URL, a SQLite file under var/ by default).

    The workers run inside it unless PARCOURS_RUN_WORKER=false (then run `parcours worker` processes).
    """
    import uvicorn

    from app.core.config import Settings
    from app.main import create_app

    _log_to_stderr()
    settings = Settings()
    pipeline = None
    if demo:
        from app.demo import load_demo

        pipeline, key = load_demo(settings)
        typer.echo(f"Demo workspace ready. API key: {key}")
        typer.echo(f"Journey map: http://{host}:{port}/#key={key}   API docs: http://{host}:{port}/docs")
    uvicorn.run(create_app(settings, pipeline=pipeline), host=host, port=port, log_level="info")
    _exit_past_abandoned_threads()


def _parse_kinds(kinds: str) -> list[str]:
    from app.jobs.queue import JobKind

    chosen = [k.strip() for k in kinds.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in JobKind.__members__]
    if unknown or not chosen:
        valid = ", ".join(JobKind.__members__)
        raise typer.BadParameter(f"unknown job kind(s): {', '.join(unknown) or '(none)'}. Valid: {valid}")
    return chosen


@cli.command()
def worker(
    kinds: Annotated[
        str, typer.Option(help=f"The job kinds this process takes, comma-separated: {ALL_KINDS.replace(',', ', ')}.")
    ] = ALL_KINDS,
) -> None:
    """Run background workers without the API, against the database of PARCOURS_DATABASE_URL.

    Start any number of them (and API processes with PARCOURS_RUN_WORKER=false) against one PostgreSQL
    database: the job tables are the queue. SIGTERM or Ctrl+C stops within a few seconds.
    """
    from app.core.config import Settings
    from app.core.db import current_revision, head_revision, make_engine
    from app.jobs.queue import JobKind
    from app.jobs.workers import Workers
    from nlp.pipeline import load_pipeline

    chosen = [JobKind(k) for k in _parse_kinds(kinds)]
    _log_to_stderr()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    settings = Settings()
    engine = make_engine(settings.database_url)
    waited = 0.0
    while not stop.is_set():  # the API process (or `parcours db upgrade`) migrates; workers never race it
        with engine.connect() as connection:
            if current_revision(connection) == head_revision():
                break
        if waited % 10 == 0:
            logger.info("waiting for the database schema (start the API or run `parcours db upgrade`)")
        stop.wait(1.0)
        waited += 1
    pipeline = load_pipeline(settings.model)
    pipeline.analyze(["Mise en route : livraison rapide mais SAV injoignable."])  # load the models now
    workers = Workers(engine, pipeline, settings, threading.Lock(), kinds=chosen)
    if not stop.is_set():
        workers.start()
        logger.info("worker %d ready: %s", os.getpid(), ", ".join(chosen))
    while not stop.wait(0.5):
        pass
    started = time.monotonic()
    workers.stop(STOP_GRACE_SECONDS)
    engine.dispose()
    logger.info("worker %d stopped in %.1f s", os.getpid(), time.monotonic() - started)
    _exit_past_abandoned_threads()


@contextmanager
def _app_errors() -> Iterator[None]:
    """Answer an `AppError` (an unknown workspace, a name taken...) with its message on stderr and exit code 1."""
    from app.core.errors import AppError

    try:
        yield
    except AppError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(1) from error


@workspace_cli.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workspace's name (one per client or brand).")],
    no_mask: Annotated[bool, typer.Option("--no-mask", help="Store personal data unmasked.")] = False,
) -> None:
    """Create a workspace; its API key is printed alone on the last line."""
    from app.core.config import Settings
    from app.core.db import make_engine, session_scope, upgrade
    from app.crud import create_workspace

    engine = make_engine(Settings().database_url)
    upgrade(engine)
    with _app_errors(), session_scope(engine) as session:
        workspace, key = create_workspace(session=session, name=name, mask_pii=[] if no_mask else None)
    typer.echo(f"Workspace '{workspace.name}' created (id {workspace.id}). API key (shown once):")
    typer.echo(key)


def _migrated_engine() -> Engine:
    """The database's engine, once its schema is known to be current (else a clear error, exit code 1)."""
    from app.core.config import Settings
    from app.core.db import current_revision, head_revision, make_engine

    engine = make_engine(Settings().database_url)
    with engine.connect() as connection:
        revision = current_revision(connection)
    if revision != head_revision():
        typer.echo(
            f"error: the database is at revision {revision or '(none)'}, this code needs {head_revision()}: "
            "run `parcours db upgrade` (or start the service)",
            err=True,
        )
        raise typer.Exit(1)
    return engine


@workspace_cli.command("list")
def workspace_list() -> None:
    """List the workspaces: id, name, creation time and the prefixes of their active keys (never a key)."""
    from app.core.db import session_scope
    from app.workspaces.keys import list_workspaces

    engine = _migrated_engine()
    with session_scope(engine) as session:
        workspaces = list_workspaces(session=session)
    if not workspaces:
        typer.echo("No workspace yet: `parcours workspace create NAME` makes one.")
        return
    width = max(len("name"), *(len(w.name) for w in workspaces))
    typer.echo(f"{'id':>5}  {'name':<{width}}  {'created (UTC)':<16}  active keys")
    for w in workspaces:
        keys = ", ".join(f"{p}..." for p in w.key_prefixes) or "none"
        revoked = f" ({w.revoked_keys} revoked)" if w.revoked_keys else ""
        typer.echo(f"{w.id:>5}  {w.name:<{width}}  {w.created_at:%Y-%m-%d %H:%M}  {keys}{revoked}")


@workspace_cli.command("revoke")
def workspace_revoke(
    workspace: Annotated[str, typer.Argument(metavar="WORKSPACE", help="The workspace's name or id.")],
    key: Annotated[str | None, typer.Option(help="Revoke only this key (its listed prefix, or the key).")] = None,
) -> None:
    """Revoke a workspace's API keys (all of them unless --key names one).

    Every service process refuses a revoked key within 30 s (its key cache time).
    """
    from app.core.db import session_scope
    from app.workspaces.keys import find_workspace, revoke_api_keys

    engine = _migrated_engine()
    with _app_errors(), session_scope(engine) as session:
        found = find_workspace(session=session, ref=workspace)
        revoked = revoke_api_keys(session=session, workspace=found, prefix=key)
    listed = ", ".join(f"{p}..." for p in revoked) or "none was active"
    typer.echo(f"Workspace '{found.name}': {len(revoked)} key(s) revoked ({listed}).")


@workspace_cli.command("rotate")
def workspace_rotate(
    workspace: Annotated[str, typer.Argument(metavar="WORKSPACE", help="The workspace's name or id.")],
) -> None:
    """Issue a new API key and revoke the old ones; the new key is printed alone on the last line.

    Every service process refuses the old keys within 30 s (its key cache time).
    """
    from app.core.db import session_scope
    from app.workspaces.keys import find_workspace, rotate_api_key

    engine = _migrated_engine()
    with _app_errors(), session_scope(engine) as session:
        found = find_workspace(session=session, ref=workspace)
        key, revoked = rotate_api_key(session=session, workspace=found)
    typer.echo(f"Workspace '{found.name}': {len(revoked)} old key(s) revoked. New API key (shown once):")
    typer.echo(key)


@cli.command()
def reanalyse(
    workspace: Annotated[str, typer.Option(help="The workspace's name or id.")],
) -> None:
    """Re-analyse a workspace's feedback with its current taxonomy and the model (after a taxonomy change), with
    progress; corrections are applied again and figures switch over feedback by feedback."""
    from app.reanalysis.command import reanalyse_workspace

    engine = _migrated_engine()
    _log_to_stderr()
    with _app_errors():
        reanalyse_workspace(workspace, engine)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head") -> None:
    """Apply the database migrations."""
    from app.core.config import Settings
    from app.core.db import current_revision, make_engine, upgrade

    engine = make_engine(Settings().database_url)
    upgrade(engine, revision)
    with engine.connect() as connection:
        typer.echo(f"Database at revision {current_revision(connection)}")


def main() -> None:
    """Run the `parcours` command line."""
    cli()
