// The page's panels from the API's answers: KPIs, alerts, the stage table, irritants and delights, topics, verbatims.

import { DELIGHT, IRRITANT, sentimentColour, sparkline } from "./charts.js";
import { h, verbatim } from "./dom.js";
import { DASH, date, decimal, emotion, mentions as mentionsText, num, percent, sentiment, t } from "./i18n.js";

/** A panel's message (empty, loading or error state). */
export function notice(kind, text, ...extra) {
  return h(
    "div",
    { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null },
    h("p", {}, text),
    ...extra,
  );
}

function kpiCard(id, title, value, sub, raw) {
  return h(
    "div",
    { class: "kpi", "data-kpi": id },
    h("div", { class: "kpi-title" }, title),
    h("div", { class: "kpi-value", "data-value": raw ?? "" }, value),
    h("div", { class: "kpi-sub" }, sub),
  );
}

/** The KPI cards: feedback analysed, NPS, CSAT, mean rating (overall). */
export function kpiCards(kpis, curve) {
  const o = kpis.overall;
  const total = curve ? curve.stages.reduce((sum, st) => sum + st.mentions, 0) : null;
  return [
    kpiCard(
      "feedback",
      t("kpi_feedback"),
      num(o.feedback),
      total === null ? "" : t("kpi_feedback_sub", { m: num(total) }),
      o.feedback,
    ),
    kpiCard(
      "nps",
      t("kpi_nps"),
      decimal(o.nps, 1, true),
      o.nps_answers
        ? t("kpi_nps_sub", { n: num(o.nps_answers), p: num(o.promoters), d: num(o.detractors) })
        : t("kpi_nps_none"),
      o.nps,
    ),
    kpiCard(
      "csat",
      t("kpi_csat"),
      o.csat === null ? DASH : percent(o.csat / 100, 1),
      o.rated ? t("kpi_csat_sub", { n: num(o.rated) }) : t("kpi_none"),
      o.csat,
    ),
    kpiCard(
      "rating",
      t("kpi_rating"),
      o.mean_rating === null ? DASH : `${num(o.mean_rating, 2)} / 5`,
      o.rated ? t("kpi_rating_sub", { n: num(o.rated) }) : t("kpi_none"),
      o.mean_rating,
    ),
  ];
}

const SHOWN_ALERTS = 5;

const SHARES = new Set(["irritant_share", "topic_share"]);

function alertValue(metric, value) {
  return SHARES.has(metric) ? percent(value) : decimal(value, 1);
}

/** A change in the metric's unit: percentage points for a share, mentions for a volume. */
function alertDelta(metric, delta) {
  return SHARES.has(metric)
    ? t("points", { n: decimal(delta * 100, 0, true) })
    : t("mentions_delta", { n: decimal(delta, 1, true) });
}

/** A topic's slice in words: "stage=support|polarity=irritant" -> "the irritants of Support". */
export function sliceText(slice, stageLabel = (id) => id) {
  const parts = Object.fromEntries(
    String(slice || "")
      .split("|")
      .map((part) => part.split("=")),
  );
  const polarity = ["irritant", "delight", "neutral"].includes(parts.polarity) ? parts.polarity : "irritant";
  const stage = parts.stage && parts.stage !== "*" ? stageLabel(parts.stage) : null;
  return stage ? t(`slice_${polarity}_stage`, { stage }) : t(`slice_${polarity}_all`);
}

function alertNumbers(alert) {
  const value = alertValue(alert.metric, alert.value);
  const baseline = alertValue(alert.metric, alert.baseline_mean);
  const n = num(alert.mentions);
  if (alert.q_value === undefined) return t("alert_numbers", { value, baseline, n, z: decimal(alert.z, 2, true) });
  const q = alert.q_value < 0.001 ? "< 0.001" : `= ${num(alert.q_value, 3)}`;
  const delta = alertDelta(alert.metric, alert.delta ?? alert.value - alert.baseline_mean);
  return t("alert_numbers_q", { value, baseline, delta, n, q });
}

function alertTitle(alert, stageLabel) {
  if (alert.dimension === "topic")
    return t("alert_topic", { label: alert.label, slice: sliceText(alert.slice, stageLabel) });
  return t("alert_text", {
    label: alert.label,
    dimension: t(`dimension_${alert.dimension}`),
    metric: t(`metric_${alert.metric}`),
    direction: t(`dir_${alert.direction}`),
  });
}

