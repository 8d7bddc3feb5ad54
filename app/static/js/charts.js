// Hand-made SVG charts: the emotion curve and the stage x touchpoint heat map, on the same stage columns.
// Every visual property is an SVG attribute (not CSS), so that an exported SVG looks like the page.

import { s, wrap } from "./dom.js";
import { mentions, num, percent, sentiment, t } from "./i18n.js";

export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
export const INK = "#1f2937";
export const MUTED = "#5b6472";
export const GRID = "#e3e7ed";
export const IRRITANT = "#c2410c";
export const DELIGHT = "#0f766e";
const BAND = "#4f5bd5";

const NEG = [194, 65, 12];
const MID = [241, 243, 245];
const POS = [15, 118, 110];
const FULL_SCALE = 0.6; // |mean sentiment| drawn at full colour

/** The heat-map colour of a mean sentiment: orange (negative) to grey to teal (positive). */
export function sentimentColour(value) {
  if (value === null || value === undefined) return "#e5e7eb";
  const tone = Math.max(-1, Math.min(1, value / FULL_SCALE));
  const target = tone < 0 ? NEG : POS;
  const k = Math.abs(tone) ** 0.85;
  const rgb = MID.map((m, i) => Math.round(m + (target[i] - m) * k));
  return `rgb(${rgb.join(",")})`;
}

/** Dark or white text, whichever reads better on `colour` (an rgb() string). */
export function textOn(colour) {
  const [r, g, b] = (colour.match(/\d+/g) || [255, 255, 255]).map(Number);
  const lin = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return luminance > 0.3 ? INK : "#ffffff";
}

const MIN_LABEL_SIZE = 7.5;
let measurer = null;

/** The drawn width of `text` in the charts' semi-bold font at `size` px (measured on a canvas, never guessed). */
function textWidth(text, size) {
  measurer ??= document.createElement("canvas").getContext("2d");
  measurer.font = `600 ${size}px ${FONT}`;
  return measurer.measureText(text).width;
}

/**
 * A stage name fitted to its column: the largest font size (from `size` down to 7.5) at which its widest word fits
 * `width`, wrapped on as many lines as it needs. Nothing is cut: "Réception / mise en route" keeps its last word.
 */
export function fitLabel(text, width, size) {
  const words = String(text).split(/\s+/).filter(Boolean);
  const widest = Math.max(1, ...words.map((word) => textWidth(word, size)));
  const fitted = Math.floor(Math.max(MIN_LABEL_SIZE, Math.min(size, (size * width) / widest)) * 10) / 10;
  const lines = [];
  for (const word of words) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && textWidth(`${last} ${word}`, fitted) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return { size: fitted, step: Math.round(fitted * 1.2), lines };
}

function columns(width, left, n) {
  const w = (width - left - 16) / Math.max(n, 1);
  return (i) => ({ x: left + i * w, w, cx: left + i * w + w / 2 });
}

function label(x, y, text, attrs = {}) {
  return s("text", { x, y, fill: INK, "font-size": 12, ...attrs }, text);
}

function lines(x, y, texts, attrs = {}, step = 14) {
  return texts.map((line, i) => label(x, y + i * step, line, attrs));
}

function legendItems(items, x, y) {
  const group = s("g", { class: "legend" });
  let cursor = x;
  for (const { swatch, text } of items) {
    group.append(swatch(cursor, y), label(cursor + 24, y + 4, text, { fill: MUTED }));
    cursor += 24 + text.length * 6.4 + 22;
  }
  return group;
}

function yScale(stages) {
  const values = stages.flatMap((st) => [st.mean_sentiment, st.ci_low, st.ci_high]).filter((v) => v !== null);
  const extent = values.length ? Math.max(...values.map(Math.abs)) : 0;
  return Math.min(1, Math.max(0.5, Math.ceil(extent * 10 + 0.5) / 10));
}

