"""The page's corrections, taxonomy panel, model score and topic alerts, in Chromium against the served app.

Each test works in a workspace of its own on the served app of tests/app/test_page.py (its fixtures, reused), and
checks what the page shows against the API's answer before and after: the page must show a change without a reload.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from tests.app import test_page as page_fixtures
from tests.app.test_page import Tab, api, post_feedback, wait_in_page, wait_until, whole_percent

# The fixtures of the page suite (one served app per module, Chromium, a fresh profile per test).
page_settings = page_fixtures.page_settings
served = page_fixtures.served
new_workspace = page_fixtures.new_workspace
browser = page_fixtures.browser
context = page_fixtures.context
open_map = page_fixtures.open_map

TEXTS = [
    "Le service client ne répond jamais au téléphone, trois appels sans réponse.",
    "Livraison rapide et colis bien emballé, parfait.",
    "L'application mobile plante à chaque connexion depuis la mise à jour.",
]
PARKING = {
    "names_en": "Car park",
    "names_fr": "Parking",
    "description": "The car park: finding a parking space, parking fees, parking access and signage.",
    "examples": "\n".join(
        [
            "Le parking de l'agence est toujours plein.",
            "Impossible de trouver une place de parking, j'ai tourné vingt minutes.",
            "The car park was full and the parking ticket machine was broken.",
        ]
    ),
}
PARKING_TEXTS = [
    "Le parking était complet, impossible de se garer près du magasin.",
    "Pas une seule place de parking libre, j'ai dû me garer à un kilomètre.",
    "Parking payant et hors de prix à l'aéroport.",
]
# Select words of a verbatim by their UTF-16 offsets in its text, as a person's drag would, then release the mouse.
SELECT_WORDS = """([id, from, to]) => {
  const quote = document.querySelector(`#drill-list li[data-id="${id}"] blockquote`);
  const walker = document.createTreeWalker(quote, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const length = node.textContent.length;
    if (from >= seen && from <= seen + length) range.setStart(node, from - seen);
    if (to >= seen && to <= seen + length) { range.setEnd(node, to - seen); break; }
    seen += length;
  }
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  quote.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
}"""


def shown_mentions(page: Any, stage: str) -> int:
    value = page.get_attribute(f"#curve .curve-mentions[data-stage={stage}]", "data-mentions")
    return int(value or -1)


def curve_mentions(workspace: tuple[str, str]) -> dict[str, int]:
    return {s["stage"]: s["mentions"] for s in api(workspace, "/v1/journey/curve")["stages"]}


def curve_once(workspace: tuple[str, str], stage: str, mentions: int) -> dict[str, int]:
    """The API's curve once `stage` counts `mentions` (the service answers from a workspace row it caches for up
    to workspace_ttl_seconds, 1 s by default, after a write)."""

    def check() -> dict[str, int] | None:
        counts = curve_mentions(workspace)
        return counts if counts[stage] == mentions else None

    return wait_until(check, 5, f"the API to count {mentions} mentions at {stage}")


def taxonomy_once(workspace: tuple[str, str], version: int) -> dict[str, Any]:
    """The API's taxonomy once at `version` (read through the workspace row the service caches up to 1 s)."""
    found = wait_until(lambda: (t := api(workspace, "/v1/taxonomy"))["version"] == version and t, 5, "the version")
    return found  # type: ignore[no-any-return]


def cell_mentions(workspace: tuple[str, str]) -> dict[tuple[str, str], int]:
    return {(c["stage"], c["touchpoint"]): c["mentions"] for c in api(workspace, "/v1/journey/matrix")["cells"]}


def shown_cells(page: Any) -> dict[tuple[str, str], int]:
    cells = page.eval_on_selector_all(
        "#heatmap .heat-cell", "cells => cells.map(c => [c.dataset.stage, c.dataset.touchpoint, +c.dataset.mentions])"
    )
    return {(stage, touchpoint): mentions for stage, touchpoint, mentions in cells}