/** One alert; a topic alert links to its verbatims (`onVerbatims(ids, title)`). */
function alertItem(alert, { stageLabel, onVerbatims }) {
  const bad = (alert.metric === "irritant_share" || alert.metric === "topic_share") && alert.direction === "up";
  const ids = alert.verbatim_ids || [];
  const title = alertTitle(alert, stageLabel);
  return h(
    "li",
    {
      class: `alert ${bad ? "alert-bad" : "alert-info"}`,
      "data-id": alert.id,
      "data-dimension": alert.dimension,
      "data-metric": alert.metric,
      "data-z": alert.z,
    },
    h("span", { class: "alert-arrow", "aria-hidden": "true" }, alert.direction === "up" ? "▲" : "▼"),
    h(
      "div",
      {},
      h("strong", {}, title),
      h("div", { class: "alert-numbers" }, alertNumbers(alert)),
      ids.length && onVerbatims
        ? h(
            "button",
            { type: "button", class: "link alert-verbatims", onclick: () => onVerbatims(ids, title) },
            t("alert_verbatims", { n: num(ids.length) }),
          )
        : null,
    ),
  );
}

/** How many alerts the answer found (the API may cap the list it sends: `total` counts them all). */
export function alertCount(data) {
  return data.total ?? data.alerts.length;
}

/** Why there is no alert yet: too little history (the API says how much is needed), or no data at all. */
function noAlertReason(data) {
  if (data.status === "insufficient_history") {
    const parts = [t("alerts_history", { n: num(data.weeks_needed), k: num(data.weeks_with_data ?? 0) })];
    if (data.mentions_needed && (data.baseline_mentions ?? 0) < data.mentions_needed)
      parts.push(t("alerts_history_mentions", { m: num(data.mentions_needed), k: num(data.baseline_mentions ?? 0) }));
    return notice("history", parts.join(" "));
  }
  if (!data.as_of || data.status === "no_data") return notice("empty", t("alerts_no_data"));
  return null;
}

/** The alerts of the week, strongest first: the first few listed, the others folded; or why there is none. */
export function alertList(data, { shown = SHOWN_ALERTS, stageLabel = (id) => id, onVerbatims = null } = {}) {
  const reason = noAlertReason(data);
  if (reason) return [reason];
  const week = h(
    "p",
    { class: "panel-hint" },
    t("alerts_week", { from: date(data.week.from), to: date(data.week.to), weeks: data.baseline.weeks }),
  );
  if (!data.alerts.length) return [week, notice("ok", t("alerts_none"))];
  const items = data.alerts.map((alert) => alertItem(alert, { stageLabel, onVerbatims }));
  const more = items.slice(shown);
  const hidden = alertCount(data) - data.alerts.length;
  return [
    week,
    h("ul", { class: "alerts" }, items.slice(0, shown)),
    more.length
      ? h(
          "details",
          { class: "more-alerts" },
          h("summary", {}, t("alerts_more", { n: more.length })),
          h("ul", { class: "alerts" }, more),
        )
      : null,
    hidden > 0
      ? h("p", { class: "panel-hint" }, t("alerts_capped", { n: num(data.alerts.length), total: num(alertCount(data)) }))
      : null,
  ].filter(Boolean);
}

function chip(value) {
  return h("span", { class: "chip", style: `background:${sentimentColour(value)}`, "aria-hidden": "true" });
}

