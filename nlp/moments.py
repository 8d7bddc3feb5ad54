"""Mention detection learned from the team's annotated spans: is a clause a journey moment, does it continue one.

Two small logistic regressions trained by `scripts/train.py` on `data/annotated/train` (and the seed clauses):
- the **moment head** scores each clause: a moment of the journey (annotated inside a mention) or not (context,
  fragments such as "de plus.", "Date de commande : 12/03", life events);
- the **continuation head** scores each pair of adjacent moment clauses: the same moment told over two clauses
  (one mention) or two moments (two mentions).
Both are plain arrays (`heads/moment.npz`, `heads/continuation.npz`) with their thresholds in JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp.errors import ModelError
from nlp.types import Segment

# A clause opening with one of these starts a new moment more often than it continues one.
_CONTRAST = re.compile(
    r"^\W*(mais|but|however|though|although|cependant|pourtant|par contre|en revanche|sauf|except|à part|"
    r"hormis|malgré|despite|en plus|de plus|also|plus|et|and|then|puis|ensuite)\b",
    re.IGNORECASE,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def moment_inputs(vectors: np.ndarray, lexicon_features: np.ndarray, segments: Sequence[Segment]) -> np.ndarray:
    """The moment head's input rows: the clause embedding, its lexicon features and its length in words."""
    words = np.array([[np.log1p(len(s.text.split()))] for s in segments], dtype=np.float32)
    if len(segments) == 0:
        return np.zeros((0, vectors.shape[1] + lexicon_features.shape[1] + 1), dtype=np.float32)
    return np.hstack([vectors, lexicon_features, words]).astype(np.float32)


def pair_inputs(
    left: Segment,
    right: Segment,
    left_vector: np.ndarray,
    right_vector: np.ndarray,
    left_probabilities: tuple[np.ndarray, np.ndarray],
    right_probabilities: tuple[np.ndarray, np.ndarray],
    sentiments: tuple[float, float],
) -> np.ndarray:
    """Features of two adjacent clauses for the continuation head.

    Cosine of the embeddings, agreement of the stage and touchpoint distributions (dot products), same
    sentence, whether the right clause opens with a connector, both lengths, and sentiment agreement.
    """
    stage_agreement = float(left_probabilities[0] @ right_probabilities[0])
    touchpoint_agreement = float(left_probabilities[1] @ right_probabilities[1])
    same_sign = float(np.sign(sentiments[0]) == np.sign(sentiments[1]))
    return np.array(
        [
            float(left_vector @ right_vector),
            stage_agreement,
            touchpoint_agreement,
            float(left.sentence == right.sentence),
            float(bool(_CONTRAST.match(right.text))),
            np.log1p(len(left.text.split())),
            np.log1p(len(right.text.split())),
            abs(sentiments[0] - sentiments[1]),
            same_sign,
            stage_agreement * touchpoint_agreement,
        ],
        dtype=np.float32,
    )


@dataclass
class BinaryHead:
    """A logistic regression with its decision threshold(s); `score` gives P(positive) per row."""

    name: str
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    thresholds: dict[str, float]

    @classmethod
    def fit(
        cls,
        name: str,
        x: np.ndarray,
        y: Sequence[int],
        c: float,
        sample_weight: np.ndarray | None,
        thresholds: dict[str, float],
    ) -> BinaryHead:
        """Standardise the inputs and fit a class-balanced logistic regression."""
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(y)
        if len(set(labels.tolist())) != 2:
            raise ModelError(f"{name}: a binary head needs both classes, got {sorted(set(labels.tolist()))}")
        mean = x.mean(axis=0)
        scale = np.maximum(x.std(axis=0), 1e-6)
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        model.fit((x - mean) / scale, labels, sample_weight=sample_weight)
        return cls(
            name,
            model.coef_[0].astype(np.float32),
            float(model.intercept_[0]),
            mean.astype(np.float32),
            scale.astype(np.float32),
            dict(thresholds),
        )

    def score(self, x: np.ndarray) -> np.ndarray:
        """Return P(positive) for each row."""
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        return _sigmoid(((x - self.mean) / self.scale) @ self.weights + self.bias).astype(np.float32)

    def save(self, directory: Path) -> None:
        """Write `<name>.npz` and `<name>.json` (no pickle)."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / f"{self.name}.npz",
            weights=self.weights.astype(np.float16),
            mean=self.mean.astype(np.float16),
            scale=self.scale.astype(np.float16),
        )
        meta = {"name": self.name, "bias": self.bias, "thresholds": self.thresholds}
        (directory / f"{self.name}.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, name: str) -> BinaryHead | None:
        """Read a head written by `save`; None when the model has none (older models)."""
        meta_path, arrays_path = directory / f"{name}.json", directory / f"{name}.npz"
        if not meta_path.exists() or not arrays_path.exists():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        arrays = np.load(arrays_path)
        return cls(
            name,
            arrays["weights"].astype(np.float32),
            float(meta["bias"]),
            arrays["mean"].astype(np.float32),
            arrays["scale"].astype(np.float32),
            {k: float(v) for k, v in meta["thresholds"].items()},
        )
