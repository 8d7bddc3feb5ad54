// The workspace's own taxonomy (GET /v1/taxonomy): its stages and touchpoints for every select of the page, and
// the panel that edits it (add, rename / describe, retire, merge) and re-analyses the feedback with it.

import { h } from "./dom.js";
import { lang, num, percent, t } from "./i18n.js";

const FAMILIES = ["stages", "touchpoints"];
const MIN_EXAMPLES = 3; // the API takes fewer; three or more predict a new label well (docs/TAXONOMY.md)
const REANALYSIS_POLL_MS = 700;
const $ = (selector) => document.querySelector(selector);

/** A label's name in the interface language (the other language, then its id, when missing). */
export function labelName(label) {
  return label.names?.[lang()] || label.names?.en || label.names?.fr || label.id;
}

/** A snake_case id from a name: "Car park (P2)" -> "car_park_p2". */
export function slug(name) {
  const folded = name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  const id = /^[a-z]/.test(folded) ? folded : `label_${folded}`;
  return id.slice(0, 64);
}

export class Taxonomy {
  /** `onChanged(taxonomy)`: an edit or a re-analysis changed what the map shows (labels, figures). */
  constructor(api, { onChanged = () => {} } = {}) {
    this.api = api;
    this.onChanged = onChanged;
    this.data = null;
    this.editing = null; // {family, id} while the form edits a label; null: it adds one
    this.job = null;
    const form = $("#label-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    form.elements.id.addEventListener("input", () => {
      form.elements.id.dataset.typed = form.elements.id.value ? "1" : "";
    });
    form.elements.names_en.addEventListener("input", () => this.suggestId());
    form.elements.names_fr.addEventListener("input", () => this.suggestId());
    $("#label-cancel").addEventListener("click", () => this.resetForm());
    $("#merge-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.merge();
    });
    $("#merge-form").elements.family.addEventListener("change", () => this.fillMerge());
    $("#reanalyse").addEventListener("click", () => this.reanalyse());
  }

  /** Active labels of a family ("stages" or "touchpoints"), in taxonomy order. */
  active(family) {
    return (this.data?.[family] || []).filter((label) => label.status === "active");
  }

  /** The name of a label id in the interface language (the id when unknown). */
  name(family, id) {
    const label = (this.data?.[family] || []).find((l) => l.id === id);
    return label ? labelName(label) : id;
  }

  async load() {
    try {
      this.data = await this.api.fetchJson("/v1/taxonomy");
    } catch {
      return this.data; // keep what was read before
    }
    this.draw();
    return this.data;
  }

  draw() {
    if (!this.data) return;
    $("#taxonomy-version").textContent = t("taxonomy_version", { v: num(this.data.version) });
    $("#taxonomy-version").dataset.version = this.data.version;
    for (const family of FAMILIES) {
      const items = this.data[family].map((label) => this.row(family, label));
      $(`#labels-${family}`).replaceChildren(...items);
    }
    this.fillMerge();
  }

  row(family, label) {
    const status =
      label.status === "merged"
        ? t("label_merged", { into: this.name(family, label.merged_into) })
        : t(`label_${label.status}`);
    const active = label.status === "active";
    const protectedLabel = family === "touchpoints" && label.id === "none";
    return h(
      "li",
      { class: `label-row label-${label.status}`, "data-family": family, "data-id": label.id },
      h(
        "div",
        { class: "label-head" },
        h("strong", {}, labelName(label)),
        h("code", {}, label.id),
        h("span", { class: `tag label-status status-${label.status}` }, status),
        label.origin === "workspace" ? h("span", { class: "tag" }, t("label_added")) : null,
      ),
      label.description ? h("p", { class: "label-description" }, label.description) : null,
      active
        ? h(
            "div",
            { class: "label-actions" },
            h(
              "button",
              { type: "button", class: "link label-edit", onclick: () => this.edit(family, label) },
              t("label_edit"),
            ),
            protectedLabel
              ? null
              : h(
                  "button",
                  { type: "button", class: "link label-retire", onclick: () => this.retire(family, label) },
                  t("label_retire"),
                ),
          )
        : null,
    );
  }

  // --- Add and edit: one form.

  suggestId() {
    const form = $("#label-form");
    if (this.editing || form.elements.id.dataset.typed) return;
    const name = form.elements.names_en.value.trim() || form.elements.names_fr.value.trim();
    form.elements.id.value = name ? slug(name) : "";
  }

  edit(family, label) {
    const form = $("#label-form");
    this.editing = { family, id: label.id };
    form.elements.family.value = family;
    form.elements.family.disabled = true;
    form.elements.id.value = label.id;
    form.elements.id.readOnly = true;
    form.elements.names_fr.value = label.names?.fr || "";
    form.elements.names_en.value = label.names?.en || "";
    form.elements.description.value = label.description || "";
    form.elements.examples.value = (label.examples || []).join("\n");
    $("#label-form-title").textContent = t("label_edit_title", { name: labelName(label) });
    $("#label-submit").textContent = t("label_save");
    $("#label-cancel").hidden = false;
    this.message("");
    form.elements.names_en.focus();
  }

  resetForm() {
    const form = $("#label-form");
    this.editing = null;
    form.reset();
    form.elements.family.disabled = false;
    form.elements.id.readOnly = false;
    delete form.elements.id.dataset.typed;
    $("#label-form-title").textContent = t("label_add_title");
    $("#label-submit").textContent = t("label_add");
    $("#label-cancel").hidden = true;
  }

  message(text, kind = "error") {
    const node = $("#label-message");
    node.textContent = text;
    node.className = kind === "error" ? "form-error" : "form-ok";
    node.hidden = !text;
  }

  async save() {
    const form = $("#label-form");
    const names = { fr: form.elements.names_fr.value.trim(), en: form.elements.names_en.value.trim() };
    const examples = form.elements.examples.value
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    const description = form.elements.description.value.trim();
    if (!names.fr && !names.en) return this.message(t("label_need_name"));
    if (examples.length < MIN_EXAMPLES) return this.message(t("label_need_examples", { n: MIN_EXAMPLES }));
    const given = Object.fromEntries(Object.entries(names).filter(([, v]) => v));
    const family = this.editing?.family || form.elements.family.value;
    const button = $("#label-submit");
    button.disabled = true;
    try {
      if (this.editing) {
        const body = { names: given, description, examples };
        this.data = await this.api.write(`/v1/taxonomy/${family}/${this.editing.id}`, body, "PATCH");
      } else {
        const id = form.elements.id.value.trim() || slug(names.en || names.fr);
        this.data = await this.api.write(`/v1/taxonomy/${family}`, { id, names: given, description, examples });
      }
      const done = this.editing ? t("label_saved") : t("label_added_done");
      this.resetForm();
      this.message(done, "ok");
      this.changed();
    } catch (error) {
      if (error.status !== 401) this.message(error.detail || error.message);
    } finally {
      button.disabled = false;
    }
  }

  async retire(family, label) {
    if (!window.confirm(t("label_retire_confirm", { name: labelName(label) }))) return;
    try {
      this.data = await this.api.write(`/v1/taxonomy/${family}/${label.id}/retire`, {});
      this.message(t("label_retired_done", { name: labelName(label) }), "ok");
      this.changed();
    } catch (error) {
      if (error.status !== 401) this.message(error.detail || error.message);
    }
  }

  // --- Merge.

  fillMerge() {
    const form = $("#merge-form");
    const family = form.elements.family.value;
    const options = this.active(family).map((label) => h("option", { value: label.id }, labelName(label)));
    for (const select of [form.elements.from, form.elements.into]) {
      const kept = select.value; // the choice stays while it is still an active label of this family
      select.replaceChildren(...options.map((o) => o.cloneNode(true)));
      if ([...select.options].some((o) => o.value === kept)) select.value = kept;
    }
    if (form.elements.from.value === form.elements.into.value && options.length > 1)
      form.elements.into.selectedIndex = 1;
  }

  async merge() {
    const form = $("#merge-form");
    const family = form.elements.family.value;
    const from = form.elements.from.value;
    const into = form.elements.into.value;
    const error = $("#merge-message");
    error.hidden = true;
    if (!from || !into || from === into) {
      error.textContent = t("merge_same");
      error.hidden = false;
      return;
    }
    try {
      this.data = await this.api.write(`/v1/taxonomy/${family}/merge`, { from: [from], into });
      this.changed();
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = failure.detail || failure.message;
      error.hidden = false;
    }
  }

  changed() {
    this.draw();
    this.onChanged(this.data);
  }

  // --- Re-analysis: POST /v1/reanalysis, then its progress until done.

  async reanalyse() {
    const button = $("#reanalyse");
    button.disabled = true;
    try {
      let job = await this.api.write("/v1/reanalysis", {});
      for (;;) {
        this.showJob(job);
        if (job.status === "done" || job.status === "failed") break;
        await new Promise((resolve) => setTimeout(resolve, REANALYSIS_POLL_MS));
        job = await this.api.fetchJson(`/v1/reanalysis/${job.id}`);
      }
      this.onChanged(this.data);
    } catch (error) {
      if (error.status !== 401) $("#reanalysis-text").textContent = t("reanalysis_failed", { e: error.detail });
    } finally {
      button.disabled = false;
    }
  }

  showJob(job) {
    this.job = job;
    const box = $("#reanalysis");
    box.hidden = false;
    box.dataset.status = job.status;
    box.dataset.jobId = job.id;
    const bar = $("#reanalysis .progress");
    const value = Math.round(job.progress * 100);
    bar.setAttribute("aria-valuenow", value);
    $("#reanalysis .progress-bar").style.width = `${value}%`;
    $("#reanalysis .progress-value").textContent = percent(job.progress);
    const words = {
      queued: t("reanalysis_queued"),
      running: t("reanalysis_running", { d: num(job.done), n: num(job.total) }),
      done: t("reanalysis_done", { n: num(job.total), v: num(job.taxonomy_version) }),
      failed: t("reanalysis_failed", { e: job.error || job.status }),
    };
    $("#reanalysis-text").textContent = words[job.status] || job.status;
  }

  /** Draw again in the current language. */
  relabel() {
    this.draw();
    if (!this.editing) this.resetForm();
    if (this.job) this.showJob(this.job);
  }
}