/** The stage-by-stage table: the curve's figures and the KPIs per stage, stages across (as on the map). */
export function stageTable(curve, kpis) {
  const perStage = new Map((kpis?.stages || []).map((k) => [k.stage, k]));
  const rows = [
    [t("row_mentions"), (st) => num(st.mentions)],
    [
      t("row_sentiment"),
      (st) => (st.mean_sentiment === null ? DASH : [chip(st.mean_sentiment), sentiment(st.mean_sentiment)]),
    ],
    [t("row_ci"), (st) => (st.ci_low === null ? DASH : `${sentiment(st.ci_low)} … ${sentiment(st.ci_high)}`)],
    [t("row_irritants"), (st) => percent(st.irritant_share)],
    [t("row_delights"), (st) => percent(st.delight_share)],
    [t("row_net"), (st) => decimal(st.net_sentiment, 0, true)],
    [
      t("row_emotion"),
      (st) => (st.emotions.length ? `${emotion(st.emotions[0].emotion)} (${percent(st.emotions[0].share)})` : DASH),
    ],
    [t("row_nps"), (st) => decimal(perStage.get(st.stage)?.nps, 1, true)],
    [
      t("row_csat"),
      (st) => {
        const k = perStage.get(st.stage);
        return k?.csat == null ? DASH : percent(k.csat / 100, 1);
      },
    ],
    [
      t("row_rating"),
      (st) => {
        const k = perStage.get(st.stage);
        return k?.mean_rating == null ? DASH : `${num(k.mean_rating, 2)} / 5`;
      },
    ],
  ];
  if (curve.period) {
    rows.push([
      t("row_change"),
      (st) => {
        const c = st.change;
        const delta = c ? (c.mean_sentiment_delta ?? c.mean_sentiment) : null; // named as a delta since issue 12
        if (delta === null || delta === undefined) return DASH;
        return h(
          "span",
          { class: c.significant ? "change significant" : "change" },
          sentiment(delta),
          h("small", {}, ` (${c.significant ? t("significant") : t("not_significant")})`),
        );
      },
    ]);
  }
  return h(
    "table",
    { class: "stage-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, ""),
        curve.stages.map((st) => h("th", { scope: "col" }, st.label)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map(([name, cell]) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, name),
          curve.stages.map((st) => h("td", { "data-stage": st.stage }, cell(st))),
        ),
      ),
    ),
  );
}

function themeVerbatim(v, polarity) {
  return verbatim(v.text, {
    mentions: [{ ...v.mention, focus: true, polarity }],
    evidence: v.evidence,
    clip: 420,
  });
}

/** A catch-all theme split by its topics: each topic's label, mentions and most typical verbatim. */
function subThemes(topics, polarity) {
  return h(
    "div",
    { class: "sub-themes" },
    h("p", { class: "theme-topics" }, h("span", { class: "label" }, t("theme_split"))),
    h(
      "ul",
      {},
      topics.map((topic) =>
        h(
          "li",
          { class: "sub-theme", "data-topic": topic.id },
          h("strong", {}, topic.label),
          ` · ${mentionsText(topic.mentions)}`,
          topic.verbatims?.[0]?.mention ? themeVerbatim(topic.verbatims[0], polarity) : null,
        ),
      ),
    ),
  );
}

/** Top irritants or delights: theme cards with figures, topics and verbatims (the mention highlighted). */
export function themeList(data, polarity, onRead) {
  if (!data.themes.length) return [notice("empty", t(`themes_empty_${polarity}`))];
  const colour = polarity === "irritant" ? IRRITANT : DELIGHT;
  const items = data.themes.map((theme, index) => {
    const [first, ...others] = theme.verbatims;
    const impact = theme.impact || {};
    return h(
      "li",
      { class: `theme theme-${polarity}`, "data-stage": theme.stage, "data-touchpoint": theme.touchpoint },
      h(
        "div",
        { class: "theme-head" },
        h("span", { class: "theme-rank", "aria-hidden": "true" }, String(index + 1)),
        h("h4", {}, `${theme.stage_label} · ${theme.touchpoint_label}`),
        h(
          "span",
          { class: "theme-priority", "data-priority": theme.priority },
          t("theme_priority", { p: decimal(theme.priority, 1) }),
        ),
      ),
      h(
        "p",
        { class: "theme-stats" },
        t("theme_stats", { m: num(theme.mentions), s: percent(theme.share), v: sentiment(theme.mean_sentiment) }),
      ),
      h(
        "p",
        { class: "theme-stats" },
        t("theme_impact", { r: decimal(impact.rating, 2, true), n: decimal(impact.nps, 1, true) }),
        " · ",
        t("theme_trend", { d: t(`trend_${theme.trend.direction}`) }),
        theme.trend.recent_share != null && theme.trend.previous_share != null
          ? ` (${t("trend_shares", { a: percent(theme.trend.previous_share), b: percent(theme.trend.recent_share) })})`
          : "",
        " ",
        sparkline(theme.trend.weeks, colour),
      ),
      theme.sub_themes?.length ? subThemes(theme.sub_themes, polarity) : null,
      theme.topics?.length
        ? h(
            "p",
            { class: "theme-topics" },
            h("span", { class: "label" }, t("theme_topics")),
            theme.topics.slice(0, 3).map((tp) => h("span", { class: "tag" }, `${tp.label} (${num(tp.mentions)})`)),
          )
        : null,
      first ? themeVerbatim(first, polarity) : null,
      others.length
        ? h(
            "details",
            {},
            h("summary", {}, t("more_verbatims", { n: others.length })),
            others.map((v) => themeVerbatim(v, polarity)),
          )
        : null,
      h(
        "button",
        { type: "button", class: "link", onclick: () => onRead(theme.stage, theme.touchpoint) },
        t("theme_read"),
      ),
    );
  });
  return [h("ol", { class: "themes" }, items)];
}

