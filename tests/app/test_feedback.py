"""POST/GET/DELETE /v1/feedback on SQLite and PostgreSQL: what a CX tool calling the API sees."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.models import Feedback, MentionRow, SegmentRow
from tests.app.conftest import new_workspace, wait_analysed


def post(client: TestClient, auth: dict[str, str], items: list[dict[str, object]]) -> dict[str, object]:
    response = client.post("/v1/feedback", json={"items": items}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_valid_items_are_stored_and_analysed_invalid_ones_reported_by_index_and_field(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = post(
        client,
        auth,
        [
            {"text": "Livraison rapide mais le SAV ne répond jamais", "external_id": "A-1", "kind": "review",
             "rating": 2, "source": "trustpilot", "created_at": "2026-05-01"},
            {"text": "   "},
            {"text": "Great crew but the seat was broken", "rating": 7},
            {"text": "Appli claire", "nps": 11, "kind": "tweet"},
            {"text": "I was called back the same day, great service", "kind": "survey", "nps": 9},
        ],
    )  # fmt: skip
    assert (body["stored"], body["duplicates"], body["failed"]) == (2, 0, 3)
    assert [(i["index"], i["status"]) for i in body["items"]] == [(0, "stored"), (4, "stored")]
    errors = {(e["index"], e["field"]) for e in body["errors"]}
    assert {(1, "text"), (2, "rating"), (3, "nps"), (3, "kind")} <= errors or (2, "body") in errors
    assert {e["index"] for e in body["errors"]} == {1, 2, 3}
    first, second = wait_analysed(client, auth, [i["id"] for i in body["items"]])
    assert first["external_id"] == "A-1" and first["language"] == "fr" and first["rating_scale"] == 5
    assert first["created_at"].startswith("2026-05-01T00:00:00")
    assert [(m["polarity"], m["text"]) for m in first["mentions"]] == [
        ("delight", "Livraison rapide"),
        ("irritant", "mais le SAV ne répond jamais"),
    ]
    assert all(0 < m["confidence"] <= 1 for m in first["mentions"])  # how sure the model is of each mention
    for segment in first["segments"]:
        assert first["text"][segment["start"] : segment["end"]] == segment["text"]
        assert -1 <= segment["sentiment"] <= 1
    assert second["kind"] == "survey" and second["nps"] == 9 and second["language"] == "en"


def test_rating_above_its_scale_is_named(client: TestClient, auth: dict[str, str]) -> None:
    body = post(client, auth, [{"text": "ok", "rating": 7}, {"text": "bien", "rating": 7, "rating_scale": 10}])
    assert body["stored"] == 1
    assert body["errors"][0]["index"] == 0 and "rating 7 is above rating_scale 5" in body["errors"][0]["message"]


def test_resending_items_does_not_duplicate_them(client: TestClient, auth: dict[str, str]) -> None:
    items = [
        {"text": "Colis perdu, remboursement refusé", "external_id": "X1"},
        {"text": "Accueil chaleureux en agence", "source": "google", "created_at": "2026-03-02"},
    ]
    first = post(client, auth, items)
    again = post(client, auth, [{**items[0], "text": "edited text, same id"}, items[1], items[1]])
    assert first["stored"] == 2
    assert (again["stored"], again["duplicates"]) == (0, 3)
    assert [i["id"] for i in again["items"]] == [first["items"][0]["id"], first["items"][1]["id"]] * 1 + [
        first["items"][1]["id"]
    ]
    other_date = post(client, auth, [{**items[1], "created_at": "2026-03-03"}])
    assert other_date["stored"] == 1
    listed = client.get("/v1/feedback", headers=auth).json()["data"]
    assert len(listed) == 3


def test_batch_over_the_limit_is_413_with_the_limit(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/v1/feedback", json={"items": [{"text": "x"}] * 5001}, headers=auth)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large" and response.json()["limit"] == 5000
    assert "5001 items" in response.json()["detail"] and "5000" in response.json()["detail"]


def test_a_batch_with_no_valid_item_is_422_listing_each_error(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/v1/feedback", json={"items": [{"text": ""}, {"texte": "typo"}]}, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_items"
    assert {(e["index"], e["field"]) for e in body["errors"]} >= {(0, "text"), (1, "texte"), (1, "text")}


def test_another_workspace_sees_none_of_it(client: TestClient, auth: dict[str, str]) -> None:
    stored = post(client, auth, [{"text": "Mon conseiller est génial", "external_id": "secret"}])
    feedback_id = stored["items"][0]["id"]
    intruder = new_workspace(client)
    response = client.get(f"/v1/feedback/{feedback_id}", headers=intruder)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert "génial" not in response.text
    assert client.delete(f"/v1/feedback/{feedback_id}", headers=intruder).status_code == 404
    assert client.get("/v1/feedback", headers=intruder).json()["data"] == []
    # the same external id in another workspace is another piece of feedback
    assert post(client, intruder, [{"text": "autre", "external_id": "secret"}])["stored"] == 1
    assert client.get(f"/v1/feedback/{feedback_id}", headers=auth).status_code == 200


def test_delete_erases_feedback_and_its_analysis(client: TestClient, auth: dict[str, str]) -> None:
    stored = post(client, auth, [{"text": "Sinistre réglé en une semaine, merci Nadia"}])
    feedback_id = stored["items"][0]["id"]
    wait_analysed(client, auth, [feedback_id])
    assert client.delete(f"/v1/feedback/{feedback_id}", headers=auth).status_code == 204
    assert client.get(f"/v1/feedback/{feedback_id}", headers=auth).status_code == 404
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        for table in (Feedback, SegmentRow, MentionRow):
            column = table.id if table is Feedback else table.feedback_id  # type: ignore[attr-defined]
            assert session.scalar(select(func.count()).where(column == feedback_id)) == 0


def test_personal_data_is_masked_before_it_is_stored(client: TestClient) -> None:
    masked, unmasked = new_workspace(client), new_workspace(client, mask_pii=[])
    text = "Rappelez-moi au 06 12 34 56 78 ou jean.dupont@example.com, IBAN FR76 3000 6000 0112 3456 7890 189"
    for headers in (masked, unmasked):
        post(client, headers, [{"text": text}])
    stored = client.get("/v1/feedback", headers=masked).json()["data"][0]["text"]
    assert stored == "Rappelez-moi au [phone] ou [email], IBAN [iban]"
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        texts = set(session.scalars(select(Feedback.text)))
    assert text in texts  # the unmasked workspace keeps it
    assert not any("jean.dupont" in t and "[phone]" in t for t in texts)
    assert client.get("/v1/feedback", headers=unmasked).json()["data"][0]["text"] == text
    response = client.patch("/v1/workspace", json={"mask_pii": ["email", "ssn"]}, headers=unmasked)
    assert response.status_code == 422 and "ssn" in response.json()["detail"]
    assert client.patch("/v1/workspace", json={"mask_pii": ["email"]}, headers=unmasked).json()["mask_pii"] == ["email"]
    post(client, unmasked, [{"text": "Écrivez à a.b@example.org ou au 0612345678"}])
    assert (
        client.get("/v1/feedback", headers=unmasked).json()["data"][0]["text"] == "Écrivez à [email] ou au 0612345678"
    )


def test_listing_filters_and_cursor_pagination(client: TestClient, auth: dict[str, str]) -> None:
    items = [
        {"text": "Le SAV ne répond jamais au téléphone", "kind": "review", "source": "google", "rating": 1,
         "created_at": "2026-01-10", "segment": "auto", "metadata": {"region": "nord"}},
        {"text": "Conseillère en agence très aimable et compétente", "kind": "survey", "source": "nps", "rating": 5,
         "created_at": "2026-02-10", "segment": "habitation", "metadata": {"region": "sud"}},
        {"text": "Great app, paying my bill takes seconds", "kind": "social", "source": "twitter", "rating": 4,
         "created_at": "2026-03-10", "segment": "auto", "metadata": {"region": "sud"}},
    ]  # fmt: skip
    ids = [i["id"] for i in post(client, auth, items)["items"]]
    details = wait_analysed(client, auth, ids)

    def listed(**params: object) -> list[int]:
        response = client.get("/v1/feedback", params=params, headers=auth)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["data"]]

    assert listed() == ids[::-1]
    assert listed(kind="survey") == [ids[1]]
    assert listed(kind=["survey", "social"]) == [ids[2], ids[1]]
    assert listed(source="google") == [ids[0]]
    assert listed(segment="auto") == [ids[2], ids[0]]
    assert listed(language="en") == [ids[2]]
    assert listed(date_from="2026-02-01", date_to="2026-02-28") == [ids[1]]
    assert listed(date_to="2026-01-10") == [ids[0]]
    assert listed(rating_min=4) == [ids[2], ids[1]]
    assert listed(rating_min=2, rating_max=4) == [ids[2]]
    assert listed(q="AGENCE") == [ids[1]]
    assert listed(metadata="region=sud") == [ids[2], ids[1]]

    def having(**wanted: str) -> list[int]:  # the same filter computed from the detail views
        return [
            d["id"] for d in reversed(details) if any(all(m[k] == v for k, v in wanted.items()) for m in d["mentions"])
        ]

    assert ids[0] in listed(polarity="irritant")
    for wanted in ({"polarity": "irritant"}, {"stage": "support", "polarity": "irritant"},
                   {"stage": "support", "polarity": "delight"}, {"touchpoint": "phone"}):  # fmt: skip
        assert listed(**wanted) == having(**wanted)
    page = client.get("/v1/feedback", params={"limit": 2}, headers=auth).json()
    assert [f["id"] for f in page["data"]] == [ids[2], ids[1]] and page["next_cursor"]
    rest = client.get("/v1/feedback", params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth).json()
    assert [f["id"] for f in rest["data"]] == [ids[0]] and rest["next_cursor"] is None
    bad = client.get("/v1/feedback", params={"cursor": "nonsense!"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"
    assert client.get("/v1/feedback", params={"metadata": "region"}, headers=auth).json()["code"] == "invalid_filter"


def test_stateless_analysis_stores_nothing(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/analyze", json={"items": [{"text": "Great crew but the seat was broken", "id": "t1"}]}, headers=auth
    )
    assert response.status_code == 200
    (analysis,) = response.json()["analyses"]
    assert analysis["id"] == "t1" and [m["polarity"] for m in analysis["mentions"]] == ["delight", "irritant"]
    assert client.get("/v1/feedback", headers=auth).json()["data"] == []
    both = client.post("/v1/analyze", json={"texts": ["a"], "items": []}, headers=auth)
    assert both.status_code == 422 and both.json()["code"] == "invalid_request"


def test_listing_can_include_each_items_mentions_and_evidence(client: TestClient, auth: dict[str, str]) -> None:
    ids = [i["id"] for i in post(client, auth, [{"text": "Service client nul, je ne recommande pas du tout."},
                                                {"text": "Great crew but the seat was broken"}])["items"]]  # fmt: skip
    details = {d["id"]: d for d in wait_analysed(client, auth, ids)}
    plain = client.get("/v1/feedback", headers=auth).json()["data"]
    assert all(item["mentions"] is None for item in plain)
    listed = client.get("/v1/feedback", params={"include": "mentions"}, headers=auth).json()["data"]
    for item in listed:
        assert item["mentions"] == details[item["id"]]["mentions"]
        assert item["evidence"] == [e for s in details[item["id"]]["segments"] for e in s["evidence"]]
        for word in item["evidence"]:
            assert item["text"][word["start"] : word["end"]] == word["text"]


def test_a_rating_above_its_scale_names_the_rating_field(client: TestClient, auth: dict[str, str]) -> None:
    body = post(client, auth, [{"text": "très bien", "rating": 12, "rating_scale": 10}, {"text": "ok", "rating": 4}])
    assert body["stored"] == 1
    assert (body["errors"][0]["index"], body["errors"][0]["field"]) == (0, "rating")


def test_a_body_that_is_not_json_names_the_body_and_the_position(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/feedback", content=b'{"items": [{"text": "ok",}]}', headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "body" and "not valid JSON at character" in error["message"]
