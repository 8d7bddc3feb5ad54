"""A workspace's own taxonomy through the API, on the shipped model (SQLite and PostgreSQL): versions and history,
a new touchpoint predicted at once by its description and examples, renames, retired labels no longer predicted,
merges counted under their target, and another workspace seeing none of it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.app.conftest import new_workspace, wait_analysed

PARKING = {
    "id": "parking",
    "names": {"fr": "Parking", "en": "Car park"},
    "description": "The car park: finding a parking space, parking fees, parking access and signage.",
    "examples": [
        "Le parking de l'agence est toujours plein.",
        "Impossible de trouver une place de parking, j'ai tourné vingt minutes.",
        "The car park was full and the parking ticket machine was broken.",
    ],
    "author": "marie@example.com",
}
PARKING_TEXTS = [
    "Le parking était complet, impossible de se garer près du magasin.",
    "Pas une seule place de parking libre, j'ai dû me garer à un kilomètre.",
    "Parking payant et hors de prix à l'aéroport.",
]
OTHER_TEXTS = ["Livraison rapide mais le SAV ne répond jamais.", "Le conseiller au téléphone était très aimable."]


def analysed(client: TestClient, auth: dict[str, str], texts: list[str], tag: str) -> list[dict[str, Any]]:
    """Send texts as new feedback and return their analysed detail views."""
    items = [{"text": t, "external_id": f"{tag}-{i}", "created_at": "2026-05-04"} for i, t in enumerate(texts)]
    body = client.post("/v1/feedback", json={"items": items}, headers=auth).json()
    return wait_analysed(client, auth, [i["id"] for i in body["items"]])


def touchpoints(details: list[dict[str, Any]]) -> list[set[str]]:
    return [{m["touchpoint"] for m in d["mentions"]} for d in details]


def test_the_shipped_taxonomy_is_the_default(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/v1/taxonomy", headers=auth).json()
    assert body["version"] == 0
    assert [s["id"] for s in body["stages"]][:3] == ["awareness", "consideration", "purchase"]
    assert {s["status"] for s in body["stages"] + body["touchpoints"]} == {"active"}
    assert {s["origin"] for s in body["touchpoints"]} == {"shipped"}
    phone = next(t for t in body["touchpoints"] if t["id"] == "phone")
    assert phone["names"] == {"fr": "Téléphone", "en": "Phone"} and len(phone["examples"]) == 4
    assert client.get("/v1/taxonomy/history", headers=auth).json() == {"version": 0, "data": []}


def test_a_new_touchpoint_is_predicted_at_once_and_only_in_its_workspace(client: TestClient) -> None:
    auth, other = new_workspace(client), new_workspace(client)
    response = client.post("/v1/taxonomy/touchpoints", json=PARKING, headers=auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 1
    ids = [t["id"] for t in body["touchpoints"]]
    assert ids[-2:] == ["parking", "none"]  # "not identified" stays last
    added = body["touchpoints"][-2]
    assert added | {"examples": None} == {
        "id": "parking", "names": {"fr": "Parking", "en": "Car park"}, "description": PARKING["description"],
        "examples": None, "status": "active", "merged_into": None, "origin": "workspace",
    }  # fmt: skip
    assert client.get("/v1/taxonomy", headers=auth).json() == body

    mine = analysed(client, auth, PARKING_TEXTS + OTHER_TEXTS, "p")
    assert all("parking" in found for found in touchpoints(mine[:3])), touchpoints(mine)
    assert not any("parking" in found for found in touchpoints(mine[3:])), touchpoints(mine)
    assert {d["taxonomy_version"] for d in mine} == {1}
    matrix = client.get("/v1/journey/matrix", headers=auth).json()
    assert "parking" in [t["touchpoint"] for t in matrix["touchpoints"]]
    assert sum(c["mentions"] for c in matrix["cells"] if c["touchpoint"] == "parking") >= 3
    listed = client.get("/v1/feedback", params={"touchpoint": "parking"}, headers=auth).json()["data"]
    assert {f["id"] for f in listed} >= {d["id"] for d in mine[:3]}

    # the other workspace: the shipped taxonomy, no parking predicted, no parking filter
    assert client.get("/v1/taxonomy", headers=other).json()["version"] == 0
    theirs = analysed(client, other, PARKING_TEXTS, "o")
    assert not any("parking" in found for found in touchpoints(theirs)), touchpoints(theirs)
    refused = client.get("/v1/journey/matrix", params={"touchpoint": "parking"}, headers=other)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_filter"


def test_rename_describe_retire_and_history(client: TestClient, auth: dict[str, str]) -> None:
    renamed = client.patch(
        "/v1/taxonomy/stages/support",
        json={"names": {"fr": "Sinistre"}, "description": "Claims and after-sales support.", "author": "ana"},
        headers=auth,
    )
    assert renamed.status_code == 200, renamed.text
    support = next(s for s in renamed.json()["stages"] if s["id"] == "support")
    assert support["names"] == {"fr": "Sinistre", "en": "Support"}
    assert support["description"] == "Claims and after-sales support." and len(support["examples"]) == 4
    curve = client.get("/v1/journey/curve", params={"lang": "fr"}, headers=auth).json()
    assert [s["label"] for s in curve["stages"] if s["stage"] == "support"] == ["Sinistre"]

    retired = client.post("/v1/taxonomy/touchpoints/phone/retire", json={"author": "ana"}, headers=auth)
    assert retired.status_code == 200, retired.text
    assert next(t for t in retired.json()["touchpoints"] if t["id"] == "phone")["status"] == "retired"
    details = analysed(
        client,
        auth,
        ["Impossible de joindre quelqu'un au téléphone, une heure d'attente.", "On hold for 45 minutes."],
        "r",
    )
    assert not any("phone" in found for found in touchpoints(details)), touchpoints(details)
    assert all(d["mentions"] for d in details)
    refused = client.get("/v1/journey/curve", params={"touchpoint": "phone"}, headers=auth)
    assert refused.status_code == 422
    assert "phone" not in [
        t["touchpoint"] for t in client.get("/v1/journey/matrix", headers=auth).json()["touchpoints"]
    ]

    history = client.get("/v1/taxonomy/history", headers=auth).json()
    assert history["version"] == 2
    assert [(e["version"], e["action"], e["family"], e["label"], e["author"]) for e in history["data"]] == [
        (1, "update", "stages", "support", "ana"),
        (2, "retire", "touchpoints", "phone", "ana"),
    ]
    assert history["data"][0]["change"]["names"] == {"fr": "Sinistre"}


def test_impossible_edits_are_refused_and_change_nothing(client: TestClient, auth: dict[str, str]) -> None:
    cases = [
        ("post", "/v1/taxonomy/touchpoints", PARKING | {"id": "phone"}, 409, "label_exists"),
        ("post", "/v1/taxonomy/stages", PARKING | {"id": "off_topic"}, 409, "label_exists"),
        ("post", "/v1/taxonomy/stages", PARKING | {"id": "Bad Id"}, 422, "invalid_request"),
        ("post", "/v1/taxonomy/emotions", PARKING, 422, "invalid_request"),
        ("patch", "/v1/taxonomy/stages/nowhere", {"description": "A stage that is not there."}, 404, "label_not_found"),
        ("post", "/v1/taxonomy/touchpoints/none/retire", {}, 422, "label_protected"),
        ("post", "/v1/taxonomy/stages/merge", {"from": ["usage"], "into": "usage"}, 422, "invalid_merge"),
        ("post", "/v1/taxonomy/stages/merge", {"from": ["nowhere"], "into": "usage"}, 404, "label_not_found"),
    ]
    for method, path, body, status, code in cases:
        response = client.request(method.upper(), path, json=body, headers=auth)
        assert (response.status_code, response.json().get("code")) == (status, code), (path, response.text)
    assert client.get("/v1/taxonomy", headers=auth).json()["version"] == 0
    client.post("/v1/taxonomy/touchpoints/chat/retire", headers=auth)
    again = client.post("/v1/taxonomy/touchpoints/chat/retire", headers=auth)
    assert (again.status_code, again.json()["code"]) == (409, "label_not_active")
    assert client.get("/v1/taxonomy", headers=auth).json()["version"] == 1


def test_merged_labels_count_under_their_target(client: TestClient, auth: dict[str, str]) -> None:
    texts = ["Impossible de joindre quelqu'un au téléphone.", "Aucune réponse à mes mails depuis un mois.",
             "Le chatbot ne comprend rien.", "Colis livré en retard."]  # fmt: skip
    analysed(client, auth, texts, "m")
    before = client.get("/v1/journey/matrix", headers=auth).json()["cells"]
    by_touchpoint: dict[str, int] = {}
    for cell in before:
        by_touchpoint[cell["touchpoint"]] = by_touchpoint.get(cell["touchpoint"], 0) + cell["mentions"]
    parts = ("phone", "email_mail", "chat")
    merged = client.post("/v1/taxonomy/touchpoints/merge", json={"from": ["phone", "email_mail"], "into": "chat"},
                         headers=auth)  # fmt: skip
    assert merged.status_code == 200, merged.text
    statuses = {t["id"]: (t["status"], t["merged_into"]) for t in merged.json()["touchpoints"]}
    assert statuses["phone"] == statuses["email_mail"] == ("merged", "chat") and statuses["chat"] == ("active", None)
    after = client.get("/v1/journey/matrix", headers=auth).json()["cells"]
    totals: dict[str, int] = {}
    for cell in after:
        totals[cell["touchpoint"]] = totals.get(cell["touchpoint"], 0) + cell["mentions"]
    assert sum(totals.values()) == sum(by_touchpoint.values())
    assert totals.get("chat", 0) == sum(by_touchpoint.get(p, 0) for p in parts) > 0
    assert not set(totals) & {"phone", "email_mail"}
    # new feedback the model would put at the telephone counts under chat too
    details = analysed(client, auth, ["Personne ne décroche au téléphone, une heure d'attente."], "n")
    assert touchpoints(details) == [{"chat"}]


SPLIT = {
    "into": [
        {
            "id": "home_delivery",
            "names": {"fr": "Livraison à domicile", "en": "Home delivery"},
            "description": "Parcels delivered to the customer's door by a courier: the courier, the doorstep, the "
            "delivery slot.",
            "examples": [
                "Le livreur n'a pas sonné et a laissé un avis de passage alors que j'étais chez moi.",
                "The courier left the parcel on the doorstep in the rain.",
                "Livré chez moi le lendemain, le livreur était très sympathique.",
            ],
        },
        {
            "id": "pickup_point",
            "names": {"fr": "Point relais", "en": "Pickup point"},
            "description": "Parcels collected by the customer at a pickup point, relay shop or parcel locker.",
            "examples": [
                "Le point relais était fermé, impossible de retirer mon colis.",
                "The parcel locker would not open with my code.",
                "Colis déposé dans un relais à 15 km de chez moi au lieu de celui que j'avais choisi.",
            ],
        },
    ],
    "author": "ana",
}


def test_a_split_label_is_replaced_by_its_parts_now_and_after_reanalysis(
    client: TestClient, auth: dict[str, str]
) -> None:
    from tests.app.test_reanalysis import reanalyse

    texts = [
        "Le point relais était fermé deux jours de suite, impossible de récupérer mon colis.",
        "Le livreur a laissé le colis devant ma porte sans sonner.",
        "Livraison rapide, reçu en 24 h.",
    ]
    before = analysed(client, auth, texts, "s")
    assert any("delivery" in found for found in touchpoints(before)), touchpoints(before)
    total = sum(len(d["mentions"]) for d in before)

    refused = client.post("/v1/taxonomy/touchpoints/delivery/split", json={"into": SPLIT["into"][:1]}, headers=auth)
    assert refused.status_code == 422  # two parts or more
    taken = {"into": [SPLIT["into"][0], {**SPLIT["into"][1], "id": "phone"}]}
    clash = client.post("/v1/taxonomy/touchpoints/delivery/split", json=taken, headers=auth)
    assert clash.status_code == 409 and clash.json()["code"] == "label_exists"
    assert client.get("/v1/taxonomy", headers=auth).json()["version"] == 0  # refused edits change nothing

    split = client.post("/v1/taxonomy/touchpoints/delivery/split", json=SPLIT, headers=auth)
    assert split.status_code == 200, split.text
    statuses = {t["id"]: t["status"] for t in split.json()["touchpoints"]}
    assert statuses["delivery"] == "retired"
    assert statuses["home_delivery"] == statuses["pickup_point"] == "active"
    ids = [t["id"] for t in split.json()["touchpoints"]]
    assert ids.index("home_delivery") == ids.index("delivery") + 1  # the parts take the split label's place
    history = client.get("/v1/taxonomy/history", headers=auth).json()["data"]
    assert [(e["action"], e["label"]) for e in history] == [("split", "delivery")]
    assert [p["id"] for p in history[0]["change"]["into"]] == ["home_delivery", "pickup_point"]

    # new feedback: the parts are predicted, the split label never
    new = analysed(client, auth, texts[:2], "n")
    found = touchpoints(new)
    assert "pickup_point" in found[0] and "home_delivery" in found[1], found
    assert not any("delivery" in f for f in found)

    # old feedback is re-filed by a re-analysis: nothing left under the split label, no mention lost or doubled
    assert reanalyse(client, auth)["status"] == "done"
    after = [client.get(f"/v1/feedback/{d['id']}", headers=auth).json() for d in before]
    assert not any("delivery" in f for f in touchpoints(after))
    assert {"pickup_point", "home_delivery"} <= set().union(*touchpoints(after))
    assert sum(len(d["mentions"]) for d in after) == total
    matrix = client.get("/v1/journey/matrix", headers=auth).json()
    assert sum(c["mentions"] for c in matrix["cells"]) == total + sum(len(d["mentions"]) for d in new)
