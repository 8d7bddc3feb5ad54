"""The analysis pipeline: language -> clauses -> embeddings -> labels -> mentions."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.embed import Embedder, make_embedder
from nlp.errors import ModelError
from nlp.heads import LabelHead, SentimentHead
from nlp.language import LanguageIdentifier
from nlp.lexicon import SentimentLexicon
from nlp.mentions import MentionBuilder
from nlp.moments import BinaryHead, moment_inputs, pair_inputs
from nlp.ngrams import CharNgrams
from nlp.segment import Segmenter
from nlp.senses import WordSenses
from nlp.store import Manifest, resolve_model_dir
from nlp.taxonomy import Taxonomy, load_taxonomy
from nlp.types import Analysis, Evidence, Scored, Segment, SegmentAnalysis

logger = logging.getLogger(__name__)

OFF_TOPIC = "off_topic"
VIEWS_KEPT = 32  # taxonomy views a pipeline keeps (one per workspace taxonomy in use)


def _prototype_inputs(taxonomy: Taxonomy, family: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a head's alignment depends on: the family's ids, descriptions and examples, in order."""
    return [(label.id, label.description, label.examples) for label in taxonomy.family(family)]


@dataclass
class Pipeline:
    """Turn feedback texts into journey analyses. Every component is injected and swappable."""

    taxonomy: Taxonomy
    language_id: LanguageIdentifier
    segmenter: Segmenter
    embedder: Embedder
    stage_head: LabelHead
    touchpoint_head: LabelHead
    sentiment_head: SentimentHead
    emotion_head: LabelHead
    mentions: MentionBuilder
    lexicon: SentimentLexicon
    ngrams: CharNgrams | None = None
    emotion_polarities: dict[str, list[str]] = field(default_factory=dict)
    context_weight: float = 0.0
    sentiment_context: float = 0.0
    weak_sentiment: float = 0.0
    senses: WordSenses = field(default_factory=WordSenses)
    moment_head: BinaryHead | None = None
    continuation_head: BinaryHead | None = None
    manifest: Manifest | None = None
    _views: dict[str, Pipeline] = field(default_factory=dict, init=False, repr=False, compare=False)

    def with_taxonomy(self, taxonomy: Taxonomy) -> Pipeline:
        """This pipeline for another taxonomy (e.g. a workspace's edited one), without retraining.

        The view shares the embedder, the heads' weights and every other component; only the heads of the families
        whose labels changed (ids, descriptions, examples) are re-aligned (`LabelHead.adapt`: labels left out are
        never predicted, new ones are predicted by prototype similarity). Views are cached per taxonomy
        fingerprint (the last `VIEWS_KEPT`); the shipped taxonomy gives this very pipeline back.
        """
        key = taxonomy.fingerprint()
        if key == self.taxonomy.fingerprint():
            return self
        view = self._views.get(key)
        if view is None:
            view = dataclasses.replace(
                self,
                taxonomy=taxonomy,
                stage_head=self._aligned(self.stage_head, taxonomy, "stages"),
                touchpoint_head=self._aligned(self.touchpoint_head, taxonomy, "touchpoints"),
                emotion_head=self._aligned(self.emotion_head, taxonomy, "emotions"),
            )
            while len(self._views) >= VIEWS_KEPT:
                self._views.pop(next(iter(self._views)))
            self._views[key] = view
        return view

    def _aligned(self, head: LabelHead, taxonomy: Taxonomy, family: str) -> LabelHead:
        """`head` aligned with `taxonomy`'s family, or `head` itself when the family is unchanged."""
        if _prototype_inputs(taxonomy, family) == _prototype_inputs(self.taxonomy, family):
            return head
        return head.adapt(taxonomy.family(family), self.embedder)

    def analyze(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        languages: Sequence[str | None] | None = None,
        priors: Sequence[float | None] | None = None,
    ) -> list[Analysis]:
        """Analyse a batch of texts; `languages` entries may be None to detect them.

        `priors` (optional, one per text, None where unknown): the text's overall tone in [-1, 1], usually
        from its rating (`rating_prior`). A clause is scored from its own words first; the prior, like the
        tone of the text's other sentences, only moves clauses whose own words say little.
        """
        ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
        if len(ids) != len(texts):
            raise ValueError(f"Got {len(texts)} texts but {len(ids)} ids")
        detected = self.language_id(texts)
        resolved = [given or found for given, found in zip(languages or [None] * len(texts), detected, strict=True)]
        per_text = self.segmenter(texts, resolved)
        flat = [segment for segments in per_text for segment in segments]
        if priors is not None and len(priors) != len(texts):
            raise ValueError(f"Got {len(texts)} texts but {len(priors)} priors")
        labelled = iter(self.label_segments(flat, priors))
        analyses = []
        for text_id, language, segments in zip(ids, resolved, per_text, strict=True):
            analysed = [next(labelled) for _ in segments]
            analyses.append(
                Analysis(id=text_id, language=language, segments=analysed, mentions=self.mentions(analysed))
            )
        return analyses

    def analyze_stream(self, items: Iterable[tuple[str, str]], batch_size: int = 256) -> Iterator[Analysis]:
        """Analyse `(id, text)` pairs lazily, batch by batch, in input order."""
        batch: list[tuple[str, str]] = []
        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                yield from self.analyze([t for _, t in batch], ids=[i for i, _ in batch])
                batch = []
        if batch:
            yield from self.analyze([t for _, t in batch], ids=[i for i, _ in batch])

    def label_segments(
        self, segments: Sequence[Segment], priors: Sequence[float | None] | None = None
    ) -> list[SegmentAnalysis]:
        """Embed the segments once (each distinct text once: "No Negative", "Très bien" recur) and apply every head."""
        texts = [s.text for s in segments]
        distinct = list(dict.fromkeys(texts))
        vectors = self.embedder.encode(distinct)
        if len(distinct) < len(texts):
            row = {text: i for i, text in enumerate(distinct)}
            vectors = vectors[[row[text] for text in texts]]
        return self.label_vectors(segments, vectors, priors)

    def label_vectors(
        self, segments: Sequence[Segment], vectors: np.ndarray, priors: Sequence[float | None] | None = None
    ) -> list[SegmentAnalysis]:
        """Apply every head to precomputed segment embeddings (`priors` indexed by the segments' doc_index)."""
        in_context = self.with_context(segments, vectors)
        grams = self.ngrams.transform([s.text for s in segments]) if self.ngrams and len(segments) else None
        _, stage_p = self.stage_head.probabilities(in_context, grams)
        _, touchpoint_p = self.touchpoint_head.probabilities(in_context, grams)
        stages = self.stage_head.predict(in_context, probabilities=stage_p)
        touchpoints = self.senses.correct(segments, self.touchpoint_head, in_context, touchpoint_p)
        features, evidence = self.lexicon.features(segments)
        sentiment_p = self.sentiment_head.probabilities(self.sentiment_head.inputs(vectors, features), grams)
        own = self.sentiment_head.scores_of(sentiment_p)
        sentiments = self.with_sentiment_context(segments, own, priors)
        # a clause's polarity comes from its own words; one moved by its text's tone is judged on its new score
        polarities = [
            calibrated if moved == kept else self.sentiment_head.polarity(float(moved))
            for calibrated, moved, kept in zip(
                self.sentiment_head.polarities(sentiment_p), sentiments, own, strict=True
            )
        ]
        emotions = self._emotions(vectors, polarities)
        moments: list[float | None] = [None] * len(segments)
        if self.moment_head is not None and len(segments):
            moments = [float(x) for x in self.moment_head.score(moment_inputs(vectors, features, segments))]
        continues = self.continuation_scores(segments, vectors, (stage_p, touchpoint_p), sentiments)
        result = []
        for segment, stage, touchpoint, emotion, sentiment, polarity, hits, moment, joined in zip(
            segments, stages, touchpoints, emotions, sentiments, polarities, evidence, moments, continues, strict=True
        ):
            on_topic = stage.label != OFF_TOPIC
            result.append(
                SegmentAnalysis(
                    text=segment.text,
                    start=segment.start,
                    end=segment.end,
                    stage=stage.label if on_topic else None,
                    stage_score=round(stage.score, 4),
                    touchpoint=touchpoint.label if on_topic else None,
                    touchpoint_score=round(touchpoint.score, 4),
                    sentiment=round(float(sentiment), 4),
                    polarity=polarity,
                    emotion=emotion.label,
                    emotion_score=round(emotion.score, 4),
                    evidence=[Evidence(h.text, segment.start + h.start, segment.start + h.end, h.weight) for h in hits],
                    moment_score=None if moment is None else round(moment, 4),
                    continues_previous=None if joined is None else round(joined, 4),
                )
            )
        return result

    def continuation_scores(
        self,
        segments: Sequence[Segment],
        vectors: np.ndarray,
        label_probabilities: tuple[np.ndarray, np.ndarray],
        sentiments: np.ndarray,
    ) -> list[float | None]:
        """P(clause continues the previous clause's moment) for each clause after the first of its text."""
        result: list[float | None] = [None] * len(segments)
        if self.continuation_head is None or len(segments) < 2:
            return result
        rows, features = adjacent_pairs(segments, vectors, label_probabilities, sentiments)
        if rows:
            for i, score in zip(rows, self.continuation_head.score(features), strict=True):
                result[i] = float(score)
        return result

    def with_context(self, segments: Sequence[Segment], vectors: np.ndarray) -> np.ndarray:
        """Blend each segment's embedding with the mean of its text's segments (`context_weight`).

        "Procédure simple." is a purchase in a review about subscribing and a claim in a review about a
        claim: the stage and touchpoint heads see the clause in the light of the whole text.
        """
        if not self.context_weight or len(vectors) == 0:
            return vectors
        documents = np.array([s.doc_index for s in segments])
        blended = vectors.copy()
        for document in np.unique(documents):
            rows = documents == document
            blended[rows] += self.context_weight * vectors[rows].mean(axis=0)
        norms = np.linalg.norm(blended, axis=1, keepdims=True)
        return (blended / np.maximum(norms, 1e-12)).astype(np.float32)

    def with_sentiment_context(
        self, segments: Sequence[Segment], sentiments: np.ndarray, priors: Sequence[float | None] | None = None
    ) -> np.ndarray:
        """Move each weak sentiment (|score| < `weak_sentiment`) part of the way (`sentiment_context`) toward a prior.

        The prior is the tone of the text's other sentences and, when given, the text's own prior (its
        rating), averaged. "Contrat résilié le même jour" says little on its own and is an irritant in an
        angry review. A clause's own words come first: a clause that is clearly polar is never moved, and a
        contrast inside one sentence ("rapide mais cher") is left as it is.
        """
        if not self.sentiment_context or not self.weak_sentiment or len(sentiments) == 0:
            return sentiments
        documents = np.array([s.doc_index for s in segments])
        sentence_ids = np.array([s.sentence for s in segments])
        lengths = np.array([max(s.end - s.start, 1) for s in segments], dtype=np.float64)
        blended = sentiments.astype(np.float64).copy()
        for row in np.flatnonzero(np.abs(sentiments) < self.weak_sentiment):
            tones = []
            others = (documents == documents[row]) & (sentence_ids != sentence_ids[row])
            if others.any():
                tones.append(float((lengths[others] * sentiments[others]).sum() / lengths[others].sum()))
            prior = priors[documents[row]] if priors is not None else None
            if prior is not None:
                tones.append(float(np.clip(prior, -1.0, 1.0)))
            if tones:
                tone = sum(tones) / len(tones)
                blended[row] = (1 - self.sentiment_context) * sentiments[row] + self.sentiment_context * tone
        return blended.astype(sentiments.dtype)

    def _emotions(self, vectors: np.ndarray, polarities: Sequence[str]) -> list[Scored]:
        """Pick each segment's emotion among those compatible with its polarity (no 'joy' on an irritant)."""
        classes, probabilities = self.emotion_head.probabilities(vectors)
        if not self.emotion_polarities or self.emotion_head.prototypes:
            return self.emotion_head.predict(vectors)
        result = []
        for row, polarity in zip(probabilities, polarities, strict=True):
            allowed = np.array([polarity in self.emotion_polarities.get(c, [polarity]) for c in classes])
            masked = row * allowed if allowed.any() else row
            best = int(masked.argmax())
            result.append(Scored(classes[best], float(masked[best] / max(masked.sum(), 1e-12))))
        return result


