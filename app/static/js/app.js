// The journey map page: key, language, filters, ETag polling that re-renders only what changed, drill-down.

import { Api, forgetKey, queryString, storedKey, storeKey, takeKeyFromFragment } from "./api.js";
import { curveSvg, heatmapSvg } from "./charts.js";
import { Corrections } from "./corrections.js";
import { h } from "./dom.js";
import { Drill } from "./drill.js";
import { downloadPng, downloadSvg, mapSvg } from "./export.js";
import * as i18n from "./i18n.js";
import { t } from "./i18n.js";
import { ModelPanel } from "./model.js";
import { Taxonomy } from "./taxonomy.js";
import { Uploader } from "./upload.js";
import * as views from "./views.js";

const $ = (selector) => document.querySelector(selector);
const FILTERS = ["date_from", "date_to", "kind", "source", "segment", "language", "touchpoint"];
// Right after a write the server may answer from a workspace row cached up to 1 s (workspace_ttl_seconds): the
// page polls at once and again after these delays, so that a correction or an edit shows without waiting.
const AFTER_WRITE_MS = [1200, 2600];
const FILTER_STORE = "parcours.filters";
const KINDS = ["review", "survey", "social"];
const POLL_MS = 5000;
const FAST_POLL_MS = 2000;
const pollOverride = Number(new URLSearchParams(location.search).get("poll")) || null;

const api = new Api((error) => askKey(t("key_refused", { e: error.detail })));
const state = {
  filters: loadFilters(),
  focus: "",
  labels: { stage: {}, touchpoint: {} },
  data: {},
  locked: true,
  facets: { kind: new Set(KINDS), source: new Set(), segment: new Set(), language: new Set() },
};
// What the tests (and a curious engineer in the console) can read: renders per view, polling cycles.
const debug = { renders: {}, cycles: 0, lastCycle: null, api: api.stats };
window.__parcours = debug;

function loadFilters() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(FILTER_STORE) || "{}");
    return Object.fromEntries(FILTERS.map((name) => [name, typeof saved[name] === "string" ? saved[name] : ""]));
  } catch {
    return Object.fromEntries(FILTERS.map((name) => [name, ""]));
  }
}

function filterParams() {
  return Object.fromEntries(Object.entries(state.filters).filter(([, value]) => value));
}

const filtered = () => Object.keys(filterParams()).length > 0;
const lang = () => i18n.lang();

// --- Sources (one API answer each) and views (one part of the page each, drawn from one or more sources).

const SOURCES = {
  curve: () => ["/v1/journey/curve", { ...filterParams(), lang: lang() }],
  matrix: () => ["/v1/journey/matrix", { ...filterParams(), lang: lang() }],
  kpis: () => ["/v1/kpis", { ...filterParams(), lang: lang() }],
  alerts: () => ["/v1/alerts", { ...filterParams(), lang: lang() }],
  irritants: () => ["/v1/irritants", { ...filterParams(), stage: state.focus, limit: 5, lang: lang() }],
  delights: () => ["/v1/delights", { ...filterParams(), stage: state.focus, limit: 5, lang: lang() }],
  topics: () => ["/v1/topics", { stage: state.focus, polarity: "irritant", lang: lang() }],
};

function emptyNotice() {
  return views.notice("empty", filtered() ? t("empty_filtered") : t("empty_body"));
}

const noMentions = (curve) => curve.stages.every((stage) => stage.mentions === 0);

