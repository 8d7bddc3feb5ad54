"""Classification heads over sentence embeddings: trained, saved as plain arrays, extendable by prototypes."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.embed import Embedder
from nlp.errors import ModelError
from nlp.taxonomy import Label
from nlp.types import Scored

logger = logging.getLogger(__name__)

POLARITIES = ("irritant", "neutral", "delight")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@dataclass
class NgramChannel:
    """A second linear softmax over character n-grams, mixed into a head's decision with weight `mix`.

    The head's log-scores are log p(embedding) + mix * log p(n-grams): a product of experts, each
    trained (and regularised) on its own view of the text.
    """

    weights: np.ndarray
    bias: np.ndarray
    mix: float

    @classmethod
    def fit(
        cls, grams: Any, y: Sequence[str], c: float, sample_weight: np.ndarray | None, mix: float, classes: list[str]
    ) -> NgramChannel:
        """Train on n-gram rows with the same labels as the head (same class order)."""
        got, weights, bias = fit_linear(grams, y, c, sample_weight)
        if got != classes:
            raise ModelError(f"n-gram channel classes {got} differ from the head's {classes}")
        return cls(weights, bias, mix)

    def log_scores(self, grams: Any) -> np.ndarray:
        """Return mix * log p(label | n-grams), one row per text."""
        return self.mix * _log_softmax(np.asarray(grams @ self.weights.T) + self.bias)

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the arrays to save (weights as float16: half the size, no measurable loss)."""
        return {"ngram_weights": self.weights.astype(np.float16), "ngram_bias": self.bias}

    @classmethod
    def from_arrays(cls, arrays: Any, mix: float) -> NgramChannel | None:
        """Rebuild a channel saved by `arrays`; None when the head has none."""
        if "ngram_weights" not in arrays:
            return None
        return cls(arrays["ngram_weights"].astype(np.float32), arrays["ngram_bias"], mix)


