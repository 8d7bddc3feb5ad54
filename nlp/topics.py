"""Topics inside a slice of mentions (e.g. the support irritants): BERTopic on our own embedder, never a hub model.

Topic ids are kept stable across recomputations: a new topic whose centroid lies close to a previous
topic's centroid takes that topic's id; the others get fresh ids above every id used before.

A topic whose top words do not describe its documents is a junk drawer (short, generic texts that HDBSCAN
grouped because they look alike to the embedder, labelled by words each found in one or two of them): its
`coverage`, the share of its documents holding at least one of its top `COVERAGE_WORDS` words, is below
`MIN_COVERAGE`. It is labelled "Mixed" ("Divers") and is never a sub-theme or an alert.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlp.embed import Embedder

logger = logging.getLogger(__name__)

# Filler words of customer feedback that say nothing about a topic, beside spaCy's FR and EN stop words.
_FEEDBACK_STOP_WORDS = {
    "très", "tres", "trop", "bien", "bon", "bonne", "fait", "faire", "être", "etre", "avoir", "c'est", "j'ai",
    "n'est", "qu'il", "d'un", "d'une", "plus", "moins", "vraiment", "also", "really", "very", "just", "get", "got",
    "would", "could", "one", "even", "still", "much", "way",
}  # fmt: skip
MATCH_SIMILARITY = 0.8
COVERAGE_WORDS = 5  # a topic's words that must describe its documents
MIN_COVERAGE = 0.5  # below this share of documents holding one of them, the topic is "Mixed"
MIXED_LABELS = {"en": "Mixed", "fr": "Divers"}
# Label words: letters only, three or more ("2eme", "12", "ok", "j" and other fragments never label a topic).
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"


def stop_words() -> list[str]:
    """French and English stop words (spaCy's lists plus feedback fillers), accents kept and stripped."""
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
    from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH

    words = set(ENGLISH) | set(FRENCH) | _FEEDBACK_STOP_WORDS
    folded = {"".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c)) for w in words}
    pieces = {p for w in words | folded for p in re.findall(TOKEN_PATTERN, w)}  # as the vectorizer cuts them
    return sorted(words | folded | pieces)


@dataclass(frozen=True)
class Topic:
    """One topic: its stable id, label words, size, centroid, its most central documents (indices) and the share
    of its documents holding one of its top `COVERAGE_WORDS` words."""

    id: int
    words: list[str]
    size: int
    centroid: list[float]
    representatives: list[int] = field(default_factory=list)
    coverage: float = 1.0

    @property
    def mixed(self) -> bool:
        """True for a junk drawer: its words describe too few of its documents."""
        return self.coverage < MIN_COVERAGE

    @property
    def label(self) -> str:
        """A short human label: the first three words, or "Mixed" for a junk drawer."""
        return self.label_in("en")

    def label_in(self, language: str) -> str:
        """The label in `language` (only "Mixed" is translated: the words are the documents' own)."""
        if self.mixed:
            return MIXED_LABELS.get(language, MIXED_LABELS["en"])
        return " · ".join(self.words[:3])


@dataclass(frozen=True)
class TopicResult:
    """The topics found and, for each input document, its topic id (-1: no topic)."""

    topics: list[Topic]
    assignments: list[int]


class _Backend:
    """BERTopic's embedding backend interface over a Parcours embedder (nothing comes from a model hub)."""

    def __init__(self, embedder: Embedder) -> None:
        from bertopic.backend import BaseEmbedder

        class Backend(BaseEmbedder):
            def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
                return embedder.encode(list(documents))

        self.backend = Backend()