const VIEWS = [
  {
    id: "kpis",
    deps: ["kpis", "curve"],
    el: "#kpis",
    render: ([kpis, curve]) => {
      showEmpty(kpis.overall.feedback === 0 && !filtered());
      return views.kpiCards(kpis, curve);
    },
  },
  {
    id: "alerts",
    deps: ["alerts"],
    el: "#alerts",
    render: ([alerts]) => {
      const count = views.alertCount(alerts);
      $("#alerts-count").hidden = count === 0;
      $("#alerts-count").textContent = String(count);
      return views.alertList(alerts, {
        stageLabel: (id) => state.labels.stage[id] || id,
        onVerbatims: (ids, title) => drill.openFeedback(ids, title),
      });
    },
  },
  {
    id: "curve",
    deps: ["curve"],
    el: "#curve",
    render: ([curve]) => {
      for (const stage of curve.stages) state.labels.stage[stage.stage] = stage.label;
      focusOptions(curve.stages);
      if (noMentions(curve)) return [emptyNotice()];
      const selected = drill.selection && !drill.selection.touchpoint ? drill.selection.stage : null;
      return [curveSvg(curve, { selected, onSelect: (stage) => openDrill(stage) })];
    },
  },
  {
    id: "heatmap",
    deps: ["matrix"],
    el: "#heatmap",
    render: ([matrix]) => {
      for (const tp of matrix.touchpoints) state.labels.touchpoint[tp.touchpoint] = tp.label;
      if (!matrix.cells.length) return [emptyNotice()];
      const selected = drill.selection?.touchpoint ? drill.selection : null;
      return [heatmapSvg(matrix, { selected, onSelect: (stage, touchpoint) => openDrill(stage, touchpoint) })];
    },
  },
  {
    id: "stages",
    deps: ["curve", "kpis"],
    el: "#stages",
    render: ([curve, kpis]) => (noMentions(curve) ? [emptyNotice()] : [views.stageTable(curve, kpis)]),
  },
  {
    id: "irritants",
    deps: ["irritants"],
    el: "#irritants",
    render: ([data]) => views.themeList(data, "irritant", openDrill),
  },
  {
    id: "delights",
    deps: ["delights"],
    el: "#delights",
    render: ([data]) => views.themeList(data, "delight", openDrill),
  },
  { id: "topics", deps: ["topics"], el: "#topics", render: ([data]) => views.topicList(data) },
];
for (const view of VIEWS) {
  view.tag = null;
  debug.renders[view.id] = 0;
}

function focusKey(node) {
  const stage = node?.dataset?.stage;
  return stage
    ? `[data-stage="${stage}"]${node.dataset.touchpoint ? `[data-touchpoint="${node.dataset.touchpoint}"]` : ""}`
    : null;
}

function draw(view, nodes) {
  const box = $(view.el);
  const focused = box.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  box.replaceChildren(...nodes);
  box.setAttribute("aria-busy", "false");
  if (focused) box.querySelector(`${focused}[tabindex]`)?.focus({ preventScroll: true });
}

// --- Polling: every source with If-None-Match; a view is drawn again only when one of its answers changed.

let timer = null;
let running = false;
let again = false;
let generation = 0;

function schedule() {
  clearTimeout(timer);
  if (state.locked) return;
  const busy = state.data.topics?.status === "computing" || uploader?.active;
  timer = setTimeout(refresh, pollOverride || (busy ? FAST_POLL_MS : POLL_MS));
}

async function refresh() {
  if (state.locked) return;
  if (running) {
    again = true;
    return;
  }
  if (document.hidden) return schedule();
  running = true;
  clearTimeout(timer);
  const started = generation;
  const names = Object.keys(SOURCES);
  const settled = await Promise.allSettled(names.map((name) => api.get(...SOURCES[name]())));
  running = false;
  try {
    if (started === generation && !state.locked) apply(names, settled);
  } catch (error) {
    console.error(error); // a drawing bug must not stop the polling
  }
  if (again || started !== generation) {
    again = false;
    return refresh();
  }
  schedule();
}

