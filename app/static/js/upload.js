// CSV upload from the page: POST /v1/uploads (with a column mapping the user picks when the server recognises no
// text column), then poll the job for its progress, counts and rejected rows.

import { h } from "./dom.js";
import { date, num, percent, t } from "./i18n.js";
import { askMapping } from "./mapping.js";

const POLL_MS = 600;
const RECENT = 5; // uploads listed under the form
const RECENT_EVERY = 5; // while one runs, the list is read again every 5 polls of its job
const COUNTS = ["rows_read", "rows_stored", "rows_duplicate", "rows_failed", "rows_analysed"];
// Refusals the user can fix by naming the columns (nlp/readers.py, app/uploads/mapping.py).
const MAPPABLE = new Set(["missing_text_column", "missing_column"]);
const COUNT_LABELS = {
  rows_read: "count_read",
  rows_stored: "count_stored",
  rows_duplicate: "count_duplicate",
  rows_failed: "count_failed",
  rows_analysed: "count_analysed",
};

/** Where the job is, in words: reading the file, then analysing the stored rows. */
function progressText(job) {
  if (job.status === "queued") return t("upload_queued");
  if (job.status === "failed") return "";
  if (job.rows_stored === 0 && job.status !== "done") return t("progress_reading", { r: num(job.rows_read) });
  return t("progress_analysing", { a: num(job.rows_analysed), s: num(job.rows_stored) });
}

export class Uploader {
  /**
   * `onStart()`: a file is being sent; `onAnalysed(job)`: more rows analysed (the map should refresh);
   * `onFinished(job)`: done or failed (null: refused or cancelled before any job).
   */
  constructor(api, { form, panel, recent, onStart = () => {}, onAnalysed, onFinished }) {
    this.api = api;
    this.form = form;
    this.panel = panel;
    this.recent = recent; // where the workspace's recent uploads are listed (GET /v1/uploads)
    this.uploads = null;
    this.onStart = onStart;
    this.onAnalysed = onAnalysed;
    this.onFinished = onFinished;
    this.job = null;
    this.active = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
  }

