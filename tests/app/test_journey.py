"""Journey analytics against an independent computation from the stored mentions (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats

from tests.app.conftest import new_workspace, wait_analysed

STAGES = ["awareness", "consideration", "purchase", "onboarding", "usage", "support", "retention", "advocacy"]
TEXTS = [
    ("Impossible de joindre le service client au téléphone, personne ne décroche.", 1, 2),
    ("Conseillère en agence très aimable, mon dossier a été réglé en dix minutes.", 5, 10),
    ("Le colis est arrivé avec une semaine de retard et abîmé.", 2, 3),
    ("Great crew but the seat was broken and the food was cold.", 3, 6),
    ("Tarifs très compétitifs, la souscription en ligne a pris cinq minutes.", 5, 9),
    ("Je recommande vivement, service impeccable du début à la fin.", 5, 10),
    ("Ma cotisation a encore augmenté, je vais résilier et partir à la concurrence.", 1, 0),
    ("The app crashes every time I try to pay my bill.", 2, 4),
    ("Remboursement reçu en 48 heures après mon sinistre, bravo.", 4, 8),
    ("On hold for 45 minutes and then the call dropped.", 1, 1),
    ("Livraison rapide mais le SAV ne répond jamais.", 3, 5),
    ("Personnel de l'hôtel adorable, chambre propre et calme.", 5, 9),
]


def dataset(day0: date) -> list[dict[str, Any]]:
    items = []
    for i in range(36):
        text, rating, nps = TEXTS[i % len(TEXTS)]
        items.append({
            "text": text if i < len(TEXTS) else f"{text} (avis {i})", "external_id": f"J{i}", "rating": rating,
            "nps": nps, "created_at": (day0 + timedelta(days=i % 20)).isoformat(),
            "kind": ["review", "survey", "social"][i % 3], "source": ["google", "nps", "twitter"][i % 3],
            "segment": "auto" if i % 2 else "habitation",
        })  # fmt: skip
    return items


@pytest.fixture
def loaded(client: TestClient) -> tuple[dict[str, str], list[dict[str, Any]], list[dict[str, Any]]]:
    """A workspace with 36 analysed pieces of feedback; returns (auth, items sent, their detail views)."""
    auth = new_workspace(client)
    items = dataset(date(2026, 3, 1))
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    details = wait_analysed(client, auth, [i["id"] for i in body["items"]])
    return auth, items, details


def expected_stage(mentions: list[dict[str, Any]]) -> dict[str, Any]:
    """The curve's figures for one stage, computed here with numpy and scipy."""
    values = np.array([m["sentiment"] for m in mentions])
    n = len(values)
    mean = float(values.mean())
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n) if n > 1 else None
    shares = Counter(m["polarity"] for m in mentions)
    return {
        "mentions": n,
        "feedback": len({m["feedback_id"] for m in mentions}),
        "mean_sentiment": mean,
        "ci_low": None if half is None else max(mean - half, -1),
        "ci_high": None if half is None else min(mean + half, 1),
        "irritant_share": shares["irritant"] / n,
        "delight_share": shares["delight"] / n,
        "net_sentiment": 100 * (shares["delight"] - shares["irritant"]) / n,
    }


def all_mentions(details: list[dict[str, Any]], keep: Any = lambda d: True) -> list[dict[str, Any]]:
    return [{**m, "feedback_id": d["id"]} for d in details if keep(d) for m in d["mentions"]]


def check_curve(curve: dict[str, Any], mentions: list[dict[str, Any]]) -> None:
    assert [s["stage"] for s in curve["stages"]] == STAGES
    by_stage = defaultdict(list)
    for m in mentions:
        by_stage[m["stage"]].append(m)
    for entry in curve["stages"]:
        if not by_stage[entry["stage"]]:
            assert entry["mentions"] == 0 and entry["mean_sentiment"] is None
            continue
        expected = expected_stage(by_stage[entry["stage"]])
        for key, value in expected.items():
            if value is None:
                assert entry[key] is None, key
            else:
                tolerance = 0.06 if key == "net_sentiment" else 2e-3  # net sentiment has one decimal
                assert entry[key] == pytest.approx(value, abs=tolerance), (entry["stage"], key)