/** Keep the answers and draw the views whose answers changed. */
function apply(names, settled) {
  const results = {};
  const failures = [];
  names.forEach((name, i) =>
    settled[i].status === "fulfilled" ? (results[name] = settled[i].value) : failures.push(settled[i].reason),
  );
  if (failures.some((error) => error.status === 401)) return; // the key prompt is up
  for (const [name, result] of Object.entries(results)) state.data[name] = result.body;
  let rendered = 0;
  for (const view of VIEWS) {
    if (view.deps.every((dep) => results[dep])) {
      // Drawn again only when what it shows changed: same URL and same content (whatever the ETag) is a no-op.
      const tag = view.deps.map((dep) => `${results[dep].url}\n${results[dep].text}`).join("\n\n");
      if (tag === view.tag) continue;
      draw(view, view.render(view.deps.map((dep) => results[dep].body)));
      view.tag = tag;
      debug.renders[view.id] += 1;
      rendered += 1;
    } else if (view.tag === null) {
      const error = failures[0];
      draw(view, [views.notice("error", t("error_panel", { e: error?.detail || error?.message || "?" }))]);
      view.tag = "error";
    }
  }
  const changed = Object.values(results).filter((r) => r.changed).length;
  debug.cycles += 1;
  debug.lastCycle = {
    changed,
    notModified: names.length - failures.length - changed,
    rendered,
    failures: failures.length,
  };
  setLive(failures.length ? "offline" : rendered ? "updated" : "same");
}

/** A write (correction, taxonomy edit, re-analysis) changed the figures: poll now and once the cache expired. */
function refreshSoon() {
  reload();
  for (const ms of AFTER_WRITE_MS) setTimeout(refresh, ms);
}

/** Something the polls depend on changed (filters, focus, language): answer with fresh URLs now. */
function reload({ redraw = false } = {}) {
  generation += 1;
  if (redraw) for (const view of VIEWS) view.tag = null;
  refresh();
}

let liveState = null;
/** The header's status: "connecting", "offline", "updated" (data changed now) or "same" (nothing changed). */
function setLive(kind) {
  if (kind === "same") {
    if (liveState === "live") return; // a 304 touches nothing on the page
    kind = "live";
  }
  if (kind === "updated") {
    state.updatedAt = new Date();
    kind = "live";
  }
  liveState = kind;
  paintLive();
}

function paintLive() {
  $("#live").dataset.state = liveState;
  const text = { offline: t("offline"), connecting: t("connecting") }[liveState];
  $("#live-text").textContent =
    text || (state.updatedAt ? `${t("live")} · ${t("updated", { time: i18n.time(state.updatedAt) })}` : t("live"));
}

/** The "No feedback yet" card: shown for an empty workspace, gone as soon as an upload starts. */
function showEmpty(empty) {
  $("#empty").hidden = !empty || uploader.active;
  if (empty && !uploader.active) toggleImport(true);
}

// --- Access: the key from #key=, sessionStorage or the prompt; a 401 brings the prompt back.

function askKey(message = "") {
  state.locked = true;
  clearTimeout(timer);
  const dialog = $("#key-dialog");
  const error = $("#key-error");
  error.hidden = !message;
  error.textContent = message;
  if (!dialog.open) dialog.showModal();
  $("#key-input").focus();
}

async function openWorkspace() {
  state.locked = false;
  try {
    const workspace = await api.fetchJson("/v1/workspace");
    $("#workspace-name").textContent = workspace.name;
    $("#workspace").hidden = false;
    document.title = `Parcours · ${workspace.name}`;
    state.workspace = workspace;
  } catch (error) {
    if (error.status !== 401) setLive("offline");
    if (error.status === 401) return;
  }
  setLive("connecting");
  loadFacets();
  taxonomy.load().then(fillFilterOptions);
  reload({ redraw: true });
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("#key-input").value.trim();
  if (!key) {
    askKey(t("key_missing"));
    return;
  }
  storeKey(key);
  $("#key-input").value = "";
  $("#key-dialog").close();
  api.cache.clear();
  openWorkspace();
});
$("#key-dialog").addEventListener("cancel", (event) => {
  if (state.locked) event.preventDefault(); // nothing to show without a key
});
$("#change-key").addEventListener("click", () => {
  forgetKey();
  api.cache.clear();
  askKey();
});

// --- Filters: options from the feedback itself, applied to every call.

async function loadFacets() {
  try {
    const page = await api.fetchJson("/v1/feedback", { limit: 500 });
    for (const item of page.data)
      for (const name of ["kind", "source", "segment", "language"]) if (item[name]) state.facets[name].add(item[name]);
  } catch {
    /* the selects keep what they have */
  }
  fillFilterOptions();
}