function runs(stages, present) {
  const found = [];
  let current = [];
  stages.forEach((stage, i) => {
    if (present(stage)) current.push(i);
    else if (current.length) {
      found.push(current);
      current = [];
    }
  });
  if (current.length) found.push(current);
  return found;
}

/**
 * The emotion curve: mean sentiment per stage with its 95% band, mention counts, irritant and delight bars.
 * `selectable`: stage columns are buttons (Enter / Space / click call `onSelect(stageId)`).
 */
export function curveSvg(curve, { width = 1120, left = 160, plotH = 170, selected = null, onSelect = null } = {}) {
  const stages = curve.stages;
  const col = columns(width, left, stages.length);
  const top = 46;
  const bottom = top + plotH;
  const small = col(0).w < 100;
  const names = stages.map((stage) => fitLabel(stage.label, col(0).w - 8, small ? 10.5 : 12));
  const namesH = Math.max(...names.map((name) => (name.lines.length - 1) * name.step), 14);
  const mentionsY = bottom + 44 + namesH; // two lines of 12 px: 58 below the plot, as before
  const barsTop = mentionsY + 28;
  const barsH = 64;
  const height = barsTop + barsH + 10;
  const bound = yScale(stages);
  const y = (v) => top + ((bound - v) / (2 * bound)) * plotH;
  const root = s("svg", {
    class: "chart curve",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "group",
    "aria-label": t("curve_title"),
    "font-family": FONT,
  });
  root.append(
    legendItems(
      [
        {
          swatch: (x, yy) =>
            s(
              "g",
              {},
              s("line", { x1: x, x2: x + 18, y1: yy, y2: yy, stroke: INK, "stroke-width": 2.5 }),
              s("circle", { cx: x + 9, cy: yy, r: 4, fill: "#fff", stroke: INK, "stroke-width": 1.5 }),
            ),
          text: t("legend_mean"),
        },
        {
          swatch: (x, yy) =>
            s("rect", {
              x,
              y: yy - 6,
              width: 18,
              height: 12,
              fill: BAND,
              "fill-opacity": 0.16,
              stroke: BAND,
              "stroke-opacity": 0.4,
            }),
          text: t("legend_ci"),
        },
        {
          swatch: (x, yy) => s("rect", { x: x + 4, y: yy - 6, width: 10, height: 12, fill: IRRITANT }),
          text: t("legend_irritants"),
        },
        {
          swatch: (x, yy) => s("rect", { x: x + 4, y: yy - 6, width: 10, height: 12, fill: DELIGHT }),
          text: t("legend_delights"),
        },
      ],
      left,
      14,
    ),
  );
  const axis = s("g", { class: "axis" });
  for (const tick of [-bound, -bound / 2, 0, bound / 2, bound]) {
    axis.append(
      s("line", {
        x1: left,
        x2: width - 16,
        y1: y(tick),
        y2: y(tick),
        stroke: tick === 0 ? "#9aa3af" : GRID,
        "stroke-width": 1,
        "stroke-dasharray": tick === 0 ? "4 3" : null,
      }),
      label(left - 8, y(tick) + 4, sentiment(tick), { "text-anchor": "end", fill: MUTED, "font-size": 11 }),
    );
  }
  axis.append(
    ...lines(8, top + plotH / 2 - 6, wrap(t("axis_sentiment"), 12), { fill: MUTED, "font-weight": 600 }),
    ...lines(8, mentionsY, wrap(t("axis_volume"), 12), { fill: MUTED, "font-weight": 600 }),
    ...lines(8, barsTop + barsH / 2 - 4, wrap(t("axis_shares"), 13), { fill: MUTED, "font-weight": 600 }),
    s("line", { x1: left, x2: width - 16, y1: barsTop + barsH, y2: barsTop + barsH, stroke: "#9aa3af" }),
  );
  root.append(axis);

  const columnsGroup = s("g", { class: "stage-cols" });
  stages.forEach((stage, i) => {
    const { x, w, cx } = col(i);
    const has = stage.mean_sentiment !== null;
    const group = s("g", {
      class: `stage-col${selected === stage.stage ? " selected" : ""}`,
      "data-stage": stage.stage,
      role: onSelect ? "button" : null,
      tabindex: onSelect ? 0 : null,
      "aria-pressed": onSelect ? String(selected === stage.stage) : null,
      "aria-label": has
        ? t("point_label", {
            stage: stage.label,
            mean: sentiment(stage.mean_sentiment),
            low: sentiment(stage.ci_low),
            high: sentiment(stage.ci_high),
            n: num(stage.mentions),
            irritants: percent(stage.irritant_share),
            delights: percent(stage.delight_share),
          })
        : `${stage.label}: ${t("no_mentions")}`,
    });
    group.append(
      s("rect", {
        class: "col-bg",
        x: x + 2,
        y: top - 10,
        width: w - 4,
        height: height - top + 6,
        rx: 6,
        fill: selected === stage.stage ? "#e8ebfb" : "transparent",
      }),
    );
    const name = names[i];
    group.append(
      ...lines(
        cx,
        bottom + 20,
        name.lines,
        { class: "stage-label", "text-anchor": "middle", "font-weight": 600, "font-size": name.size },
        name.step,
      ),
    );
    group.append(
      label(cx, mentionsY, stage.mentions ? mentions(stage.mentions) : t("no_mentions"), {
        class: "curve-mentions",
        "data-stage": stage.stage,
        "data-mentions": stage.mentions,
        "text-anchor": "middle",
        fill: MUTED,
        "font-size": small ? 10 : 11,
      }),
    );
    const barW = Math.min(24, w * 0.24);
    // Each value label grows away from the middle (the irritant's to the left, the delight's to the right): two
    // wide labels ("50 %" in French) side by side never overlap, whatever the column width.
    for (const [share, colour, dx, kind, anchor, tx] of [
      [stage.irritant_share, IRRITANT, -barW - 3, "irritant", "end", cx - 1],
      [stage.delight_share, DELIGHT, 3, "delight", "start", cx + 1],
    ]) {
      if (share === null) continue;
      const bh = Math.max(share * barsH, share > 0 ? 1.5 : 0);
      group.append(
        s("rect", {
          class: `share-bar share-${kind}`,
          "data-share": share,
          x: cx + dx,
          y: barsTop + barsH - bh,
          width: barW,
          height: bh,
          fill: colour,
          rx: 2,
        }),
        label(tx, barsTop + barsH - bh - 4, percent(share), {
          class: `share-value share-value-${kind}`,
          "text-anchor": anchor,
          "font-size": small ? 10 : 10.5,
          fill: colour === IRRITANT ? "#9a3412" : "#115e59",
          "font-weight": 600,
        }),
      );
    }
    columnsGroup.append(group);
  });
  root.append(columnsGroup);

  const band = s("g", { class: "ci-band", "pointer-events": "none" });
  for (const run of runs(stages, (st) => st.ci_low !== null && st.ci_high !== null)) {
    if (run.length === 1) {
      const { cx } = col(run[0]);
      const st = stages[run[0]];
      band.append(
        s("rect", {
          x: cx - 9,
          y: y(st.ci_high),
          width: 18,
          height: Math.max(1, y(st.ci_low) - y(st.ci_high)),
          fill: BAND,
          "fill-opacity": 0.16,
        }),
      );
      continue;
    }
    const upper = run.map((i) => `${col(i).cx},${y(stages[i].ci_high)}`);
    const lower = run.map((i) => `${col(i).cx},${y(stages[i].ci_low)}`).reverse();
    band.append(
      s("polygon", {
        points: [...upper, ...lower].join(" "),
        fill: BAND,
        "fill-opacity": 0.16,
        stroke: BAND,
        "stroke-opacity": 0.35,
        "stroke-width": 1,
      }),
    );
  }
  root.append(band);
  for (const run of runs(stages, (st) => st.mean_sentiment !== null)) {
    if (run.length > 1) {
      root.append(
        s("polyline", {
          class: "mean-line",
          "pointer-events": "none",
          points: run.map((i) => `${col(i).cx},${y(stages[i].mean_sentiment)}`).join(" "),
          fill: "none",
          stroke: INK,
          "stroke-width": 2.5,
          "stroke-linejoin": "round",
        }),
      );
    }
  }
  const points = s("g", { class: "points", "pointer-events": "none" });
  stages.forEach((stage, i) => {
    if (stage.mean_sentiment === null) return;
    const { cx } = col(i);
    const py = y(stage.mean_sentiment);
    const above = py - top > 24;
    points.append(
      s("circle", {
        class: "curve-point",
        cx,
        cy: py,
        r: 7.5,
        fill: sentimentColour(stage.mean_sentiment),
        stroke: INK,
        "stroke-width": 1.5,
        "data-stage": stage.stage,
        "data-mean": stage.mean_sentiment,
        "data-ci-low": stage.ci_low,
        "data-ci-high": stage.ci_high,
        "data-mentions": stage.mentions,
      }),
      label(cx, above ? py - 14 : py + 24, sentiment(stage.mean_sentiment), {
        class: "curve-value",
        "data-stage": stage.stage,
        "text-anchor": "middle",
        "font-size": 13,
        "font-weight": 700,
        stroke: "#ffffff",
        "stroke-width": 3.5,
        "paint-order": "stroke",
        "stroke-linejoin": "round",
      }),
    );
  });
  root.append(points);
  if (onSelect) bindSelect(root, ".stage-col", (node) => onSelect(node.dataset.stage));
  return root;
}