def test_corrections_made_on_the_page_change_the_curve_and_matrix_at_once_and_are_stored(
    open_map: Callable[..., Tab], served: tuple[str, str], new_workspace: Callable[[str], str]
) -> None:
    base = served[0]
    key = new_workspace("corrections on the page")
    workspace = (base, key)
    items = post_feedback(base, key, [{"text": text, "external_id": f"c{i}"} for i, text in enumerate(TEXTS)])
    item = next(i for i in items if i["mentions"])
    mention = item["mentions"][0]
    before = curve_mentions(workspace)
    empty = [stage for stage, n in before.items() if n == 0]
    target, added_stage = empty[0], empty[1]
    # Polled every 10 minutes: what changes on the page is the correction's own refresh, not the timer.
    page = open_map("?poll=600000", key=key).page
    assert shown_mentions(page, target) == 0

    # 1. A highlighted mention: its menu moves it to another stage.
    page.click(f"#curve .stage-col[data-stage={mention['stage']}]")
    first = f"#drill-list li[data-id='{item['id']}'] .mention[data-rank='0']"
    page.click(first)
    page.wait_for_selector("#correction-dialog[open]")
    assert page.input_value("#correction-form select[name=stage]") == mention["stage"]
    assert page.input_value("#correction-form select[name=touchpoint]") == mention["touchpoint"]
    assert page.input_value("#correction-form select[name=polarity]") == mention["polarity"]
    page.select_option("#correction-form select[name=stage]", target)
    page.click("#correction-save")
    wait_in_page(page, "!document.querySelector('#correction-dialog').open")
    after = curve_once(workspace, target, 1)
    assert after[mention["stage"]] == before[mention["stage"]] - 1
    wait_in_page(page, f"+document.querySelector('#curve .curve-mentions[data-stage={target}]').dataset.mentions === 1")
    assert shown_mentions(page, mention["stage"]) == after[mention["stage"]]
    wait_until(lambda: shown_cells(page) == cell_mentions(workspace), what="the matrix to show the correction")
    assert shown_cells(page)[(target, mention["touchpoint"])] >= 1
    [stored] = api(workspace, "/v1/corrections")["data"]
    assert (stored["feedback_id"], stored["action"], stored["text"]) == (item["id"], "set", mention["text"])
    assert stored["before"]["stage"] == mention["stage"] and stored["after"] == {"stage": target}

    # 2. Words selected in the verbatim: "Add a mention" with its stage, touchpoint and polarity.
    text = item["text"]
    words = text.split()[-2:]
    start = text.rindex(words[0])
    end = start + len(" ".join(words))
    page.evaluate(SELECT_WORDS, [item["id"], start, end])
    page.click("#add-mention")
    page.wait_for_selector("#correction-dialog[open]")
    assert page.text_content("#correction-words") == text[start:end]
    assert page.is_hidden("#correction-delete")
    page.select_option("#correction-form select[name=stage]", added_stage)
    page.select_option("#correction-form select[name=polarity]", "delight")
    touchpoint = page.input_value("#correction-form select[name=touchpoint]")
    page.click("#correction-save")
    wait_in_page(page, "!document.querySelector('#correction-dialog').open")
    added = api(workspace, "/v1/corrections")["data"][-1]
    assert (added["action"], added["start"], added["end"], added["text"]) == ("add", start, end, text[start:end])
    assert added["after"] == {"stage": added_stage, "touchpoint": touchpoint, "polarity": "delight"}
    curve_once(workspace, added_stage, 1)
    wait_in_page(
        page, f"+document.querySelector('#curve .curve-mentions[data-stage={added_stage}]').dataset.mentions === 1"
    )

    # 3. The moved mention deleted from its menu.
    detail = api(workspace, f"/v1/feedback/{item['id']}")
    rank = next(r for r, m in enumerate(detail["mentions"]) if m["stage"] == target)
    page.click(f"#drill-list li[data-id='{item['id']}'] .mention[data-rank='{rank}']")
    page.wait_for_selector("#correction-dialog[open]")
    page.click("#correction-delete")
    wait_in_page(page, "!document.querySelector('#correction-dialog').open")
    curve_once(workspace, target, 0)
    wait_in_page(page, f"+document.querySelector('#curve .curve-mentions[data-stage={target}]').dataset.mentions === 0")
    assert [c["action"] for c in api(workspace, "/v1/corrections")["data"]] == ["set", "add", "delete"]
    assert shown_cells(page) == cell_mentions(workspace)

    # 4. The model panel: what the workspace's model learnt, its score beside the shipped one, the review queue.
    page.click("#toggle-labels")

    def learnt() -> dict[str, Any] | None:
        model = api(workspace, "/v1/model")
        return model if model["corrections_pending"] == 0 and model["status"] != "fitting" else None

    model = wait_until(learnt, 60, "the model to learn the corrections")
    wait_in_page(page, f"document.querySelector('#model .model-version')?.dataset.version === '{model['version']}'")
    assert page.get_attribute("#model .model-facts", "data-learnt") == str(model["corrections_learnt"])
    assert page.get_attribute("#model .model-facts", "data-pending") == "0"
    assert model["score"] is not None  # three corrections: scored, though too few texts for an adapted score
    for name in ("adapted", "shipped"):
        value = page.get_attribute(f"#model .score-{name} .kpi-value", "data-value")
        assert (float(value) if value else None) == model["score"][name]
    if model["score"]["adapted"] is None:
        assert "Too few corrected texts to measure a score yet." in (page.text_content("#model") or "")
    queue = api(workspace, "/v1/review-queue", limit=10)["data"]
    wait_in_page(page, f"document.querySelectorAll('#review-queue li.review-item').length === {len(queue)}")
    listed = page.eval_on_selector_all(
        "#review-queue li.review-item", "items => items.map(i => [+i.dataset.feedback, +i.dataset.mention])"
    )
    assert listed == [[q["feedback_id"], q["mention"]] for q in queue]
    if queue:  # a review item opens its feedback in the drill-down, ready to correct
        page.click("#review-queue li.review-item button")
        page.wait_for_selector(f"#drill-list li[data-id='{queue[0]['feedback_id']}'] .mention[data-rank]")