function optionLabel(name, value) {
  if (name === "kind") return i18n.has(`kind_${value}`) ? t(`kind_${value}`) : value;
  if (name === "language") return i18n.has(`lang_${value}`) ? t(`lang_${value}`) : value.toUpperCase();
  return value;
}

/** The touchpoint filter offers the workspace's active touchpoints (a saved one no longer active is dropped). */
function fillTouchpointFilter() {
  const select = $("#filters").elements.touchpoint;
  const active = taxonomy.active("touchpoints").filter((label) => label.id !== "none");
  if (taxonomy.data && state.filters.touchpoint && !active.some((l) => l.id === state.filters.touchpoint)) {
    state.filters.touchpoint = "";
    sessionStorage.setItem(FILTER_STORE, JSON.stringify(state.filters));
    reload();
  }
  const wanted = [["", t("all")], ...active.map((label) => [label.id, taxonomy.name("touchpoints", label.id)])];
  if (state.filters.touchpoint && !taxonomy.data) wanted.push([state.filters.touchpoint, state.filters.touchpoint]);
  if (!sameOptions(select, wanted))
    select.replaceChildren(...wanted.map(([value, text]) => h("option", { value }, text)));
  select.value = state.filters.touchpoint;
}

function fillFilterOptions() {
  const form = $("#filters");
  fillTouchpointFilter();
  for (const name of ["kind", "source", "segment", "language"]) {
    const select = form.elements[name];
    const values = new Set(state.facets[name]);
    if (state.filters[name]) values.add(state.filters[name]);
    const sorted = [...values].sort((a, b) => optionLabel(name, a).localeCompare(optionLabel(name, b), lang()));
    const wanted = [["", t("all")], ...sorted.map((v) => [v, optionLabel(name, v)])];
    if (!sameOptions(select, wanted))
      select.replaceChildren(...wanted.map(([value, text]) => h("option", { value }, text)));
    select.value = state.filters[name];
  }
  form.elements.date_from.value = state.filters.date_from;
  form.elements.date_to.value = state.filters.date_to;
}

function applyFilters() {
  const form = $("#filters");
  const next = Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value]));
  const error = $("#filters-error");
  const reversed = next.date_from && next.date_to && next.date_from > next.date_to;
  error.hidden = !reversed;
  error.textContent = reversed ? t("dates_reversed") : "";
  if (reversed) return;
  state.filters = next;
  sessionStorage.setItem(FILTER_STORE, JSON.stringify(next));
  reload();
  drill.reload();
}

$("#filters").addEventListener("change", applyFilters);
$("#filters").addEventListener("submit", (event) => event.preventDefault());
$("#filters").addEventListener("reset", () => setTimeout(applyFilters));

/** Whether a select already offers exactly these [value, text] options (then it is left alone). */
function sameOptions(select, wanted) {
  const current = [...select.options].map((o) => [o.value, o.textContent]);
  return JSON.stringify(current) === JSON.stringify(wanted);
}

function focusOptions(stages) {
  const select = $("#focus-stage");
  const wanted = [["", t("all_stages")], ...stages.map((st) => [st.stage, st.label])];
  if (sameOptions(select, wanted)) return;
  select.replaceChildren(...wanted.map(([value, text]) => h("option", { value }, text)));
  select.value = state.focus;
}

$("#focus-stage").addEventListener("change", (event) => {
  state.focus = event.target.value;
  reload();
});

// --- Drill-down: the verbatims of a stage (curve) or a cell (heat map).

// --- The workspace's taxonomy (labels of every select, the panel that edits it), corrections, its model.

const taxonomy = new Taxonomy(api, {
  onChanged: () => {
    fillFilterOptions();
    refreshSoon();
    drill.reload();
  },
});

