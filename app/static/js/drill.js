// The drill-down: the verbatims of a stage (curve), a cell (heat map) or a list of feedback (an alert, the review
// queue), their mentions and evidence highlighted; js/corrections.js corrects them in place.

import { h } from "./dom.js";
import { num, t } from "./i18n.js";
import { feedbackItem } from "./views.js";

const PAGE = 10;
const $ = (selector) => document.querySelector(selector);

export class Drill {
  /**
   * `filters()`: the page's filter parameters; `labels`: {stage(id), touchpoint(id)} in the current language;
   * `count(selection)`: how many pieces of feedback the API counted for it (from the curve or the matrix).
   */
  constructor(api, { filters, labels, count }) {
    this.api = api;
    this.filters = filters;
    this.labels = labels;
    this.count = count;
    this.selection = null; // {stage, touchpoint, cursor, items} or {ids, heading, items}
    $("#drill-more").addEventListener("click", () => this.page(true));
    $("#drill-close").addEventListener("click", () => this.close());
  }

  async open(stage, touchpoint = null) {
    const current = this.selection;
    const moved = !current || current.stage !== stage || current.touchpoint !== touchpoint;
    this.selection = { stage, touchpoint, cursor: null, items: [] };
    this.mark();
    const section = $("#drill");
    section.hidden = false;
    this.title();
    $("#drill-list").replaceChildren(h("li", { class: "notice notice-loading" }, t("loading")));
    $("#drill-list").setAttribute("aria-busy", "true");
    if (moved) section.scrollIntoView({ behavior: "smooth", block: "start" });
    await this.page(false);
    if (moved) section.focus({ preventScroll: true });
  }

  /** Show these pieces of feedback (an alert's verbatims, the review queue), every mention highlighted. */
  async openFeedback(ids, heading) {
    this.selection = { ids: [...ids], heading, all: true, items: [] };
    this.mark();
    const section = $("#drill");
    section.hidden = false;
    this.title();
    $("#drill-more").hidden = true;
    $("#drill-list").replaceChildren(h("li", { class: "notice notice-loading" }, t("loading")));
    section.scrollIntoView({ behavior: "smooth", block: "start" });
    await this.listed();
    section.focus({ preventScroll: true });
  }

  async listed() {
    const chosen = this.selection;
    const list = $("#drill-list");
    const settled = await Promise.allSettled(chosen.ids.map((id) => this.api.fetchJson(`/v1/feedback/${id}`)));
    if (this.selection !== chosen) return;
    chosen.items = settled
      .filter((r) => r.status === "fulfilled")
      .map(({ value }) => ({ ...value, evidence: value.segments.flatMap((segment) => segment.evidence) }));
    const items = chosen.items.map((item) => feedbackItem(item, chosen, this.labels));
    list.replaceChildren(...(items.length ? items : [h("li", { class: "notice notice-empty" }, t("drill_empty"))]));
    list.setAttribute("aria-busy", "false");
  }

  /** Load the selection again (the filters changed). */
  reload() {
    if (this.selection?.ids) this.listed();
    else if (this.selection) this.open(this.selection.stage, this.selection.touchpoint);
  }

  /** Show a corrected feedback's mentions as they now are, in place (`mentions`: the correction's answer). */
  replaceMentions(feedbackId, mentions) {
    const chosen = this.selection;
    const item = chosen?.items.find((i) => i.id === feedbackId);
    if (!item) return;
    item.mentions = mentions;
    const node = document.querySelector(`#drill-list li.feedback[data-id="${feedbackId}"]`);
    node?.replaceWith(feedbackItem(item, chosen, this.labels));
  }

  /** The feedback of the drill-down, as loaded (text and mentions). */
  item(feedbackId) {
    return this.selection?.items.find((i) => i.id === feedbackId) || null;
  }

  close() {
    this.selection = null;
    $("#drill").hidden = true;
    this.mark();
  }

  /** Show the selected stage column or heat-map cell as pressed (without redrawing the charts). */
  mark() {
    const chosen = this.selection;
    for (const node of document.querySelectorAll("#curve .stage-col")) {
      const on = Boolean(chosen && !chosen.touchpoint && chosen.stage === node.dataset.stage);
      node.classList.toggle("selected", on);
      node.setAttribute("aria-pressed", String(on));
      node.querySelector(".col-bg")?.setAttribute("fill", on ? "#e8ebfb" : "transparent");
    }
    for (const node of document.querySelectorAll("#heatmap .heat-cell")) {
      const on = Boolean(
        chosen?.touchpoint && chosen.stage === node.dataset.stage && chosen.touchpoint === node.dataset.touchpoint,
      );
      node.classList.toggle("selected", on);
    }
  }

  title() {
    if (this.selection.ids) {
      $("#drill-title").textContent = this.selection.heading;
      $("#drill-count").textContent = t("drill_count_listed", { n: num(this.selection.ids.length) });
      return;
    }
    const { stage, touchpoint } = this.selection;
    $("#drill-title").textContent = touchpoint
      ? t("drill_cell", { stage: this.labels.stage(stage), touchpoint: this.labels.touchpoint(touchpoint) })
      : t("drill_stage", { stage: this.labels.stage(stage) });
    const count = this.count(this.selection);
    $("#drill-count").textContent = count ? t("drill_count", { n: num(count) }) : "";
  }

  async page(append) {
    const chosen = this.selection;
    const list = $("#drill-list");
    try {
      const answer = await this.api.fetchJson("/v1/feedback", {
        ...this.filters(),
        stage: chosen.stage,
        ...(chosen.touchpoint ? { touchpoint: chosen.touchpoint } : {}), // else the touchpoint filter, if any
        include: "mentions",
        limit: PAGE,
        cursor: append ? chosen.cursor : null,
      });
      if (this.selection !== chosen) return; // another stage or cell was chosen meanwhile
      chosen.cursor = answer.next_cursor;
      chosen.items = append ? [...chosen.items, ...answer.data] : answer.data;
      const items = answer.data.map((item) => feedbackItem(item, chosen, this.labels));
      if (append) list.append(...items);
      else
        list.replaceChildren(...(items.length ? items : [h("li", { class: "notice notice-empty" }, t("drill_empty"))]));
      $("#drill-more").hidden = !answer.next_cursor;
    } catch (error) {
      if (error.status !== 401)
        list.replaceChildren(
          h("li", { class: "notice notice-error" }, t("error_panel", { e: error.detail || error.message })),
        );
    }
    list.setAttribute("aria-busy", "false");
  }

  /** Draw the loaded verbatims again in the current language. */
  redraw() {
    if (!this.selection) return;
    this.title();
    const items = this.selection.items.map((item) => feedbackItem(item, this.selection, this.labels));
    if (items.length) $("#drill-list").replaceChildren(...items);
  }
}