def test_a_touchpoint_added_in_the_taxonomy_panel_is_in_the_api_the_filters_and_the_map_then_merged(
    open_map: Callable[..., Tab], served: tuple[str, str], new_workspace: Callable[[str], str]
) -> None:
    base = served[0]
    key = new_workspace("taxonomy on the page")
    workspace = (base, key)
    page = open_map("?poll=1000", key=key, wait=False).page
    page.wait_for_selector("#empty:not([hidden])")
    page.click("#toggle-labels")
    page.wait_for_selector("#labels-touchpoints li[data-id=none]")
    assert page.get_attribute("#taxonomy-version", "data-version") == "0"
    page.fill("#label-form input[name=names_en]", PARKING["names_en"])
    page.fill("#label-form input[name=names_fr]", PARKING["names_fr"])
    assert page.input_value("#label-form input[name=id]") == "car_park"  # suggested from the name
    page.fill("#label-form textarea[name=description]", PARKING["description"])
    page.fill("#label-form textarea[name=examples]", "\n".join(PARKING["examples"].split("\n")[:2]))
    page.click("#label-submit")
    assert page.text_content("#label-message") == "Give at least 3 examples, one per line."
    page.fill("#label-form textarea[name=examples]", PARKING["examples"])
    page.click("#label-submit")
    page.wait_for_selector("#labels-touchpoints li[data-id=car_park]")

    taxonomy = taxonomy_once(workspace, 1)
    added = next(t for t in taxonomy["touchpoints"] if t["id"] == "car_park")
    assert page.get_attribute("#taxonomy-version", "data-version") == "1"
    assert added["names"] == {"en": "Car park", "fr": "Parking"} and added["status"] == "active"
    assert added["examples"] == PARKING["examples"].split("\n") and added["origin"] == "workspace"
    page.wait_for_selector("#filters select[name=touchpoint] option[value=car_park]", state="attached")
    assert page.text_content("#filters select[name=touchpoint] option[value=car_park]") == "Car park"

    # Predicted for new feedback at once; the map and the filter follow.
    analysed = post_feedback(base, key, [{"text": t, "external_id": f"p{i}"} for i, t in enumerate(PARKING_TEXTS)])
    assert sum(m["touchpoint"] == "car_park" for f in analysed for m in f["mentions"]) >= 2
    page.wait_for_selector("#heatmap .heat-cell[data-touchpoint=car_park]")
    page.select_option("#filters select[name=touchpoint]", "car_park")
    expected = api(workspace, "/v1/kpis", touchpoint="car_park")["overall"]["feedback"]
    wait_in_page(page, f"+document.querySelector('#kpis [data-kpi=feedback] .kpi-value').dataset.value === {expected}")
    page.select_option("#filters select[name=touchpoint]", "")

    # Re-analysis from the panel, with its progress.
    page.click("#reanalyse")
    page.wait_for_selector("#reanalysis[data-status=done]", timeout=60_000)
    job = api(workspace, f"/v1/reanalysis/{page.get_attribute('#reanalysis', 'data-job-id')}")
    assert (job["status"], job["total"], job["done"], job["taxonomy_version"]) == ("done", 3, 3, 1)
    assert page.get_attribute("#reanalysis .progress", "aria-valuenow") == "100"

    # Merged into another touchpoint: the panel, the API, the filter and the counts follow.
    cells_before = cell_mentions(workspace)
    into = next(t["id"] for t in taxonomy["touchpoints"] if t["id"] not in ("car_park", "none"))
    page.select_option("#merge-form select[name=family]", "touchpoints")
    page.select_option("#merge-form select[name=from]", "car_park")
    page.select_option("#merge-form select[name=into]", into)
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector("#labels-touchpoints li.label-merged[data-id=car_park]")
    merged = next(t for t in taxonomy_once(workspace, 2)["touchpoints"] if t["id"] == "car_park")
    assert (merged["status"], merged["merged_into"]) == ("merged", into)
    page.wait_for_selector("#filters select[name=touchpoint] option[value=car_park]", state="detached")
    cells_after = cell_mentions(workspace)
    assert sum(cells_after.values()) == sum(cells_before.values())
    assert not [cell for cell in cells_after if cell[1] == "car_park"]
    wait_until(lambda: shown_cells(page) == cells_after, what="the matrix to count car_park under its target")


