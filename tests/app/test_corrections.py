"""Corrections through the API on the shipped model (SQLite and PostgreSQL): every figure changes at once by
exactly the corrected mention, the feedback shows it, the export says who, when and what, and another workspace
neither sees nor can touch them."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.app.conftest import new_workspace, wait_analysed

TEXTS = [
    "Impossible de joindre le service client au téléphone, personne ne décroche.",
    "Le colis est arrivé avec une semaine de retard et abîmé.",
    "Tarifs très compétitifs, la souscription en ligne a pris cinq minutes.",
    "The app crashes every time I try to pay my bill.",
]


def load(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    items = [
        {"text": t, "external_id": f"c{i}", "created_at": "2026-05-04", "rating": 2 + i, "nps": 2 * i}
        for i, t in enumerate(TEXTS)
    ]
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    return wait_analysed(client, auth, [i["id"] for i in body["items"]])


def figures(client: TestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    """Per stage mentions / feedback / irritants from the curve, per cell mentions from the matrix, and per stage
    feedback from the KPIs."""
    curve = client.get("/v1/journey/curve", params=params, headers=auth).json()["stages"]
    matrix = client.get("/v1/journey/matrix", params=params, headers=auth).json()["cells"]
    kpis = client.get("/v1/kpis", params=params, headers=auth).json()["stages"]
    return {
        "curve": {
            s["stage"]: (s["mentions"], s["feedback"], round((s["irritant_share"] or 0) * s["mentions"])) for s in curve
        },
        "matrix": {(c["stage"], c["touchpoint"]): c["mentions"] for c in matrix},
        "kpis": {s["stage"]: s["feedback"] for s in kpis},
    }


def other_stage(stage: str) -> str:
    return "advocacy" if stage != "advocacy" else "awareness"


def test_a_stage_correction_moves_one_mention_in_every_figure_at_once(client: TestClient, auth: dict[str, str]) -> None:
    details = load(client, auth)
    target = next(d for d in details if len(d["mentions"]) == 1)
    mention = target["mentions"][0]
    old, new = mention["stage"], other_stage(mention["stage"])
    before, before_scan = figures(client, auth), figures(client, auth, kind="review")  # rollup and mention scan

    correction = {"action": "set", "mention": 0, "stage": new, "author": "marie"}
    response = client.post(f"/v1/feedback/{target['id']}/corrections", json=correction, headers=auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["mentions"][0] | {"stage": None} == mention | {"stage": None, "confidence": 1.0}
    assert body["mentions"][0]["stage"] == new
    assert body["correction"] | {"id": None, "created_at": None} == {
        "id": None, "feedback_id": target["id"], "external_id": target["external_id"], "action": "set",
        "start": mention["start"], "end": mention["end"], "text": mention["text"],
        "before": {k: mention[k] for k in ("stage", "touchpoint", "polarity")}, "after": {"stage": new},
        "workspace_id": body["correction"]["workspace_id"], "author": "marie", "created_at": None,
    }  # fmt: skip
    assert client.get(f"/v1/feedback/{target['id']}", headers=auth).json()["mentions"] == body["mentions"]

    irritant = int(mention["polarity"] == "irritant")
    assert before_scan == before  # the rollup and the mention scan agree before, and after:
    for was, now in ((before, figures(client, auth)), (before_scan, figures(client, auth, kind="review"))):
        m_old, f_old, i_old = was["curve"][old]
        m_new, f_new, i_new = was["curve"][new]
        assert now["curve"][old] == (m_old - 1, f_old - 1, i_old - irritant)
        assert now["curve"][new] == (m_new + 1, f_new + 1, i_new + irritant)
        cell_old, cell_new = (old, mention["touchpoint"]), (new, mention["touchpoint"])
        assert now["matrix"].get(cell_old, 0) == was["matrix"][cell_old] - 1
        assert now["matrix"][cell_new] == was["matrix"].get(cell_new, 0) + 1
        assert (now["kpis"][old], now["kpis"][new]) == (was["kpis"][old] - 1, was["kpis"][new] + 1)


def test_polarity_delete_and_add_change_the_figures_at_once(client: TestClient, auth: dict[str, str]) -> None:
    details = load(client, auth)
    target = next(d for d in details if d["mentions"])
    mention = target["mentions"][0]
    stage = mention["stage"]
    flipped = "delight" if mention["polarity"] != "delight" else "irritant"
    before = figures(client, auth)["curve"][stage]
    set_polarity = client.post(f"/v1/feedback/{target['id']}/corrections",
                               json={"action": "set", "mention": 0, "polarity": flipped}, headers=auth)  # fmt: skip
    corrected = set_polarity.json()["mentions"][0]
    assert corrected["polarity"] == flipped and (corrected["sentiment"] > 0) == (flipped == "delight")
    shares = client.get("/v1/journey/curve", headers=auth).json()["stages"]
    entry = next(s for s in shares if s["stage"] == stage)
    assert entry["mentions"] == before[0]
    assert round((entry[f"{flipped}_share"] or 0) * entry["mentions"]) >= 1

    total = sum(m for m, _, _ in figures(client, auth)["curve"].values())
    deleted = client.post(f"/v1/feedback/{target['id']}/corrections", json={"action": "delete", "mention": 0},
                          headers=auth)  # fmt: skip
    assert deleted.status_code == 201 and len(deleted.json()["mentions"]) == len(target["mentions"]) - 1
    assert sum(m for m, _, _ in figures(client, auth)["curve"].values()) == total - 1

    text = target["text"]
    start, end = 0, text.index(" ", 10)
    added = client.post(
        f"/v1/feedback/{target['id']}/corrections",
        json={"action": "add", "start": start, "end": end, "stage": "awareness", "touchpoint": "advertising",
              "polarity": "irritant", "author": "li"},
        headers=auth,
    )  # fmt: skip
    assert added.status_code == 201, added.text
    new = [m for m in added.json()["mentions"] if (m["start"], m["end"]) == (start, end)]
    assert len(new) == 1 and new[0]["text"] == text[start:end] and new[0]["sentiment"] <= -0.25
    assert new[0]["stage"] == "awareness" and new[0]["confidence"] == 1.0
    after = figures(client, auth)
    assert sum(m for m, _, _ in after["curve"].values()) == total
    assert after["matrix"][("awareness", "advertising")] >= 1


def test_export_says_who_when_and_what_and_workspaces_stay_apart(client: TestClient, auth: dict[str, str]) -> None:
    details = load(client, auth)
    target = next(d for d in details if d["mentions"])
    other = new_workspace(client)
    # another workspace cannot correct this feedback, nor see the corrections
    refused = client.post(f"/v1/feedback/{target['id']}/corrections", json={"action": "delete", "mention": 0},
                          headers=other)  # fmt: skip
    assert refused.status_code == 404
    client.post(f"/v1/feedback/{target['id']}/corrections", json={"action": "delete", "mention": 0, "author": "ana"},
                headers=auth)  # fmt: skip
    client.post(f"/v1/feedback/{target['id']}/corrections",
                json={"action": "add", "start": 0, "end": 5, "stage": "usage", "touchpoint": "product",
                      "polarity": "neutral"}, headers=auth)  # fmt: skip
    exported = client.get("/v1/corrections", params={"format": "jsonl"}, headers=auth)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert [(x["action"], x["author"], x["feedback_id"]) for x in lines] == [
        ("delete", "ana", target["id"]), ("add", None, target["id"])
    ]  # fmt: skip
    mention = target["mentions"][0]
    assert lines[0]["text"] == mention["text"] and lines[0]["after"] is None
    assert lines[0]["before"] == {k: mention[k] for k in ("stage", "touchpoint", "polarity")}
    assert lines[1]["text"] == target["text"][:5] and lines[1]["before"] is None
    assert lines[1]["after"] == {"stage": "usage", "touchpoint": "product", "polarity": "neutral"}
    assert all(x["created_at"] for x in lines)
    assert client.get("/v1/corrections", headers=auth).json()["data"] == lines
    assert client.get("/v1/corrections", params={"format": "jsonl"}, headers=other).text == ""
    assert client.get("/v1/corrections", headers=other).json() == {"data": []}


def test_invalid_corrections_are_refused_and_change_nothing(client: TestClient, auth: dict[str, str]) -> None:
    details = load(client, auth)
    target = next(d for d in details if d["mentions"])
    n = len(target["mentions"])
    url = f"/v1/feedback/{target['id']}/corrections"
    cases = [
        ({"action": "set", "mention": 0, "stage": "nowhere"}, 422, "invalid_filter"),
        ({"action": "set", "mention": 0}, 422, "invalid_request"),
        ({"action": "set", "mention": n, "stage": "usage"}, 404, "mention_not_found"),
        ({"action": "delete", "mention": 0, "stage": "usage"}, 422, "invalid_request"),
        ({"action": "add", "start": 3, "end": 2, "stage": "usage", "touchpoint": "product", "polarity": "neutral"},
         422, "invalid_span"),
        ({"action": "add", "start": 0, "end": len(target["text"]) + 1, "stage": "usage", "touchpoint": "product",
          "polarity": "neutral"}, 422, "invalid_span"),
        ({"action": "add", "start": 0, "end": 4, "stage": "usage"}, 422, "invalid_request"),
    ]  # fmt: skip
    before = figures(client, auth)
    for body, status, code in cases:
        response = client.post(url, json=body, headers=auth)
        assert (response.status_code, response.json()["code"]) == (status, code), (body, response.text)
    assert client.get(f"/v1/feedback/{target['id']}", headers=auth).json()["mentions"] == target["mentions"]
    assert figures(client, auth) == before
    assert client.get("/v1/corrections", headers=auth).json() == {"data": []}


def test_a_poll_right_after_a_correction_or_an_edit_sees_it(settings: Any, shipped: Any) -> None:
    """With the service's cached workspace row kept a minute, the next poll still gets a new answer (not a 304)
    at once after a correction and after a taxonomy edit: the routes refresh this process's cached row."""
    from app.main import create_app

    with TestClient(create_app(settings.model_copy(update={"workspace_ttl_seconds": 60}), pipeline=shipped)) as client:
        auth = new_workspace(client)
        target = next(d for d in load(client, auth) if d["mentions"])
        # a write reads the workspace row afresh and caches it: the polls below start from the current version
        assert client.post("/v1/analyze", json={"texts": ["ok"]}, headers=auth).status_code == 200
        first = client.get("/v1/journey/curve", headers=auth)
        etag = first.headers["etag"]
        assert client.get("/v1/journey/curve", headers={**auth, "If-None-Match": etag}).status_code == 304
        stage = "advocacy" if target["mentions"][0]["stage"] != "advocacy" else "awareness"
        body = {"action": "set", "mention": 0, "stage": stage}
        fixed = client.post(f"/v1/feedback/{target['id']}/corrections", json=body, headers=auth)
        assert fixed.status_code == 201, fixed.text
        after = client.get("/v1/journey/curve", headers={**auth, "If-None-Match": etag})
        assert after.status_code == 200 and after.headers["etag"] != etag
        assert next(s for s in after.json()["stages"] if s["stage"] == stage)["mentions"] >= 1

        etag = after.headers["etag"]
        renamed = client.patch("/v1/taxonomy/stages/support", json={"names": {"en": "Claims"}}, headers=auth)
        assert renamed.status_code == 200, renamed.text
        edited = client.get("/v1/journey/curve", headers={**auth, "If-None-Match": etag})
        assert edited.status_code == 200 and edited.headers["x-parcours-versions"].startswith("taxonomy=1;")
        assert [s["label"] for s in edited.json()["stages"] if s["stage"] == "support"] == ["Claims"]
