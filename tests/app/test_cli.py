"""The `parcours` command line: workspaces and keys, migrations (against both databases), version, worker, help."""

from __future__ import annotations

import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

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


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_workspace_list_shows_ids_names_and_key_prefixes_never_a_key(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_DATABASE_URL", settings.database_url)
    name = f"listed-{uuid.uuid4().hex[:6]}"
    code, out, _ = _cli("workspace", "create", name)
    assert code == 0
    key = out.strip().splitlines()[-1]
    code, out, err = _cli("workspace", "list")
    assert code == 0, err
    row = next(line for line in out.splitlines() if f" {name} " in line)
    workspace_id = client.get("/v1/workspace", headers={"Authorization": f"Bearer {key}"}).json()["id"]
    assert row.split()[0] == str(workspace_id)
    assert f"{key[:10]}..." in row
    assert key not in out and key[:11] not in out  # the prefix only


def test_workspace_revoke_and_rotate_stop_the_old_keys(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys changed by the command line (another process) are refused by the service; the new key works.

    The keys are not used before they change: a service process remembers a checked key for 30 s (KeyCache).
    """
    monkeypatch.setenv("PARCOURS_DATABASE_URL", settings.database_url)
    name = f"rotated-{uuid.uuid4().hex[:6]}"
    old = _cli("workspace", "create", name)[1].strip().splitlines()[-1]
    code, out, err = _cli("workspace", "rotate", name)
    assert code == 0, err
    assert "1 old key(s) revoked" in out
    new = out.strip().splitlines()[-1]
    assert new.startswith("pk_") and new != old
    assert client.get("/v1/workspace", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/v1/workspace", headers={"X-API-Key": new}).json()["name"] == name
    listed = next(line for line in _cli("workspace", "list")[1].splitlines() if f" {name} " in line)
    assert f"{new[:10]}..." in listed and f"{old[:10]}..." not in listed and "(1 revoked)" in listed

    other = f"revoked-{uuid.uuid4().hex[:6]}"
    key = _cli("workspace", "create", other)[1].strip().splitlines()[-1]
    code, out, err = _cli("workspace", "revoke", other, "--key", key[:10])
    assert code == 0, err
    assert f"1 key(s) revoked ({key[:10]}...)" in out
    assert client.get("/v1/workspace", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    code, _, err = _cli("workspace", "revoke", "no-such-workspace")
    assert code == 1 and "No workspace 'no-such-workspace'" in err and f"({other})" in err


def test_workspace_commands_ask_for_migrations_on_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code, _, err = _cli("workspace", "list")
    assert code == 1 and "run `parcours db upgrade`" in err


def test_version_is_the_installed_package_version() -> None:
    code, out, _ = _cli("--version")
    assert code == 0 and out.strip() == f"parcours {metadata.version('parcours')}"


def test_worker_refuses_an_unknown_job_kind_and_names_the_valid_ones() -> None:
    from app.jobs.queue import JobKind

    code, _, err = _cli("worker", "--kinds", "analysis,emails")
    assert code == 2
    valid = ", ".join(kind.value for kind in JobKind)
    assert f"unknown job kind(s): emails. Valid: {valid}" in " ".join(err.replace("│", " ").split())


COMMANDS = [[], ["analyze"], ["serve"], ["worker"], ["workspace"], ["workspace", "create"], ["workspace", "list"]]
COMMANDS += [["workspace", "revoke"], ["workspace", "rotate"], ["db"], ["db", "upgrade"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "parcours")
def test_help_fits_80_columns_with_paragraphs_wrapped_whole(command: list[str]) -> None:
    """Every help text at 80 columns: no line longer, no word cut, and the description's paragraphs wrapped
    greedily (a line ends only where its next word would not fit: no docstring line breaks left in)."""
    import typer.main

    result = CliRunner().invoke(cli, [*command, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    found: Any = typer.main.get_command(cli)
    for name in command:
        found = found.commands[name]
    text = " ".join(result.stdout.split())
    for word in " ".join((found.help or "").split()).split():
        assert word.strip("`") in text, word  # each word of the help is shown whole
    boxes = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    description = [line.strip() for line in lines[:boxes]]
    paragraphs: list[list[str]] = [[]]
    for line in description[2:]:  # after the usage line
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    for paragraph in paragraphs:
        for line, following in zip(paragraph, paragraph[1:], strict=False):
            assert len(line) + 1 + len(following.split()[0]) > 78, (line, following)