class TopicModeller:
    """Fit topics on a few dozen to a few thousand short texts (FR, EN, mixed).

    `min_topic_size` defaults to max(5, n / 40). Fewer than `min_documents` texts give no topics.
    """

    def __init__(
        self, embedder: Embedder, min_topic_size: int | None = None, min_documents: int = 15, seed: int = 42
    ) -> None:
        self.embedder = embedder
        self.min_topic_size = min_topic_size
        self.min_documents = min_documents
        self.seed = seed

    def fit(
        self, texts: Sequence[str], previous: Sequence[Topic] = (), embeddings: np.ndarray | None = None
    ) -> TopicResult:
        """Return the topics of `texts`, numbered consistently with `previous` topics."""
        if len(texts) < self.min_documents:
            return TopicResult([], [-1] * len(texts))
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        from umap import UMAP

        vectors = self.embedder.encode(list(texts)) if embeddings is None else embeddings
        size = self.min_topic_size or max(5, len(texts) // 40)
        model = BERTopic(
            embedding_model=_Backend(self.embedder).backend,
            umap_model=UMAP(
                n_neighbors=min(15, len(texts) - 1),
                n_components=5,
                min_dist=0.0,
                metric="cosine",
                random_state=self.seed,
                n_jobs=1,
            ),  # fmt: skip
            hdbscan_model=HDBSCAN(
                min_cluster_size=size, min_samples=max(1, size // 3), metric="euclidean", cluster_selection_method="eom"
            ),
            # words: topic documents are concatenations
            vectorizer_model=CountVectorizer(stop_words=stop_words(), token_pattern=TOKEN_PATTERN),
            top_n_words=8,
            calculate_probabilities=False,
        )
        try:
            raw, _ = model.fit_transform(list(texts), embeddings=vectors)
        except ValueError as error:  # too few distinct words or points for UMAP/HDBSCAN
            logger.info("no topics in %d texts: %s", len(texts), error)
            return TopicResult([], [-1] * len(texts))
        found = []
        labels = np.array(raw)
        analyzer = model.vectorizer_model.build_analyzer()  # documents cut into words as the topic words were
        for topic_id in sorted(set(raw) - {-1}):
            members = np.flatnonzero(labels == topic_id)
            centre = vectors[members].mean(axis=0)
            centre /= max(float(np.linalg.norm(centre)), 1e-12)
            closest = members[np.argsort(-(vectors[members] @ centre))][:3]
            words = [w for w, _ in (model.get_topic(topic_id) or []) if w]
            coverage = label_coverage(words, [analyzer(texts[int(i)]) for i in members])
            found.append((topic_id, words, len(members), centre, [int(i) for i in closest], coverage))
        mapping = _stable_ids([f[3] for f in found], previous)
        topics = [
            Topic(mapping[n], words, count, [round(float(x), 5) for x in centre], closest, round(coverage, 4))
            for n, (_, words, count, centre, closest, coverage) in enumerate(found)
        ]
        new_id = {raw_id: mapping[n] for n, (raw_id, *_rest) in enumerate(found)}
        return TopicResult(sorted(topics, key=lambda t: -t.size), [new_id.get(int(t), -1) for t in raw])


def label_coverage(words: Sequence[str], documents: Sequence[Sequence[str]]) -> float:
    """Share of `documents` (each as its words) holding at least one of the first `COVERAGE_WORDS` `words`."""
    top = set(words[:COVERAGE_WORDS])
    if not documents:
        return 0.0
    return sum(1 for document in documents if top & set(document)) / len(documents)


def _stable_ids(centres: Sequence[np.ndarray], previous: Sequence[Topic]) -> list[int]:
    """Give each new centre the id of the most similar previous topic (greedy, similarity >= MATCH_SIMILARITY)."""
    ids: list[int | None] = [None] * len(centres)
    if previous and centres:
        old = np.array([t.centroid for t in previous], dtype=np.float32)
        similarity = np.array(centres) @ old.T
        pairs = sorted(
            ((float(similarity[i, j]), i, j) for i in range(len(centres)) for j in range(len(previous))), reverse=True
        )
        used_new, used_old = set(), set()
        for score, i, j in pairs:
            if score < MATCH_SIMILARITY:
                break
            if i in used_new or j in used_old:
                continue
            ids[i] = previous[j].id
            used_new.add(i)
            used_old.add(j)
    next_id = max((t.id for t in previous), default=-1) + 1
    result = []
    for assigned in ids:
        if assigned is None:
            assigned, next_id = next_id, next_id + 1
        result.append(assigned)
    return result


def topic_from_dict(raw: dict[str, Any]) -> Topic:
    """Rebuild a Topic stored as a dict (e.g. in a database row)."""
    return Topic(
        int(raw["id"]),
        list(raw["words"]),
        int(raw["size"]),
        list(raw["centroid"]),
        list(raw.get("representatives", [])),
        float(raw.get("coverage", 1.0)),  # topics stored before coverage was measured count as coherent
    )
