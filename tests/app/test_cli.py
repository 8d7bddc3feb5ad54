"""`parcours workspace create` and `parcours db upgrade` against both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings
from app.core.db import current_revision, head_revision, make_engine


def test_workspace_create_prints_the_key_alone_on_its_last_line(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli, ["workspace", "create", "cli-made-brand"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("pk_") and " " not in key
    workspace = client.get("/v1/workspace", headers={"Authorization": f"Bearer {key}"})
    assert workspace.status_code == 200 and workspace.json()["name"] == "cli-made-brand"
    assert workspace.json()["mask_pii"] == ["email", "phone", "iban", "card"]
    again = CliRunner().invoke(cli, ["workspace", "create", "cli-made-brand"])
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_db_upgrade_is_idempotent_and_reaches_head(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_DATABASE_URL", settings.database_url)
    for _ in range(2):
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"revision {head_revision()}" in result.stdout
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    engine.dispose()


def test_migrations_match_the_models(settings: Settings) -> None:
    """The migrated schema is exactly what the tables declare (no change left out of a migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import app.models  # noqa: F401
    from app.core.db import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
    engine.dispose()
