"""Character n-grams weighted by TF-IDF: the lexical view of a clause, beside its embedding.

Journey stages and touchpoints are often decided by a word the sentence embedding blurs ("sinistre",
"résiliation", "devis", "refund", "check-in"); character 3-5-grams inside words catch those words with
their inflections and typos ("rembourssement", "souscris"), in any language the seed data covers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import ModelError

_PARAMS: dict[str, Any] = {
    "analyzer": "char_wb",
    "ngram_range": (3, 5),
    "lowercase": True,
    "strip_accents": "unicode",
    "sublinear_tf": True,
}


class CharNgrams:
    """Texts to L2-normalised sparse TF-IDF rows over a fixed vocabulary of character n-grams."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vocabulary = list(vocabulary)
        self._vectorizer = TfidfVectorizer(
            **_PARAMS, dtype=np.float32, vocabulary={term: i for i, term in enumerate(self.vocabulary)}
        )
        self._vectorizer.idf_ = np.asarray(idf, dtype=np.float64)

    @property
    def dimension(self) -> int:
        """Return the number of n-gram features."""
        return len(self.vocabulary)

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2, max_features: int | None = None) -> CharNgrams:
        """Learn the vocabulary (n-grams in at least `min_df` texts) and the IDF weights from `texts`."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(**_PARAMS, min_df=min_df, max_features=max_features, dtype=np.float32)
        vectorizer.fit(list(texts))
        return cls(vectorizer.get_feature_names_out().tolist(), vectorizer.idf_)

    def transform(self, texts: Sequence[str]) -> Any:
        """Return a scipy CSR matrix, one row per text."""
        return self._vectorizer.transform(list(texts))

    def save(self, directory: Path) -> None:
        """Write `ngrams.json` (vocabulary and settings) and `ngrams.npz` (IDF weights)."""
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"params": {k: list(v) if isinstance(v, tuple) else v for k, v in _PARAMS.items()}}
        meta["vocabulary"] = self.vocabulary  # type: ignore[assignment]
        (directory / "ngrams.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.savez_compressed(directory / "ngrams.npz", idf=self._vectorizer.idf_.astype(np.float32))

    @classmethod
    def load(cls, directory: Path) -> CharNgrams | None:
        """Read what `save` wrote; None when the model has no n-gram features."""
        if not (directory / "ngrams.json").exists():
            return None
        meta = json.loads((directory / "ngrams.json").read_text(encoding="utf-8"))
        expected = {k: list(v) if isinstance(v, tuple) else v for k, v in _PARAMS.items()}
        if meta.get("params") != expected:
            raise ModelError(
                f"{directory}/ngrams.json was built with other n-gram settings ({meta.get('params')}); retrain"
            )
        return cls(meta["vocabulary"], np.load(directory / "ngrams.npz")["idf"])