const BACKGROUND = [247, 248, 250];
const FAINTEST = 0.25; // opacity of a cell with (almost) no evidence; full colour as strength reaches 1

/** A cell's evidence, 0..1: the API's `strength`, or mentions / (mentions + 5) from an older server. */
export function cellStrength(cell) {
  return cell.strength ?? cell.mentions / (cell.mentions + 5);
}

/** `colour` (an rgb() string) drawn at `opacity` over the empty cell's background. */
function over(colour, opacity) {
  const rgb = (colour.match(/\d+/g) || []).map(Number);
  return `rgb(${rgb.map((c, i) => Math.round(BACKGROUND[i] + (c - BACKGROUND[i]) * opacity)).join(",")})`;
}

const shareSwatch = (x, y, fill) => s("rect", { x, y: y - 1, width: 18, height: 3, fill });

/** What a cell holds under its numbers: irritant share (left, orange), delight share (right, teal), as a split bar. */
function cellShares(cell, x, y, w) {
  const group = s("g", { class: "cell-shares" });
  if (cell.irritant_share === null || cell.irritant_share === undefined) return group;
  const inner = w - 12;
  group.append(
    s("rect", { x: x + 6, y, width: inner, height: 15, rx: 3, fill: "#ffffff", "fill-opacity": 0.92 }),
    s("rect", { x: x + 6, y: y + 13, width: inner * cell.irritant_share, height: 2, fill: IRRITANT }),
    s("rect", {
      x: x + 6 + inner * (1 - cell.delight_share),
      y: y + 13,
      width: inner * cell.delight_share,
      height: 2,
      fill: DELIGHT,
    }),
  );
  if (w >= 70) {
    group.append(
      label(x + 10, y + 10.5, percent(cell.irritant_share), {
        class: "cell-irritant",
        "data-share": cell.irritant_share,
        "font-size": 10,
        "font-weight": 700,
        fill: "#9a3412",
      }),
      label(x + w - 10, y + 10.5, percent(cell.delight_share), {
        class: "cell-delight",
        "data-share": cell.delight_share,
        "text-anchor": "end",
        "font-size": 10,
        "font-weight": 700,
        fill: "#115e59",
      }),
    );
  }
  return group;
}

