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
        { class: `evidence ev-${tone}`, "data-start": word.start, "data-end": word.end },
        text.slice(word.start, word.end),
      ),
    );
    pos = word.end;
  }
  if (to > pos) parts.push(text.slice(pos, to));
  return parts;
}

/**
 * A verbatim with its mentions and evidence words located by the API's character offsets.
 * `mentions`: [{start, end, polarity, focus, title}]; focused ones are <mark>ed, the others lightly underlined.
 * `evidence`: [{start, end, weight}] in bold, negative or positive.
 */
export function verbatim(text, { mentions = [], evidence = [], tag = "blockquote", clip = 0 } = {}) {
  const length = text.length;
  const marks = clean(
    mentions.filter((m) => m.start >= 0 && m.end <= length),
    0,
    length,
  );
  let from = 0;
  let to = length;
  if (clip && length > clip) {
    const focus = marks.find((m) => m.focus) || { start: 0, end: 0 };
    const room = Math.max(0, Math.floor((clip - (focus.end - focus.start)) / 2));
    from = Math.max(0, focus.start - room);
    to = Math.min(length, focus.end + room);
  }
  const parts = from > 0 ? ["…"] : [];
  let pos = from;
  for (const mention of marks) {
    if (mention.end <= from || mention.start >= to) continue;
    const start = Math.max(mention.start, from);
    const end = Math.min(mention.end, to);
    if (start > pos) parts.push(...withEvidence(text, pos, start, evidence));
    const attrs = {
      class: `mention ${mention.focus ? "mention-focus" : "mention-other"} pol-${mention.polarity || "neutral"}`,
      "data-start": mention.start,
      "data-end": mention.end,
      title: mention.title || null,
    };
    parts.push(h(mention.focus ? "mark" : "span", attrs, withEvidence(text, start, end, evidence)));
    pos = end;
  }
  if (to > pos) parts.push(...withEvidence(text, pos, to, evidence));
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