def test_curve_matches_an_independent_computation(client: TestClient, loaded: Any) -> None:
    auth, _, details = loaded
    response = client.get("/v1/journey/curve", headers=auth)
    assert response.status_code == 200
    curve = response.json()
    check_curve(curve, all_mentions(details))
    assert curve["stages"][0]["label"] == "Awareness"
    assert client.get("/v1/journey/curve", params={"lang": "fr"}, headers=auth).json()["stages"][7]["label"] == (
        "Recommandation"
    )
    for entry in curve["stages"]:
        assert all(e["emotion"] != "none" for e in entry["emotions"]) and len(entry["emotions"]) <= 3


def test_filters_select_the_same_mentions_as_an_independent_filter(client: TestClient, loaded: Any) -> None:
    auth, items, details = loaded
    by_id = {d["id"]: d for d in details}
    cases = [
        ({"kind": "survey"}, lambda d: d["kind"] == "survey"),
        ({"source": ["google", "twitter"]}, lambda d: d["source"] in ("google", "twitter")),
        ({"segment": "auto", "language": "fr"}, lambda d: d["segment"] == "auto" and d["language"] == "fr"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-12"},
         lambda d: "2026-03-05" <= d["created_at"][:10] <= "2026-03-12"),
        ({"rating_min": 4}, lambda d: d["rating"] >= 4),
        ({"rating_max": 2, "date_to": "2026-03-15"},
         lambda d: d["rating"] <= 2 and d["created_at"][:10] <= "2026-03-15"),
    ]  # fmt: skip
    for params, keep in cases:
        curve = client.get("/v1/journey/curve", params=params, headers=auth).json()
        check_curve(curve, all_mentions(list(by_id.values()), keep))
    touchpoint = details[0]["mentions"][0]["touchpoint"]
    curve = client.get("/v1/journey/curve", params={"touchpoint": touchpoint}, headers=auth).json()
    check_curve(curve, [m for m in all_mentions(details) if m["touchpoint"] == touchpoint])


def test_rollup_and_scan_paths_agree(client: TestClient, loaded: Any) -> None:
    auth, _, _ = loaded
    from_rollup = client.get("/v1/journey/curve", headers=auth).json()["stages"]
    from_scan = client.get("/v1/journey/curve", params={"kind": ["review", "survey", "social"]}, headers=auth)
    assert from_scan.json()["stages"] == from_rollup


def test_change_against_the_previous_period_and_its_test(client: TestClient, loaded: Any) -> None:
    auth, _, details = loaded
    params = {"date_from": "2026-03-11", "date_to": "2026-03-20"}
    curve = client.get("/v1/journey/curve", params=params, headers=auth).json()
    assert curve["period"] == {"from": "2026-03-11", "to": "2026-03-20", "previous_from": "2026-03-01",
                               "previous_to": "2026-03-10"}  # fmt: skip
    now = all_mentions(details, lambda d: d["created_at"][:10] >= "2026-03-11")
    before = all_mentions(details, lambda d: d["created_at"][:10] <= "2026-03-10")
    for entry in curve["stages"]:
        a = [m["sentiment"] for m in now if m["stage"] == entry["stage"]]
        b = [m["sentiment"] for m in before if m["stage"] == entry["stage"]]
        assert entry["change"]["previous_mentions"] == len(b)
        if len(a) > 1 and len(b) > 1:
            p = stats.ttest_ind(a, b, equal_var=False).pvalue
            assert entry["change"]["p_value"] == pytest.approx(p, abs=1e-3)
            assert entry["change"]["significant"] == (p < 0.05)
            assert entry["change"]["mean_sentiment_delta"] == pytest.approx(np.mean(a) - np.mean(b), abs=2e-3)
        if a and b:  # deltas are named as deltas, shares in percentage points
            share = [
                sum(m["polarity"] == "irritant" for m in ms if m["stage"] == entry["stage"]) for ms in (now, before)
            ]
            points = 100 * (share[0] / len(a) - share[1] / len(b))
            assert entry["change"]["irritant_share_delta_pts"] == pytest.approx(points, abs=0.02)
            assert entry["change"]["mentions_delta"] == len(a) - len(b)


