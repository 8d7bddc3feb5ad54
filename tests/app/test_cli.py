"""`parcours workspace create` and `parcours db upgrade` against both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings
from app.core.db import current_revision, head_revision, make_engine, upgrade


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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_a_database_with_data_builds_the_analytics_rollup(backend: str, tmp_path: Path) -> None:
    """Mentions stored under revision 0001 get their feedback's attributes and enter the rollup in 0002."""
    from sqlalchemy import text

    from tests.app.conftest import _postgres_database

    databases = _postgres_database() if backend == "postgresql" else iter([f"sqlite:///{tmp_path / 'old.db'}"])
    url = next(databases)
    engine = make_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO workspace (id, name, mask_pii, data_version, created_at) "
                                "VALUES (1, 'old', '[]', 0, '2026-01-01')"))  # fmt: skip
        connection.execute(text(
            "INSERT INTO feedback (id, workspace_id, dedup_key, text, kind, source, metadata, created_at, received_at, "
            "status, rating, rating_scale) VALUES (1, 1, 'k1', 'Colis en retard. SAV nul.', 'review', 'google', '{}', "
            "'2026-02-03 10:00:00', '2026-02-04 10:00:00', 'analysed', 2, 10)"
        ))  # fmt: skip
        for position, (stage, polarity, sentiment) in enumerate([("onboarding", "irritant", -0.5),
                                                                  ("support", "irritant", -0.9)]):  # fmt: skip
            connection.execute(text(
                "INSERT INTO mention (feedback_id, workspace_id, position, stage, touchpoint, polarity, sentiment, "
                f"emotion, start, \"end\") VALUES (1, 1, {position}, '{stage}', 'none', '{polarity}', {sentiment}, "
                "'anger', 0, 5)"
            ))  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        mentions = connection.execute(text("SELECT day, kind, source, rating FROM mention ORDER BY position")).all()
        assert [(str(r[0]), r[1], r[2], r[3]) for r in mentions] == [("2026-02-03", "review", "google", 1.0)] * 2
        rollup = connection.execute(text(
            "SELECT stage, mentions, feedback, sentiment_sum FROM journey_rollup WHERE touchpoint = '*' "
            "AND emotion = '*' ORDER BY stage"
        )).all()  # fmt: skip
        assert [(r[0], r[1], r[2], round(r[3], 3)) for r in rollup] == [
            ("onboarding", 1, 1, -0.5),
            ("support", 1, 1, -0.9),
        ]
    engine.dispose()
    next(databases, None)  # drops the PostgreSQL database
