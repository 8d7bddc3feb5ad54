"""`parcours` command line: `analyze` (the library), `serve`, `workspace create`, `db upgrade`."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from nlp.cli import cli

workspace_cli = typer.Typer(help="Workspaces and their API keys.", no_args_is_help=True)
db_cli = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(workspace_cli, name="workspace")
cli.add_typer(db_cli, name="db")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load and analyse the demo dataset, print a demo API key.")] = False,
) -> None:
    """Start the service (database from PARCOURS_DATABASE_URL, a SQLite file under var/ by default)."""
    import uvicorn

    from app.core.config import Settings
    from app.main import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings()
    pipeline = None
    if demo:
        from app.demo import load_demo

        pipeline, key = load_demo(settings)
        typer.echo(f"Demo workspace ready. API key: {key}")
        typer.echo(f"Journey map: http://{host}:{port}/#key={key}   API docs: http://{host}:{port}/docs")
    uvicorn.run(create_app(settings, pipeline=pipeline), host=host, port=port, log_level="info")


@workspace_cli.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="The workspace's name (one per client or brand).")],
    no_mask: Annotated[bool, typer.Option("--no-mask", help="Store personal data unmasked.")] = False,
) -> None:
    """Create a workspace; its API key is printed alone on the last line."""
    from app.core.config import Settings
    from app.core.db import make_engine, session_scope, upgrade
    from app.core.errors import AppError
    from app.crud import create_workspace

    engine = make_engine(Settings().database_url)
    upgrade(engine)
    try:
        with session_scope(engine) as session:
            workspace, key = create_workspace(session=session, name=name, mask_pii=[] if no_mask else None)
    except AppError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Workspace '{workspace.name}' created (id {workspace.id}). API key (shown once):")
    typer.echo(key)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
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
