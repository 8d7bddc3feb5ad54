"""Edge values at the door: non-finite numbers, NUL characters, dates at the ends of the calendar, forged cursors
and over-long strings answer 422 naming the field (never 500), and nothing valid is lost on the way."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.models import Feedback, MentionRow
from tests.app.conftest import ADMIN_TOKEN, wait_analysed

ANSWERS = ("/v1/kpis", "/v1/irritants", "/v1/delights", "/v1/journey/curve", "/v1/journey/matrix", "/v1/alerts")
DATE_PATHS = ("/v1/feedback", "/v1/kpis", "/v1/irritants", "/v1/journey/curve", "/v1/journey/matrix", "/v1/alerts")


def strict_json(text: str) -> Any:
    """Parse as a browser would: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"the answer holds {constant}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


def numbers(value: Any) -> list[float]:
    """Every number in a parsed answer."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


def post_raw(client: TestClient, auth: dict[str, str], body: str) -> Any:
    return client.post("/v1/feedback", content=body, headers={**auth, "Content-Type": "application/json"})


def assert_finite_answers(client: TestClient, auth: dict[str, str], params: dict[str, str] | None = None) -> None:
    for path in (*ANSWERS, "/v1/feedback"):
        response = client.get(path, params=params or {}, headers=auth)
        assert response.status_code == 200, (path, response.text)
        assert all(math.isfinite(n) for n in numbers(strict_json(response.text))), path


def test_non_finite_and_out_of_range_numbers_are_refused_naming_the_field_and_nothing_valid_is_lost(
    client: TestClient, auth: dict[str, str]
) -> None:
    # JSON text as a client could send it: Python's parser reads NaN, Infinity and 1e400 (= inf) as floats.
    items = [
        '{"text": "Livraison rapide, merci", "rating": 5, "metadata": {"score": 1, "store": "Lyon"}}',
        '{"text": "a", "rating": NaN}',
        '{"text": "b", "rating": Infinity, "rating_scale": Infinity}',
        '{"text": "c", "rating": 1e308, "rating_scale": 1e308}',
        '{"text": "d", "rating": 1e400}',
        '{"text": "e", "metadata": {"score": NaN}}',
        '{"text": "f", "metadata": {"score": -Infinity}}',
        '{"text": "g", "metadata": {"big": 1e400}}',
        '{"text": "h", "metadata": {"big": 123456789012345678901234567890}}',
        '{"text": "i", "metadata": {"a\\u0000b": 1}}',
        '{"text": "j", "metadata": {"nested": {"x": 1}}}',
        '{"text": "k", "nps": NaN}',
        '{"text": "l", "rating": 5e-324}',
    ]
    response = post_raw(client, auth, '{"items": [' + ", ".join(items) + "]}")
    assert response.status_code == 202, response.text
    body = strict_json(response.text)
    assert (body["stored"], body["failed"]) == (2, 11)
    fields = {(e["index"], e["field"]) for e in body["errors"]}
    assert {
        (1, "rating"), (2, "rating_scale"), (3, "rating_scale"), (4, "rating"), (5, "metadata.score"),
        (6, "metadata.score"), (7, "metadata.big"), (8, "metadata.big"), (10, "metadata.nested"), (11, "nps"),
    } <= fields  # fmt: skip
    assert any(index == 9 and field.startswith("metadata") for index, field in fields)
    assert "\x00" not in response.text  # the NUL key is named, not echoed raw
    stored = {item["index"]: item["id"] for item in body["items"]}
    first, tiny = wait_analysed(client, auth, [stored[0], stored[12]])
    assert first["rating"] == 5 and first["metadata"] == {"score": 1, "store": "Lyon"}
    assert tiny["rating"] == 0  # ratings are kept to 6 decimals: no underflow in the 5-point arithmetic
    assert_finite_answers(client, auth)
    assert_finite_answers(client, auth, {"metadata": "score=1"})
    listed = client.get("/v1/feedback", params={"metadata": "store=Lyon"}, headers=auth)
    assert [f["id"] for f in listed.json()["data"]] == [stored[0]]


def test_a_batch_of_only_bad_numbers_is_422_naming_each(client: TestClient, auth: dict[str, str]) -> None:
    response = post_raw(client, auth, '{"items": [{"text": "x", "rating": NaN}, {"text": "y", "nps": Infinity}]}')
    assert response.status_code == 422, response.text
    body = strict_json(response.text)
    assert body["code"] == "invalid_items"
    assert {(e["index"], e["field"]) for e in body["errors"]} == {(0, "rating"), (1, "nps")}


def test_non_finite_values_already_stored_give_finite_answers(client: TestClient, auth: dict[str, str]) -> None:
    items = [
        {"text": "Colis arrivé cassé, SAV injoignable", "rating": 1, "nps": 2},
        {"text": "Super accueil", "rating": 5},
    ]
    response = client.post("/v1/feedback", json={"items": items}, headers=auth)
    ids = [i["id"] for i in response.json()["items"]]
    wait_analysed(client, auth, ids)
    # Rows written before the door checked numbers: infinite ratings on the feedback and on its mentions.
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        session.execute(update(Feedback).where(Feedback.id == ids[0]).values(rating=math.inf, rating_scale=math.inf))
        session.execute(update(Feedback).where(Feedback.id == ids[1]).values(rating=1e308, rating_scale=1e308))
        session.execute(update(MentionRow).where(MentionRow.feedback_id.in_(ids)).values(rating=math.inf))
        session.commit()
    assert_finite_answers(client, auth)
    assert_finite_answers(client, auth, {"rating_min": "1"})
    kpis = client.get("/v1/kpis", params={"kind": "review"}, headers=auth).json()
    assert kpis["overall"]["feedback"] == 2 and kpis["overall"]["nps_answers"] == 1


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "9999-12-31T23:00:00-05:00", "1899-12-31", "3000-01-01"])
def test_dates_outside_the_supported_range_are_422_in_every_date_filter(
    client: TestClient, auth: dict[str, str], value: str
) -> None:
    for path in DATE_PATHS:
        for name in ("date_from", "date_to"):
            response = client.get(path, params={name: value}, headers=auth)
            assert response.status_code == 422, (path, name, response.text)
            assert [e["field"] for e in response.json()["errors"]] == [name], (path, name)
    response = client.get("/v1/alerts", params={"as_of": value[:10]}, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "as_of"
    response = client.post("/v1/feedback", json={"items": [{"text": "x", "created_at": value}]}, headers=auth)
    assert response.status_code == 422, response.text
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(0, "created_at")]


def test_the_ends_of_the_supported_range_are_answered(client: TestClient, auth: dict[str, str]) -> None:
    items = [{"text": "Livraison rapide", "created_at": "1900-01-01"}, {"text": "SAV lent", "created_at": "2999-12-31"}]
    response = client.post("/v1/feedback", json={"items": items}, headers=auth)
    assert response.status_code == 202, response.text
    wait_analysed(client, auth, [i["id"] for i in response.json()["items"]])
    ends = {"date_from": "1900-01-01", "date_to": "2999-12-31"}
    for path in DATE_PATHS:
        assert client.get(path, params=ends, headers=auth).status_code == 200, path
    listed = client.get("/v1/feedback", params=ends, headers=auth).json()["data"]
    assert len(listed) == 2
    curve = client.get("/v1/journey/curve", params=ends, headers=auth)
    assert curve.json()["period"]["previous_from"] == "0800-01-01"  # 1100 years before 1900: no overflow
    for as_of in ("1900-01-01", "2999-12-31"):
        assert client.get("/v1/alerts", params={"as_of": as_of}, headers=auth).status_code == 200
    series = client.get("/v1/journey/curve", params={"granularity": "day"}, headers=auth)
    assert series.status_code == 422 and series.json()["code"] == "too_many_periods"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _b64(b"f:" + b"9" * 30),  # beyond a 64-bit id
        _b64(b"f:9223372036854775808"),
        _b64(b"f:-1"),
        _b64(b"f:1_000"),
        _b64(b"f: 12"),
        _b64(b"g:12"),
        _b64(b"\xff\xfe\x00"),
        "!!!!",
        "%00",
        "f:12",
        "A" * 5000,
        "9" * 5000,
    ],
)
def test_forged_cursors_are_422_invalid_cursor(client: TestClient, auth: dict[str, str], cursor: str) -> None:
    response = client.get("/v1/feedback", params={"cursor": cursor}, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_cursor"


def test_a_real_cursor_still_pages(client: TestClient, auth: dict[str, str]) -> None:
    items = [{"text": f"Avis numéro {n}"} for n in range(3)]
    client.post("/v1/feedback", json={"items": items}, headers=auth)
    first = client.get("/v1/feedback", params={"limit": 2}, headers=auth).json()
    second = client.get("/v1/feedback", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth).json()
    assert len(first["data"]) == 2 and len(second["data"]) == 1 and second["next_cursor"] is None


STRING_FILTERS = {
    "kind": "review\x00",
    "source": "web\x00",
    "channel": "\x00",
    "segment": "vip\x00",
    "language": "fr\x00",
    "metadata": "store=Ly\x00on",
    "stage": "\x00",
    "touchpoint": "\x00",
    "polarity": "irritant\x00",
    "emotion": "\x00",
    "q": "li\x00vraison",
}


@pytest.mark.parametrize("name", sorted(STRING_FILTERS))
def test_nul_in_every_string_filter_is_422_naming_it(client: TestClient, auth: dict[str, str], name: str) -> None:
    for path in ("/v1/feedback", "/v1/kpis", "/v1/irritants", "/v1/journey/curve"):
        response = client.get(path, params={name: STRING_FILTERS[name]}, headers=auth)
        assert response.status_code == 422, (path, response.text)
        assert name in [e["field"] for e in response.json()["errors"]], (path, response.text)
    key = client.get("/v1/feedback", params={"metadata": "st\x00ore=Lyon"}, headers=auth)
    assert key.status_code == 422 and key.json()["errors"][0]["field"] == "metadata"


def test_nul_and_over_long_strings_in_fields_are_named(client: TestClient, auth: dict[str, str]) -> None:
    items: list[dict[str, Any]] = [
        {"text": "Parfait, merci"},
        {"text": "li\x00vraison"},
        {"text": "x", "external_id": "A\x00"},
        {"text": "x", "source": "web\x00"},
        {"text": "x", "channel": "\x00"},
        {"text": "x", "segment": "v\x00"},
        {"text": "x", "metadata": {"store": "Ly\x00on"}},
        {"text": "x", "source": "s" * 101},
        {"text": "x", "channel": "c" * 101},
        {"text": "x", "external_id": "e" * 201},
        {"text": "x", "metadata": {"k" * 201: 1}},
        {"text": "x", "metadata": {"note": "n" * 20_001}},
        {"text": "x", "metadata": {f"k{n}": n for n in range(201)}},
    ]
    response = client.post("/v1/feedback", json={"items": items}, headers=auth)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["stored"], body["failed"]) == (1, 12)
    fields = {(e["index"], e["field"]) for e in body["errors"]}
    assert {
        (1, "text"), (2, "external_id"), (3, "source"), (4, "channel"), (5, "segment"), (6, "metadata.store"),
        (7, "source"), (8, "channel"), (9, "external_id"), (11, "metadata.note"), (12, "metadata"),
    } <= fields  # fmt: skip
    assert any(index == 10 and field.startswith("metadata") for index, field in fields)
    wait_analysed(client, auth, [body["items"][0]["id"]])
    assert_finite_answers(client, auth)


def test_long_or_nul_source_and_file_name_of_an_upload_are_422(client: TestClient, auth: dict[str, str]) -> None:
    csv = b"texte\nLivraison rapide\n"
    for source, filename, field in (
        ("s" * 101, "avis.csv", "source"),
        ("web\x00", "avis.csv", "source"),
        ("web", "a" * 600 + ".csv", "file"),
    ):
        response = client.post(
            "/v1/uploads", files={"file": (filename, csv, "text/csv")}, data={"source": source}, headers=auth
        )
        assert response.status_code == 422, (field, response.text)
        assert field in [e["field"] for e in response.json().get("errors", [])], response.text
    fine = client.post(
        "/v1/uploads", files={"file": ("avis.csv", csv, "text/csv")}, data={"source": "web"}, headers=auth
    )
    assert fine.status_code == 202, fine.text


def test_nul_in_a_workspace_name_is_422(client: TestClient) -> None:
    response = client.post(
        "/admin/workspaces", json={"name": "acme\x00"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "name"
