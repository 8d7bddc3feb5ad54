"""GET /v1/alerts: no alert without history, and exactly the real spike against a steady history."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.app.conftest import new_workspace, wait_analysed
from tests.app.test_journey import dataset

AS_OF = date(2026, 6, 28)  # a Sunday: "this week" is 2026-06-22 .. 2026-06-28
STEADY = [
    "Très bon accueil en agence, conseillère aimable et efficace.",
    "Livraison rapide, colis bien emballé et reçu en deux jours.",
    "Le site est clair, j'ai trouvé mon produit en deux clics.",
]
SPIKE = "Impossible de joindre le service client au téléphone, personne ne décroche."


def send(client: TestClient, auth: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    return wait_analysed(client, auth, [i["id"] for i in body["items"]])


def steady_history(weeks: int) -> list[dict[str, Any]]:
    """Two of each steady text a week for `weeks` weeks before this week, and this week too."""
    items = []
    for week in range(weeks + 1):
        for n, text in enumerate(STEADY * 2):
            day = AS_OF - timedelta(days=7 * week + n)
            items.append({"text": text, "external_id": f"S{week}-{n}", "created_at": day.isoformat()})
    return items


def test_a_first_import_gives_no_alert_and_says_why(client: TestClient) -> None:
    auth = new_workspace(client)
    send(client, auth, dataset(date(2026, 3, 1)))  # 36 pieces of feedback over 20 days, as a first export
    answer = client.get("/v1/alerts", params={"min_mentions": 1}, headers=auth).json()
    assert answer["status"] == "insufficient_history" and answer["alerts"] == [] and answer["total"] == 0
    assert answer["as_of"] == "2026-03-20" and answer["weeks_needed"] == 4
    # weeks before the first day with data (2026-03-01) are not history: only 2026-03-07 .. 2026-03-13 counts
    assert answer["weeks_with_data"] == 1 and answer["baseline"]["weeks"] == 1
    assert "alerts start after 4 weeks of data" in answer["message"]
    french = client.get("/v1/alerts", params={"lang": "fr"}, headers=auth).json()
    assert "4 semaines" in french["message"]


def test_an_empty_workspace_has_no_data(client: TestClient) -> None:
    answer = client.get("/v1/alerts", headers=new_workspace(client)).json()
    assert answer["status"] == "no_data" and answer["as_of"] is None and answer["alerts"] == []


def test_a_steady_history_gives_no_alert(client: TestClient) -> None:
    auth = new_workspace(client)
    send(client, auth, steady_history(12))
    answer = client.get("/v1/alerts", headers=auth).json()
    assert answer["status"] == "ok" and answer["message"] is None
    assert answer["weeks_with_data"] == 8 and answer["baseline_mentions"] >= 30
    assert answer["alerts"] == [] and answer["total"] == 0


def test_one_real_spike_gives_exactly_that_alert(client: TestClient) -> None:
    auth = new_workspace(client)
    send(client, auth, steady_history(12))
    wave = [
        {"text": SPIKE, "external_id": f"X{n}", "created_at": (AS_OF - timedelta(days=n % 7)).isoformat()}
        for n in range(12)
    ]
    spike = send(client, auth, wave)
    answer = client.get("/v1/alerts", headers=auth).json()
    assert answer["status"] == "ok" and answer["as_of"] == AS_OF.isoformat()
    assert answer["week"] == {"from": "2026-06-22", "to": "2026-06-28"}
    mentions = [m for d in spike for m in d["mentions"]]
    stage, count = Counter(m["stage"] for m in mentions).most_common(1)[0]
    touchpoints = {m["touchpoint"] for m in mentions}
    # the wave's own stage and touchpoints, and nothing the steady feedback talks about
    flagged = {(a["dimension"], a["id"]) for a in answer["alerts"]}
    assert ("stage", stage) in flagged
    assert flagged <= {("stage", m["stage"]) for m in mentions} | {("touchpoint", t) for t in touchpoints}
    alert = next(a for a in answer["alerts"] if (a["dimension"], a["id"], a["metric"]) == ("stage", stage, "volume"))
    assert alert["direction"] == "up" and alert["value"] >= count and alert["test"] in ("poisson", "negative_binomial")
    assert alert["q_value"] < 0.05 and alert["p_value"] <= alert["q_value"] and alert["z"] > 2
    scores = [a["score"] for a in answer["alerts"]]
    assert scores == sorted(scores, reverse=True) and answer["total"] >= len(answer["alerts"])
    capped = client.get("/v1/alerts", params={"limit": 1}, headers=auth).json()
    assert len(capped["alerts"]) == 1 and capped["total"] == answer["total"]
    assert capped["alerts"][0] == answer["alerts"][0]


def test_a_new_complaint_topic_in_the_last_week_gives_exactly_one_topic_alert(client: TestClient) -> None:
    from tests.app.conftest import wait_for
    from tests.nlp.test_topics import THEMES, theme_of

    auth = new_workspace(client)
    items = []
    for week in range(13):  # delivery and billing complaints every week, this week included
        for n in range(6):
            text = THEMES["delivery" if n % 2 else "billing"][(3 * week + n // 2) % 12]
            day = AS_OF - timedelta(days=7 * week + n)
            items.append({"text": text, "external_id": f"W{week}-{n}", "created_at": day.isoformat()})
    send(client, auth, items)
    before = client.get("/v1/alerts", params={"limit": 100}, headers=auth).json()
    assert before["status"] == "ok" and not [a for a in before["alerts"] if a["dimension"] == "topic"]
    crashes = [  # a new subject, only this week
        {"text": text, "external_id": f"A{n}", "created_at": (AS_OF - timedelta(days=n % 7)).isoformat()}
        for n, text in enumerate(THEMES["app"][:10])
    ]
    new_ids = {d["id"] for d in send(client, auth, crashes)}
    # with no topics computed yet: no topic alert, and no error
    answer = client.get("/v1/alerts", params={"limit": 100}, headers=auth).json()
    assert answer["status"] == "ok" and not [a for a in answer["alerts"] if a["dimension"] == "topic"]

    def topics() -> dict[str, Any] | None:
        found = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth).json()
        return found if found["status"] == "done" else None

    computed = wait_for(topics, timeout=300, what="topics")
    assert "app" in {theme_of(t["words"]) for t in computed["topics"]}
    answer = client.get("/v1/alerts", params={"limit": 100}, headers=auth).json()
    emerging = [a for a in answer["alerts"] if a["dimension"] == "topic"]
    assert len(emerging) == 1, emerging
    alert = emerging[0]
    topic = next(t for t in computed["topics"] if str(t["id"]) == alert["id"])
    assert theme_of(topic["words"]) == "app" and alert["label"] == topic["label"]
    assert alert["metric"] == "topic_share" and alert["test"] == "fisher_exact" and alert["direction"] == "up"
    assert alert["slice"] == "stage=*|polarity=irritant" and alert["q_value"] < 0.05
    assert alert["baseline_mean"] == 0 and alert["value"] >= 0.4  # 10 of this week's ~16 complaints
    assert 1 <= len(alert["verbatim_ids"]) <= 3 and set(alert["verbatim_ids"]) <= new_ids
    assert answer["total"] >= len(answer["alerts"])
