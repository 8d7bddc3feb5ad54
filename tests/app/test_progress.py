"""An upload's progress counts analysed rows from the first seconds, not only once a whole batch is over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import new_workspace, wait_for

OPENINGS = ["Livraison rapide", "Colis abîmé", "Conseillère aimable", "SAV injoignable", "Appli qui plante"]
ENDINGS = ["mais facture trop chère", "et remboursement en attente", "rien à redire", "je recommande", "déçu"]


@pytest.fixture
def big_batches(settings: Settings, shipped: Pipeline) -> Iterator[TestClient]:
    """The service with one read chunk and one analysis batch large enough for the whole upload."""
    configured = settings.model_copy(update={"analysis_batch_size": 1000, "upload_chunk_rows": 1000})
    with TestClient(create_app(configured, pipeline=shipped)) as client:
        yield client


def test_rows_analysed_moves_before_a_600_row_upload_is_analysed(big_batches: TestClient) -> None:
    client = big_batches
    auth = new_workspace(client)
    lines = ["id;avis"] + [
        f"P{n};{OPENINGS[n % 5]} {ENDINGS[(n // 5) % 5]}, commande {n}." for n in range(600)
    ]  # fmt: skip
    response = client.post(
        "/v1/uploads", files={"file": ("export.csv", "\n".join(lines).encode(), "text/csv")}, headers=auth
    )
    assert response.status_code == 202, response.text
    upload_id = response.json()["id"]
    seen: list[dict[str, Any]] = []

    def state() -> dict[str, Any] | None:
        body = client.get(f"/v1/uploads/{upload_id}", headers=auth).json()
        seen.append(body)
        return body if body["status"] in ("done", "failed") else None

    final = wait_for(state, timeout=120, what=f"upload {upload_id}")
    assert final["status"] == "done" and final["rows_stored"] == final["rows_analysed"] == 600
    partial = [s for s in seen if 0 < s["rows_analysed"] < s["rows_stored"] == 600]
    assert partial, [(s["rows_stored"], s["rows_analysed"]) for s in seen]
    assert all(0.1 < s["progress"] < 1 for s in partial)
