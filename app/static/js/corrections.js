// Corrections from the drill-down (POST /v1/feedback/{id}/corrections): a highlighted mention opens a small menu to
// change its stage, touchpoint or polarity or delete it; words selected in a verbatim can be added as a mention.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { labelName } from "./taxonomy.js";

const POLARITIES = ["irritant", "delight", "neutral"];
const $ = (selector) => document.querySelector(selector);

/** Code points before UTF-16 index `unit` of `text` (the API counts offsets in code points). */
export function codePoints(text, unit) {
  return [...text.slice(0, unit)].length;
}

/** The UTF-16 offset of a (node, offset) boundary inside `root`'s text. */
function unitsBefore(root, node, offset) {
  const range = document.createRange();
  range.selectNodeContents(root);
  range.setEnd(node, offset);
  return range.toString().length;
}

export class Corrections {
  /**
   * `drill`: the drill-down (its loaded feedback); `taxonomy`: the workspace's labels; `onCorrected(result)`:
   * a correction was stored (the figures changed).
   */
  constructor(api, { drill, taxonomy, onCorrected = () => {} }) {
    this.api = api;
    this.drill = drill;
    this.taxonomy = taxonomy;
    this.onCorrected = onCorrected;
    this.target = null; // {feedbackId, rank, mention} or {feedbackId, start, end, words}
    const list = $("#drill-list");
    list.addEventListener("click", (event) => this.clicked(event));
    list.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target.closest?.(".mention[data-rank]")) {
        event.preventDefault();
        this.clicked(event);
      }
    });
    list.addEventListener("mouseup", () => setTimeout(() => this.selected()));
    list.addEventListener("keyup", (event) => event.shiftKey && this.selected());
    document.addEventListener("selectionchange", () => {
      if (window.getSelection()?.isCollapsed) this.hideAdd();
    });
    $("#add-mention").addEventListener("mousedown", (event) => event.preventDefault()); // keeps the selection
    $("#add-mention").addEventListener("click", () => this.openAdd());
    $("#correction-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("#correction-delete").addEventListener("click", () => this.remove());
    $("#correction-cancel").addEventListener("click", () => $("#correction-dialog").close());
  }

  clicked(event) {
    const node = event.target.closest?.(".mention[data-rank]");
    if (!node || !window.getSelection()?.isCollapsed) return; // a drag that selects words is not a click
    const feedbackId = Number(node.closest("li.feedback").dataset.id);
    const item = this.drill.item(feedbackId);
    const rank = Number(node.dataset.rank);
    const mention = item?.mentions?.[rank];
    if (!mention) return;
    this.target = { feedbackId, rank, mention };
    this.open({
      title: t("correct_title"),
      words: mention.text,
      values: mention,
      deletable: true,
    });
  }

  /** Words selected inside one verbatim: offer "Add a mention" next to them. */
  selected() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return this.hideAdd();
    const range = selection.getRangeAt(0);
    const container = range.commonAncestorContainer;
    const element = container.nodeType === Node.ELEMENT_NODE ? container : container.parentElement;
    const quote = element?.closest("#drill-list blockquote.verbatim"); // within one verbatim only
    const feedbackNode = quote?.closest("li.feedback");
    const item = feedbackNode ? this.drill.item(Number(feedbackNode.dataset.id)) : null;
    if (!item || quote.textContent !== item.text) return this.hideAdd();
    let from = unitsBefore(quote, range.startContainer, range.startOffset);
    let to = unitsBefore(quote, range.endContainer, range.endOffset);
    while (from < to && /\s/.test(item.text[from])) from += 1;
    while (to > from && /\s/.test(item.text[to - 1])) to -= 1;
    if (to <= from) return this.hideAdd();
    this.target = {
      feedbackId: item.id,
      start: codePoints(item.text, from),
      end: codePoints(item.text, to),
      words: item.text.slice(from, to),
    };
    const box = range.getBoundingClientRect();
    const button = $("#add-mention");
    button.hidden = false;
    button.style.top = `${window.scrollY + box.bottom + 6}px`;
    button.style.left = `${Math.max(8, window.scrollX + box.left)}px`;
  }

  hideAdd() {
    $("#add-mention").hidden = true;
  }

  openAdd() {
    if (!this.target || this.target.rank !== undefined) return;
    this.hideAdd();
    this.open({ title: t("add_title"), words: this.target.words, values: null, deletable: false });
  }

  options(select, values, chosen) {
    select.replaceChildren(...values.map(([value, text]) => h("option", { value }, text)));
    select.value = chosen && values.some(([v]) => v === chosen) ? chosen : values[0]?.[0] || "";
  }

  open({ title, words, values, deletable }) {
    const form = $("#correction-form");
    $("#correction-title").textContent = title;
    $("#correction-words").textContent = words;
    const family = (name) => this.taxonomy.active(name).map((label) => [label.id, labelName(label)]);
    const stages = family("stages");
    const touchpoints = family("touchpoints");
    // A mention may carry a label no longer active (retired): it is offered too, so that the menu shows the truth.
    if (values && !stages.some(([id]) => id === values.stage)) stages.unshift([values.stage, values.stage]);
    if (values && !touchpoints.some(([id]) => id === values.touchpoint))
      touchpoints.unshift([values.touchpoint, values.touchpoint]);
    this.options(form.elements.stage, stages, values?.stage);
    this.options(form.elements.touchpoint, touchpoints, values?.touchpoint);
    this.options(
      form.elements.polarity,
      POLARITIES.map((p) => [p, t(`polarity_${p}`)]),
      values?.polarity || "irritant",
    );
    $("#correction-delete").hidden = !deletable;
    $("#correction-error").hidden = true;
    $("#correction-dialog").showModal();
    form.elements.stage.focus();
  }

  async save() {
    const form = $("#correction-form");
    const chosen = Object.fromEntries(["stage", "touchpoint", "polarity"].map((f) => [f, form.elements[f].value]));
    const target = this.target;
    if (target.rank !== undefined) {
      const changed = Object.fromEntries(Object.entries(chosen).filter(([f, v]) => v !== target.mention[f]));
      if (!Object.keys(changed).length) return $("#correction-dialog").close();
      return this.send({ action: "set", mention: target.rank, ...changed });
    }
    return this.send({ action: "add", start: target.start, end: target.end, ...chosen });
  }

  remove() {
    return this.send({ action: "delete", mention: this.target.rank });
  }

  async send(body) {
    const target = this.target;
    const error = $("#correction-error");
    const buttons = [...$("#correction-form").querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    try {
      const result = await this.api.write(`/v1/feedback/${target.feedbackId}/corrections`, body);
      $("#correction-dialog").close();
      window.getSelection()?.removeAllRanges();
      this.drill.replaceMentions(target.feedbackId, result.mentions);
      this.onCorrected(result);
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = t("correction_refused", { e: failure.detail || failure.message });
      error.hidden = false;
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }
}
