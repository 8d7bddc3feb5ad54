"""Measure the pipeline on the labelled sets in ../shared/data, each task beside a trivial baseline.

Read-only use of EVAL-licensed sets: nothing here is copied into the repository.
"""

from __future__ import annotations

import csv
import json
import random
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.pipeline import Pipeline
from nlp.types import Analysis

SetOf = Callable[[dict[str, Any]], set[Any]]


def set_f1(gold: Sequence[set[Any]], predicted: Sequence[set[Any]]) -> dict[str, float]:
    """Micro set-F1 over texts: true positives, false positives and negatives summed over every text."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, predicted, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Iterable[str] | None = None) -> float:
    """Macro-averaged F1 over `labels` (default: the gold labels)."""
    scores = []
    for label in sorted(set(labels or gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return round(float(np.mean(scores)), 4) if scores else 0.0


def accuracy(gold: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Share of exact matches."""
    return round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(len(gold), 1), 4)


def text_sentiment(analysis: Analysis) -> float:
    """The text's sentiment: its segments' scores weighted by their length."""
    if not analysis.segments:
        return 0.0
    lengths = np.array([max(s.end - s.start, 1) for s in analysis.segments], dtype=float)
    scores = np.array([s.sentiment for s in analysis.segments])
    return float((lengths * scores).sum() / lengths.sum())


_MENTION_SETS: dict[str, SetOf] = {
    "stage": lambda m: {m["stage"]},
    "touchpoint": lambda m: {m["touchpoint"]},
    "stage+polarity": lambda m: {(m["stage"], m["polarity"])},
    "stage+touchpoint": lambda m: {(m["stage"], m["touchpoint"])},
    "polarity": lambda m: {m["polarity"]},
}


def _sets(mentions: Iterable[dict[str, Any]], task: str) -> set[Any]:
    result: set[Any] = set()
    for mention in mentions:
        result |= _MENTION_SETS[task](mention)
    return result


def mention_agreement(
    gold: Sequence[Sequence[dict[str, Any]]], predicted: Sequence[Sequence[dict[str, Any]]]
) -> dict[str, Any]:
    """Set-F1 per text for every mention task, and the predicted/gold mention-count ratio (1.0 = as many)."""
    result: dict[str, Any] = {}
    for task in _MENTION_SETS:
        result[task] = set_f1([_sets(g, task) for g in gold], [_sets(p, task) for p in predicted])["f1"]
    gold_count, predicted_count = sum(len(g) for g in gold), sum(len(p) for p in predicted)
    result["mentions_per_text"] = round(gold_count / max(len(gold), 1), 3)
    result["predicted_per_text"] = round(predicted_count / max(len(gold), 1), 3)
    result["count_ratio"] = round(predicted_count / max(gold_count, 1), 3)
    return result


def _overlap(a: Sequence[int], b: Sequence[int]) -> float:
    """Characters shared by two spans over the shorter one's length (1.0 = one contains the other)."""
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return max(shared, 0) / max(min(a[1] - a[0], b[1] - b[0]), 1)


def align_mentions(
    gold: Sequence[dict[str, Any]], predicted: Sequence[dict[str, Any]], minimum: float = 0.5
) -> list[tuple[int, int]]:
    """Pair gold and predicted mentions of one text by span overlap, greedily from the best pair (one-to-one)."""
    pairs = sorted(
        ((_overlap(g["span"], p["span"]), gi, pi) for gi, g in enumerate(gold) for pi, p in enumerate(predicted)),
        reverse=True,
    )
    used_gold: set[int] = set()
    used_predicted: set[int] = set()
    aligned = []
    for score, gi, pi in pairs:
        if score < minimum or gi in used_gold or pi in used_predicted:
            continue
        used_gold.add(gi)
        used_predicted.add(pi)
        aligned.append((gi, pi))
    return aligned