def fit_linear(
    x: Any, y: Sequence[str], c: float, sample_weight: np.ndarray | None = None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Fit a class-balanced multinomial logistic regression (dense or sparse x); return (classes, weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(x, list(y), sample_weight=sample_weight)
    classes = [str(label) for label in model.classes_]
    if len(classes) < 3:
        raise ModelError(f"A head needs at least 3 classes to train, got {classes}")
    return classes, model.coef_.astype(np.float32), model.intercept_.astype(np.float32)


def fit_mlp(
    x: np.ndarray, y: Sequence[str], hidden: int, alpha: float, sample_weight: np.ndarray | None = None
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit a one-hidden-layer ReLU network with class-balanced sample weights (deterministic seed).

    Returns (classes, output weights, output bias, hidden weights, hidden bias).
    """
    from collections import Counter

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    labels = np.asarray(list(y))
    counts = Counter(labels.tolist())
    balance = np.array([len(labels) / (len(counts) * counts[label]) for label in labels])
    weights = balance * (sample_weight if sample_weight is not None else 1.0)
    model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=60, random_state=0)
    with warnings.catch_warnings():  # a fixed budget of 60 epochs, not convergence, ends training
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, labels, sample_weight=weights / weights.mean())
    classes = [str(label) for label in model.classes_]
    if len(classes) < 3:
        raise ModelError(f"A head needs at least 3 classes to train, got {classes}")
    return (
        classes,
        model.coefs_[1].T.astype(np.float32),
        model.intercepts_[1].astype(np.float32),
        model.coefs_[0].T.astype(np.float32),
        model.intercepts_[0].astype(np.float32),
    )


@dataclass
class LabelHead:
    """One label family (stage, touchpoint, emotion): a softmax over embeddings, linear or with one hidden layer.

    Labels the head was trained on are decided by the trained weights. A taxonomy label it has never
    seen is predicted by prototype similarity (its description and examples, embedded): it wins a
    segment when the segment is closer to its prototype than to every known label's prototype by
    `margin`. `reserved` classes (e.g. the off-topic stage) are kept though not in the taxonomy.
    """

    family: str
    classes: list[str]
    weights: np.ndarray
    bias: np.ndarray
    reserved: tuple[str, ...] = ()
    margin: float = 0.02
    ngrams: NgramChannel | None = None
    prototypes: dict[str, np.ndarray] = field(default_factory=dict)
    _active: np.ndarray | None = None
    hidden_weights: np.ndarray | None = None  # (hidden, input): a ReLU layer before the output weights
    hidden_bias: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        family: str,
        x: np.ndarray,
        y: Sequence[str],
        c: float = 4.0,
        sample_weight: np.ndarray | None = None,
        reserved: Sequence[str] = (),
        prior: dict[str, float] | None = None,
        grams: Any = None,
        c_ngram: float = 10.0,
        ngram_mix: float = 1.0,
        hidden: int = 0,
        alpha: float = 1e-3,
    ) -> LabelHead:
        """Train on embeddings `x` (and, when given, n-gram rows `grams`) with labels `y`.

        Training classes are balanced; `prior` (expected share of each label in real feedback) then
        shifts the decision the Bayesian way, by adding log(prior) to each class's bias. `hidden` > 0
        puts a ReLU layer of that size under the softmax (L2 penalty `alpha`).
        """
        hidden_weights = hidden_bias = None
        if hidden:
            classes, weights, bias, hidden_weights, hidden_bias = fit_mlp(x, y, hidden, alpha, sample_weight)
        else:
            classes, weights, bias = fit_linear(x, y, c, sample_weight)
        if prior:
            default = float(np.mean(list(prior.values())))
            bias = (bias + np.log([max(prior.get(label, default), 1e-6) for label in classes])).astype(np.float32)
        channel = None
        if grams is not None and ngram_mix:
            channel = NgramChannel.fit(grams, y, c_ngram, sample_weight, ngram_mix, classes)
        return cls(
            family,
            classes,
            weights,
            bias,
            tuple(reserved),
            ngrams=channel,
            hidden_weights=hidden_weights,
            hidden_bias=hidden_bias,
        )

    def adapt(self, labels: Sequence[Label], embedder: Embedder) -> LabelHead:
        """Align the head with a (possibly edited) taxonomy family; new labels get prototypes."""
        wanted = [label.id for label in labels]
        active = np.array([c in wanted or c in self.reserved for c in self.classes])
        new_labels = [label for label in labels if label.id not in self.classes]
        prototypes: dict[str, np.ndarray] = {}
        if new_labels:
            logger.info("%s: predicting new labels %s by prototype", self.family, [x.id for x in new_labels])
            for label in [*labels, *new_labels]:
                if label.id in prototypes and label not in new_labels:
                    continue
                vectors = embedder.encode(label.prototype_texts())
                centre = vectors.mean(axis=0)
                prototypes[label.id] = centre / max(float(np.linalg.norm(centre)), 1e-12)
        return LabelHead(
            self.family,
            self.classes,
            self.weights,
            self.bias,
            self.reserved,
            self.margin,
            self.ngrams,
            prototypes,
            active,
            self.hidden_weights,
            self.hidden_bias,
        )

    def probabilities(self, x: np.ndarray, grams: Any = None) -> tuple[list[str], np.ndarray]:
        """Return the trained classes and one probability row per embedding (labels absent from the taxonomy at 0).

        `grams` (the texts' n-gram rows) add the head's n-gram channel when it has one.
        """
        if self.hidden_weights is not None and self.hidden_bias is not None:
            x = np.maximum(x @ self.hidden_weights.T + self.hidden_bias, 0.0)
        logits = x @ self.weights.T + self.bias
        if self.ngrams is not None and grams is not None:
            logits = _log_softmax(logits) + self.ngrams.log_scores(grams)
        probabilities = _softmax(logits)
        if self._active is not None and not self._active.all():
            probabilities = probabilities * self._active
            probabilities /= np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)
        return self.classes, probabilities

    def predict(self, x: np.ndarray, grams: Any = None, probabilities: np.ndarray | None = None) -> list[Scored]:
        """Return the best label and its probability for each embedding row (`probabilities`: this head's own
        `probabilities(x, grams)` when the caller has them already)."""
        if len(x) == 0:
            return []
        if probabilities is None:
            _, probabilities = self.probabilities(x, grams)
        best = probabilities.argmax(axis=1)
        result = [Scored(self.classes[i], float(probabilities[row, i])) for row, i in enumerate(best)]
        if self.prototypes:
            result = self._with_prototypes(x, result)
        return result

    def _with_prototypes(self, x: np.ndarray, trained: list[Scored]) -> list[Scored]:
        new_ids = [label for label in self.prototypes if label not in self.classes]
        known_ids = [label for label in self.prototypes if label in self.classes]
        if not new_ids:
            return trained
        new_sim = x @ np.stack([self.prototypes[i] for i in new_ids]).T
        known_sim = x @ np.stack([self.prototypes[i] for i in known_ids]).T if known_ids else None
        result = []
        for row, scored in enumerate(trained):
            best_new = int(new_sim[row].argmax())
            best_known = float(known_sim[row].max()) if known_sim is not None else -1.0
            if new_sim[row, best_new] > best_known + self.margin:
                result.append(Scored(new_ids[best_new], float((1 + new_sim[row, best_new]) / 2)))
            else:
                result.append(scored)
        return result

    def save(self, directory: Path) -> None:
        """Write the head as `<family>.npz` + `<family>.json` (no pickle)."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"weights": self.weights, "bias": self.bias, **(self.ngrams.arrays() if self.ngrams else {})}
        if self.hidden_weights is not None and self.hidden_bias is not None:
            arrays |= {"hidden_weights": self.hidden_weights.astype(np.float16), "hidden_bias": self.hidden_bias}
        np.savez_compressed(directory / f"{self.family}.npz", **arrays)  # type: ignore[arg-type]
        meta = {
            "family": self.family,
            "classes": self.classes,
            "reserved": list(self.reserved),
            "margin": self.margin,
            "ngram_mix": self.ngrams.mix if self.ngrams else 0.0,
        }
        (directory / f"{self.family}.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, family: str) -> LabelHead:
        """Read a head written by `save`."""
        meta_path, arrays_path = directory / f"{family}.json", directory / f"{family}.npz"
        if not meta_path.exists() or not arrays_path.exists():
            raise ModelError(
                f"Head '{family}' is missing from {directory} (expected {meta_path.name}, {arrays_path.name})"
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        arrays = np.load(arrays_path)
        return cls(
            family,
            list(meta["classes"]),
            arrays["weights"],
            arrays["bias"],
            tuple(meta["reserved"]),
            float(meta["margin"]),
            NgramChannel.from_arrays(arrays, float(meta.get("ngram_mix", 0.0))),
            hidden_weights=arrays["hidden_weights"].astype(np.float32) if "hidden_weights" in arrays else None,
            hidden_bias=arrays["hidden_bias"] if "hidden_bias" in arrays else None,
        )


@dataclass
class SentimentHead:
    """Sentiment in [-1, 1] = P(delight) - P(irritant) from a 3-class softmax, and a polarity.

    With `neutral_weight` > 0 the polarity is the most probable class once P(neutral) is scaled by that weight
    (calibrated on held-out annotated clauses: the classes are balanced in training, neutral is rarer in
    feedback). A score alone (a clause moved by its text's tone, a joined mention) is an irritant when it is
    <= `-threshold`, a delight when >= `threshold`, neutral otherwise.
    """

    weights: np.ndarray
    bias: np.ndarray
    classes: list[str]
    threshold: float = 0.25
    feature_scale: float = 0.0
    ngrams: NgramChannel | None = None
    neutral_weight: float = 0.0

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: Sequence[str],
        c: float = 2.0,
        sample_weight: np.ndarray | None = None,
        threshold: float = 0.25,
        features: np.ndarray | None = None,
        feature_scale: float = 0.0,
        grams: Any = None,
        c_ngram: float = 10.0,
        ngram_mix: float = 0.3,
        neutral_weight: float = 0.0,
    ) -> SentimentHead:
        """Train on embeddings (plus optional lexicon features and n-grams) and irritant / neutral / delight labels."""
        head = cls(np.zeros(0), np.zeros(0), [], threshold, feature_scale if features is not None else 0.0)
        head.neutral_weight = neutral_weight
        classes, weights, bias = fit_linear(head.inputs(x, features), y, c, sample_weight)
        if sorted(classes) != sorted(POLARITIES):
            raise ModelError(f"Sentiment labels must be {', '.join(POLARITIES)}; got {', '.join(classes)}")
        head.weights, head.bias, head.classes = weights, bias, classes
        if grams is not None and ngram_mix:
            head.ngrams = NgramChannel.fit(grams, y, c_ngram, sample_weight, ngram_mix, classes)
        return head

    def inputs(self, vectors: np.ndarray, features: np.ndarray | None) -> np.ndarray:
        """Return the head's input rows: embeddings, with scaled lexicon features when the head uses them."""
        if not self.feature_scale or features is None:
            return vectors
        return np.hstack([vectors, self.feature_scale * features]).astype(np.float32)

    def probabilities(self, x: np.ndarray, grams: Any = None) -> np.ndarray:
        """P(class) per row, columns in `classes` order."""
        if len(x) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits = x @ self.weights.T + self.bias
        if self.ngrams is not None and grams is not None:
            logits = _log_softmax(logits) + self.ngrams.log_scores(grams)
        return _softmax(logits)

    def score(self, x: np.ndarray, grams: Any = None) -> np.ndarray:
        """Return the sentiment score of each row, in [-1, 1]."""
        return self.scores_of(self.probabilities(x, grams))

    def scores_of(self, probabilities: np.ndarray) -> np.ndarray:
        """P(delight) - P(irritant) per row."""
        if len(probabilities) == 0:
            return np.zeros(0, dtype=np.float32)
        return probabilities[:, self.classes.index("delight")] - probabilities[:, self.classes.index("irritant")]

    def polarities(self, probabilities: np.ndarray) -> list[str]:
        """The polarity of each row: the calibrated argmax when `neutral_weight` is set, else by score."""
        if not self.neutral_weight:
            return [self.polarity(float(s)) for s in self.scores_of(probabilities)]
        weighted = probabilities * np.array([self.neutral_weight if c == "neutral" else 1.0 for c in self.classes])
        return [self.classes[i] for i in weighted.argmax(axis=1)]

    def polarity(self, score: float) -> str:
        """Return the polarity label of a sentiment score."""
        if score >= self.threshold:
            return "delight"
        if score <= -self.threshold:
            return "irritant"
        return "neutral"

    def save(self, directory: Path) -> None:
        """Write `sentiment.npz` + `sentiment.json`."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"weights": self.weights, "bias": self.bias, **(self.ngrams.arrays() if self.ngrams else {})}
        np.savez_compressed(directory / "sentiment.npz", **arrays)  # type: ignore[arg-type]
        meta = {
            "classes": self.classes,
            "threshold": self.threshold,
            "feature_scale": self.feature_scale,
            "ngram_mix": self.ngrams.mix if self.ngrams else 0.0,
            "neutral_weight": self.neutral_weight,
        }
        (directory / "sentiment.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SentimentHead:
        """Read a head written by `save`."""
        if not (directory / "sentiment.json").exists():
            raise ModelError(f"Head 'sentiment' is missing from {directory}")
        meta = json.loads((directory / "sentiment.json").read_text(encoding="utf-8"))
        arrays = np.load(directory / "sentiment.npz")
        return cls(
            arrays["weights"],
            arrays["bias"],
            list(meta["classes"]),
            float(meta["threshold"]),
            float(meta.get("feature_scale", 0.0)),
            NgramChannel.from_arrays(arrays, float(meta.get("ngram_mix", 0.0))),
            float(meta.get("neutral_weight", 0.0)),
        )
