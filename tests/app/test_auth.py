"""Keys and workspaces: every /v1 call needs a key; errors share one envelope."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import ADMIN_TOKEN


def test_missing_and_invalid_keys_are_401_with_the_error_envelope(client: TestClient) -> None:
    cases = [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer pk_nope"}, "invalid_api_key"),
        ({"X-API-Key": "pk_nope"}, "invalid_api_key"),
        ({"Authorization": "Basic abc"}, "missing_api_key"),
    ]
    for headers, code in cases:
        response = client.get("/v1/feedback", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == code and response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_x_api_key_header_is_accepted(client: TestClient, auth: dict[str, str]) -> None:
    key = auth["Authorization"].removeprefix("Bearer ")
    assert client.get("/v1/workspace", headers={"X-API-Key": key}).status_code == 200


def test_admin_endpoint_needs_the_admin_token(client: TestClient) -> None:
    assert client.post("/admin/workspaces", json={"name": "x"}).status_code == 401
    wrong = client.post("/admin/workspaces", json={"name": "x"}, headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_admin_token"
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = client.post("/admin/workspaces", json={"name": "acme-admin-test"}, headers=admin)
    assert created.status_code == 201 and created.json()["api_key"].startswith("pk_")
    again = client.post("/admin/workspaces", json={"name": "acme-admin-test"}, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "workspace_exists"
    key = created.json()["api_key"]
    assert client.get("/v1/workspace", headers={"Authorization": f"Bearer {key}"}).json()["name"] == "acme-admin-test"


def test_unknown_routes_and_bad_bodies_use_the_same_envelope(client: TestClient, auth: dict[str, str]) -> None:
    missing = client.get("/v1/nothing", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = client.post("/v1/feedback", content=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    wrong_id = client.get("/v1/feedback/abc", headers=auth)
    assert wrong_id.status_code == 422 and wrong_id.json()["errors"][0]["field"] == "feedback_id"


def test_health_reports_database_and_model(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["database"]["revision"] == body["database"]["head"]
    assert body["model"]["name"] == "journey-v1" and body["model"]["embedder"] == "use-multilingual-v3"
