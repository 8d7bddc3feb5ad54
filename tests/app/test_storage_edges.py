"""Values at the edges of what the databases hold, on SQLite and PostgreSQL: ids past their integers, names past
their columns. Each is answered (404, or stored cut to size), never a 500 or a job stuck forever."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import wait_upload

# PostgreSQL's INTEGER ends at 2^31 - 1 and SQLite's at 2^63 - 1: past them a driver refuses to send the value
HUGE_IDS = [2**31, 2**31 + 7, 2**63, 2**64, -(2**31) - 1, -(2**63) - 1, 10**30]


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_past_the_databases_integers_are_not_found(client: TestClient, auth: dict[str, str], huge: int) -> None:
    for method, path in [("GET", "/v1/feedback"), ("DELETE", "/v1/feedback"), ("GET", "/v1/uploads")]:
        response = client.request(method, f"{path}/{huge}", headers=auth)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not_found" and str(huge) in response.json()["detail"]


def test_ids_within_range_still_find_the_callers_rows(client: TestClient, auth: dict[str, str]) -> None:
    body = client.post("/v1/feedback", json={"items": [{"text": "Conseillère très aimable"}]}, headers=auth).json()
    feedback_id = body["items"][0]["id"]
    assert client.get(f"/v1/feedback/{feedback_id}", headers=auth).json()["text"] == "Conseillère très aimable"
    assert client.get(f"/v1/feedback/{-feedback_id}", headers=auth).status_code == 404


def test_an_upload_whose_column_name_is_longer_than_the_error_table_holds_finishes_with_its_valid_rows(
    client: TestClient, auth: dict[str, str]
) -> None:
    rating = "Note attribuée par le client " + "x" * 300  # a 329-character header, as some exports write
    data = (
        f"{rating};avis\r\n"
        "5;Très bon accueil en agence\r\n"
        "pas un chiffre;Colis arrivé en retard\r\n"
        "2;Appli lente le soir\r\n"
        "cinq;Remboursement rapide\r\n"
    ).encode()
    mapping = json.dumps({"rating": rating, "text": "avis"})
    response = client.post(
        "/v1/uploads", files={"file": ("export.csv", data, "text/csv")}, data={"mapping": mapping}, headers=auth
    )
    assert response.status_code == 202, response.text
    done = wait_upload(client, auth, response.json()["id"])
    assert done["status"] == "done"
    assert (done["rows_read"], done["rows_stored"], done["rows_failed"]) == (4, 2, 2)
    assert [e["line"] for e in done["errors"]] == [3, 5]
    for error in done["errors"]:
        assert error["column"] == rating[:199] + "\u2026"  # cut to the column's 200 characters, the cut shown
        assert "not a number" in error["reason"]
    texts = {f["text"] for f in client.get("/v1/feedback", headers=auth).json()["data"]}
    assert texts == {"Très bon accueil en agence", "Appli lente le soir"}
