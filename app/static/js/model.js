// The workspace's model (GET /v1/model): its score on the workspace's corrections beside the shipped model's on the
// same items, the corrections it learnt; and the review queue (GET /v1/review-queue), least sure mentions first.

import { h } from "./dom.js";
import { date, num, percent, t } from "./i18n.js";

const QUEUE = 10;
const BUSY_POLL_MS = 1500; // while corrections wait to be learnt
const IDLE_POLL_MS = 15000;
const $ = (selector) => document.querySelector(selector);

export class ModelPanel {
  /** `onReview(feedbackId, heading)`: open that feedback in the drill-down; `name(family, id)`: a label's name. */
  constructor(api, { onReview, name }) {
    this.api = api;
    this.onReview = onReview;
    this.name = name;
    this.model = null;
    this.queue = null;
    this.timer = null;
    this.visible = false;
  }

  /** Poll while the panel is shown (faster while a refit is due). */
  show(visible) {
    this.visible = visible;
    clearTimeout(this.timer);
    if (visible) this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    try {
      const [model, queue] = await Promise.all([
        this.api.fetchJson("/v1/model"),
        this.api.fetchJson("/v1/review-queue", { limit: QUEUE }),
      ]);
      this.model = model;
      this.queue = queue.data;
      this.draw();
    } catch (error) {
      if (error.status === 401) return;
      $("#model").replaceChildren(h("p", { class: "notice notice-error" }, t("error_panel", { e: error.detail })));
    }
    if (!this.visible) return;
    const busy = this.model && (this.model.corrections_pending > 0 || this.model.status === "fitting");
    this.timer = setTimeout(() => this.refresh(), busy ? BUSY_POLL_MS : IDLE_POLL_MS);
  }

  draw() {
    if (!this.model) return;
    const m = this.model;
    const score = m.score;
    const figures = score
      ? h(
          "div",
          { class: "scores" },
          this.figure("adapted", t("model_adapted"), score.adapted),
          this.figure("shipped", t("model_shipped"), score.shipped),
        )
      : h("p", { class: "notice" }, t(m.version ? "model_no_score" : "model_nothing"));
    const facts = [
      t("model_learnt", { n: num(m.corrections_learnt), c: num(m.examples) }),
      m.corrections_pending ? t("model_pending", { n: num(m.corrections_pending) }) : null,
      score && score.adapted === null ? t("model_no_score") : null,
      score ? t("model_items", { n: num(score.items), k: num(score.folds) }) : null,
      m.fitted_at ? t("model_fitted", { date: date(m.fitted_at), s: num(m.fit_seconds ?? 0, 1) }) : null,
      m.status === "failed" ? t("model_failed", { e: m.error || "?" }) : null,
    ].filter(Boolean);
    $("#model").replaceChildren(
      h(
        "p",
        { class: "model-version", "data-version": m.version, "data-status": m.status },
        t("model_version", { base: m.base_model, v: num(m.version) }),
      ),
      figures,
      h(
        "ul",
        { class: "model-facts", "data-learnt": m.corrections_learnt, "data-pending": m.corrections_pending },
        facts.map((f) => h("li", {}, f)),
      ),
      score ? h("p", { class: "panel-hint" }, t("model_hint")) : null,
    );
    this.drawQueue();
  }

  figure(id, title, value) {
    return h(
      "div",
      { class: `score score-${id}`, "data-score": id },
      h("div", { class: "kpi-title" }, title),
      h("div", { class: "kpi-value", "data-value": value ?? "" }, percent(value)),
    );
  }

  drawQueue() {
    const box = $("#review-queue");
    if (!this.queue?.length) {
      box.replaceChildren(h("p", { class: "notice" }, t("review_empty")));
      return;
    }
    box.replaceChildren(
      h(
        "ol",
        { class: "review-list" },
        this.queue.map((item) =>
          h(
            "li",
            { class: "review-item", "data-feedback": item.feedback_id, "data-mention": item.mention },
            h(
              "button",
              {
                type: "button",
                class: "link",
                onclick: () => this.onReview(item.feedback_id, t("review_heading", { words: item.text })),
              },
              `« ${item.text} »`,
            ),
            h(
              "span",
              { class: "review-labels" },
              [
                this.name("stages", item.stage),
                this.name("touchpoints", item.touchpoint),
                t(`polarity_${item.polarity}`),
                t("review_confidence", { p: percent(item.confidence) }),
              ].join(" · "),
            ),
          ),
        ),
      ),
    );
  }
}