/**
 * The stage x touchpoint heat map: one cell per (stage, touchpoint) with mentions. A cell's colour is its mean
 * sentiment, drawn fainter the less evidence it has; under its numbers, its irritant and delight shares (a cell
 * that holds both the first irritant and the first delight says so, however pale its mean).
 */
export function heatmapSvg(matrix, { width = 1120, left = 160, selected = null, onSelect = null } = {}) {
  const stages = matrix.stages;
  const col = columns(width, left, stages.length);
  const used = new Set(matrix.cells.map((c) => c.touchpoint));
  const rows = matrix.touchpoints.filter((tp) => used.has(tp.touchpoint));
  const names = stages.map((stage) => fitLabel(stage.label, col(0).w - 8, 12));
  const head = 32 + Math.max(...names.map((name) => (name.lines.length - 1) * name.step), 14);
  const rowH = 60;
  const height = head + rows.length * rowH + 56;
  const root = s("svg", {
    class: "chart heatmap",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "group",
    "aria-label": t("heatmap_title"),
    "font-family": FONT,
  });
  stages.forEach((stage, i) => {
    const { cx } = col(i);
    const name = names[i];
    root.append(
      ...lines(
        cx,
        16,
        name.lines,
        { class: "stage-label", "text-anchor": "middle", "font-weight": 600, "font-size": name.size },
        name.step,
      ),
    );
  });
  const rowIndex = new Map(rows.map((tp, i) => [tp.touchpoint, i]));
  rows.forEach((tp, r) => {
    const yy = head + r * rowH;
    root.append(label(left - 10, yy + rowH / 2 + 4, tp.label, { "text-anchor": "end" }));
    stages.forEach((_, i) => {
      const { x, w } = col(i);
      root.append(s("rect", { x: x + 2, y: yy + 2, width: w - 4, height: rowH - 4, rx: 4, fill: "#f7f8fa" }));
    });
  });
  const stageIndex = new Map(stages.map((st, i) => [st.stage, i]));
  const stageLabel = new Map(stages.map((st) => [st.stage, st.label]));
  const cells = s("g", { class: "cells" });
  for (const cell of matrix.cells) {
    if (!stageIndex.has(cell.stage) || !rowIndex.has(cell.touchpoint)) continue;
    const { x, w, cx } = col(stageIndex.get(cell.stage));
    const yy = head + rowIndex.get(cell.touchpoint) * rowH;
    const strength = cellStrength(cell);
    const opacity = FAINTEST + (1 - FAINTEST) * strength;
    const colour = sentimentColour(cell.mean_sentiment);
    const ink = textOn(over(colour, opacity));
    const isSelected = selected && selected.stage === cell.stage && selected.touchpoint === cell.touchpoint;
    const tpLabel = rows[rowIndex.get(cell.touchpoint)].label;
    cells.append(
      s(
        "g",
        {
          class: `heat-cell${isSelected ? " selected" : ""}`,
          "data-stage": cell.stage,
          "data-touchpoint": cell.touchpoint,
          "data-mentions": cell.mentions,
          "data-mean": cell.mean_sentiment,
          "data-strength": strength,
          role: onSelect ? "button" : null,
          tabindex: onSelect ? 0 : null,
          "aria-label": t("cell_label", {
            stage: stageLabel.get(cell.stage),
            touchpoint: tpLabel,
            mean: sentiment(cell.mean_sentiment),
            n: num(cell.mentions),
            irritants: percent(cell.irritant_share),
            delights: percent(cell.delight_share),
          }),
        },
        s("rect", {
          class: "cell-fill",
          x: x + 2,
          y: yy + 2,
          width: w - 4,
          height: rowH - 4,
          rx: 4,
          fill: colour,
          "fill-opacity": Math.round(opacity * 1000) / 1000,
          stroke: isSelected ? "#1e2a78" : cell.mentions < 5 ? "#7b8494" : "none",
          "stroke-width": isSelected ? 2.5 : 1.2,
          "stroke-dasharray": !isSelected && cell.mentions < 5 ? "4 3" : null,
        }),
        label(cx, yy + 18, sentiment(cell.mean_sentiment), {
          "text-anchor": "middle",
          "font-weight": 700,
          "font-size": 13,
          fill: ink,
        }),
        label(cx, yy + 32, w > 90 ? mentions(cell.mentions) : num(cell.mentions), {
          class: "cell-mentions",
          "text-anchor": "middle",
          "font-size": 11,
          fill: ink,
        }),
        cellShares(cell, x, yy + 38, w),
      ),
    );
  }
  root.append(cells);
  const ly = head + rows.length * rowH + 24;
  const defs = s(
    "defs",
    {},
    s(
      "linearGradient",
      { id: "heat-scale", x1: 0, x2: 1, y1: 0, y2: 0 },
      ...[-1, -0.5, 0, 0.5, 1].map((v, i) =>
        s("stop", { offset: `${i * 25}%`, "stop-color": sentimentColour(v * FULL_SCALE) }),
      ),
    ),
  );
  root.append(
    defs,
    label(left, ly + 4, `${sentiment(-FULL_SCALE)} ${t("heat_negative")}`, { fill: MUTED, "font-size": 11 }),
    s("rect", { x: left + 110, y: ly - 7, width: 180, height: 14, rx: 3, fill: "url(#heat-scale)" }),
    label(left + 300, ly + 4, `${sentiment(FULL_SCALE)} ${t("heat_positive")}`, { fill: MUTED, "font-size": 11 }),
    s("rect", {
      x: left + 430,
      y: ly - 7,
      width: 22,
      height: 14,
      rx: 3,
      fill: "#f7f8fa",
      stroke: "#7b8494",
      "stroke-dasharray": "4 3",
    }),
    label(left + 460, ly + 4, t("heat_few"), { fill: MUTED, "font-size": 11 }),
    legendItems(
      [
        { swatch: (x, yy) => shareSwatch(x, yy, IRRITANT), text: t("share_irritants") },
        { swatch: (x, yy) => shareSwatch(x, yy, DELIGHT), text: t("share_delights") },
      ],
      left + 470 + t("heat_few").length * 6.4,
      ly,
    ),
  );
  if (onSelect) bindSelect(root, ".heat-cell", (node) => onSelect(node.dataset.stage, node.dataset.touchpoint));
  return root;
}

