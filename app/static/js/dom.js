// Small DOM helpers: elements from (tag, attributes, children), SVG elements, and verbatims with highlights.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element: h("p", {class: "x", onclick: fn}, "text", otherNode). */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same call shape as h(). */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Split `text` into lines of at most about `width` characters (for SVG labels). */
export function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(/\s+/)) {
    if (line && (line + " " + word).length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const identity = (offset) => offset;

/**
 * The API counts offsets in Unicode code points (Python's str); JavaScript strings index UTF-16 units, where an
 * emoji or any other astral character takes two. Return a function from a code-point offset to a UTF-16 index.
 */
export function utf16Index(text) {
  if (!/[\uD800-\uDBFF]/.test(text)) return identity; // no astral character: the two counts agree
  const units = [];
  let unit = 0;
  for (const character of text) {
    units.push(unit);
    unit += character.length;
  }
  units.push(unit);
  return (offset) => units[Math.min(Math.max(offset, 0), units.length - 1)];
}

/** Spans with `start`/`end` in UTF-16 units for slicing, and the API's own offsets kept as `from`/`to`. */
function located(spans, index) {
  return spans.map((span) => ({
    ...span,
    from: span.start,
    to: span.end,
    start: index(span.start),
    end: index(span.end),
  }));
}

/** Move a cut off the second half of a surrogate pair, so that no character is split in two. */
function whole(text, position) {
  const code = text.charCodeAt(position);
  return code >= 0xdc00 && code <= 0xdfff ? position - 1 : position;
}

function clean(spans, from, to) {
  const kept = [];
  let end = from;
  for (const span of [...spans].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const start = Math.max(span.start, end);
    const stop = Math.min(span.end, to);
    if (stop > start) {
      kept.push({ ...span, start, end: stop });
      end = stop;
    }
  }
  return kept;
}

function withEvidence(text, from, to, evidence) {
  const parts = [];
  let pos = from;
  for (const word of clean(evidence, from, to)) {
    if (word.start > pos) parts.push(text.slice(pos, word.start));
    const tone = word.weight < 0 ? "negative" : "positive";
    parts.push(
      h(
        "strong",
        { class: `evidence ev-${tone}`, "data-start": word.from, "data-end": word.to },
        text.slice(word.start, word.end),
      ),
    );
    pos = word.end;
  }
  if (to > pos) parts.push(text.slice(pos, to));
  return parts;
}

/**
 * A verbatim with its mentions and evidence words located by the API's offsets (in code points).
 * `mentions`: [{start, end, polarity, focus, title, rank}]; focused ones are <mark>ed, the others lightly underlined;
 * a mention with a `rank` (its place in the feedback's mentions) is a button that opens the correction menu.
 * `evidence`: [{start, end, weight}] in bold, negative or positive. `data-start`/`data-end` keep the API's offsets.
 */
export function verbatim(text, { mentions = [], evidence = [], tag = "blockquote", clip = 0 } = {}) {
  const length = text.length;
  const index = utf16Index(text);
  const points = index === identity ? length : [...text].length;
  const inside = (span) => span.start >= 0 && span.end >= span.start && span.end <= points;
  const marks = clean(located(mentions.filter(inside), index), 0, length);
  const words = located(evidence.filter(inside), index);
  let from = 0;
  let to = length;
  if (clip && length > clip) {
    const focus = marks.find((m) => m.focus) || { start: 0, end: 0 };
    const room = Math.max(0, Math.floor((clip - (focus.end - focus.start)) / 2));
    from = whole(text, Math.max(0, focus.start - room));
    to = whole(text, Math.min(length, focus.end + room));
  }
  const parts = from > 0 ? ["…"] : [];
  let pos = from;
  for (const mention of marks) {
    if (mention.end <= from || mention.start >= to) continue;
    const start = Math.max(mention.start, from);
    const end = Math.min(mention.end, to);
    if (start > pos) parts.push(...withEvidence(text, pos, start, words));
    const ranked = mention.rank !== undefined && mention.rank !== null; // a correctable mention (drill-down)
    const attrs = {
      class: `mention ${mention.focus ? "mention-focus" : "mention-other"} pol-${mention.polarity || "neutral"}`,
      "data-start": mention.from,
      "data-end": mention.to,
      "data-rank": ranked ? mention.rank : null,
      tabindex: ranked ? 0 : null,
      role: ranked ? "button" : null,
      "aria-haspopup": ranked ? "dialog" : null,
      title: mention.title || null,
    };
    parts.push(h(mention.focus ? "mark" : "span", attrs, withEvidence(text, start, end, words)));
    pos = end;
  }
  if (to > pos) parts.push(...withEvidence(text, pos, to, words));
  if (to < length) parts.push("…");
  return h(tag, { class: "verbatim" }, parts);
}

/** Start a browser download of `blob` under `filename`. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
