"""The journey map page in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Every figure the page shows is checked against the API's own answer at that moment, never against model outputs.
The tests run in file order on one served app: the upload test, which adds feedback, comes last.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.core.config import Settings
from app.core.db import make_engine, session_scope
from app.crud import create_workspace
from app.demo import load_demo
from app.main import create_app
from app.models import Workspace
from nlp.pipeline import Pipeline
from tests.app.conftest import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# PARCOURS_SCREENSHOT=map.png pytest tests/app/test_page.py -k screenshot  keeps a copy (docs: scripts/screenshots.py)
SCREENSHOT = os.environ.get("PARCOURS_SCREENSHOT")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"
VIEWPORT = {"width": 1360, "height": 900}
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def page_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("page")
    return Settings(database_url=f"sqlite:///{folder / 'page.db'}", data_dir=folder, idle_poll_seconds=0.1)


@pytest.fixture(scope="module")
def served(shipped: Pipeline, page_settings: Settings) -> Iterator[tuple[str, str]]:
    """The service on a free port with the demo workspace loaded; yields (base URL, demo API key)."""
    _, key = load_demo(page_settings, shipped)
    with serve(create_app(page_settings, pipeline=shipped)) as base:
        # Queue the page's default topics now, so that they are computed while the first tests run.
        httpx.get(f"{base}/v1/topics", params={"polarity": "irritant"}, headers={"Authorization": f"Bearer {key}"})
        yield base, key


@pytest.fixture(scope="module")
def new_workspace(served: tuple[str, str], page_settings: Settings) -> Callable[[str], str]:
    """Create another workspace of the served app, with no feedback; return its key."""

    def create(name: str) -> str:
        engine = make_engine(page_settings.database_url)
        with session_scope(engine) as session:
            _, key = create_workspace(session=session, name=name)
        engine.dispose()
        return key

    return create


@pytest.fixture(scope="module")
def empty_key(new_workspace: Callable[[str], str]) -> str:
    """The key of a second workspace of the served app, with no feedback at all."""
    return new_workspace("empty")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is needed for the page tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def api(served: tuple[str, str], path: str, **params: Any) -> Any:
    """The API's answer, as the page's numbers must show it."""
    response = httpx.get(served[0] + path, params=params, headers={"Authorization": f"Bearer {served[1]}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def two_decimals(value: float) -> str:
    """The page's 2-decimal format: Intl.NumberFormat rounds the number's shortest decimal form half away from
    zero ("4.385" -> "4.39"), where Python's format rounds its binary value (4.38499... -> "4.38")."""
    return str(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def whole_percent(share: float) -> str:
    """The page's percentage in English: Intl.NumberFormat rounds half away from zero (0.625 -> "63%")."""
    return f"{Decimal(repr(share * 100)).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def signed(value: float, digits: int = 2) -> str:
    """The page's sentiment format in English: +0.19, -0.29, 0.00."""
    return f"{0:.{digits}f}" if round(value, digits) == 0 else f"{value:+.{digits}f}"


def topics_done(served: tuple[str, str], stage: str | None) -> bool:
    params = {"polarity": "irritant"} | ({"stage": stage} if stage else {})
    return bool(api(served, "/v1/topics", **params)["status"] == "done")


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_in_page(page: Any, expression: str, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Wait until `expression` is true in the page. (page.wait_for_function polls with eval, which the page's
    Content-Security-Policy refuses: no 'unsafe-eval'. An evaluate call from here is not subject to it.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)  # lets Playwright deliver the page's events meanwhile


class Tab:
    """A page with what it sent and the script errors it raised (a 401 the test asks for is not an error)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[Any] = []
        self.responses: list[Any] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", lambda response: self.responses.append(response))

    def _console(self, message: Any) -> None:
        if message.type == "error" and "status of 401" not in message.text:
            self.errors.append(message.text)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile in English (its own sessionStorage and localStorage)."""
    instance = browser.new_context(locale="en-US", viewport=VIEWPORT, accept_downloads=True)
    instance.set_default_timeout(TIMEOUT_MS)
    yield instance
    instance.close()


@pytest.fixture
def open_map(context: Any, served: tuple[str, str]) -> Iterator[Callable[..., Tab]]:
    """Open `/{query}#key=KEY` and wait for the curve; fails the test on any script error."""
    tabs: list[Tab] = []

    def opener(query: str = "", key: str | None = None, wait: bool = True) -> Tab:
        base, demo_key = served
        tab = Tab(context.new_page())
        tabs.append(tab)
        tab.page.goto(f"{base}/{query}#key={key or demo_key}")
        if wait:
            tab.page.wait_for_selector("#curve .curve-point")
        return tab

    yield opener
    for tab in tabs:
        assert tab.errors == [], tab.errors


def test_the_key_in_the_fragment_is_kept_in_session_storage_and_never_sent_in_a_url(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    base, key = served
    tab = open_map()
    page = tab.page
    assert page.url == f"{base}/"
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("sessionStorage.getItem('parcours.key')") == key
    assert page.text_content("#workspace-name") == api(served, "/v1/workspace")["name"]
    calls = [r for r in tab.requests if "/v1/" in r.url]
    assert len(calls) >= 8
    assert all(key not in r.url for r in tab.requests)
    assert all(r.headers.get("authorization") == f"Bearer {key}" for r in calls)


def test_the_curve_has_one_point_per_stage_with_the_apis_mean_sentiment_and_interval(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    curve = api(served, "/v1/journey/curve", lang="en")["stages"]
    points = page.eval_on_selector_all("#curve .curve-point", "nodes => nodes.map(n => ({...n.dataset}))")
    stages = [s for s in curve if s["mean_sentiment"] is not None]
    assert [p["stage"] for p in points] == [s["stage"] for s in stages] and len(stages) == 8
    for point, stage in zip(points, stages, strict=True):
        assert float(point["mean"]) == stage["mean_sentiment"]
        assert (float(point["ciLow"]), float(point["ciHigh"])) == (stage["ci_low"], stage["ci_high"])
        assert int(point["mentions"]) == stage["mentions"]
    labels = page.eval_on_selector_all("#curve .curve-value", "nodes => nodes.map(n => n.textContent)")
    assert labels == [signed(s["mean_sentiment"]) for s in stages]
    counts = page.eval_on_selector_all("#curve .curve-mentions", "nodes => nodes.map(n => n.textContent)")
    assert counts == [f"{s['mentions']:,} mentions" for s in curve]
    shares = page.eval_on_selector_all(
        "#curve .stage-col",
        "cols => cols.map(c => [c.dataset.stage, +c.querySelector('.share-irritant').dataset.share,"
        " +c.querySelector('.share-delight').dataset.share])",
    )
    assert shares == [[s["stage"], s["irritant_share"], s["delight_share"]] for s in curve]
    assert page.locator("#curve .ci-band polygon").count() == 1  # one band across the eight stages


def test_the_heat_map_has_one_cell_per_api_cell_with_its_mentions(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    matrix = api(served, "/v1/journey/matrix", lang="en")
    cells = page.eval_on_selector_all(
        "#heatmap .heat-cell",
        "nodes => nodes.map(n => [n.dataset.stage, n.dataset.touchpoint, +n.dataset.mentions, +n.dataset.mean,"
        " n.querySelector('.cell-mentions').textContent])",
    )
    assert len(cells) == len(matrix["cells"]) > 20
    expected = {(c["stage"], c["touchpoint"]): c for c in matrix["cells"]}
    for stage, touchpoint, mentions, mean, text in cells:
        cell = expected.pop((stage, touchpoint))
        assert (mentions, mean) == (cell["mentions"], cell["mean_sentiment"])
        assert text.split()[0] == str(cell["mentions"])
    assert expected == {}
    text = page.text_content("#heatmap svg") or ""
    assert signed(matrix["cells"][0]["mean_sentiment"]) in text  # the sentiment is written, not only coloured


def test_kpis_alerts_and_the_stage_table_show_the_apis_numbers(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    kpis = api(served, "/v1/kpis", lang="en")
    overall = kpis["overall"]
    shown = page.eval_on_selector_all(
        "#kpis .kpi",
        "cards => Object.fromEntries(cards.map(c => [c.dataset.kpi,"
        " [c.querySelector('.kpi-value').dataset.value, c.querySelector('.kpi-value').textContent]]))",
    )
    assert float(shown["feedback"][0]) == overall["feedback"] and shown["feedback"][1] == f"{overall['feedback']:,}"
    assert float(shown["nps"][0]) == overall["nps"] and f"{abs(overall['nps']):g}" in shown["nps"][1]
    assert float(shown["csat"][0]) == overall["csat"] and shown["csat"][1] == f"{overall['csat']:.1f}%"
    assert float(shown["rating"][0]) == overall["mean_rating"]
    assert shown["rating"][1] == f"{two_decimals(overall['mean_rating'])} / 5"
    rows = page.eval_on_selector_all(
        "#stages tbody tr",
        "rows => Object.fromEntries(rows.map(r => [r.querySelector('th').textContent,"
        " [...r.querySelectorAll('td')].map(td => td.textContent)]))",
    )
    assert rows["CSAT"] == ["—" if s["csat"] is None else f"{s['csat']:.1f}%" for s in kpis["stages"]]
    assert rows["Mean rating"] == [
        "—" if s["mean_rating"] is None else f"{two_decimals(s['mean_rating'])} / 5" for s in kpis["stages"]
    ]
    curve = api(served, "/v1/journey/curve", lang="en")["stages"]
    assert rows["Mentions"] == [f"{s['mentions']:,}" for s in curve]
    alerts = api(served, "/v1/alerts", lang="en")["alerts"]
    listed = page.eval_on_selector_all("#alerts li.alert", "items => items.map(i => [i.dataset.id, +i.dataset.z])")
    assert listed == [[a["id"], a["z"]] for a in alerts]
    for alert in alerts:
        assert alert["label"] in (page.text_content("#alerts") or "")


def test_clicking_a_stage_on_the_curve_shows_its_verbatims_with_mentions_and_evidence_highlighted(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    page.click("#curve .stage-col[data-stage=support]")
    page.wait_for_selector("#drill-list li.feedback")
    assert page.get_attribute("#curve .stage-col[data-stage=support]", "aria-pressed") == "true"
    assert "Support" in (page.text_content("#drill-title") or "")
    expected = api(served, "/v1/feedback", stage="support", include="mentions", limit=10)["data"]
    items = page.locator("#drill-list li.feedback")
    assert [int(i) for i in items.evaluate_all("items => items.map(i => i.dataset.id)")] == [f["id"] for f in expected]
    for index, feedback in enumerate(expected):
        item = items.nth(index)
        marks = item.locator("mark.mention-focus").evaluate_all(
            "marks => marks.map(m => [+m.dataset.start, +m.dataset.end, m.textContent])"
        )
        wanted = [[m["start"], m["end"], m["text"]] for m in feedback["mentions"] if m["stage"] == "support"]
        assert marks == wanted and marks
        words = item.locator("strong.evidence").evaluate_all(
            "words => words.map(w => [+w.dataset.start, +w.dataset.end, w.textContent])"
        )
        assert words == [[e["start"], e["end"], e["text"]] for e in feedback["evidence"]]
        assert item.locator("blockquote").text_content() == feedback["text"]
    if page.is_visible("#drill-more"):
        page.click("#drill-more")
        wait_in_page(page, "document.querySelectorAll('#drill-list li.feedback').length > 10")


def test_clicking_a_heat_map_cell_shows_the_verbatims_of_that_cell(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    cell = max(api(served, "/v1/journey/matrix")["cells"], key=lambda c: c["mentions"])
    stage, touchpoint = cell["stage"], cell["touchpoint"]
    page.focus(f"#heatmap .heat-cell[data-stage={stage}][data-touchpoint={touchpoint}]")  # a keyboard button
    page.keyboard.press("Enter")
    page.wait_for_selector("#drill-list li.feedback")
    expected = api(served, "/v1/feedback", stage=stage, touchpoint=touchpoint, include="mentions", limit=10)["data"]
    ids = page.eval_on_selector_all("#drill-list li.feedback", "items => items.map(i => +i.dataset.id)")
    assert ids == [f["id"] for f in expected]
    for feedback in expected:
        marks = page.eval_on_selector_all(
            f"#drill-list li[data-id='{feedback['id']}'] mark.mention-focus", "marks => marks.map(m => m.textContent)"
        )
        assert marks == [
            m["text"] for m in feedback["mentions"] if (m["stage"], m["touchpoint"]) == (stage, touchpoint)
        ]
    assert str(cell["feedback"]) in (page.text_content("#drill-count") or "")
    page.click("#drill-close")
    assert page.is_hidden("#drill")


def test_the_filters_apply_to_every_call_and_an_empty_selection_says_so(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    tab = open_map()
    page = tab.page
    page.wait_for_selector("#filters select[name=source] option[value=google]", state="attached")
    page.select_option("#filters select[name=kind]", "survey")
    surveys = api(served, "/v1/journey/curve", kind="survey")["stages"]

    def means() -> list[float]:
        return page.eval_on_selector_all("#curve .curve-point", "nodes => nodes.map(n => +n.dataset.mean)")

    wait_until(lambda: means() == [s["mean_sentiment"] for s in surveys if s["mean_sentiment"] is not None])
    sent = [r.url for r in tab.requests if "kind=survey" in r.url]
    for path in ("/v1/journey/curve", "/v1/journey/matrix", "/v1/kpis", "/v1/alerts", "/v1/irritants", "/v1/delights"):
        assert any(path + "?" in url for url in sent), path
    assert page.get_attribute("#kpis [data-kpi=feedback] .kpi-value", "data-value") == str(
        api(served, "/v1/kpis", kind="survey")["overall"]["feedback"]
    )
    page.click("#curve .stage-col[data-stage=support]")  # the drill-down keeps the filters
    page.wait_for_selector("#drill-list li.feedback")
    expected = api(served, "/v1/feedback", kind="survey", stage="support", include="mentions", limit=10)["data"]
    ids = page.eval_on_selector_all("#drill-list li.feedback", "items => items.map(i => +i.dataset.id)")
    assert ids == [f["id"] for f in expected]
    page.fill("#filters input[name=date_from]", "2030-01-01")
    page.wait_for_selector("#curve .notice-empty")
    assert page.text_content("#curve") == "No feedback matches these filters."
    assert page.get_attribute("#kpis [data-kpi=feedback] .kpi-value", "data-value") == "0"
    assert page.is_hidden("#empty")  # the workspace has feedback: only the selection is empty
    page.click("#filters button[type=reset]")
    page.wait_for_selector("#curve .curve-point")
    assert page.evaluate("JSON.parse(sessionStorage.getItem('parcours.filters')).kind") == ""


def test_an_empty_workspace_says_no_feedback_yet_and_offers_the_upload(
    open_map: Callable[..., Tab], empty_key: str
) -> None:
    page = open_map(key=empty_key, wait=False).page
    page.wait_for_selector("#empty:not([hidden])")
    assert page.text_content("#workspace-name") == "empty"
    assert "No feedback yet" in (page.text_content("#empty") or "")
    assert page.is_visible("#import") and page.is_visible("#upload-form input[type=file]")
    page.wait_for_selector("#curve .notice-empty")
    assert "upload a CSV" in (page.text_content("#curve") or "")
    assert "upload a CSV" in (page.text_content("#heatmap") or "")
    assert page.get_attribute("#kpis [data-kpi=nps] .kpi-value", "data-value") == ""


def test_the_interface_switches_to_french_labels_and_remembers_the_choice(
    open_map: Callable[..., Tab], served: tuple[str, str], browser: Any
) -> None:
    tab = open_map()
    page = tab.page
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.text_content("#map-title") == "The customer journey"
    page.click(".lang-switch button[data-lang=fr]")
    wait_in_page(page, "document.querySelector('#curve svg').textContent.includes('Recommandation')")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.get_attribute(".lang-switch button[data-lang=fr]", "aria-pressed") == "true"
    assert page.text_content("#map-title") == "Le parcours client"
    assert page.text_content("#kpis [data-kpi=feedback] .kpi-title") == "Retours analysés"
    assert page.text_content("#toggle-import") == "Importer un CSV"
    french = api(served, "/v1/journey/curve", lang="fr")["stages"]
    labels = page.eval_on_selector_all("#heatmap svg > text", "nodes => nodes.map(n => n.textContent).join(' ')")
    assert "Service client / SAV" in " ".join(s["label"] for s in french) and "Service client" in labels
    nps = api(served, "/v1/kpis")["overall"]["nps"]
    assert f"{abs(nps):g}".replace(".", ",") in (page.text_content("#kpis [data-kpi=nps] .kpi-value") or "")
    assert any("lang=fr" in r.url for r in tab.requests if "/v1/journey/curve" in r.url)
    assert page.evaluate("localStorage.getItem('parcours.lang')") == "fr"
    page.reload()
    page.wait_for_selector("#curve .curve-point")
    assert page.text_content("#map-title") == "Le parcours client"
    # A French browser gets French without choosing.
    french_profile = browser.new_context(locale="fr-FR", viewport=VIEWPORT)
    try:
        other = french_profile.new_page()
        other.goto(f"{served[0]}/#key={served[1]}")
        other.wait_for_selector("#curve .curve-point")
        assert other.text_content("#filters-title") == "Filtres"
    finally:
        french_profile.close()


def test_the_map_exports_as_a_valid_svg_and_png(open_map: Callable[..., Tab], served: tuple[str, str]) -> None:
    page = open_map().page
    with page.expect_download() as svg_download:
        page.click("#export-svg")
    svg_file = Path(svg_download.value.path())
    assert svg_download.value.suggested_filename.endswith(".svg")
    root = ET.fromstring(svg_file.read_bytes())
    assert root.tag == f"{SVG_NS}svg" and int(root.get("width") or 0) > 1000
    points = [c for c in root.iter(f"{SVG_NS}circle") if c.get("class") == "curve-point"]
    assert [float(c.get("data-mean") or "nan") for c in points] == [
        s["mean_sentiment"] for s in api(served, "/v1/journey/curve")["stages"]
    ]
    cells = [g for g in root.iter(f"{SVG_NS}g") if (g.get("class") or "").startswith("heat-cell")]
    assert len(cells) == len(api(served, "/v1/journey/matrix")["cells"])
    with page.expect_download() as png_download:
        page.click("#export-png")
    data = Path(png_download.value.path()).read_bytes()
    assert png_download.value.suggested_filename.endswith(".png")
    assert data[:8] == PNG_SIGNATURE and len(data) > 20_000
    width, height = struct.unpack(">II", data[16:24])
    assert width == 2 * int(root.get("width") or 0) and height == 2 * int(root.get("height") or 0)


def test_the_report_opens_from_the_page_with_the_kpis_on_one_a4_page(
    open_map: Callable[..., Tab], served: tuple[str, str], context: Any
) -> None:
    page = open_map().page
    with context.expect_page() as opened:
        page.click("#open-report")
    report = opened.value
    report.wait_for_selector("body[data-ready]")
    assert report.url == f"{served[0]}/report?lang=en" and served[1] not in report.url
    overall = api(served, "/v1/kpis")["overall"]
    for name, value in (("feedback", overall["feedback"]), ("nps", overall["nps"]), ("csat", overall["csat"])):
        assert float(report.get_attribute(f"[data-kpi={name}] .kpi-value", "data-value") or "nan") == value
    means = report.eval_on_selector_all("#curve .curve-point", "nodes => nodes.map(n => +n.dataset.mean)")
    assert means == [s["mean_sentiment"] for s in api(served, "/v1/journey/curve")["stages"]]
    irritants = api(served, "/v1/irritants", limit=3)["themes"]
    assert report.locator("#irritants li.theme").count() == len(irritants) == 3
    assert report.locator("#irritants li.theme mark.mention-focus").count() == 3  # one verbatim each
    assert report.locator("#delights li.theme").count() == 3
    assert "all feedback" in (report.text_content(".filters") or "")
    report.emulate_media(media="print")
    assert report.is_hidden("#print")
    pdf = report.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_a_wrong_key_brings_the_key_prompt_back_with_the_servers_message(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    base, key = served
    refused = httpx.get(f"{base}/v1/workspace", headers={"Authorization": "Bearer pk_wrong"}).json()["detail"]
    page = open_map(key="pk_wrong", wait=False).page
    page.wait_for_selector("#key-dialog[open]")
    page.wait_for_selector("#key-error:not([hidden])")
    assert refused in (page.text_content("#key-error") or "")
    assert page.url == f"{base}/"
    page.fill("#key-input", key)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#curve .curve-point")
    assert page.is_hidden("#key-dialog")
    assert page.evaluate("sessionStorage.getItem('parcours.key')") == key


def test_top_irritants_and_delights_show_the_apis_themes_and_verbatims_per_stage(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page

    def shown(polarity: str) -> list[list[str]]:
        return page.eval_on_selector_all(
            f"#{polarity} li.theme", "items => items.map(i => [i.dataset.stage, i.dataset.touchpoint])"
        )

    for polarity in ("irritants", "delights"):
        themes = api(served, f"/v1/{polarity}", limit=5, lang="en")["themes"]
        assert shown(polarity) == [[t["stage"], t["touchpoint"]] for t in themes]
        first = page.locator(f"#{polarity} li.theme").first
        assert (
            first.locator("blockquote mark.mention-focus").first.text_content()
            == themes[0]["verbatims"][0]["mention"]["text"]
        )
        assert f"{themes[0]['mentions']} mentions" in (first.text_content() or "")
    page.select_option("#focus-stage", "support")  # the stage's themes, and its topics computed in the background
    for stage in (None, "support"):
        wait_until(lambda s=stage: topics_done(served, s), 90, f"the {stage or 'overall'} topics")

    def support_themes() -> list[dict[str, Any]] | None:  # a poll may be answered from a row up to 1 s old
        themes = api(served, "/v1/irritants", stage="support", limit=5, lang="en")["themes"]
        return themes if any(theme["topics"] for theme in themes) else None

    support = wait_until(support_themes, what="the support themes with topics in the API")
    wanted = [[f"{tp['label']} ({tp['mentions']})" for tp in theme["topics"][:3]] for theme in support]

    def topics() -> list[list[str]]:
        return page.eval_on_selector_all(
            "#irritants li.theme",
            "items => items.map(i => [...i.querySelectorAll('.theme-topics .tag')].map(t => t.textContent))",
        )

    wait_until(lambda: topics() == wanted, what="the support themes with their topics")
    assert shown("irritants") == [[t["stage"], t["touchpoint"]] for t in support]
    assert {stage for stage, _ in shown("irritants")} == {"support"}


def test_polling_sends_if_none_match_and_a_304_re_renders_nothing(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    tab = open_map("?poll=300")
    page = tab.page
    page.wait_for_selector("#topics li.topic")  # computed during the themes test: nothing is computing now
    page.wait_for_selector("#filters select[name=source] option[value=google]", state="attached")
    wait_in_page(page, "window.__parcours.lastCycle && window.__parcours.lastCycle.changed === 0")
    page.evaluate(
        """() => {
        window.__mutations = 0;
        new MutationObserver((records) => { window.__mutations += records.length; })
          .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    }"""
    )
    renders = page.evaluate("JSON.stringify(window.__parcours.renders)")
    cycles = page.evaluate("window.__parcours.cycles")
    wait_in_page(page, f"window.__parcours.cycles >= {cycles + 3}")
    assert page.evaluate("window.__mutations") == 0
    assert page.evaluate("JSON.stringify(window.__parcours.renders)") == renders
    assert page.evaluate("window.__parcours.lastCycle") == {
        "changed": 0,
        "notModified": 7,
        "rendered": 0,
        "failures": 0,
    }
    curve = [r for r in tab.responses if "/v1/journey/curve" in r.url]
    first, last = curve[0], curve[-1]
    assert first.status == 200 and "if-none-match" not in first.request.headers
    kept = [r.headers["etag"] for r in curve if r.status == 200][-1]  # the last full answer's ETag
    assert last.status == 304 and last.request.headers["if-none-match"] == kept


def test_topics_say_computing_then_show_the_apis_topics_once_done(
    open_map: Callable[..., Tab], served: tuple[str, str], page_settings: Settings
) -> None:
    tab = open_map("?poll=500")
    page = tab.page
    page.select_option("#focus-stage", "purchase")  # a slice nobody has asked for yet: computed now
    page.wait_for_selector("#topics .notice-loading")
    renders = page.evaluate("window.__parcours.renders")
    page.wait_for_selector("#topics li.topic", timeout=60_000)
    answer = api(served, "/v1/topics", stage="purchase", polarity="irritant")
    assert answer["status"] == "done"
    labels = page.eval_on_selector_all("#topics li.topic h4", "heads => heads.map(h => h.textContent)")
    assert labels == [t["label"] for t in answer["topics"][:8]]

    # A change elsewhere bumps the workspace's data version: the curve's ETag changes, not its content, so it
    # comes again with a 200 and must not be drawn again.
    engine = make_engine(page_settings.database_url)
    with session_scope(engine) as session:
        session.execute(update(Workspace).values(data_version=Workspace.data_version + 1))
    engine.dispose()

    def statuses() -> list[int]:
        return [r.status for r in tab.responses if "/v1/journey/curve" in r.url]

    seen = len(statuses())
    for _ in range(100):  # Playwright delivers the page's events while the test calls into it: wait in the page
        if 200 in statuses()[seen:]:
            break
        page.wait_for_timeout(100)
    assert 200 in statuses()[seen:], "no 200 for the curve's new ETag"
    assert statuses()[0] == 200
    assert page.evaluate("window.__parcours.renders.curve") == renders["curve"] == 1


PHONE = {"width": 390, "height": 844}


def scroll_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_phone_sees_the_map_the_drill_down_and_the_report_without_sideways_scroll(
    open_map: Callable[..., Tab], context: Any
) -> None:
    page = open_map().page
    page.set_viewport_size(PHONE)
    wait_in_page(page, f"window.innerWidth === {PHONE['width']}")
    assert scroll_width(page) <= PHONE["width"]  # the KPI grid once made it 883 px wide
    assert page.eval_on_selector("#kpis", "n => n.getBoundingClientRect().right") <= PHONE["width"]
    page.click("#curve .stage-col[data-stage=support]")  # the chart scrolls inside its own box
    page.wait_for_selector("#drill-list li.feedback")
    assert scroll_width(page) <= PHONE["width"]
    with context.expect_page() as opened:
        page.click("#open-report")
    report = opened.value
    report.set_viewport_size(PHONE)
    report.wait_for_selector("body[data-ready]")
    assert scroll_width(report) <= PHONE["width"]


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


BOXES = "nodes => nodes.map(n => { const r = n.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: n.textContent, stage: n.closest('[data-stage]')?.dataset.stage}; })"  # noqa: E501


def test_the_reports_stage_names_are_whole_and_its_value_labels_never_overlap(
    context: Any, served: tuple[str, str]
) -> None:
    base, key = served
    page = context.new_page()
    page.goto(f"{base}/#key={key}")  # the key reaches sessionStorage; the report reads it there
    page.wait_for_selector("#curve .curve-point")
    page.goto(f"{base}/report?lang=fr")
    page.wait_for_selector("body[data-ready]")
    stages = api(served, "/v1/journey/curve", lang="fr")["stages"]
    assert any(len(s["label"]) > 20 for s in stages)  # "Réception / mise en route" was cut after "mise en"
    for stage in stages:
        column = page.locator(f"#curve .stage-col[data-stage={stage['stage']}]")
        labels = column.locator(".stage-label").evaluate_all(BOXES)
        assert " ".join(label["text"] for label in labels) == stage["label"]
        box = column.locator(".col-bg").evaluate("n => n.getBoundingClientRect().toJSON()")
        for label in labels:  # inside its own column: nothing runs into the next stage
            assert box["left"] <= label["left"] and label["right"] <= box["right"], (stage["stage"], label)
    values = page.locator("#curve .share-value").evaluate_all(BOXES)
    assert len(values) == 2 * len(stages)
    for i, first in enumerate(values):
        for second in values[i + 1 :]:
            assert not boxes_overlap(first, second), (first, second)  # once printed as "50 %50 %"


def test_heat_map_cells_are_faint_without_evidence_and_show_their_irritant_and_delight_shares(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    matrix = api(served, "/v1/journey/matrix", lang="en")
    shown = page.eval_on_selector_all(
        "#heatmap .heat-cell",
        "cells => cells.map(c => ({stage: c.dataset.stage, touchpoint: c.dataset.touchpoint,"
        " opacity: +c.querySelector('.cell-fill').getAttribute('fill-opacity'),"
        " irritant: c.querySelector('.cell-irritant')?.textContent,"
        " delight: c.querySelector('.cell-delight')?.textContent}))",
    )
    by_cell = {(c["stage"], c["touchpoint"]): c for c in shown}
    for cell in matrix["cells"]:
        drawn = by_cell[(cell["stage"], cell["touchpoint"])]
        strength = cell.get("strength", cell["mentions"] / (cell["mentions"] + 5))
        assert drawn["opacity"] == pytest.approx(0.25 + 0.75 * strength, abs=1e-3)
        assert drawn["irritant"] == whole_percent(cell["irritant_share"])
        assert drawn["delight"] == whole_percent(cell["delight_share"])
    busiest = max(matrix["cells"], key=lambda c: c["mentions"])
    single = min(matrix["cells"], key=lambda c: c["mentions"])
    assert single["mentions"] == 1 and busiest["mentions"] > 50
    faint, strong = (by_cell[(c["stage"], c["touchpoint"])]["opacity"] for c in (single, busiest))
    assert faint < 0.45 < 0.9 < strong


def test_alerts_sit_below_the_map_folded_with_their_count(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map().page
    page.wait_for_selector("#alerts[aria-busy=false]")
    map_bottom = page.eval_on_selector("#map", "n => n.getBoundingClientRect().bottom")
    assert page.eval_on_selector("#alerts-panel", "n => n.getBoundingClientRect().top") > map_bottom
    alerts = api(served, "/v1/alerts", lang="en")
    total = alerts.get("total", len(alerts["alerts"]))
    assert page.is_visible("#alerts-count") == (total > 0)
    if total:
        assert page.text_content("#alerts-count") == str(total)
    page.click("#alerts-panel > summary")
    assert page.is_hidden("#alerts")


EMOJI = "😡😡 livraison en retard de 3 semaines 👎 et le service client ne répond jamais, très déçu 😤"


def post_feedback(base: str, key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send feedback by the API and wait until it is analysed; return each item with its mentions."""
    headers = {"Authorization": f"Bearer {key}"}
    sent = httpx.post(f"{base}/v1/feedback", json={"items": items}, headers=headers, timeout=30)
    assert sent.status_code in (200, 201, 202), sent.text
    ids = [item["id"] for item in sent.json()["items"]]

    def analysed() -> list[dict[str, Any]] | None:
        listed = httpx.get(f"{base}/v1/feedback", params={"include": "mentions", "limit": 500}, headers=headers)
        found = {f["id"]: f for f in listed.json()["data"]}  # as the drill-down reads them
        return [found[i] for i in ids] if all(found[i]["status"] == "analysed" for i in ids) else None

    return wait_until(analysed, 60, "the analysis of the posted feedback")  # type: ignore[no-any-return]


def test_a_first_import_says_why_there_is_no_alert_and_highlights_emoji_verbatims_on_the_right_words(
    open_map: Callable[..., Tab], served: tuple[str, str], new_workspace: Callable[[str], str]
) -> None:
    base = served[0]
    key = new_workspace("first import")
    [item] = post_feedback(base, key, [{"text": EMOJI, "external_id": "e1"}])
    assert item["evidence"] and any(len(e["text"]) == 1 and ord(e["text"]) > 0xFFFF for e in item["evidence"])
    page = open_map(key=key).page
    alerts = api((base, key), "/v1/alerts", lang="en")
    assert alerts["status"] == "insufficient_history" and alerts["alerts"] == []
    page.wait_for_selector("#alerts .notice-history")
    text = page.text_content("#alerts") or ""
    assert f"Not enough history yet (alerts start after {alerts['weeks_needed']} weeks of data" in text
    assert page.locator("#alerts li.alert").count() == 0 and page.is_hidden("#alerts-count")

    mention = item["mentions"][0]
    page.click(f"#curve .stage-col[data-stage={mention['stage']}]")
    page.wait_for_selector(f"#drill-list li[data-id='{item['id']}']")
    quote = page.locator(f"#drill-list li[data-id='{item['id']}'] blockquote")
    assert quote.text_content() == EMOJI  # no character split in two
    words = quote.locator("strong.evidence").evaluate_all(
        "words => words.map(w => [+w.dataset.start, +w.dataset.end, w.textContent])"
    )
    assert words == [[e["start"], e["end"], e["text"]] for e in item["evidence"]]
    assert words[0][2] == "😡" and "en retard" in [w[2] for w in words]  # offsets in code points, not UTF-16
    marks = quote.locator("mark.mention-focus").evaluate_all("marks => marks.map(m => m.textContent)")
    assert marks == [m["text"] for m in item["mentions"] if m["stage"] == mention["stage"]]


def test_a_file_with_unknown_headers_is_imported_through_the_column_mapping_dialog(
    open_map: Callable[..., Tab], served: tuple[str, str], new_workspace: Callable[[str], str]
) -> None:
    base = served[0]
    key = new_workspace("unknown headers")
    tab = open_map(key=key, wait=False)
    page = tab.page
    page.wait_for_selector("#empty:not([hidden])")
    data = (
        "ref;quand;etoiles;ressenti\r\n"
        "U1;2026-11-20;1;Le conseiller au téléphone m'a raccroché au nez, trois appels sans réponse.\r\n"
        "U2;21/11/2026;5;Livraison rapide et colis bien emballé, parfait.\r\n"
        'U3;2026-11-22;4;"Souscription en ligne simple; je recommande."\r\n'
    ).encode()
    page.evaluate(
        """() => { window.__progress = [];
        new MutationObserver(() => { const bar = document.querySelector('#upload-status .progress');
          if (bar) window.__progress.push(+bar.getAttribute('aria-valuenow')); })
          .observe(document.querySelector('#upload-status'), {subtree: true, attributes: true, childList: true}); }"""
    )
    page.set_input_files(
        "#upload-form input[type=file]", files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.fill("#upload-form input[name=source]", "enquete-magasin")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#mapping-dialog[open]")
    assert page.is_hidden("#empty")  # gone as soon as the upload started
    offered = page.eval_on_selector_all("#mapping-form select[name=text] option", "os => os.map(o => o.value)")
    assert offered == ["ref", "quand", "etoiles", "ressenti"]
    [refusal] = [r for r in tab.responses if r.status == 422 and "/v1/uploads" in r.url]
    assert refusal.json()["columns"] == offered  # the server's list of the file's columns
    for field in ("nps", "source"):  # offered too, optional
        options = page.eval_on_selector_all(f"#mapping-form select[name={field}] option", "os => os.map(o => o.value)")
        assert options == ["", *offered] and page.input_value(f"#mapping-form select[name={field}]") == ""
    assert page.input_value("#mapping-form select[name=text]") == "ressenti"  # the longest first value
    page.select_option("#mapping-form select[name=created_at]", "quand")
    page.select_option("#mapping-form select[name=rating]", "etoiles")
    page.select_option("#mapping-form select[name=external_id]", "ref")
    page.click("#mapping-form button[type=submit]")
    page.wait_for_selector("#upload-status[data-status=done]", timeout=60_000)
    refused = [e for e in tab.errors if "status of 422" in e]
    assert len(refused) == 1  # the first try, without the mapping
    tab.errors.remove(refused[0])

    upload = api((base, key), f"/v1/uploads/{page.get_attribute('#upload-status', 'data-upload-id')}")
    assert upload["columns"]["text"] == "ressenti" and upload["columns"]["created_at"] == "quand"
    assert (upload["rows_read"], upload["rows_stored"], upload["rows_failed"]) == (3, 3, 0)
    rows = api((base, key), "/v1/feedback", limit=10)["data"]
    assert sorted((r["external_id"], r["rating"], r["created_at"][:10]) for r in rows) == [
        ("U1", 1.0, "2026-11-20"), ("U2", 5.0, "2026-11-21"), ("U3", 4.0, "2026-11-22"),
    ]  # fmt: skip
    assert any(r["text"] == "Souscription en ligne simple; je recommande." for r in rows)
    assert {r["source"] for r in rows} == {"enquete-magasin"}  # the source typed in the form
    wait_until(lambda: upload_analysed(page, (base, key), upload["id"]), what="the page to show the analysed count")
    progress = page.evaluate("window.__progress")
    assert progress == sorted(progress) and progress[-1] == 100  # never backwards
    failed = page.locator("#upload-status dd[data-count=rows_failed]")
    assert failed.text_content() == "0" and failed.evaluate("n => getComputedStyle(n).color") != "rgb(180, 35, 24)"
    wait_in_page(page, "+document.querySelector('#kpis [data-kpi=feedback] .kpi-value').dataset.value === 3")


def upload_analysed(page: Any, served: tuple[str, str], upload_id: int) -> bool:
    job = api(served, f"/v1/uploads/{upload_id}")
    text = page.text_content("#upload-status .progress-detail") or ""
    return bool(
        job["rows_analysed"] == 3 and text == f"{job['rows_analysed']} of {job['rows_stored']} stored rows analysed"
    )


def test_a_screenshot_of_the_map_on_the_demo_data(open_map: Callable[..., Tab], tmp_path: Path) -> None:
    page = open_map().page
    page.wait_for_selector("#topics li.topic", timeout=60_000)
    target = tmp_path / "journey-map.png"
    page.screenshot(path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 1750})
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    if SCREENSHOT:
        shutil.copyfile(target, SCREENSHOT)


def csv_export(rows: list[tuple[str, str, str, str]]) -> bytes:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value

    return (
        "\r\n".join(",".join(cell(v) for v in row) for row in [("id", "date", "note", "avis"), *rows]) + "\r\n"
    ).encode()


def test_a_csv_uploaded_from_the_page_shows_progress_counts_row_errors_and_updates_the_map(
    open_map: Callable[..., Tab], served: tuple[str, str]
) -> None:
    page = open_map("?poll=500").page
    before = {s["stage"]: s["mentions"] for s in api(served, "/v1/journey/curve")["stages"]}
    data = csv_export(
        [
            ("P1", "2026-11-21", "1", "Le service client ne répond jamais au téléphone, trois appels sans réponse."),
            ("P2", "2026-11-21", "5", "Souscription en ligne simple et rapide, je recommande Hexa à tous mes amis."),
            ("P3", "2026-11-22", "2", ""),
            ("P4", "2026-11-22", "beaucoup", "L'application mobile est agréable."),
            ("P5", "2026-11-22", "2", "The claims handler never called me back and the refund took two months."),
        ]
    )
    page.click("#toggle-import")
    page.set_input_files(
        "#upload-form input[type=file]", files=[{"name": "avis.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-status .progress[role=progressbar]", state="visible")
    page.wait_for_selector("#upload-status[data-status=done]", timeout=60_000)
    upload_id = page.get_attribute("#upload-status", "data-upload-id")
    job = api(served, f"/v1/uploads/{upload_id}")
    assert (job["status"], job["rows_read"], job["rows_stored"], job["rows_failed"]) == ("done", 5, 3, 2)
    assert page.get_attribute("#upload-status .progress", "aria-valuenow") == "100"
    counts = page.eval_on_selector_all(
        "#upload-status dd[data-count]", "dds => dds.map(d => [d.dataset.count, +d.textContent])"
    )
    assert dict(counts) == {
        name: job[name] for name in ("rows_read", "rows_stored", "rows_duplicate", "rows_failed", "rows_analysed")
    }
    errors = page.eval_on_selector_all(
        "#upload-status tr.row-error", "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent))"
    )
    assert errors == [[str(e["line"]), e["column"] or "—", e["reason"]] for e in job["errors"]]
    assert any("empty text" in e["reason"] for e in job["errors"])
    recent = f"#recent-uploads li.recent-upload[data-upload-id='{upload_id}']"
    page.wait_for_selector(f"{recent}[data-status=done]")
    assert page.text_content(f"{recent} .recent-counts") == (
        f"{job['rows_stored']} stored · {job['rows_analysed']} analysed · {job['rows_failed']} rejected"
    )
    listed = page.eval_on_selector_all("#recent-uploads li.recent-upload", "lis => lis.map(i => +i.dataset.uploadId)")
    assert listed == [u["id"] for u in api(served, "/v1/uploads", limit=5)["data"]]  # newest first, as the API lists

    def map_matches_api() -> bool:
        after = {s["stage"]: s["mentions"] for s in api(served, "/v1/journey/curve")["stages"]}
        shown = page.eval_on_selector_all(
            "#curve .curve-mentions",
            "nodes => Object.fromEntries(nodes.map(n => [n.dataset.stage, +n.dataset.mentions]))",
        )
        return shown == after and after != before

    wait_until(map_matches_api, what="the curve to show the API's new mention counts")
    after = api(served, "/v1/journey/curve")["stages"]
    assert sum(s["mentions"] for s in after) > sum(before.values())


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/docs", ".swagger-ui .opblock-summary-path[data-path='/v1/journey/curve']"),
        ("/redoc", "h1:has-text('Parcours')"),
    ],
)
def test_the_api_docs_render_offline_from_the_services_own_assets(
    context: Any, served: tuple[str, str], path: str, rendered: str
) -> None:
    base, _ = served
    outside: list[str] = []

    def only_the_service(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:  # a CDN, fonts, anything off this server: our users' servers cannot reach them
            outside.append(f"{route.request.resource_type} {route.request.url}")
            route.abort()

    page = context.new_page()
    page.route("**/*", only_the_service)
    page.goto(base + path)
    page.wait_for_selector(rendered, state="attached")
    assert "Parcours" in page.content() and "/v1/journey/curve" in page.content()
    # No script, style sheet or font comes from outside; Redoc's bundle links one decorative image (its
    # "API docs by Redocly" footer logo) on its CDN, which renders as nothing when blocked, as here.
    assert [r for r in outside if not r.startswith("image https://cdn.redoc.ly/")] == []