def test_a_topic_alert_is_written_in_words_with_its_share_and_opens_its_verbatims(
    open_map: Callable[..., Tab], served: tuple[str, str], new_workspace: Callable[[str], str]
) -> None:
    from tests.nlp.test_topics import THEMES

    base = served[0]
    key = new_workspace("topic alert on the page")
    workspace = (base, key)
    as_of = date(2026, 6, 28)
    items = []
    for week in range(13):  # delivery and billing complaints every week, as tests/app/test_alerts.py builds them
        for n in range(6):
            text = THEMES["delivery" if n % 2 else "billing"][(3 * week + n // 2) % 12]
            day = as_of - timedelta(days=7 * week + n)
            items.append({"text": text, "external_id": f"W{week}-{n}", "created_at": day.isoformat()})
    items += [  # a new subject, only this week
        {"text": text, "external_id": f"A{n}", "created_at": (as_of - timedelta(days=n % 7)).isoformat()}
        for n, text in enumerate(THEMES["app"][:10])
    ]
    post_feedback(base, key, items)
    headers = {"Authorization": f"Bearer {key}"}

    def topic_alerts() -> list[dict[str, Any]] | None:
        topics = httpx.get(f"{base}/v1/topics", params={"polarity": "irritant"}, headers=headers, timeout=30).json()
        if topics["status"] != "done":
            return None
        return [a for a in api(workspace, "/v1/alerts", lang="en", limit=100)["alerts"] if a["dimension"] == "topic"]

    [alert] = wait_until(topic_alerts, 300, "the topics and their alert")
    listed = [a["id"] for a in api(workspace, "/v1/alerts", lang="en")["alerts"]]  # the page's call
    assert alert["id"] in listed
    page = open_map(key=key).page
    page.wait_for_selector("#alerts[aria-busy=false]")
    page.evaluate("document.querySelectorAll('#alerts details').forEach(d => { d.open = true; })")
    item = page.locator(f"#alerts li.alert[data-dimension=topic][data-id='{alert['id']}']")
    item.wait_for()
    text = item.text_content() or ""
    assert f"Emerging topic: {alert['label']} in the irritants (all stages)" in text
    assert f"{whole_percent(alert['value'])} this week" in text  # the share in %, not a count
    item.locator("button.alert-verbatims").click()
    page.wait_for_selector("#drill-list li.feedback")
    ids = page.eval_on_selector_all("#drill-list li.feedback", "items => items.map(i => +i.dataset.id)")
    assert ids == alert["verbatim_ids"]
    assert alert["label"] in (page.text_content("#drill-title") or "")
    page.click(".lang-switch button[data-lang=fr]")
    wait_in_page(page, "document.querySelector('#alerts').textContent.includes('Sujet émergent')")
    assert "les irritants (toutes étapes)" in (page.text_content("#alerts") or "")
