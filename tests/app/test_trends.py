"""Theme trends on shares: an export weighted towards recent weeks is stable; a theme whose share rises is rising."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.app.conftest import new_workspace, wait_analysed

LAST = date(2026, 6, 28)  # a Sunday: the trend's 8 weeks are 2026-05-04 .. 2026-06-28
TEXTS = [
    "Très bon accueil en agence, conseillère aimable et efficace.",
    "Livraison rapide, colis bien emballé et reçu en deux jours.",
    "Le colis est arrivé avec une semaine de retard et abîmé.",
    "Impossible de joindre le service client au téléphone, personne ne décroche.",
]


def load(client: TestClient, per_week: list[list[str]]) -> dict[str, str]:
    """A workspace with per_week[i] sent in the i-th of the 8 weeks ending LAST (oldest first)."""
    auth = new_workspace(client)
    items: list[dict[str, Any]] = []
    for week, texts in enumerate(per_week):
        monday = LAST - timedelta(days=6 + 7 * (len(per_week) - 1 - week))
        for n, text in enumerate(texts):
            day = monday + timedelta(days=n % 7)
            items.append({"text": text, "external_id": f"T{week}-{n}", "created_at": day.isoformat()})
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    wait_analysed(client, auth, [i["id"] for i in body["items"]])
    return auth


def themes(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    for path in ("/v1/irritants", "/v1/delights"):
        found += client.get(path, params={"limit": 50}, headers=auth).json()["themes"]
    return found


def test_a_recent_heavy_import_with_the_same_shares_is_stable(client: TestClient) -> None:
    auth = load(client, [TEXTS] * 4 + [TEXTS * 4] * 4)  # four times more feedback in the last 4 weeks
    found = themes(client, auth)
    assert found
    for theme in found:
        trend = theme["trend"]
        assert trend["direction"] == "stable", theme
        assert trend["recent_share"] == trend["previous_share"]
        weeks = trend["weeks"]
        assert len(weeks) == 8 and weeks[-1]["week"] == "2026-06-22"
        assert weeks[-1]["mentions"] == 4 * weeks[0]["mentions"] and weeks[-1]["share"] == weeks[0]["share"]
        assert all(w["share"] == round(w["mentions"] / w["total_mentions"], 4) for w in weeks)


def test_a_theme_whose_share_rises_is_rising(client: TestClient) -> None:
    steady, wave = TEXTS[:2], TEXTS[3]
    auth = load(client, [steady * 2] * 4 + [steady * 2 + [wave] * 4] * 4)
    irritants = client.get("/v1/irritants", headers=auth).json()["themes"]
    rising = [t for t in irritants if t["trend"]["direction"] == "rising"]
    assert rising and all(t["trend"]["p_value"] < 0.05 for t in rising)
    assert all(t["trend"]["previous_share"] < t["trend"]["recent_share"] for t in rising)
    delights = client.get("/v1/delights", headers=auth).json()["themes"]
    assert all(t["trend"]["direction"] in ("stable", "falling") for t in delights)  # diluted, never rising