def adjacent_pairs(
    segments: Sequence[Segment],
    vectors: np.ndarray,
    label_probabilities: tuple[np.ndarray, np.ndarray],
    sentiments: np.ndarray,
) -> tuple[list[int], np.ndarray]:
    """The continuation head's inputs (`pair_inputs`) for every clause that follows another clause of its text:
    the clauses' indexes and one feature row each. `label_probabilities` are the stage and touchpoint heads'
    probabilities for the clauses; inference and training build their pairs here alike."""
    stage_p, touchpoint_p = label_probabilities
    rows, pairs = [], []
    for i in range(1, len(segments)):
        if segments[i].doc_index != segments[i - 1].doc_index:
            continue
        rows.append(i)
        pairs.append(
            pair_inputs(
                segments[i - 1],
                segments[i],
                vectors[i - 1],
                vectors[i],
                (stage_p[i - 1], touchpoint_p[i - 1]),
                (stage_p[i], touchpoint_p[i]),
                (float(sentiments[i - 1]), float(sentiments[i])),
            )
        )
    return rows, np.stack(pairs) if pairs else np.zeros((0, 0), dtype=np.float32)


def rating_prior(rating: float | None, scale: float | None = 5.0) -> float | None:
    """A rating as a tone prior in [-1, 1]: the scale's middle is 0 (3 of 5, 5 of 10), its ends -1 and 1.

    Scales of 5 and under start at 1 (stars); larger scales start at 0 (0-10 scores).
    """
    if rating is None or scale is None or scale <= 1 or not np.isfinite(rating):
        return None
    low = 1.0 if scale <= 5 else 0.0
    middle = (low + scale) / 2
    return float(np.clip((rating - middle) / (scale - middle), -1.0, 1.0))