const drill = new Drill(api, {
  filters: filterParams,
  labels: {
    stage: (id) => state.labels.stage[id] || taxonomy.name("stages", id),
    touchpoint: (id) => state.labels.touchpoint[id] || taxonomy.name("touchpoints", id),
  },
  count: ({ stage, touchpoint }) =>
    touchpoint
      ? state.data.matrix?.cells.find((c) => c.stage === stage && c.touchpoint === touchpoint)?.feedback
      : state.data.curve?.stages.find((st) => st.stage === stage)?.feedback,
});
const openDrill = (stage, touchpoint = null) => drill.open(stage, touchpoint);

const model = new ModelPanel(api, {
  onReview: (feedbackId, heading) => drill.openFeedback([feedbackId], heading),
  name: (family, id) => taxonomy.name(family, id),
});

new Corrections(api, {
  drill,
  taxonomy,
  onCorrected: () => {
    refreshSoon();
    if (model.visible) model.refresh();
  },
});

function toggleLabels(open) {
  $("#learning").hidden = !open;
  $("#toggle-labels").setAttribute("aria-expanded", String(open));
  model.show(open);
  if (open) taxonomy.load();
}
$("#toggle-labels").addEventListener("click", () => toggleLabels($("#learning").hidden));

// --- Upload, export, report, language.

const uploader = new Uploader(api, {
  form: $("#upload-form"),
  panel: $("#upload-status"),
  recent: $("#recent-uploads"),
  onStart: () => {
    $("#empty").hidden = true;
  },
  onAnalysed: () => refresh(),
  onFinished: (job) => {
    if (!job) showEmpty(state.data.kpis?.overall.feedback === 0 && !filtered()); // refused or cancelled
    refresh();
    loadFacets();
  },
});

function toggleImport(open) {
  const section = $("#import");
  if (open && section.hidden) uploader.listRecent();
  section.hidden = !open;
  $("#toggle-import").setAttribute("aria-expanded", String(open));
}
$("#toggle-import").addEventListener("click", () => {
  const open = $("#import").hidden;
  toggleImport(open);
  if (open) $("#upload-form input[type=file]").focus();
});
$("#empty-import").addEventListener("click", () => {
  toggleImport(true);
  $("#upload-form input[type=file]").focus();
});

function exportedMap() {
  const curve = $("#curve svg.chart");
  const heatmap = $("#heatmap svg.chart");
  if (!curve || !heatmap) return null;
  return mapSvg(curve, heatmap, {
    title: t("export_title", { ws: state.workspace?.name || "Parcours" }),
    subtitle: t("export_sub", { filters: views.describeFilters(state.filters), date: i18n.date(new Date(), true) }),
    curveTitle: t("curve_title"),
    heatmapTitle: t("heatmap_title"),
  });
}
$("#export-svg").addEventListener("click", () => {
  const svg = exportedMap();
  if (svg) downloadSvg(svg);
});
$("#export-png").addEventListener("click", async () => {
  const svg = exportedMap();
  const button = $("#export-png");
  if (!svg) return;
  button.disabled = true;
  try {
    await downloadPng(svg);
  } finally {
    button.disabled = false;
  }
});
$("#open-report").addEventListener("click", () => {
  // Same origin, new tab: the report reads the key from sessionStorage (never from its URL).
  window.open(`/report${queryString({ ...filterParams(), lang: lang() })}`, "_blank");
});

function applyLanguage() {
  i18n.applyStatic();
  for (const button of document.querySelectorAll(".lang-switch button"))
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang()));
  fillFilterOptions();
  if (liveState) paintLive();
}

for (const button of document.querySelectorAll(".lang-switch button")) {
  button.addEventListener("click", () => {
    if (button.dataset.lang === lang()) return;
    i18n.setLanguage(button.dataset.lang);
    applyLanguage();
    uploader.relabel();
    taxonomy.relabel();
    model.draw();
    drill.redraw();
    reload({ redraw: true });
  });
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});

// --- Start.

i18n.initLanguage();
applyLanguage();
for (const view of VIEWS) $(view.el).replaceChildren(views.notice("loading", t("loading")));
takeKeyFromFragment();
if (storedKey()) openWorkspace();
else askKey();
