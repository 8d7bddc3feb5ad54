"""GET /health is public: up and ready, and no figure of any workspace."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_says_up_and_ready_without_any_workspaces_figures(client: TestClient, auth: dict[str, str]) -> None:
    accepted = client.post("/v1/feedback", json={"items": [{"text": "Livraison en retard."}]}, headers=auth)
    assert accepted.status_code == 202
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["workers"] is True
    assert set(body["database"]) == {"backend", "ok", "revision", "head"}
    assert body["database"]["ok"] and body["database"]["revision"] == body["database"]["head"]
    assert body["model"]["name"] == "journey-v1"
    assert "pending" not in response.text and "uploads" not in response.text