def load_pipeline(
    model: str | Path | None = None,
    taxonomy: Taxonomy | None = None,
    embedder: Embedder | None = None,
) -> Pipeline:
    """Load a trained model directory (default `models/journey-v1`) into a ready pipeline.

    The manifest is checked first: the embedder must be the one the heads were trained on.
    A taxonomy other than the trained one may be given: new labels are predicted by prototype.
    """
    directory = resolve_model_dir(model)
    manifest = Manifest.read(directory)
    embedder = embedder or make_embedder(manifest.embedder)
    if embedder.name != manifest.embedder:
        raise ModelError(
            f"Model '{directory.name}' was trained on embedder '{manifest.embedder}', not '{embedder.name}'"
        )
    taxonomy = taxonomy or load_taxonomy()
    if taxonomy.fingerprint() != manifest.taxonomy_fingerprint:
        logger.info("Taxonomy differs from the one %s was trained with; adapting heads", directory.name)
    heads = directory / "heads"
    settings = manifest.settings
    return Pipeline(
        taxonomy=taxonomy,
        language_id=LanguageIdentifier(),
        segmenter=Segmenter(),
        embedder=embedder,
        stage_head=LabelHead.load(heads, "stage").adapt(taxonomy.stages, embedder),
        touchpoint_head=LabelHead.load(heads, "touchpoint").adapt(taxonomy.touchpoints, embedder),
        sentiment_head=SentimentHead.load(heads),
        emotion_head=LabelHead.load(heads, "emotion").adapt(taxonomy.emotions, embedder),
        mentions=MentionBuilder(
            min_neutral_stage_score=float(settings.get("min_neutral_stage_score", 0.95)),
            moment_threshold=float(settings.get("moment_threshold", 0.5)),
            neutral_moment_threshold=float(settings.get("neutral_moment_threshold", 0.8)),
            continuation_threshold=float(settings.get("continuation_threshold", 0.5)),
            polarity_threshold=float(settings.get("sentiment_threshold", 0.08)),
        ),
        lexicon=SentimentLexicon.load(),
        ngrams=CharNgrams.load(heads),
        emotion_polarities={k: list(v) for k, v in settings.get("emotion_polarities", {}).items()},
        context_weight=float(settings.get("context_weight", 0.0)),
        sentiment_context=float(settings.get("sentiment_context", 0.0)),
        weak_sentiment=float(settings.get("weak_sentiment", 0.0)),
        senses=WordSenses.load(),
        moment_head=BinaryHead.load(heads, "moment"),
        continuation_head=BinaryHead.load(heads, "continuation"),
        manifest=manifest,
    )
