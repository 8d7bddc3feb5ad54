"""Security headers on every response, and a Content-Security-Policy that the page, /docs and /redoc live with
(checked in Debian's Chromium: no violation reported, and each page renders)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.db import make_engine, session_scope
from app.crud import create_workspace
from app.main import create_app
from nlp.pipeline import Pipeline
from tests.app.conftest import serve, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def directives(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_every_kind_of_response_carries_the_security_headers(client: TestClient, auth: dict[str, str]) -> None:
    responses = {
        "page": client.get("/"),
        "script": client.get("/static/js/app.js"),
        "api": client.get("/v1/workspace", headers=auth),
        "error": client.get("/v1/feedback/999999999", headers=auth),
        "unauthorised": client.get("/v1/workspace"),
        "openapi": client.get("/openapi.json"),
        "health": client.get("/health"),
        "docs": client.get("/docs"),
        "redoc": client.get("/redoc"),
    }
    for name, response in responses.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert directives(response)["frame-ancestors"] == "'none'", name
        assert "'unsafe-inline'" not in directives(response)["script-src"], name
    assert responses["api"].status_code == 200 and responses["error"].status_code == 404
    assert directives(responses["page"])["script-src"] == "'self'"
    assert directives(responses["page"])["object-src"] == "'none'"
    # /docs boots Swagger UI with an inline script: allowed by its own hash, and nothing else inline
    inline = re.findall(r"<script>(.*?)</script>", responses["docs"].text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert directives(responses["docs"])["script-src"] == f"'self' 'sha256-{digest}'"


@pytest.fixture(scope="module")
def served(shipped: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service on a free port with one workspace holding analysed feedback; yields (base URL, API key)."""
    folder = tmp_path_factory.mktemp("headers")
    settings = Settings(database_url=f"sqlite:///{folder / 'headers.db'}", data_dir=folder, idle_poll_seconds=0.1)
    with serve(create_app(settings, pipeline=shipped)) as base:
        engine = make_engine(settings.database_url)
        with session_scope(engine) as session:
            _, key = create_workspace(session=session, name="headers")
        engine.dispose()
        auth = {"Authorization": f"Bearer {key}"}
        texts = ["Livraison rapide mais colis abîmé.", "SAV injoignable, très déçu.", "Accueil chaleureux en boutique.",
                 "Le site plante au paiement.", "Installation simple, produit parfait."]  # fmt: skip
        accepted = httpx.post(f"{base}/v1/feedback", json={"items": [{"text": t} for t in texts]}, headers=auth)
        assert accepted.status_code == 202, accepted.text
        ids = [item["id"] for item in accepted.json()["items"]]
        wait_for(lambda: all(httpx.get(f"{base}/v1/feedback/{i}", headers=auth).json()["status"] == "analysed"
                             for i in ids), what="analysis")  # fmt: skip
        yield base, key


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the CSP check: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# Every CSP violation the page reports, kept by the page itself from its first script on.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def open_without_violations(browser: Any, url: str, rendered: str, blocked: tuple[str, ...] = ()) -> None:
    """Open `url`, wait for `rendered` to appear; fail on any CSP violation or CSP console error but the
    `blocked` ones (third-party resources the policy is meant to keep out)."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(url)
        page.wait_for_selector(rendered)
        page.wait_for_load_state("networkidle")
        violations = [v for v in page.evaluate("window.__violations") if not v.startswith(blocked)]
        assert violations == [], url
        assert [m for m in console if not any(b.split(" ")[1] in m for b in blocked)] == [], url
    finally:
        context.close()


def test_the_page_renders_under_its_csp(browser: Any, served: tuple[str, str]) -> None:
    base, key = served
    open_without_violations(browser, f"{base}/#key={key}", "#curve .curve-point")


def test_swagger_ui_renders_under_its_csp(browser: Any, served: tuple[str, str]) -> None:
    open_without_violations(browser, f"{served[0]}/docs", ".opblock-summary")


def test_redoc_renders_under_its_csp(browser: Any, served: tuple[str, str]) -> None:
    # ReDoc's "Powered by Redocly" logo comes from Redocly's CDN: kept out (the docs are served offline, and a
    # user's visit is nobody else's business); the rest of the page is ours and renders.
    logo = ("img-src https://cdn.redoc.ly/",)
    open_without_violations(browser, f"{served[0]}/redoc", "[data-section-id]", blocked=logo)
