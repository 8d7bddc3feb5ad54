"""Reliability: schemathesis drives every operation of the served OpenAPI document with generated requests (valid and
invalid bodies, parameters and headers), on SQLite and on PostgreSQL, and no answer may be a server error.

The service runs for real (uvicorn on a free port, workers running, the shipped model), with a workspace holding a
few analysed feedback items so that ids, listings and answers have something to find. Each operation gets a bounded
number of examples (`PARCOURS_SCHEMATHESIS_EXAMPLES`, 20 by default) so the suite stays inside CI's time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import ADMIN_TOKEN, serve, service_settings

EXAMPLES = int(os.environ.get("PARCOURS_SCHEMATHESIS_EXAMPLES", "20"))
SEED = [
    {"text": "Livraison en retard de trois semaines, service client injoignable.", "external_id": "st-1", "rating": 1},
    {"text": "Great staff at check-in, the room was spotless.", "external_id": "st-2", "rating": 5},
    {"text": "L'application plante à chaque paiement.", "external_id": "st-3", "channel": "app", "segment": "pro"},
]


@pytest.fixture(scope="module")
def live(database_url: str, shipped: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The service on a free port over `database_url`, with one seeded workspace; yields its URL and keys."""
    # the suite sends hundreds of requests a minute: limits high enough that every one reaches its route
    config = service_settings(
        database_url,
        tmp_path_factory.mktemp("schemathesis"),
        rate_limit_feedback="10000/minute",
        rate_limit_analyze="10000/minute",
        rate_limit_uploads="10000/minute",
    )
    with serve(create_app(config, pipeline=shipped)) as base:
        yield from _seeded(base)


def _seeded(base: str) -> Iterator[dict[str, Any]]:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = httpx.post(f"{base}/admin/workspaces", json={"name": "schemathesis"}, headers=admin, timeout=30)
    assert created.status_code == 201, created.text
    auth = {"Authorization": f"Bearer {created.json()['api_key']}"}
    stored = httpx.post(f"{base}/v1/feedback", json={"items": SEED}, headers=auth, timeout=60)
    assert stored.status_code in (200, 201, 202), stored.text
    yield {"base": base, "auth": auth, "admin": admin}


@pytest.fixture(scope="module")
def api_schema(live: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{live['base']}/openapi.json")


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


def _drive(operation: Any, mode: GenerationMode, base: str, headers: dict[str, str]) -> None:
    """Run Hypothesis over one operation's generated requests; raise on the first 5xx (shrunk to the simplest)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
              database=None)  # fmt: skip
    def drive(case: Any) -> None:
        case.call_and_validate(base_url=base, headers=headers, checks=[not_a_server_error], timeout=120)

    drive()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_error(api_schema: Any, live: dict[str, Any], mode: GenerationMode) -> None:
    """Whatever the generated request (valid by the schema, or deliberately not), no answer is a 5xx.

    Each operation is driven by Hypothesis through schemathesis' strategies; every failing operation is collected
    (with the request that broke it) so one run names them all."""
    failures: list[str] = []
    operations = _operations(api_schema)
    assert len(operations) >= 15, [op.label for op in operations]
    for operation in operations:
        headers = live["admin"] if operation.path.startswith("/admin") else live["auth"]
        try:
            _drive(operation, mode, live["base"], headers)
        except Unsatisfiable:
            continue  # nothing to make invalid in this operation (no parameters, no body)
        except Exception as error:  # noqa: BLE001 - every operation's failure is reported together below
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