function bindSelect(root, selector, handler) {
  root.addEventListener("click", (event) => {
    const node = event.target.closest(selector);
    if (node) handler(node);
  });
  root.addEventListener("keydown", (event) => {
    const node = event.target.closest(selector);
    if (node && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      handler(node);
    }
  });
}

/** A small line of a theme's weeks: its share of the week's mentions when the API gives it, else its count. */
export function sparkline(weeks, colour) {
  const w = 84;
  const hgt = 22;
  const value = (wk) => (wk.share === undefined ? wk.mentions : wk.share);
  const max = Math.max(...weeks.map((wk) => value(wk) ?? 0)) || 1;
  const step = w / Math.max(weeks.length - 1, 1);
  const points = weeks
    .map((wk, i) => [i, value(wk)])
    .filter(([, v]) => v !== null) // a week without any mention in scope has no share
    .map(([i, v]) => `${(i * step).toFixed(1)},${(hgt - 2 - (v / max) * (hgt - 4)).toFixed(1)}`);
  return s(
    "svg",
    { class: "sparkline", viewBox: `-2 0 ${w + 4} ${hgt}`, width: w + 4, height: hgt, "aria-hidden": "true" },
    s("polyline", {
      points: points.join(" "),
      fill: "none",
      stroke: colour,
      "stroke-width": 1.8,
      "stroke-linejoin": "round",
    }),
  );
}