  async start() {
    const file = this.form.querySelector("input[type=file]").files[0];
    if (!file) {
      this.panel.replaceChildren(h("p", { class: "form-error", role: "alert" }, t("choose_file")));
      return;
    }
    this.active = true;
    this.job = null;
    this.onStart();
    this.build();
    this.setMessage(t("upload_sending"));
    this.setProgress(0);
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const job = await this.send(file, {
        kind: this.form.querySelector("select[name=kind]").value,
        source: this.form.querySelector("input[name=source]").value.trim(), // wins over a source/site column
      });
      if (job) await this.follow(job);
      else this.stop(t("mapping_cancelled"));
    } catch (error) {
      this.stop(error.status === 401 ? null : t("upload_refused", { e: error.detail || error.message }));
    } finally {
      button.disabled = false;
    }
  }

  /** POST the file; when no text column is recognised, ask the user for the columns and send it again. */
  async send(file, fields) {
    let mapping = null;
    for (;;) {
      try {
        return await this.api.upload(file, mapping ? { ...fields, mapping: JSON.stringify(mapping) } : fields);
      } catch (error) {
        if (!MAPPABLE.has(error.code)) throw error;
        this.setMessage(t("mapping_needed"));
        const reason = error.code === "missing_text_column" ? t("mapping_no_text") : error.detail;
        mapping = await askMapping(file, reason, error.body?.columns);
        if (!mapping) return null;
        this.setMessage(t("upload_sending"));
      }
    }
  }

  stop(message) {
    this.active = false;
    if (message) this.setMessage(message, "error");
    this.onFinished(null);
  }

  async follow(job) {
    let analysed = -1;
    let polls = 0;
    this.listRecent();
    for (;;) {
      this.show(job);
      if (++polls % RECENT_EVERY === 0) this.listRecent();
      if (job.rows_analysed !== analysed) {
        analysed = job.rows_analysed;
        if (analysed > 0) this.onAnalysed(job);
      }
      if (job.status === "done" || job.status === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await this.api.fetchJson(`/v1/uploads/${job.id}`);
    }
    this.active = false;
    this.listRecent();
    this.onFinished(job);
  }

  /** Read the workspace's latest uploads again and list them (status, counts, progress). */
  async listRecent() {
    if (!this.recent) return;
    try {
      this.uploads = (await this.api.fetchJson("/v1/uploads", { limit: RECENT })).data;
    } catch {
      return; // the list keeps what it showed
    }
    this.drawRecent();
  }

  drawRecent() {
    if (!this.recent || this.uploads === null) return;
    if (!this.uploads.length) {
      this.recent.replaceChildren();
      return;
    }
    const statuses = {
      queued: t("upload_queued"),
      running: t("recent_running"),
      done: t("recent_done"),
      failed: t("recent_failed"),
    };
    const items = this.uploads.map((u) =>
      h(
        "li",
        { class: `recent-upload status-${u.status}`, "data-upload-id": u.id, "data-status": u.status },
        h("strong", {}, u.filename),
        h("span", { class: "recent-status" }, statuses[u.status] || u.status),
        h(
          "span",
          { class: "recent-counts" },
          t("recent_counts", { s: num(u.rows_stored), a: num(u.rows_analysed), f: num(u.rows_failed) }),
        ),
        h(
          "span",
          { class: "recent-progress", "data-progress": u.progress },
          percent(u.status === "done" ? 1 : u.progress),
        ),
        h("span", { class: "recent-date" }, date(u.created_at)),
      ),
    );
    this.recent.replaceChildren(h("h3", {}, t("recent_title")), h("ul", { class: "recent-uploads" }, items));
  }

  build() {
    this.message = h("p", { class: "upload-message", role: "status", "aria-live": "polite" });
    this.bar = h("div", { class: "progress-bar" });
    this.progress = h(
      "div",
      {
        class: "progress",
        role: "progressbar",
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": 0,
        "aria-label": t("import_title"),
      },
      this.bar,
    );
    this.percent = h("span", { class: "progress-value" }, "");
    this.detail = h("p", { class: "progress-detail panel-hint" }, "");
    this.shown = 0;
    this.counts = h("dl", { class: "counts" });
    this.errors = h("div", { class: "upload-errors" });
    this.errorsShown = -1;
    this.panel.replaceChildren(
      this.message,
      h("div", { class: "progress-row" }, this.progress, this.percent),
      this.detail,
      this.counts,
      this.errors,
    );
  }

  setMessage(text, kind = "info") {
    this.message.textContent = text;
    this.message.className = `upload-message ${kind}`;
  }

  setProgress(share) {
    const value = Math.round(share * 100);
    this.progress.setAttribute("aria-valuenow", value);
    this.progress.dataset.progress = share;
    this.bar.style.width = `${value}%`;
    this.percent.textContent = percent(share);
  }

  show(job) {
    this.job = job;
    this.panel.dataset.status = job.status;
    this.panel.dataset.uploadId = job.id;
    // Never backwards: the bar follows the server's progress (rows read, then rows analysed) as it only grows.
    this.shown = job.status === "done" ? 1 : Math.max(this.shown, job.progress);
    this.setProgress(this.shown);
    this.detail.textContent = progressText(job);
    const messages = { queued: t("upload_queued"), running: t("upload_running"), done: t("upload_done") };
    if (job.status === "failed") this.setMessage(t("upload_failed", { e: job.error || job.status }), "error");
    else
      this.setMessage(`${job.filename} · ${messages[job.status] || job.status}`, job.status === "done" ? "ok" : "info");
    this.counts.replaceChildren(
      ...COUNTS.map((name) =>
        h(
          "div",
          { class: `count count-${name}` },
          h("dt", {}, t(COUNT_LABELS[name])),
          h("dd", { "data-count": name, "data-value": job[name] }, num(job[name])),
        ),
      ),
    );
    if (job.errors_listed !== this.errorsShown) {
      this.errorsShown = job.errors_listed;
      this.errors.replaceChildren(...this.errorTable(job));
    }
  }

  errorTable(job) {
    if (!job.errors.length) return [];
    const table = h(
      "table",
      { class: "errors-table" },
      h("caption", {}, t("errors_title")),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("col_line")),
          h("th", { scope: "col" }, t("col_column")),
          h("th", { scope: "col" }, t("col_reason")),
        ),
      ),
      h(
        "tbody",
        {},
        job.errors.map((e) =>
          h(
            "tr",
            { class: "row-error", "data-line": e.line },
            h("td", {}, num(e.line)),
            h("td", {}, e.column || "—"),
            h("td", {}, e.reason),
          ),
        ),
      ),
    );
    const hidden = job.rows_failed - job.errors.length;
    return [table, hidden > 0 ? h("p", { class: "panel-hint" }, t("errors_more", { n: num(hidden) })) : null].filter(
      Boolean,
    );
  }

  /** Redraw the labels in the current language (after a language switch). */
  relabel() {
    this.drawRecent();
    if (this.job) {
      this.errorsShown = -1;
      this.show(this.job);
    }
  }
}
