"""The OpenAPI document describes every answer, and the real answers match their documented models."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.core.config import Settings
from app.journey import answers
from app.main import create_app
from tests.app.conftest import new_workspace, wait_analysed, wait_for
from tests.app.test_journey import dataset

METHODS = {"get", "post", "put", "patch", "delete"}
ERROR_CODES = ("401", "404", "413", "422")
# Every top-level answer model of app.journey.answers (they carry an example).
TOP_LEVEL = [
    answers.CurveAnswer,
    answers.CurveSeriesAnswer,
    answers.MatrixAnswer,
    answers.KpisAnswer,
    answers.AlertsAnswer,
    answers.ThemesAnswer,
    answers.TopicsAnswer,
    answers.AnalyzeAnswer,
    answers.HealthAnswer,
]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("openapi") / "openapi.db"
    return create_app(Settings(database_url=f"sqlite:///{database}")).openapi()


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def described(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A schema that names its fields (each branch of a union too)."""
    schema = resolve(spec, schema)
    if "anyOf" in schema:
        return all(described(spec, branch) for branch in schema["anyOf"])
    return bool(schema.get("properties"))


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        if path.startswith(("/v1/", "/health", "/admin/"))
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(found) >= 18, [f"{m} {p}" for m, p, _ in found]
    return found


def test_every_answer_and_error_is_described(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, f"{method} {path}: no 2xx answer"
        if method == "delete" and success == ["204"]:
            assert "content" not in responses["204"]
        else:
            schema = responses[success[0]].get("content", {}).get("application/json", {}).get("schema", {})
            assert described(spec, schema), f"{method} {path}: {success[0]} has no schema ({schema})"
        for code in ERROR_CODES:
            assert code in responses, f"{method} {path}: {code} not documented"
            error = responses[code]["content"]["application/json"]
            assert error["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
            assert error["example"]["code"] and error["example"]["detail"]
    assert set(resolve(spec, {"$ref": "#/components/schemas/ErrorBody"})["properties"]) == {"detail", "code", "errors"}
    bearer = spec["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert {"bearer": []} in spec["paths"]["/v1/kpis"]["get"]["security"]
    curve = spec["paths"]["/v1/journey/curve"]["get"]["responses"]
    branches = curve["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert [branch["$ref"].rsplit("/", 1)[-1] for branch in branches] == ["CurveAnswer", "CurveSeriesAnswer"]
    assert "304" in curve and "503" in spec["paths"]["/health"]["get"]["responses"]


@pytest.mark.parametrize("model", TOP_LEVEL, ids=lambda m: m.__name__)
def test_the_documented_examples_are_valid_answers(spec: dict[str, Any], model: type[BaseModel]) -> None:
    assert resolve(spec, {"$ref": f"#/components/schemas/{model.__name__}"})["example"]  # shown by /docs
    example = model.model_config["json_schema_extra"]["example"]  # type: ignore[index]
    assert model.model_validate(example).model_dump(mode="json", by_alias=True, exclude_unset=True) == example


def answer(response: Any, model: type[BaseModel]) -> Any:
    """Validate a real answer with its model; the model must hold every field of it (nothing dropped)."""
    assert response.status_code == 200, response.text
    body = response.json()
    validated = model.model_validate(body)
    assert validated.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
    return validated


def test_real_answers_match_their_models(client: TestClient) -> None:
    auth = new_workspace(client)
    body = client.post("/v1/feedback", json={"items": dataset(date(2026, 3, 1))}, headers=auth).json()
    wait_analysed(client, auth, [i["id"] for i in body["items"]])

    curve = answer(client.get("/v1/journey/curve", headers=auth), answers.CurveAnswer)
    assert curve.period is None and sum(s.mentions for s in curve.stages) > 0
    dated = {"date_from": "2026-03-11", "date_to": "2026-03-20"}
    compared = answer(client.get("/v1/journey/curve", params=dated, headers=auth), answers.CurveAnswer)
    assert compared.period is not None and all(s.change is not None for s in compared.stages)
    weekly = client.get("/v1/journey/curve", params={"granularity": "week", "lang": "fr"}, headers=auth)
    assert len(answer(weekly, answers.CurveSeriesAnswer).periods) >= 3
    assert answer(client.get("/v1/journey/matrix", headers=auth), answers.MatrixAnswer).cells
    assert answer(client.get("/v1/kpis", headers=auth), answers.KpisAnswer).overall.feedback == 36
    alerts = answer(client.get("/v1/alerts", params={"min_mentions": 1}, headers=auth), answers.AlertsAnswer)
    assert alerts.as_of == date(2026, 3, 20) and alerts.baseline is not None
    irritants = answer(client.get("/v1/irritants", headers=auth), answers.ThemesAnswer)
    assert irritants.themes and all(theme.verbatims for theme in irritants.themes)
    assert answer(client.get("/v1/delights", headers=auth), answers.ThemesAnswer).polarity == "delight"

    first = answer(client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth), answers.TopicsAnswer)
    assert first.status == "computing" and first.topics == []

    def finished() -> Any:
        response = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth)
        return response if response.json()["status"] != "computing" else None

    topics = answer(wait_for(finished, timeout=180, what="topics"), answers.TopicsAnswer)
    assert topics.status == "done" and topics.computed_at is not None, topics.error
    with_topics = answer(client.get("/v1/irritants", headers=auth), answers.ThemesAnswer)
    assert all(theme.topics is not None for theme in with_topics.themes)

    empty = new_workspace(client)
    nothing = answer(client.get("/v1/alerts", headers=empty), answers.AlertsAnswer)
    assert nothing.as_of is None and nothing.week is None
    assert answer(client.get("/v1/journey/curve", params={"granularity": "month"}, headers=empty),
                  answers.CurveSeriesAnswer).periods == []  # fmt: skip

    texts = {"items": [{"text": "Great crew but the seat was broken", "id": "t1"}]}
    analyzed = answer(client.post("/v1/analyze", json=texts, headers=auth), answers.AnalyzeAnswer)
    assert analyzed.analyses[0].mentions
    assert answer(client.get("/health"), answers.HealthAnswer).status == "ok"


def test_every_parameter_is_described(spec: dict[str, Any]) -> None:
    undescribed = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not (parameter.get("description") or parameter.get("schema", {}).get("description"))
    ]
    assert undescribed == []