def test_time_series_periods_add_up(client: TestClient, loaded: Any) -> None:
    auth, _, details = loaded
    series = client.get("/v1/journey/curve", params={"granularity": "week"}, headers=auth).json()
    starts = [p["period"] for p in series["periods"]]
    assert starts[0] == "2026-02-23" and all(date.fromisoformat(s).weekday() == 0 for s in starts)
    for period in series["periods"]:
        start = date.fromisoformat(period["period"])
        keep = lambda d, s=start: s <= date.fromisoformat(d["created_at"][:10]) < s + timedelta(days=7)  # noqa: E731
        check_curve({"stages": period["stages"]}, all_mentions(details, keep))
    bad = client.get("/v1/journey/curve", params={"granularity": "hour"}, headers=auth)
    assert bad.status_code == 422


def test_matrix_cells(client: TestClient, loaded: Any) -> None:
    auth, _, details = loaded
    matrix = client.get("/v1/journey/matrix", headers=auth).json()
    cells = {(c["stage"], c["touchpoint"]): c for c in matrix["cells"]}
    expected: dict[tuple[str, str], list[float]] = defaultdict(list)
    for m in all_mentions(details):
        expected[(m["stage"], m["touchpoint"])].append(m["sentiment"])
    polarities: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for m in all_mentions(details):
        polarities[(m["stage"], m["touchpoint"])][m["polarity"]] += 1
    assert set(cells) == set(expected)
    for key, values in expected.items():
        cell, n = cells[key], len(values)
        assert cell["mentions"] == n
        assert cell["mean_sentiment"] == pytest.approx(np.mean(values), abs=2e-4)
        for polarity in ("irritant", "delight", "neutral"):  # what the cell holds, both ways
            assert cell[polarity] == polarities[key][polarity]
            assert cell[f"{polarity}_share"] == pytest.approx(polarities[key][polarity] / n, abs=1e-4)
        assert cell["strength"] == pytest.approx(n / (n + 5), abs=1e-4)  # evidence: a one-mention cell is faint


def test_kpis_and_irritant_impact(client: TestClient, loaded: Any) -> None:
    auth, items, details = loaded
    kpis = client.get("/v1/kpis", headers=auth).json()
    answers = [d["nps"] for d in details]
    expected_nps = 100 * (sum(a >= 9 for a in answers) - sum(a <= 6 for a in answers)) / len(answers)
    assert kpis["overall"]["nps"] == pytest.approx(expected_nps, abs=0.1)
    assert kpis["overall"]["csat"] == pytest.approx(100 * np.mean([d["rating"] >= 4 for d in details]), abs=0.1)
    for stage in kpis["stages"]:
        having = [d for d in details if any(m["stage"] == stage["stage"] for m in d["mentions"])]
        assert stage["feedback"] == len(having)
        if having:
            assert stage["mean_rating"] == pytest.approx(np.mean([d["rating"] for d in having]), abs=1e-3)
    irritants = client.get("/v1/irritants", params={"limit": 50}, headers=auth).json()
    assert irritants["feedback_in_scope"] == len(details)
    priorities = [t["priority"] for t in irritants["themes"]]
    assert priorities == sorted(priorities, reverse=True)
    for theme in irritants["themes"]:
        mine = [d for d in details if any(m["polarity"] == "irritant" and (m["stage"], m["touchpoint"]) ==
                                          (theme["stage"], theme["touchpoint"]) for m in d["mentions"])]  # fmt: skip
        sentiments = [m["sentiment"] for d in mine for m in d["mentions"] if m["polarity"] == "irritant"
                      and (m["stage"], m["touchpoint"]) == (theme["stage"], theme["touchpoint"])]  # fmt: skip
        assert theme["feedback"] == len(mine) and theme["mentions"] == len(sentiments)
        intensity = abs(np.mean(sentiments))
        assert theme["priority"] == pytest.approx(100 * len(mine) / len(details) * intensity, abs=0.01)
        rest = [d["rating"] for d in details if d not in mine]
        if rest:
            impact = np.mean(rest) - np.mean([d["rating"] for d in details])
            assert theme["impact"]["rating"] == pytest.approx(impact, abs=1e-3)
        assert 1 <= len(theme["verbatims"]) <= 3
        for verbatim in theme["verbatims"]:
            text = verbatim["text"]
            assert text[verbatim["mention"]["start"] : verbatim["mention"]["end"]] == verbatim["mention"]["text"]
            for span in verbatim["evidence"]:
                assert text[span["start"] : span["end"]] == span["text"] and span["weight"] < 0
        assert len(theme["trend"]["weeks"]) == 8


