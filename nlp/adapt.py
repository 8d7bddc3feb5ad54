"""A workspace's own model on top of the shipped one, learnt from its people's corrections in well under a second.

A correction says "these words are stage X (touchpoint Y, polarity Z)", where the shipped model said something
else. For each label family with corrections, the adapter fits a small logistic head on the clauses' embeddings
(the pipeline's own embedder): the corrected clauses against a background of what the shipped model is about
(the taxonomy's descriptions and examples, plus any clauses the caller adds). On a new clause, that head's share
for a corrected label X is moved onto X from the shipped probabilities, and only where the shipped model's own
choice is a label that people corrected into X (the systematic error): every other clause keeps its shipped labels.

The adapter is applied as a view of a pipeline (`Adapter.apply`): the stage, touchpoint and sentiment heads are
wrapped, so everything downstream (word senses, mentions, their confidence) sees the adapted probabilities.

Its worth is measured honestly (`cross_validate`): each corrected clause is labelled by an adapter fitted on the
corrections of the *other* feedback texts only (k folds, grouped by text), beside the shipped model's label of the
same clause. Unsure moments are ranked for review by `review_order` (least confident first).

    >>> taught = [Taught(text="Check-in took an hour.", start=0, end=22, labels={"stage": "usage"}), ...]
    >>> adapter, score = fit(pipeline, taught)
    >>> adapter.apply(pipeline).analyze(["Boarding was chaos."])
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nlp.errors import ModelError
from nlp.heads import LabelHead, SentimentHead
from nlp.pipeline import OFF_TOPIC, Pipeline
from nlp.types import Analysis, Segment, SegmentAnalysis

FAMILIES = ("stage", "touchpoint", "polarity")
KEEP = "_keep"  # the adapter head's class for "what the shipped model is about": nothing moves
C = 3.0  # the adapter heads' inverse L2 penalty (docs/LEARNING.md: how it was chosen)
FOLDS = 5
KEEP_WEIGHT = 1.0  # the background's class weight (raising it fixes fewer errors and keeps no more clauses)
SOURCE_SHARE = 0.1  # share of a label's corrections a shipped label needs to be corrected into it (fit_correcting)


@dataclass(frozen=True)
class Taught:
    """One correction: the feedback text, the corrected words (`start`..`end`), the labels a person gave them
    (any of stage, touchpoint, polarity)."""

    text: str
    start: int
    end: int
    labels: Mapping[str, str]
    language: str | None = None


@dataclass(frozen=True)
class Clauses:
    """The clauses of the corrected texts, embedded and labelled by the shipped pipeline once.

    `rows[i]` are the clauses (indexes into `segments`) under correction i, `texts[i]` the index of its text."""

    segments: list[Segment]
    vectors: np.ndarray
    context: np.ndarray
    shipped: list[SegmentAnalysis]
    rows: list[list[int]]
    texts: list[int]

    def select(self, corrections: Sequence[int]) -> Clauses:
        """The same clauses, with these corrections only."""
        return dataclasses.replace(
            self, rows=[self.rows[i] for i in corrections], texts=[self.texts[i] for i in corrections]
        )


def _under(segments: Sequence[Segment], doc: int, start: int, end: int) -> list[int]:
    """The clauses of text `doc` that lie mostly under start..end (the one most covered when none does)."""
    best, most, found = -1, 0, []
    for row, segment in enumerate(segments):
        if segment.doc_index != doc:
            continue
        common = min(end, segment.end) - max(start, segment.start)
        if common > most:
            best, most = row, common
        if common > 0 and 2 * common >= segment.end - segment.start:
            found.append(row)
    return found or ([best] if best >= 0 else [])


def embed_corrections(pipeline: Pipeline, taught: Sequence[Taught]) -> Clauses:
    """Segment, embed and label each distinct corrected text once; find the clauses under each correction."""
    texts = list(dict.fromkeys(t.text for t in taught))
    index = {text: i for i, text in enumerate(texts)}
    given = {t.text: t.language for t in taught if t.language}
    detected = pipeline.language_id(texts)
    languages = [given.get(text) or found for text, found in zip(texts, detected, strict=True)]
    segments = [s for per_text in pipeline.segmenter(texts, languages) for s in per_text]
    distinct = list(dict.fromkeys(s.text for s in segments))
    vectors = pipeline.embedder.encode(distinct)
    place = {text: i for i, text in enumerate(distinct)}
    vectors = vectors[[place[s.text] for s in segments]]
    return Clauses(
        segments=segments,
        vectors=vectors,
        context=pipeline.with_context(segments, vectors),
        shipped=pipeline.label_vectors(segments, vectors),
        rows=[_under(segments, index[t.text], t.start, t.end) for t in taught],
        texts=[index[t.text] for t in taught],
    )


def background(pipeline: Pipeline, extra: Sequence[str] = ()) -> np.ndarray:
    """What the shipped model is about, embedded: its taxonomy's stage and touchpoint descriptions and examples,
    and `extra` texts (e.g. the workspace's own uncorrected clauses)."""
    texts = [
        t for f in ("stages", "touchpoints") for label in pipeline.taxonomy.family(f) for t in label.prototype_texts()
    ]
    return pipeline.embedder.encode([*texts, *extra])


def _labels(analysis: SegmentAnalysis) -> dict[str, str]:
    return {"stage": analysis.stage or OFF_TOPIC, "touchpoint": analysis.touchpoint or OFF_TOPIC,
            "polarity": analysis.polarity}  # fmt: skip


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Correcting:
    """One family's learnt corrections: a softmax over `classes` (corrected labels and KEEP) on clause embeddings,
    and for each corrected label the shipped labels people corrected into it (`sources`)."""

    family: str
    classes: list[str]
    weights: np.ndarray
    bias: np.ndarray
    sources: dict[str, list[str]]

    def adjust(
        self, probabilities: np.ndarray, classes: Sequence[str], x: np.ndarray, active: np.ndarray | None = None
    ) -> np.ndarray:
        """Move each corrected label's share onto it, on the rows whose shipped choice was corrected into it
        (`active`: which of `classes` the taxonomy keeps; a retired label gets nothing)."""
        if len(x) == 0:
            return probabilities
        shares = _softmax(x[:, : self.weights.shape[1]] @ self.weights.T + self.bias)
        chosen = [classes[i] for i in probabilities.argmax(axis=1)]
        column = {c: i for i, c in enumerate(classes) if active is None or active[i]}
        moved = np.zeros_like(probabilities, dtype=np.float64)
        for k, label in enumerate(self.classes):
            if label not in column:
                continue
            rows = np.array([c in self.sources.get(label, ()) for c in chosen])
            moved[rows, column[label]] = shares[rows, k]
        kept = 1.0 - moved.sum(axis=1, keepdims=True)
        return (kept * probabilities + moved).astype(probabilities.dtype)


def fit_shares(x: np.ndarray, y: Sequence[str], c: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A multinomial logistic regression (L2, `c`): its classes, one weight row and bias per class (two rows for
    two classes, so that a softmax reads every fit alike)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=1000, class_weight={KEEP: KEEP_WEIGHT})
    model.fit(x, list(y))
    weights, bias = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    if len(model.classes_) == 2:  # sklearn keeps one row, for the second class: softmax([0, z]) = sigmoid(z)
        weights, bias = np.vstack([np.zeros_like(weights), weights]), np.concatenate([np.zeros_like(bias), bias])
    return [str(label) for label in model.classes_], weights, bias


def fit_correcting(
    family: str, vectors: np.ndarray, labels: Sequence[str], shipped: Sequence[str], negatives: np.ndarray, c: float = C
) -> Correcting | None:
    """Fit one family's corrections: corrected clauses `vectors` with their `labels` (the shipped model said
    `shipped`) against `negatives`; None when no correction changed a label.

    A shipped label is a source of a corrected label when at least `SOURCE_SHARE` of the corrections into that
    label were made on it: a stray clause the shipped model put elsewhere does not open that label to moves."""
    moved: dict[str, Counter[str]] = {}
    for label, before in zip(labels, shipped, strict=True):
        if label != before:
            moved.setdefault(label, Counter())[before] += 1
    into = Counter(labels)
    sources = {
        label: sorted(b for b, n in befores.items() if n >= SOURCE_SHARE * into[label])
        for label, befores in moved.items()
    }
    if not any(sources.values()):
        return None
    x = np.vstack([vectors, negatives]).astype(np.float32)
    y = [*labels, *[KEEP] * len(negatives)]
    classes, weights, bias = fit_shares(x, y, c)
    return Correcting(family, classes, weights, bias, {k: v for k, v in sources.items() if v})


@dataclass
class CorrectedHead(LabelHead):
    """A label head whose probabilities are adjusted by the workspace's learnt corrections (`Correcting`)."""

    correcting: Correcting | None = None

    @classmethod
    def over(cls, head: LabelHead, correcting: Correcting | None) -> LabelHead:
        """`head` with these corrections (`head` itself when there are none)."""
        if correcting is None:
            return head
        base = {f.name: getattr(head, f.name) for f in dataclasses.fields(LabelHead)}
        return cls(**base, correcting=correcting)

    def probabilities(self, x: np.ndarray, grams: object = None) -> tuple[list[str], np.ndarray]:
        classes, probabilities = super().probabilities(x, grams)
        assert self.correcting is not None
        return classes, self.correcting.adjust(probabilities, classes, x, self._active)


@dataclass
class CorrectedSentimentHead(SentimentHead):
    """The sentiment head with the workspace's learnt polarity corrections (its inputs start with the embedding)."""

    correcting: Correcting | None = None

    def probabilities(self, x: np.ndarray, grams: object = None) -> np.ndarray:
        probabilities = super().probabilities(x, grams)
        assert self.correcting is not None
        return self.correcting.adjust(probabilities, self.classes, x)


@dataclass(frozen=True)
class Adapter:
    """A workspace's learnt corrections, per family, applied on top of a pipeline (see the module's docstring)."""

    families: dict[str, Correcting] = field(default_factory=dict)
    examples: int = 0  # corrected clauses learnt from

    @classmethod
    def learn(
        cls, pipeline: Pipeline, taught: Sequence[Taught], *, clauses: Clauses | None = None,
        negatives: np.ndarray | None = None, c: float = C,
    ) -> Adapter:  # fmt: skip
        """Fit on these corrections (a later correction of the same clause and family wins)."""
        clauses = clauses or embed_corrections(pipeline, taught)
        latest: dict[int, dict[str, str]] = {}
        for correction, rows in zip(taught, clauses.rows, strict=True):
            for row in rows:
                latest.setdefault(row, {}).update({f: v for f, v in correction.labels.items() if f in FAMILIES and v})
        if not any(latest.values()):
            return cls()
        negatives = background(pipeline) if negatives is None else negatives
        families = {}
        for family in FAMILIES:
            rows = sorted(row for row, labels in latest.items() if family in labels)
            space = clauses.vectors if family == "polarity" else clauses.context
            fitted = fit_correcting(
                family, space[rows], [latest[r][family] for r in rows],
                [_labels(clauses.shipped[r])[family] for r in rows], negatives, c,
            ) if rows else None  # fmt: skip
            if fitted is not None:
                families[family] = fitted
        return cls(families, sum(1 for labels in latest.values() if labels))

    def apply(self, pipeline: Pipeline) -> Pipeline:
        """A view of `pipeline` whose stage, touchpoint and sentiment heads carry the corrections.

        Apply it to the workspace's taxonomy view (`pipeline.with_taxonomy(...)` first): the view shares every
        component and the heads' weights; an adapter that learnt nothing gives `pipeline` itself back."""
        if not self.families:
            return pipeline
        sentiment = pipeline.sentiment_head
        if "polarity" in self.families:
            base = {f.name: getattr(sentiment, f.name) for f in dataclasses.fields(SentimentHead)}
            sentiment = CorrectedSentimentHead(**base, correcting=self.families["polarity"])
        return dataclasses.replace(
            pipeline,
            stage_head=CorrectedHead.over(pipeline.stage_head, self.families.get("stage")),
            touchpoint_head=CorrectedHead.over(pipeline.touchpoint_head, self.families.get("touchpoint")),
            sentiment_head=sentiment,
        )

    def to_bytes(self) -> bytes:
        """The adapter as one .npz document (no pickle): a few kilobytes per corrected family."""
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, object] = {"examples": self.examples, "families": {}}
        for family, fitted in self.families.items():
            arrays[f"{family}_weights"], arrays[f"{family}_bias"] = fitted.weights, fitted.bias
            meta["families"][family] = {"classes": fitted.classes, "sources": fitted.sources}  # type: ignore[index]
        buffer = io.BytesIO()
        np.savez_compressed(buffer, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Adapter:
        """Read an adapter written by `to_bytes`."""
        arrays = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(str(arrays["meta"]))
        unknown = set(meta["families"]) - set(FAMILIES)
        if unknown:
            raise ModelError(f"Unknown adapter families {sorted(unknown)}. Families: {', '.join(FAMILIES)}")
        families = {
            family: Correcting(
                family,
                list(m["classes"]),
                arrays[f"{family}_weights"],
                arrays[f"{family}_bias"],
                {k: list(v) for k, v in m["sources"].items()},
            )  # fmt: skip
            for family, m in meta["families"].items()
        }
        return cls(families, int(meta["examples"]))


@dataclass(frozen=True)
class ModelScore:
    """The adapted model's accuracy on the corrected clauses, each labelled by an adapter that never saw its text
    (`folds`-fold cross-validation grouped by text), beside the shipped model's accuracy on the same items.
    An item is one corrected label of one clause; `adapted` is None with fewer than two texts."""

    items: int
    adapted: float | None
    shipped: float | None
    folds: int
    per_family: dict[str, tuple[int, float | None, float]] = field(default_factory=dict)  # (items, adapted, shipped)


def cross_validate(
    pipeline: Pipeline, taught: Sequence[Taught], *, folds: int = FOLDS, clauses: Clauses | None = None,
    negatives: np.ndarray | None = None, c: float = C,
) -> ModelScore:  # fmt: skip
    """Score the adapter honestly on `taught`: the texts are split in `folds` groups; each group's corrected clauses
    are labelled by `pipeline` adapted with the other groups' corrections, and by `pipeline` alone."""
    clauses = clauses or embed_corrections(pipeline, taught)
    negatives = background(pipeline) if negatives is None else negatives
    folds = min(folds, len(set(clauses.texts)))
    adapted: dict[int, SegmentAnalysis] = {}
    for fold in range(folds if folds > 1 else 0):
        held = [i for i, t in enumerate(clauses.texts) if t % folds == fold]
        trained = [i for i, t in enumerate(clauses.texts) if t % folds != fold]
        adapter = Adapter.learn(pipeline, [taught[i] for i in trained], clauses=clauses.select(trained),
                                negatives=negatives, c=c)  # fmt: skip
        texts = {clauses.texts[i] for i in held}
        rows = [r for r, s in enumerate(clauses.segments) if s.doc_index in texts]
        labelled = adapter.apply(pipeline).label_vectors([clauses.segments[r] for r in rows], clauses.vectors[rows])
        adapted.update(zip(rows, labelled, strict=True))
    truth: dict[tuple[int, str], str] = {}
    for correction, rows in zip(taught, clauses.rows, strict=True):
        truth.update({(row, f): v for row in rows for f, v in correction.labels.items() if f in FAMILIES and v})
    counts = {f: [0, 0, 0] for f in FAMILIES}  # items, adapted right, shipped right
    for (row, family), label in truth.items():
        counts[family][0] += 1
        counts[family][1] += row in adapted and _labels(adapted[row])[family] == label
        counts[family][2] += _labels(clauses.shipped[row])[family] == label
    items = sum(c[0] for c in counts.values())

    def share(right: int, total: int) -> float:
        return round(right / total, 4)

    return ModelScore(
        items=items,
        adapted=share(sum(c[1] for c in counts.values()), items) if items and adapted else None,
        shipped=share(sum(c[2] for c in counts.values()), items) if items else None,
        folds=folds,
        per_family={
            f: (c[0], share(c[1], c[0]) if adapted else None, share(c[2], c[0])) for f, c in counts.items() if c[0]
        },
    )


def fit(
    pipeline: Pipeline, taught: Sequence[Taught], *, folds: int = FOLDS, c: float = C
) -> tuple[Adapter, ModelScore]:
    """Fit the adapter on every correction and score it by cross-validation (each text embedded once)."""
    clauses = embed_corrections(pipeline, taught)
    negatives = background(pipeline)
    score = cross_validate(pipeline, taught, folds=folds, clauses=clauses, negatives=negatives, c=c)
    return Adapter.learn(pipeline, taught, clauses=clauses, negatives=negatives, c=c), score


def review_order(analyses: Sequence[Analysis]) -> list[tuple[int, int]]:
    """The (analysis, mention) pairs, least sure first: by the mention's confidence (the model's moment x stage
    probability), ties in input order. A person's review of the first ones teaches the adapter the most."""
    pairs = [(a, m) for a, analysis in enumerate(analyses) for m in range(len(analysis.mentions))]
    return sorted(pairs, key=lambda p: (analyses[p[0]].mentions[p[1]].confidence, p))
