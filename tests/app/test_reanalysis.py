"""Re-analysis after a taxonomy change, on the shipped model (SQLite and PostgreSQL): new labels reach old
feedback, corrections survive, a merge leaves every count exact, the answers say which versions they come from,
and another workspace is untouched."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings
from tests.app.conftest import new_workspace, wait_analysed, wait_for
from tests.app.test_taxonomy import PARKING, PARKING_TEXTS

TEXTS = [
    *PARKING_TEXTS,
    "Impossible de joindre quelqu'un au téléphone, personne ne décroche.",
    "Aucune réponse à mes mails depuis un mois.",
    "Le chatbot ne comprend rien à ma demande.",
    "Colis livré en retard et abîmé.",
    "Tarifs très compétitifs, souscription en ligne en cinq minutes.",
]
ALL_KINDS = {"kind": ["review", "survey", "social"]}  # every feedback, read from the mentions (not the rollup)


def load(client: TestClient, auth: dict[str, str], texts: list[str] = TEXTS) -> list[dict[str, Any]]:
    items = [{"text": t, "external_id": f"r{i}", "created_at": "2026-05-04", "nps": i} for i, t in enumerate(texts)]
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    return wait_analysed(client, auth, [i["id"] for i in body["items"]])


def reanalyse(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    started = client.post("/v1/reanalysis", json={"author": "ana"}, headers=auth)
    assert started.status_code == 202, started.text
    job = started.json()

    def finished() -> dict[str, Any] | None:
        body = client.get(f"/v1/reanalysis/{job['id']}", headers=auth).json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(finished, what=f"re-analysis {job['id']}")  # type: ignore[no-any-return]


def cells(client: TestClient, auth: dict[str, str], **params: Any) -> dict[tuple[str, str], int]:
    matrix = client.get("/v1/journey/matrix", params=params, headers=auth).json()["cells"]
    return {(c["stage"], c["touchpoint"]): c["mentions"] for c in matrix}


def per_touchpoint(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, touchpoint), n in counts.items():
        totals[touchpoint] = totals.get(touchpoint, 0) + n
    return totals


def test_a_new_label_reaches_old_feedback_and_corrections_survive(client: TestClient, auth: dict[str, str]) -> None:
    other = new_workspace(client)
    details = load(client, auth)
    theirs = load(client, other)
    their_cells = cells(client, other)
    assert not any(m["touchpoint"] == "parking" for d in details for m in d["mentions"])
    target = next(d for d in details[3:] if d["mentions"])
    mention = target["mentions"][0]
    new_stage = "advocacy" if mention["stage"] != "advocacy" else "awareness"
    fixed = client.post(f"/v1/feedback/{target['id']}/corrections",
                        json={"action": "set", "mention": 0, "stage": new_stage}, headers=auth)  # fmt: skip
    assert fixed.status_code == 201
    assert client.post("/v1/taxonomy/touchpoints", json=PARKING, headers=auth).status_code == 201

    job = reanalyse(client, auth)
    assert job | {"id": 0, "created_at": 0, "started_at": 0, "finished_at": 0} == {
        "id": 0, "status": "done", "taxonomy_version": 1, "model": job["model"], "total": len(TEXTS),
        "done": len(TEXTS), "progress": 1.0, "author": "ana", "error": None, "created_at": 0, "started_at": 0,
        "finished_at": 0,
    }  # fmt: skip
    after = [client.get(f"/v1/feedback/{d['id']}", headers=auth).json() for d in details]
    assert all(any(m["touchpoint"] == "parking" for m in d["mentions"]) for d in after[:3])
    assert {d["taxonomy_version"] for d in after} == {1}
    corrected = next(d for d in after if d["id"] == target["id"])
    assert corrected["mentions"][0]["stage"] == new_stage and corrected["mentions"][0]["confidence"] == 1.0
    # the rollup and the mentions agree after the switch-over: nothing counted twice
    assert cells(client, auth) == cells(client, auth, **ALL_KINDS)
    assert sum(cells(client, auth).values()) == sum(len(d["mentions"]) for d in after)
    curve = client.get("/v1/journey/curve", headers=auth)
    assert curve.headers["x-parcours-versions"].startswith("taxonomy=1; model=")
    # the other workspace: untouched, and cannot read this job
    assert cells(client, other) == their_cells
    assert [client.get(f"/v1/feedback/{d['id']}", headers=other).json()["mentions"] for d in theirs] == [
        d["mentions"] for d in theirs
    ]
    assert client.get(f"/v1/reanalysis/{job['id']}", headers=other).status_code == 404
    assert client.get("/v1/journey/curve", headers=other).headers["x-parcours-versions"].startswith("taxonomy=0;")


def test_a_merge_then_a_reanalysis_keeps_counts_exact(
    client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    details = load(client, auth)
    settings.analysis_batch_size = 2  # the re-analysis goes 2 feedback at a time: polls see it half done
    before = cells(client, auth)
    total = sum(before.values())
    parts = ("phone", "email_mail", "chat")
    by_touchpoint = per_touchpoint(before)
    assert sum(by_touchpoint.get(p, 0) for p in parts) >= 2
    merged = client.post("/v1/taxonomy/touchpoints/merge", json={"from": ["phone", "email_mail"], "into": "chat"},
                         headers=auth)  # fmt: skip
    assert merged.status_code == 200

    def exact() -> None:
        now = cells(client, auth)
        totals = per_touchpoint(now)
        assert sum(now.values()) == total
        assert totals.get("chat", 0) == sum(by_touchpoint.get(p, 0) for p in parts)
        assert not set(totals) & {"phone", "email_mail"}
        assert now == cells(client, auth, **ALL_KINDS)
        curve = client.get("/v1/journey/curve", headers=auth).json()["stages"]
        assert sum(s["mentions"] for s in curve) == sum(len(d["mentions"]) for d in details)

    exact()  # at once: the stored rows moved
    job = client.post("/v1/reanalysis", headers=auth).json()
    seen = []

    def finished() -> bool:
        seen.append((sum(cells(client, auth).values()), sum(cells(client, auth, **ALL_KINDS).values())))
        return bool(client.get(f"/v1/reanalysis/{job['id']}", headers=auth).json()["status"] == "done")

    wait_for(finished, what="the re-analysis")
    assert set(seen) == {(total, total)}  # dashboards answered all along, nothing counted twice
    exact()  # after: what the model still predicts as phone or email_mail is counted under chat


def test_one_job_at_a_time_per_workspace(client: TestClient, auth: dict[str, str]) -> None:
    load(client, auth, TEXTS[:2])
    first = client.post("/v1/reanalysis", headers=auth).json()
    second = client.post("/v1/reanalysis", headers=auth).json()
    assert second["id"] == first["id"] or first["status"] == "done"
    assert client.get("/v1/reanalysis/999999", headers=auth).status_code == 404


def test_the_cli_reanalyses_a_workspace(
    client: TestClient, auth: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(client, auth, TEXTS[:3])
    assert client.post("/v1/taxonomy/touchpoints", json=PARKING, headers=auth).status_code == 201
    name = client.get("/v1/workspace", headers=auth).json()["name"]
    monkeypatch.setenv("PARCOURS_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli, ["reanalyse", "--workspace", name])
    assert result.exit_code == 0, result.output
    assert "done: 3 of 3 feedback re-analysed" in result.stdout
    listed = client.get("/v1/feedback", params={"touchpoint": "parking"}, headers=auth).json()["data"]
    assert len(listed) == 3
