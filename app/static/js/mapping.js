// Column mapping when the server recognises no text column: the columns the server listed in its 422 (else the
// file's header read in the browser), the user picks the text, date, rating, NPS, source and id columns, and the
// page hands back the `mapping` form field of POST /v1/uploads.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [",", ";", "\t", "|"];
// The fields the dialog offers, as app/uploads/mapping.py names them (the server detects the others itself).
export const FIELDS = ["text", "created_at", "rating", "nps", "source", "external_id"];
const $ = (selector) => document.querySelector(selector);

/** Decode a file's first bytes the way the server does: a BOM, else UTF-8, else Windows-1252. */
function decode(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // A sample cut in the middle of a character, or a file in a legacy code page.
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(0, bytes.length - 3));
    } catch {
      return new TextDecoder("windows-1252").decode(bytes);
    }
  }
}

/** The first `count` records of CSV text (quotes, doubled quotes and quoted line breaks understood). */
export function parseRecords(text, delimiter, count = 2) {
  const records = [];
  let record = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && records.length < count; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === delimiter) {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (records.length < count && (field || record.length)) records.push([...record, field]);
  return records;
}

/** The delimiter that splits the header line into the most fields. */
export function guessDelimiter(text) {
  const line = text.split(/\r?\n/, 1)[0] || "";
  const fields = (d) => parseRecords(line, d, 1)[0]?.length ?? 0;
  return DELIMITERS.reduce((best, d) => (fields(d) > fields(best) ? d : best));
}

/** The header's columns with the first row's value of each: [{name, sample}]. */
export async function readColumns(file) {
  const text = decode(await file.slice(0, SAMPLE_BYTES).arrayBuffer()).replace(/^\uFEFF/, "");
  const delimiter = guessDelimiter(text);
  const [header = [], first = []] = parseRecords(text, delimiter, 2);
  return header.map((name, i) => ({ name: name.trim(), sample: (first[i] || "").trim() })).filter((c) => c.name);
}

function option(column) {
  const sample = column.sample.length > 40 ? `${column.sample.slice(0, 40)}…` : column.sample;
  return h("option", { value: column.name }, sample ? `${column.name} · ${sample}` : column.name);
}

/**
 * The columns to offer: the server's list when its refusal carried one (`listed`: names as the server read them),
 * each with the first value the browser read under the same name; else the header read in the browser.
 */
export async function offeredColumns(file, listed = null) {
  let read = [];
  try {
    read = await readColumns(file);
  } catch {
    /* unreadable here: the server's names alone */
  }
  if (!Array.isArray(listed) || !listed.length) return read;
  const samples = new Map(read.map((c) => [c.name, c.sample]));
  return listed.filter((name) => name.trim()).map((name) => ({ name, sample: samples.get(name.trim()) || "" }));
}

/**
 * Show the mapping dialog for `file`; resolve with {field: column} (text always set) or null if cancelled.
 * `listed`: the columns of the server's refusal, when it sent them. The text column is preselected as the one
 * whose first value is the longest.
 */
export async function askMapping(file, reason, listed = null) {
  const columns = await offeredColumns(file, listed);
  const dialog = $("#mapping-dialog");
  const form = $("#mapping-form");
  $("#mapping-file").textContent = t("mapping_hint", { file: file.name, n: columns.length });
  $("#mapping-reason").textContent = reason || "";
  $("#mapping-reason").hidden = !reason;
  const longest = columns.reduce((best, c) => (c.sample.length > (best?.sample.length ?? -1) ? c : best), null);
  for (const field of FIELDS) {
    const select = form.elements[field];
    const none = field === "text" ? [] : [h("option", { value: "" }, t("mapping_none"))];
    select.replaceChildren(...none, ...columns.map(option));
    select.value = field === "text" && longest ? longest.name : "";
  }
  const error = $("#mapping-error");
  error.hidden = true;
  return new Promise((resolve) => {
    const finish = (value) => {
      form.removeEventListener("submit", submit);
      dialog.removeEventListener("close", closed);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const submit = (event) => {
      event.preventDefault();
      const chosen = Object.fromEntries(FIELDS.map((f) => [f, form.elements[f].value]).filter(([, v]) => v));
      const used = Object.values(chosen);
      if (new Set(used).size !== used.length) {
        error.textContent = t("mapping_twice");
        error.hidden = false;
        return;
      }
      finish(chosen);
    };
    const closed = () => finish(null);
    form.addEventListener("submit", submit);
    dialog.addEventListener("close", closed);
    $("#mapping-cancel").onclick = () => finish(null);
    dialog.showModal();
    form.elements.text.focus();
  });
}