/** The topics of a slice: computing, done (label words, size, verbatims), or failed. */
export function topicList(data) {
  if (data.status === "computing") return [notice("loading", t("topics_computing"))];
  if (data.status === "failed" || data.error)
    return [notice("error", t("topics_error", { e: data.error || data.status }))];
  if (!data.topics.length) return [notice("empty", t("topics_empty"))];
  return [
    h(
      "ul",
      { class: "topics" },
      data.topics.slice(0, 8).map((topic) =>
        h(
          "li",
          { class: topic.mixed ? "topic topic-mixed" : "topic", "data-topic": topic.id, "data-mixed": topic.mixed },
          h("h4", {}, topic.label),
          h(
            "p",
            { class: "theme-stats" },
            `${t("topic_size", { n: num(topic.size) })} · ${t("row_sentiment").toLowerCase()} ${sentiment(topic.mean_sentiment)}`,
          ),
          h(
            "p",
            { class: "topic-words" },
            topic.words.map((w) => h("span", { class: "tag" }, w)),
          ),
          topic.verbatims.slice(0, 2).map((v) => h("blockquote", { class: "verbatim small" }, v.text)),
        ),
      ),
    ),
  ];
}

/** One piece of feedback in the drill-down, the mentions of the selected stage (or cell) highlighted (all of
 * them for `focus.all`); every mention is a button that opens the correction menu. */
export function feedbackItem(item, focus, labels) {
  const isFocus = (m) =>
    focus.all || (m.stage === focus.stage && (!focus.touchpoint || m.touchpoint === focus.touchpoint));
  const describe = (m) =>
    `${labels.stage(m.stage)} · ${labels.touchpoint(m.touchpoint)} · ${t(`polarity_${m.polarity}`)} ${sentiment(m.sentiment)}`;
  // rank: the mention's place in the feedback's mentions, as a correction names it.
  const marks = (item.mentions || []).map((m, rank) => ({ ...m, rank, focus: isFocus(m), title: describe(m) }));
  const meta = [
    date(item.created_at || item.received_at),
    item.source,
    item.kind ? t(`kind_${item.kind}`) : null,
    item.rating !== null ? `${t("rating")} ${decimal(item.rating, 1)} / ${decimal(item.rating_scale || 5, 0)}` : null,
    item.nps !== null ? `NPS ${item.nps}` : null,
    item.language ? item.language.toUpperCase() : null,
  ].filter(Boolean);
  const quote = verbatim(item.text, { mentions: marks, evidence: item.evidence || [] });
  if (item.language) quote.setAttribute("lang", item.language);
  return h(
    "li",
    { class: "feedback", "data-id": item.id },
    quote,
    h(
      "p",
      { class: "feedback-tags" },
      marks
        .filter((m) => m.focus)
        .map((m) =>
          h(
            "span",
            { class: `tag pol-${m.polarity}` },
            [
              t(`polarity_${m.polarity}`) + " " + sentiment(m.sentiment),
              labels.touchpoint(m.touchpoint),
              m.emotion !== "none" ? emotion(m.emotion) : null,
            ]
              .filter(Boolean)
              .join(" · "),
          ),
        ),
    ),
    h("p", { class: "feedback-meta" }, meta.join(" · ")),
  );
}

/** The filters in words ("From 1 May 2026 · Reviews · FR"), or "all feedback". */
export function describeFilters(filters) {
  const parts = [];
  if (filters.date_from) parts.push(`${t("date_from")} ${date(filters.date_from)}`);
  if (filters.date_to) parts.push(`${t("date_to")} ${date(filters.date_to)}`);
  if (filters.kind) parts.push(t(`kind_${filters.kind}`));
  if (filters.source) parts.push(`${t("source")}: ${filters.source}`);
  if (filters.segment) parts.push(`${t("segment")}: ${filters.segment}`);
  if (filters.language) parts.push(`${t("language_filter")}: ${filters.language.toUpperCase()}`);
  if (filters.touchpoint) parts.push(`${t("touchpoint_filter")}: ${filters.touchpoint}`);
  return parts.length ? parts.join(" · ") : t("report_all_feedback");
}