def test_polls_get_304_until_ingestion_changes_the_data(client: TestClient, loaded: Any) -> None:
    auth, _, _ = loaded
    paths = ["/v1/journey/curve", "/v1/journey/matrix", "/v1/irritants", "/v1/delights", "/v1/kpis", "/v1/alerts"]
    tags = {}
    for path in paths:
        first = client.get(path, headers=auth)
        assert first.status_code == 200 and first.headers["etag"]
        assert "no-cache" in first.headers["cache-control"]
        again = client.get(path, headers={**auth, "If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        tags[path] = first.headers["etag"]
    other = client.get(
        "/v1/journey/curve", params={"kind": "survey"}, headers={**auth, "If-None-Match": tags[paths[0]]}
    )
    assert other.status_code == 200  # another question, another ETag
    body = client.post(
        "/v1/feedback", json={"items": [{"text": "Le SAV m'a raccroché au nez, honteux."}]}, headers=auth
    )
    wait_analysed(client, auth, [body.json()["items"][0]["id"]])
    for path in paths:
        fresh = client.get(path, headers={**auth, "If-None-Match": tags[path]})
        assert fresh.status_code == 200 and fresh.headers["etag"] != tags[path]


def test_polls_answered_from_the_caches_are_the_routes_answers(settings: Any, shipped: Any, loaded: Any) -> None:
    """As in production, GETs reuse the workspace row for a while: polls are then answered from the caches
    before routing, and must be exactly what the routes answer; keys and workspaces stay separate."""
    from app.core.config import Settings
    from app.main import create_app

    auth, _, _ = loaded
    paths = ["/v1/journey/curve", "/v1/journey/matrix", "/v1/irritants", "/v1/delights", "/v1/kpis", "/v1/alerts"]
    polling: Settings = settings.model_copy(update={"workspace_ttl_seconds": 60.0, "run_worker": False})
    with TestClient(create_app(polling, pipeline=shipped)) as client:
        key = auth["Authorization"].removeprefix("Bearer ")
        for path in paths:
            first = client.get(path, params={"lang": "fr"}, headers=auth)  # the route: fills the caches
            assert first.status_code == 200
            for headers in (auth, {"X-API-Key": key}):
                again = client.get(path, params={"lang": "fr"}, headers=headers)
                assert again.status_code == 200 and again.content == first.content
                for name in ("etag", "cache-control", "vary", "content-type"):
                    assert again.headers[name] == first.headers[name], name
                current = {**headers, "If-None-Match": first.headers["etag"]}
                not_modified = client.get(path, params={"lang": "fr"}, headers=current)
                assert not_modified.status_code == 304 and not_modified.content == b""
                assert not_modified.headers["etag"] == first.headers["etag"]
            other_question = client.get(path, headers={**auth, "If-None-Match": first.headers["etag"]})
            assert other_question.status_code == 200 and other_question.headers["etag"] != first.headers["etag"]
        tag = client.get(paths[0], headers=auth).headers["etag"]
        stranger = new_workspace(client)
        crossed = client.get(paths[0], headers={**stranger, "If-None-Match": tag})
        assert crossed.status_code == 200 and all(s["mentions"] == 0 for s in crossed.json()["stages"])
        refused = client.get(paths[0], headers={"Authorization": "Bearer pk_unknown", "If-None-Match": tag})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"


def test_busy_pollers_see_new_data_within_the_workspace_time(
    client: TestClient, settings: Any, shipped: Any, loaded: Any
) -> None:
    """The workspace row is re-read ahead of its time while polls keep coming: new data shows up in at most
    `workspace_ttl_seconds` (plus a poll interval), and every answer is a 304 or the current curve."""
    import time

    from app.main import create_app

    auth, _, _ = loaded
    polling = settings.model_copy(update={"workspace_ttl_seconds": 0.5, "run_worker": False})
    with TestClient(create_app(polling, pipeline=shipped)) as dashboard:
        first = dashboard.get("/v1/journey/curve", headers=auth)
        tag = first.headers["etag"]
        body = client.post(
            "/v1/feedback", json={"items": [{"text": "Le SAV ne répond jamais, honteux."}]}, headers=auth
        )
        wait_analysed(client, auth, [body.json()["items"][0]["id"]])
        changed = time.monotonic()
        while True:
            answer = dashboard.get("/v1/journey/curve", headers={**auth, "If-None-Match": tag})
            if answer.status_code == 200:
                break
            assert answer.status_code == 304
            assert time.monotonic() - changed < 0.5 + 0.5, "the new data never showed"
            time.sleep(0.02)
        assert answer.headers["etag"] != tag
        assert answer.json() == client.get("/v1/journey/curve", headers=auth).json()


def test_deletion_takes_mentions_out_of_the_aggregates(client: TestClient, loaded: Any) -> None:
    auth, _, details = loaded
    victim = max(details, key=lambda d: len(d["mentions"]))
    assert client.delete(f"/v1/feedback/{victim['id']}", headers=auth).status_code == 204
    curve = client.get("/v1/journey/curve", headers=auth).json()
    check_curve(curve, all_mentions([d for d in details if d["id"] != victim["id"]]))


def test_an_empty_workspace_gets_valid_empty_answers(client: TestClient) -> None:
    auth = new_workspace(client)
    curve = client.get("/v1/journey/curve", headers=auth).json()
    assert [(s["stage"], s["mentions"], s["mean_sentiment"]) for s in curve["stages"]] == [(s, 0, None) for s in STAGES]
    assert client.get("/v1/journey/curve", params={"granularity": "month"}, headers=auth).json()["periods"] == []
    assert client.get("/v1/journey/matrix", headers=auth).json()["cells"] == []
    assert client.get("/v1/irritants", headers=auth).json()["themes"] == []
    kpis = client.get("/v1/kpis", headers=auth).json()
    assert kpis["overall"] == {"feedback": 0, "nps": None, "nps_answers": 0, "promoters": 0, "detractors": 0,
                               "csat": None, "rated": 0, "mean_rating": None}  # fmt: skip
    assert client.get("/v1/alerts", headers=auth).json()["alerts"] == []


def test_topics_are_computed_in_the_background_and_attached_to_irritants(client: TestClient) -> None:
    from tests.app.conftest import wait_for
    from tests.nlp.test_topics import THEMES, theme_of

    auth = new_workspace(client)
    texts = [f"{t}, vraiment pas content." for group in THEMES.values() for t in group]
    body = client.post("/v1/feedback", json={"items": [{"text": t} for t in texts]}, headers=auth).json()
    wait_analysed(client, auth, [i["id"] for i in body["items"]])
    first = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth)
    assert first.status_code == 200 and first.json()["status"] == "computing" and first.json()["topics"] == []

    def done() -> dict[str, Any] | None:
        answer = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth).json()
        return answer if answer["status"] == "done" else None

    answer = wait_for(done, timeout=180, what="topics")
    assert answer["mentions"] > 0 and len(answer["topics"]) >= 2
    assert len({theme_of(t["words"]) for t in answer["topics"]} - {None}) >= 2
    for topic in answer["topics"]:
        assert topic["mean_sentiment"] < 0 and topic["label"] and 1 <= len(topic["verbatims"]) <= 3
        for verbatim in topic["verbatims"]:
            detail = client.get(f"/v1/feedback/{verbatim['feedback_id']}", headers=auth).json()
            assert detail["text"][verbatim["start"] : verbatim["end"]] == verbatim["text"]
    again = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth)
    assert client.get("/v1/topics", params={"polarity": "irritant"},
                      headers={**auth, "If-None-Match": again.headers["etag"]}).status_code == 304  # fmt: skip
    themes = client.get("/v1/irritants", headers=auth).json()["themes"]
    assert any(theme.get("topics") for theme in themes)


def test_the_incremental_rollup_equals_one_rebuilt_from_the_mentions(client: TestClient, loaded: Any) -> None:
    from sqlalchemy import select
    from sqlmodel import Session

    from app.feedback.store import rebuild_rollup
    from app.models import JourneyRollup, Workspace

    auth, _, details = loaded
    client.delete(f"/v1/feedback/{details[0]['id']}", headers=auth)  # erasure is part of the incremental story
    name = client.get("/v1/workspace", headers=auth).json()["name"]
    table = JourneyRollup.__table__
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.name == name))

        def rows() -> list[tuple[Any, ...]]:
            found = session.execute(select(table).where(table.c.workspace_id == workspace_id)).all()
            return sorted((*r[:5], *r[5:7], round(r[7], 6), round(r[8], 6), *r[9:]) for r in found)

        incremental = rows()
        rebuild_rollup(session=session, workspace_id=workspace_id)
        session.flush()
        assert rows() == incremental and incremental
        session.rollback()
