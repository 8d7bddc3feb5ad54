// The printable one-page report: KPIs, emotion curve, top 3 irritants and delights, alerts, filters and date.

import { Api, storedKey } from "./api.js";
import { curveSvg } from "./charts.js";
import { h, verbatim } from "./dom.js";
import * as i18n from "./i18n.js";
import { t } from "./i18n.js";
import * as views from "./views.js";

const $ = (selector) => document.querySelector(selector);
const FILTERS = ["date_from", "date_to", "kind", "source", "segment", "language", "touchpoint"];
const query = new URLSearchParams(location.search);
const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
const params = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));

function fail(text) {
  const box = $("#message");
  box.textContent = text;
  box.hidden = false;
  $("#sheet").setAttribute("aria-busy", "false");
}

function theme(item, polarity, rank) {
  const quote = item.verbatims[0];
  return h(
    "li",
    { class: `theme theme-${polarity}`, "data-stage": item.stage, "data-touchpoint": item.touchpoint },
    h(
      "div",
      { class: "theme-head" },
      h("span", { class: "rank" }, String(rank)),
      h("strong", {}, `${item.stage_label} · ${item.touchpoint_label}`),
    ),
    h(
      "div",
      { class: "stats" },
      `${t("theme_stats", { m: i18n.num(item.mentions), s: i18n.percent(item.share), v: i18n.sentiment(item.mean_sentiment) })} · ${t("theme_priority", { p: i18n.decimal(item.priority, 1) })}`,
    ),
    quote
      ? verbatim(quote.text, {
          mentions: [{ ...quote.mention, focus: true, polarity }],
          evidence: quote.evidence,
          clip: 230,
        })
      : null,
  );
}

async function main() {
  i18n.initLanguage(query.get("lang"));
  i18n.applyStatic();
  $("#print").addEventListener("click", () => window.print());
  $("#generated").textContent = t("report_generated", { date: i18n.date(new Date(), true) });
  $("#filters").textContent = views.describeFilters(filters);
  if (!storedKey()) return fail(t("report_no_key"));
  const api = new Api((error) => fail(t("key_refused", { e: error.detail })));
  const lang = i18n.lang();
  let answers;
  try {
    answers = await Promise.all([
      api.fetchJson("/v1/workspace"),
      api.fetchJson("/v1/kpis", { ...params, lang }),
      api.fetchJson("/v1/journey/curve", { ...params, lang }),
      api.fetchJson("/v1/irritants", { ...params, limit: 3, lang }),
      api.fetchJson("/v1/delights", { ...params, limit: 3, lang }),
      api.fetchJson("/v1/alerts", { ...params, lang }),
    ]);
  } catch (error) {
    if (error.status !== 401) fail(t("error_panel", { e: error.detail || error.message }));
    return;
  }
  const [workspace, kpis, curve, irritants, delights, alerts] = answers;
  $("#workspace-name").textContent = workspace.name;
  document.title = `Parcours · ${workspace.name} · ${t("report_title")}`;
  $("#kpis").replaceChildren(...views.kpiCards(kpis, curve));
  $("#curve").replaceChildren(
    curve.stages.every((st) => st.mentions === 0)
      ? views.notice("empty", t("empty_body"))
      : curveSvg(curve, { width: 760, left: 104, plotH: 120 }),
  );
  const list = (data, polarity) =>
    data.themes.length
      ? data.themes.slice(0, 3).map((item, i) => theme(item, polarity, i + 1))
      : [h("li", { class: "empty" }, t(`themes_empty_${polarity}`))];
  $("#irritants").replaceChildren(...list(irritants, "irritant"));
  $("#delights").replaceChildren(...list(delights, "delight"));
  const shown = { ...alerts, alerts: alerts.alerts.slice(0, 4) };
  $("#alerts").replaceChildren(...views.alertList(shown));
  $("#sheet").setAttribute("aria-busy", "false");
  document.body.dataset.ready = "true";
}

main();
