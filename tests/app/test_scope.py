"""Date filters mean one thing everywhere: whole UTC days, both bounds inclusive.

Feedback is written around UTC midnights; every analytics answer (curve from the rollup, curve scanning the
mentions, matrix, KPIs, irritants) and the feedback list must count the same population for filters given
as dates, as date-times in other time zones, and as day boundaries.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import wait_analysed

# (UTC timestamp, text): two pieces of feedback on each side of the 2026-03-01 / 03-02 / 03-03 midnights.
WRITTEN = [
    ("2026-02-28T23:59:59Z", "Le conseiller au téléphone a été très aimable et efficace."),
    ("2026-03-01T00:00:00Z", "Remboursement reçu en deux jours, parfait."),
    ("2026-03-01T23:30:00Z", "Impossible de joindre le service client, personne ne répond."),
    ("2026-03-02T00:30:00Z", "The app keeps crashing when I try to pay."),
    ("2026-03-02T22:00:00Z", "Delivery was fast and the parcel was intact."),
    ("2026-03-03T00:00:01Z", "Prix trop élevé pour ce que c'est."),
]


@pytest.fixture
def written(client: TestClient, auth: dict[str, str]) -> dict[str, str]:
    items = [{"text": text, "created_at": when, "rating": 3} for when, text in WRITTEN]
    response = client.post("/v1/feedback", json={"items": items}, headers=auth)
    assert response.status_code == 202, response.text
    wait_analysed(client, auth, [item["id"] for item in response.json()["items"]])
    return auth


def populations(client: TestClient, auth: dict[str, str], params: dict[str, Any]) -> dict[str, int]:
    """How much feedback each answer counts for the same filters."""

    def get(path: str, **extra: Any) -> Any:
        response = client.get(path, params={**params, **extra}, headers=auth)
        assert response.status_code == 200, response.text
        return response.json()

    listed = get("/v1/feedback", limit=100)["data"]
    curve_mentions = sum(s["mentions"] for s in get("/v1/journey/curve")["stages"])
    scanned_mentions = sum(s["mentions"] for s in get("/v1/journey/curve", kind="review")["stages"])
    matrix_mentions = sum(c["mentions"] for c in get("/v1/journey/matrix")["cells"])
    detail_mentions = sum(len(client.get(f"/v1/feedback/{f['id']}", headers=auth).json()["mentions"]) for f in listed)
    return {
        "feedback listed": len(listed),
        "kpis feedback": get("/v1/kpis")["overall"]["feedback"],
        "mentions of listed feedback": detail_mentions,
        "curve mentions (rollup)": curve_mentions,
        "curve mentions (scan)": scanned_mentions,
        "matrix mentions": matrix_mentions,
    }


@pytest.mark.parametrize(
    ("params", "expected_feedback"),
    [
        ({"date_from": "2026-03-01", "date_to": "2026-03-01"}, 2),  # one whole UTC day
        ({"date_from": "2026-03-01", "date_to": "2026-03-02"}, 4),  # both bounds inclusive
        ({"date_from": "2026-03-02T10:00:00Z", "date_to": "2026-03-02T11:00:00Z"}, 2),  # a time keeps its UTC day
        ({"date_from": "2026-03-02T01:00:00+02:00"}, 5),  # = 2026-03-01T23:00Z: the UTC day is 03-01
        ({"date_to": "2026-03-01T23:00:00-05:00"}, 5),  # = 2026-03-02T04:00Z: up to the end of UTC 03-02
        ({"date_from": "2026-02-28T23:59:59Z", "date_to": "2026-02-28"}, 1),  # the last second of a day
    ],
)
def test_every_answer_counts_the_same_population(
    client: TestClient, written: dict[str, str], params: dict[str, str], expected_feedback: int
) -> None:
    counts = populations(client, written, params)
    assert counts["feedback listed"] == expected_feedback, counts
    assert counts["kpis feedback"] == expected_feedback, counts
    mentions = counts["mentions of listed feedback"]
    assert mentions > 0
    assert counts["curve mentions (rollup)"] == mentions, counts
    assert counts["curve mentions (scan)"] == mentions, counts
    assert counts["matrix mentions"] == mentions, counts


def test_bounds_in_the_wrong_order_are_refused_in_utc_days(client: TestClient, auth: dict[str, str]) -> None:
    # 03-02T01:00+02:00 is 03-01 in UTC: the same day as date_to, so this range is valid...
    ok = client.get(
        "/v1/journey/curve", params={"date_from": "2026-03-02T01:00:00+02:00", "date_to": "2026-03-01"}, headers=auth
    )
    assert ok.status_code == 200, ok.text
    # ...and a range whose first UTC day is after its last is a 422 naming both days.
    bad = client.get("/v1/kpis", params={"date_from": "2026-03-03", "date_to": "2026-03-02T23:00:00Z"}, headers=auth)
    assert bad.status_code == 422
    assert "2026-03-03" in bad.json()["detail"] and "2026-03-02" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/journey/curve", {"kind": "tweet"}, "kind"),
        ("/v1/irritants", {"polarity": "angry"}, "polarity"),
        ("/v1/journey/matrix", {"stage": "delivery"}, "stage"),
        ("/v1/kpis", {"touchpoint": "fax"}, "touchpoint"),
        ("/v1/topics", {"stage": "delivery"}, "stage"),
    ],
)
def test_unknown_labels_are_refused_with_the_allowed_values(
    client: TestClient, auth: dict[str, str], path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params, headers=auth)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert body["errors"][0]["field"] == field
    assert "allowed values" in body["errors"][0]["message"]