def _confusion(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for gold, predicted in pairs:
        table.setdefault(gold, {})
        table[gold][predicted] = table[gold].get(predicted, 0) + 1
    return {g: dict(sorted(row.items(), key=lambda kv: -kv[1])) for g, row in sorted(table.items())}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score_mentions(rows: Sequence[dict[str, Any]], predicted: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """Every mention figure for annotated texts (journey_dev's shape) against predicted mentions.

    Set-F1 per text (micro) for stage, touchpoint, stage+polarity, stage+touchpoint and polarity; mentions per
    text (annotated, predicted, ratio); span-aligned mention precision and recall (overlap >= half the shorter
    span); on aligned pairs, stage and touchpoint confusion matrices, polarity flips (irritant <-> delight) and
    neutral F1; the set-F1 figures per language and per register.
    """
    gold = [r["mentions"] for r in rows]
    result: dict[str, Any] = {"texts": len(rows)}
    for task in _MENTION_SETS:
        result[task] = set_f1([_sets(g, task) for g in gold], [_sets(p, task) for p in predicted])
    aligned = [align_mentions(g, p) for g, p in zip(gold, predicted, strict=True)]
    n_gold, n_predicted, n_aligned = sum(map(len, gold)), sum(map(len, predicted)), sum(map(len, aligned))
    result["mentions"] = {
        "annotated_per_text": round(n_gold / max(len(rows), 1), 3),
        "predicted_per_text": round(n_predicted / max(len(rows), 1), 3),
        "count_ratio": round(n_predicted / max(n_gold, 1), 3),
        **_prf(n_aligned, n_predicted - n_aligned, n_gold - n_aligned),
    }
    pairs = [(g[gi], p[pi]) for g, p, a in zip(gold, predicted, aligned, strict=True) for gi, pi in a]
    result["confusion"] = {
        "stage": _confusion([(g["stage"], p["stage"]) for g, p in pairs]),
        "touchpoint": _confusion([(g["touchpoint"], p["touchpoint"]) for g, p in pairs]),
        "polarity": _confusion([(g["polarity"], p["polarity"]) for g, p in pairs]),
    }
    polar = [
        (g["polarity"], p["polarity"]) for g, p in pairs if {g["polarity"], p["polarity"]} <= {"irritant", "delight"}
    ]
    result["aligned"] = {
        "pairs": len(pairs),
        "stage_accuracy": accuracy([g["stage"] for g, _ in pairs], [p["stage"] for _, p in pairs]),
        "touchpoint_accuracy": accuracy([g["touchpoint"] for g, _ in pairs], [p["touchpoint"] for _, p in pairs]),
        "polarity_flips": round(sum(g != p for g, p in polar) / max(len(polar), 1), 4),
    }
    neutral = [(g["polarity"] == "neutral", p["polarity"] == "neutral") for g, p in pairs]
    gold_neutral = sum(1 for m in gold for x in m if x["polarity"] == "neutral")
    predicted_neutral = sum(1 for m in predicted for x in m if x["polarity"] == "neutral")
    both = sum(g and p for g, p in neutral)
    result["neutral"] = {
        "annotated_share": round(gold_neutral / max(n_gold, 1), 4),
        "predicted_share": round(predicted_neutral / max(n_predicted, 1), 4),
        **_prf(both, predicted_neutral - both, gold_neutral - both),
    }
    for key, field in (("by_language", "lang"), ("by_register", "register")):
        groups = sorted({str(r.get(field)) for r in rows if r.get(field)})
        if len(groups) < 2 and key == "by_register":
            continue
        result[key] = {}
        for group in groups:
            picked = [i for i, r in enumerate(rows) if str(r.get(field)) == group]
            sub_gold = [gold[i] for i in picked]
            sub_predicted = [predicted[i] for i in picked]
            result[key][group] = {
                "texts": len(picked),
                **{
                    t: set_f1([_sets(g, t) for g in sub_gold], [_sets(p, t) for p in sub_predicted])["f1"]
                    for t in ("stage", "touchpoint", "stage+polarity", "polarity")
                },
                "count_ratio": round(sum(map(len, sub_predicted)) / max(sum(map(len, sub_gold)), 1), 3),
            }
    return result


def _predicted_mentions(pipeline: Pipeline, rows: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    analyses = pipeline.analyze([r["text"] for r in rows], ids=[r["id"] for r in rows])
    return [
        [
            {"stage": m.stage, "touchpoint": m.touchpoint, "polarity": m.polarity, "span": [m.start, m.end]}
            for m in a.mentions
        ]
        for a in analyses
    ]


def _with_baseline(rows: Sequence[dict[str, Any]], result: dict[str, Any]) -> dict[str, Any]:
    baseline_mention = {"stage": "usage", "touchpoint": "product", "polarity": "irritant"}
    for task in _MENTION_SETS:
        gold = [_sets(r["mentions"], task) for r in rows]
        result[task]["baseline_f1"] = set_f1(gold, [_sets([baseline_mention], task)] * len(rows))["f1"]
    return result


def evaluate_journey_dev(pipeline: Pipeline, shared: Path) -> dict[str, Any]:
    """Every mention figure on journey_dev (130 French insurance reviews, 70 English hotel reviews)."""
    rows = [
        json.loads(line)
        for line in (shared / "journey_dev" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for row in rows:
        row["register"] = "review"
        row["rating"] = None  # journey_dev's ratings are 1-5 stars; the figures are measured on text alone
    result = _with_baseline(rows, score_mentions(rows, _predicted_mentions(pipeline, rows)))
    for language in ("fr", "en"):
        result[f"stage_{language}"] = result["by_language"].get(language, {}).get("stage")
    return result


def evaluate_dev2(pipeline: Pipeline, shared: Path) -> dict[str, Any]:
    """Every mention figure on the team's second dev set (data/annotated/dev2: banking complaints, e-commerce and
    banking chat in English; French telecom, utilities, e-commerce, travel and banking tweets, app reviews and
    complaints). Never trained on."""
    from nlp.annotations import load_annotated

    rows = [r.as_dict() for r in load_annotated("dev2")]
    if not rows:
        return {"texts": 0}
    return _with_baseline(rows, score_mentions(rows, _predicted_mentions(pipeline, rows)))


def _semeval_sentences(path: Path) -> list[tuple[str, set[str]]]:
    sentences = []
    for sentence in ElementTree.parse(path).getroot().iter("sentence"):
        text = (sentence.findtext("text") or "").strip()
        polarities = {o.get("polarity", "") for o in sentence.iter("Opinion")}
        if text and polarities:
            sentences.append((text, polarities))
    return sentences


def evaluate_semeval(pipeline: Pipeline, shared: Path) -> dict[str, Any]:
    """Sentence polarity on SemEval-2016 restaurants (all-positive or all-negative sentences), FR and EN,
    and the share of mixed sentences (positive and negative opinions) where both an irritant and a
    delight segment are found."""
    files = {"fr": "restaurants_french_train.xml", "en": "ABSA16_Restaurants_Train_SB1_v2.xml"}
    result: dict[str, Any] = {}
    for language, name in files.items():
        sentences = _semeval_sentences(shared / "semeval2016_absa_train" / name)
        pure = [
            (t, "positive" if p == {"positive"} else "negative")
            for t, p in sentences
            if p in ({"positive"}, {"negative"})
        ]
        mixed = [t for t, p in sentences if {"positive", "negative"} <= p]
        analyses = pipeline.analyze([t for t, _ in pure])
        predicted = ["positive" if text_sentiment(a) > 0 else "negative" for a in analyses]
        gold = [g for _, g in pure]
        majority = Counter(gold).most_common(1)[0][0]
        mixed_analyses = pipeline.analyze(mixed)
        both = [{s.polarity for s in a.segments} >= {"irritant", "delight"} for a in mixed_analyses]
        result[language] = {
            "sentences": len(pure),
            "accuracy": accuracy(gold, predicted),
            "baseline_accuracy": accuracy(gold, [majority] * len(gold)),
            "mixed_sentences": len(mixed),
            "mixed_both_found": round(sum(both) / max(len(both), 1), 4),
        }
    return result


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def evaluate_umsab(pipeline: Pipeline, shared: Path) -> dict[str, Any]:
    """3-class (negative / neutral / positive) macro-F1 on UMSAB tweets, FR and EN (the validation split)."""
    names = {"0": "negative", "1": "neutral", "2": "positive"}
    result: dict[str, Any] = {}
    for language in ("french", "english"):
        texts, gold = [], []
        for split in ("val",):
            folder = shared / "umsab_tweets" / language
            texts += _read_lines(folder / f"{split}_text.txt")
            gold += [names[x.strip()] for x in _read_lines(folder / f"{split}_labels.txt")]
        analyses = pipeline.analyze(texts)
        threshold = pipeline.sentiment_head.threshold
        predicted = []
        for analysis in analyses:
            score = text_sentiment(analysis)
            predicted.append("positive" if score >= threshold else "negative" if score <= -threshold else "neutral")
        majority = Counter(gold).most_common(1)[0][0]
        result[language[:2]] = {
            "tweets": len(texts),
            "macro_f1": macro_f1(gold, predicted, names.values()),
            "baseline_macro_f1": macro_f1(gold, [majority] * len(gold), names.values()),
        }
    return result


# Our emotions grouped onto TweetEval's four classes (optimism has no exact counterpart: trust).
TWEETEVAL_GROUPS = {
    "anger": ("anger", "frustration"),
    "joy": ("joy", "surprise"),
    "optimism": ("trust",),
    "sadness": ("sadness", "fear"),
}


def evaluate_tweeteval(pipeline: Pipeline, shared: Path) -> dict[str, Any]:
    """Emotion macro-F1 on TweetEval's validation split (anger, joy, optimism, sadness), the emotion head
    restricted to those groups."""
    names = dict(line.split("\t") for line in _read_lines(shared / "tweeteval_emotion" / "mapping.txt"))
    texts, gold = [], []
    for split in ("val",):
        texts += _read_lines(shared / "tweeteval_emotion" / f"{split}_text.txt")
        gold += [names[x.strip()] for x in _read_lines(shared / "tweeteval_emotion" / f"{split}_labels.txt")]
    classes, probabilities = pipeline.emotion_head.probabilities(pipeline.embedder.encode(texts))
    groups = list(TWEETEVAL_GROUPS)
    grouped = np.stack(
        [probabilities[:, [classes.index(e) for e in TWEETEVAL_GROUPS[g] if e in classes]].sum(axis=1) for g in groups],
        axis=1,
    )
    predicted = [groups[i] for i in grouped.argmax(axis=1)]
    majority = Counter(gold).most_common(1)[0][0]
    return {
        "tweets": len(texts),
        "macro_f1": macro_f1(gold, predicted, groups),
        "baseline_macro_f1": macro_f1(gold, [majority] * len(gold), groups),
        "mapping": {g: list(e) for g, e in TWEETEVAL_GROUPS.items()},
    }


def evaluate_fr_insurance(pipeline: Pipeline, shared: Path, sample: int | None = 2000) -> dict[str, Any]:
    """Star agreement: 1-2 star reviews scored negative, 4-5 star scored positive (a seeded sample)."""
    with (shared / "fr_insurance_reviews" / "fr_insurance_reviews.csv").open(encoding="utf-8", newline="") as handle:
        rows = [
            (r["avis"], int(r["note"])) for r in csv.DictReader(handle) if r["avis"].strip() and r["note"] in "1245"
        ]
    if sample and len(rows) > sample:
        rows = random.Random(13).sample(rows, sample)
    analyses = pipeline.analyze([t for t, _ in rows])
    gold = ["negative" if stars <= 2 else "positive" for _, stars in rows]
    predicted = ["positive" if text_sentiment(a) > 0 else "negative" for a in analyses]
    majority = Counter(gold).most_common(1)[0][0]
    by_class = {
        g: accuracy([x for x in gold if x == g], [p for x, p in zip(gold, predicted, strict=True) if x == g])
        for g in ("negative", "positive")
    }
    return {
        "reviews": len(rows),
        "agreement": accuracy(gold, predicted),
        "by_class": by_class,
        "baseline_agreement": accuracy(gold, [majority] * len(gold)),
    }


TASKS: dict[str, Callable[[Pipeline, Path], dict[str, Any]]] = {
    "journey_dev": evaluate_journey_dev,
    "dev2": evaluate_dev2,
    "semeval2016": evaluate_semeval,
    "umsab": evaluate_umsab,
    "tweeteval_emotion": evaluate_tweeteval,
    "fr_insurance_stars": evaluate_fr_insurance,
}
