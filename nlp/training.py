"""Build the training set from `data/` and TRAIN-licensed public sets, and fit the heads.

Sources (see data/README.md): the team's seed clauses (every family, FR and EN), the taxonomy's own
examples, banking77 and Bitext through the intent mappings in `data/mappings/` (stage, touchpoint,
polarity proxies), and Booking.com hotel reviews (CC0; polarity only, minus the reviews that
journey_dev uses). Everything is sorted and sampled by hash, so training is deterministic.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nlp.annotations import AnnotatedText, load_annotated
from nlp.embed import Embedder
from nlp.heads import LabelHead, SentimentHead
from nlp.language import LanguageIdentifier
from nlp.lexicon import LEXICON_DIR, SentimentLexicon
from nlp.moments import BinaryHead, moment_inputs
from nlp.ngrams import CharNgrams
from nlp.pipeline import OFF_TOPIC, adjacent_pairs, load_pipeline
from nlp.segment import Segmenter
from nlp.store import Manifest, library_versions
from nlp.taxonomy import Taxonomy
from nlp.types import Segment

logger = logging.getLogger(__name__)

DATA_ROOT = Path(__file__).resolve().parent.parent / "data"
BOOKING_PLACEHOLDERS = {"no negative", "no positive", "nothing", "n a", "na", "none", "nothing really", "all good"}


@dataclass(frozen=True)
class Example:
    """One labelled training text; a family left None is not trained from this text."""

    text: str
    source: str
    language: str = "en"
    stage: str | None = None
    touchpoint: str | None = None
    polarity: str | None = None
    emotion: str | None = None
    weight: float = 1.0
    doc: str | None = None  # the annotated text a clause comes from (its stage/touchpoint inputs see the text)


@dataclass(frozen=True)
class TrainingConfig:
    """Knobs of a training run, recorded in the manifest."""

    per_intent: int = 20
    booking_per_polarity: int = 1500
    public_weight: float = 0.5
    c_stage: float = 1.0
    hidden: int = 256  # ReLU units under the stage and touchpoint softmax (0 = linear heads)
    alpha: float = 1e-3
    c_touchpoint: float = 1.0
    c_emotion: float = 2.0
    c_sentiment: float = 1.0
    c_ngram: float = 10.0
    ngram_min_df: int = 2
    ngram_mix_stage: float = 1.5
    ngram_mix_touchpoint: float = 1.5
    ngram_mix_sentiment: float = 0.3
    sentiment_threshold: float = 0.08
    neutral_weight: float = 0.4  # P(neutral) scale in the polarity decision (picked on held-out annotated clauses)
    off_topic_prior: float = 0.05
    prior_strength: float = 1.0
    goemotions_neutral: bool = True
    lexicon_feature_scale: float = 1.0
    min_neutral_stage_score: float = 0.95
    context_weight: float = 0.4
    sentiment_context: float = 1.0
    weak_sentiment: float = 0.15
    annotated_weight: float = 0.5
    goemotions_per_class: int = 1500
    xed_per_class: int = 800
    emotion_public_weight: float = 0.5
    polarity_public_weight: float = 0.3
    c_moment: float = 0.5
    c_continuation: float = 1.0
    moment_seed_weight: float = 0.3
    moment_threshold: float = 0.35
    neutral_moment_threshold: float = 0.5
    continuation_threshold: float = 0.5


def _stable_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def load_seed(directory: Path = DATA_ROOT / "seed") -> list[Example]:
    """Read the team-written seed clauses (`data/seed/*.jsonl`)."""
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            off_topic = row["stage"] == "none"
            examples.append(
                Example(
                    text=row["text"],
                    source=f"seed:{path.stem}",
                    language=row["lang"],
                    stage=OFF_TOPIC if off_topic else row["stage"],
                    touchpoint=None if off_topic else row["touchpoint"],
                    polarity=row["polarity"],
                    emotion=row["emotion"],
                )
            )
    return examples


def taxonomy_examples(taxonomy: Taxonomy) -> list[Example]:
    """Turn the taxonomy's own label examples into training examples for their family."""
    fields = {"stages": "stage", "touchpoints": "touchpoint", "polarities": "polarity", "emotions": "emotion"}
    identify = LanguageIdentifier()
    examples = []
    for family, field in fields.items():
        for label in taxonomy.family(family):
            for text in label.examples:
                example = Example(text=text, source="taxonomy", language=identify.identify(text))
                labels: dict[str, Any] = {field: label.id}
                examples.append(dataclasses.replace(example, **labels))
    return examples


def _sample_by_hash(rows: list[tuple[str, str]], per_group: int) -> list[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for text, group in rows:
        groups[group].append(text)
    sampled: list[tuple[str, str]] = []
    for group in sorted(groups):
        texts = sorted(set(groups[group]), key=_stable_key)[:per_group]
        sampled.extend((text, group) for text in texts)
    return sampled


def load_mapped(
    csv_path: Path, mapping_path: Path, text_column: str, intent_column: str, per_intent: int, weight: float
) -> list[Example]:
    """Read an intent dataset and label it through its YAML intent mapping (intents mapped to `skip` are dropped)."""
    mapping = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))["intents"]
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = [(r[text_column].strip(), r[intent_column]) for r in csv.DictReader(handle)]
    examples = []
    for text, intent in _sample_by_hash(rows, per_intent):
        labels = mapping.get(intent)
        if not labels or labels.get("stage") == "skip":
            continue
        examples.append(
            Example(
                text=text,
                source=f"{csv_path.parent.name}:{intent}",
                stage=labels["stage"],
                touchpoint=labels["touchpoint"],
                polarity=labels["polarity"],
                weight=weight,
            )
        )
    return examples


def load_booking(csv_path: Path, exclude_texts: Iterable[str], per_polarity: int, weight: float) -> list[Example]:
    """Read Booking.com reviews: each positive part is a delight, each negative part an irritant."""
    excluded = {" ".join(t.lower().split()) for t in exclude_texts}

    def is_excluded(text: str) -> bool:
        flat = " ".join(text.lower().split())
        return any(flat in e or e in flat for e in excluded if len(flat) > 20)

    rows: list[tuple[str, str]] = []
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            for column, polarity in (("Positive_Review", "delight"), ("Negative_Review", "irritant")):
                text = record[column].strip()
                if text.lower() in BOOKING_PLACEHOLDERS or len(text.split()) < 3 or len(text) > 400:
                    continue
                rows.append((text, polarity))
    rows = [(t, p) for t, p in _sample_by_hash(rows, per_polarity * 2) if not is_excluded(t)]
    rows = _sample_by_hash(rows, per_polarity)
    return [Example(text=t, source="booking_hotel_reviews", polarity=p, weight=weight) for t, p in rows]


# GoEmotions' 27 emotions onto ours (single-label comments only); None = not used for the emotion head.
GOEMOTIONS_EMOTION = {
    "admiration": "joy", "amusement": "joy", "excitement": "joy", "joy": "joy", "love": "joy", "pride": "joy",
    "gratitude": "joy", "relief": "joy", "optimism": "trust", "caring": "trust", "approval": "trust",
    "anger": "anger", "disgust": "anger", "annoyance": "frustration", "disapproval": "frustration",
    "confusion": "frustration", "sadness": "sadness", "disappointment": "sadness", "grief": "sadness",
    "remorse": "sadness", "embarrassment": "sadness", "fear": "fear", "nervousness": "fear",
    "surprise": "surprise", "realization": "surprise", "neutral": "none", "curiosity": None, "desire": None,
}  # fmt: skip
# XED's Plutchik emotions (1-8) onto ours; anticipation has no counterpart.
XED_EMOTION = {1: "anger", 3: "anger", 4: "fear", 5: "joy", 6: "sadness", 7: "surprise", 8: "trust"}
EMOTION_POLARITY = {
    "joy": "delight", "trust": "delight", "anger": "irritant", "frustration": "irritant", "sadness": "irritant",
    "fear": "irritant", "none": "neutral",
}  # fmt: skip


def _capped(rows: list[tuple[str, str]], per_class: int) -> list[tuple[str, str]]:
    return _sample_by_hash(rows, per_class)


def load_goemotions(
    shared: Path, per_class: int, emotion_weight: float, polarity_weight: float, neutral: bool = True
) -> list[Example]:
    """GoEmotions train split (Apache-2.0): single-label comments as emotion examples, and (with their own,
    lower weight) as polarity examples; `neutral` comments teach the neutral polarity too when set."""
    path = shared / "goemotions_splits" / "train.tsv"
    names = (shared / "goemotions_splits" / "emotions.txt").read_text(encoding="utf-8").split()
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle, delimiter="\t"):
            labels = record["label"].split(",")
            emotion = GOEMOTIONS_EMOTION.get(names[int(labels[0])]) if len(labels) == 1 else None
            text = record["text"].strip()
            if emotion and 3 <= len(text.split()) and "[NAME]" not in text:
                rows.append((text, emotion))
    sampled = _capped(rows, per_class)
    examples = [Example(text=t, source="goemotions", emotion=e, weight=emotion_weight) for t, e in sampled]
    examples += [
        Example(text=t, source="goemotions", polarity=EMOTION_POLARITY[e], weight=polarity_weight)
        for t, e in sampled
        if e in EMOTION_POLARITY and (neutral or e != "none")
    ]
    return examples


def load_xed(shared: Path, per_class: int, weight: float) -> list[Example]:
    """XED (CC BY 4.0): English gold and French projected single-label subtitle lines as emotion examples."""
    examples = []
    for name, language in (("en-annotated.tsv", "en"), ("fr-projections.tsv", "fr")):
        rows: list[tuple[str, str]] = []
        for line in (shared / "xed" / name).read_text(encoding="utf-8").splitlines():
            text, _, labels = line.rpartition("\t")
            parts = [p.strip() for p in labels.split(",") if p.strip().isdigit()]
            emotion = XED_EMOTION.get(int(parts[0])) if len(parts) == 1 else None
            if emotion and len(text.split()) >= 4:
                rows.append((text.strip(), emotion))
        examples += [
            Example(text=t, source=f"xed:{language}", language=language, emotion=e, weight=weight)
            for t, e in _capped(rows, per_class)
        ]
    return examples


def align_segments(record: AnnotatedText, segments: Sequence[Segment]) -> list[int | None]:
    """For each clause of an annotated text, the index of the mention it belongs to (None: not a moment).

    A clause belongs to a mention when at least half of it lies inside the mention's quote, or when it holds
    most of a short quote.
    """
    result: list[int | None] = []
    for segment in segments:
        best, best_score = None, 0.0
        for index, mention in enumerate(record.mentions):
            shared = min(segment.end, mention.end) - max(segment.start, mention.start)
            if shared <= 0:
                continue
            score = max(shared / max(segment.end - segment.start, 1), shared / max(mention.end - mention.start, 1))
            if score > best_score:
                best, best_score = index, score
        result.append(best if best_score >= 0.5 else None)
    return result


def segment_annotated(
    records: Sequence[AnnotatedText], segmenter: Segmenter
) -> tuple[list[Segment], list[int | None], list[AnnotatedText]]:
    """Segment annotated texts as the pipeline does; return the clauses, their mention index and their record."""
    per_text = segmenter([r.text for r in records], [r.lang for r in records])
    flat: list[Segment] = []
    owners: list[int | None] = []
    sources: list[AnnotatedText] = []
    for record, segments in zip(records, per_text, strict=True):
        flat += segments
        owners += align_segments(record, segments)
        sources += [record] * len(segments)
    return flat, owners, sources


def annotated_examples(records: Sequence[AnnotatedText], weight: float) -> list[Example]:
    """Each clause inside an annotated mention becomes an example with the mention's labels."""
    segments, owners, sources = segment_annotated(records, Segmenter())
    examples = []
    for segment, owner, record in zip(segments, owners, sources, strict=True):
        if owner is None:
            continue
        mention = record.mentions[owner]
        examples.append(
            Example(
                text=segment.text,
                source=f"annotated:{record.register}",
                language=record.lang,
                stage=mention.stage,
                touchpoint=mention.touchpoint,
                polarity=mention.polarity,
                emotion=mention.emotion,
                weight=weight,
                doc=record.id,
            )
        )
    return examples


def journey_dev_texts(shared_data: Path) -> list[str]:
    """Return the journey_dev texts (to keep them out of training)."""
    path = shared_data / "journey_dev" / "dev.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_training_set(
    taxonomy: Taxonomy,
    shared_data: Path | None,
    config: TrainingConfig,
    annotated: Sequence[AnnotatedText] | None = None,
) -> list[Example]:
    """Collect every training example; public sets are used only when `shared_data` exists.

    `annotated` defaults to the team's annotated real feedback (`data/annotated/train`); dev2 is never read here.
    """
    annotated = load_annotated("train") if annotated is None else annotated
    examples = load_seed() + taxonomy_examples(taxonomy) + annotated_examples(annotated, config.annotated_weight)
    if shared_data is not None and shared_data.exists():
        mappings = DATA_ROOT / "mappings"
        examples += load_mapped(
            shared_data / "banking77" / "train.csv",
            mappings / "banking77.yaml",
            "text",
            "category",
            config.per_intent,
            config.public_weight,
        )
        examples += load_mapped(
            shared_data / "bitext_customer_service" / "bitext_customer_service_8k.csv",
            mappings / "bitext.yaml",
            "utterance",
            "intent",
            config.per_intent,
            config.public_weight,
        )
        examples += load_booking(
            shared_data / "booking_hotel_reviews" / "Hotel_Reviews_sample.csv",
            journey_dev_texts(shared_data),
            config.booking_per_polarity,
            config.public_weight,
        )
        examples += load_goemotions(
            shared_data,
            config.goemotions_per_class,
            config.emotion_public_weight,
            config.polarity_public_weight,
            config.goemotions_neutral,
        )
        examples += load_xed(shared_data, config.xed_per_class, config.emotion_public_weight)
    else:
        logger.warning("No shared data at %s: training on data/ only", shared_data)
    return examples


def training_data_hash(examples: Sequence[Example]) -> str:
    """Return a SHA-256 over the training examples, for the manifest."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example.__dict__, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def _directory_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _rows(examples: Sequence[Example], field: str) -> list[int]:
    return [i for i, e in enumerate(examples) if getattr(e, field) is not None]


def _family_arrays(
    examples: Sequence[Example], vectors: np.ndarray, field: str
) -> tuple[np.ndarray, list[str], np.ndarray]:
    rows = _rows(examples, field)
    labels = [str(getattr(examples[i], field)) for i in rows]
    weights = np.array([examples[i].weight for i in rows], dtype=np.float64)
    return vectors[rows], labels, weights


def with_document_context(examples: Sequence[Example], vectors: np.ndarray, weight: float) -> np.ndarray:
    """Blend each annotated clause's embedding with its text's mean, as the pipeline does at inference
    (`context_weight`); clauses without a text (seed, public sets) keep their own embedding."""
    blended = vectors.copy()
    rows_by_doc: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        if example.doc is not None:
            rows_by_doc[example.doc].append(i)
    if not weight or not rows_by_doc:
        return blended
    for rows in rows_by_doc.values():
        blended[rows] += weight * vectors[rows].mean(axis=0)
        blended[rows] /= np.maximum(np.linalg.norm(blended[rows], axis=1, keepdims=True), 1e-12)
    return blended.astype(np.float32)


def fit_moment_heads(
    output: Path,
    taxonomy: Taxonomy,
    embedder: Embedder,
    annotated: Sequence[AnnotatedText],
    seed: tuple[np.ndarray, np.ndarray, list[Segment], list[int]],
    config: TrainingConfig,
) -> tuple[BinaryHead, BinaryHead]:
    """Fit the moment and continuation heads on the annotated texts, segmented and labelled as the pipeline does.

    The model in `output` (its four heads already written) gives the clauses' stage, touchpoint and sentiment
    inputs of the continuation head. `seed` = (embeddings, lexicon features, segments, 1/0 moment labels) of the
    seed clauses, added to the moment head's rows with `moment_seed_weight`.
    """
    pipeline = load_pipeline(output, taxonomy=taxonomy, embedder=embedder)
    segments, owners, _ = segment_annotated(annotated, pipeline.segmenter)
    vectors = embedder.encode([s.text for s in segments])
    features, _ = pipeline.lexicon.features(segments)
    x = np.vstack([moment_inputs(vectors, features, segments), moment_inputs(seed[0], seed[1], seed[2])])
    y = [int(o is not None) for o in owners] + seed[3]
    weights = np.concatenate([np.ones(len(segments)), np.full(len(seed[3]), config.moment_seed_weight)])
    moment = BinaryHead.fit(
        "moment",
        x,
        y,
        config.c_moment,
        weights,
        {"moment": config.moment_threshold, "neutral_moment": config.neutral_moment_threshold},
    )
    in_context = pipeline.with_context(segments, vectors)
    grams = pipeline.ngrams.transform([s.text for s in segments]) if pipeline.ngrams else None
    sentiments = pipeline.sentiment_head.score(pipeline.sentiment_head.inputs(vectors, features), grams)
    _, stage_p = pipeline.stage_head.probabilities(in_context, grams)
    _, touchpoint_p = pipeline.touchpoint_head.probabilities(in_context, grams)
    rows, candidates = adjacent_pairs(segments, vectors, (stage_p, touchpoint_p), sentiments)
    # pairs of clauses both inside annotated mentions: the same mention (1) or two (0)
    kept = [k for k, i in enumerate(rows) if owners[i - 1] is not None and owners[i] is not None]
    pairs = candidates[kept]
    labels = [int(owners[rows[k] - 1] == owners[rows[k]]) for k in kept]
    continuation = BinaryHead.fit(
        "continuation",
        pairs,
        labels,
        config.c_continuation,
        None,
        {"continuation": config.continuation_threshold},
    )
    logger.info(
        "moment head: %d clauses (%d moments); continuation head: %d pairs (%d same moment)",
        len(segments),
        sum(o is not None for o in owners),
        len(pairs),
        sum(labels),
    )
    return moment, continuation


def train(
    taxonomy: Taxonomy,
    embedder: Embedder,
    examples: Sequence[Example],
    config: TrainingConfig,
    output: Path,
    name: str = "journey",
    version: str = "v1",
    annotated: Sequence[AnnotatedText] | None = None,
) -> Manifest:
    """Embed the examples, fit the heads and write a model directory with its manifest.

    With `annotated` texts (default: `data/annotated/train`), the moment and continuation heads are fitted too.
    """
    annotated = load_annotated("train") if annotated is None else annotated
    texts = [e.text for e in examples]
    vectors = embedder.encode(texts)
    in_context = with_document_context(examples, vectors, config.context_weight)
    heads = output / "heads"
    ngrams = CharNgrams.fit(texts, min_df=config.ngram_min_df)
    ngrams.save(heads)
    grams = ngrams.transform(texts)
    x, y, w = _family_arrays(examples, in_context, "stage")
    LabelHead.fit(
        "stage",
        x,
        y,
        config.c_stage,
        w,
        reserved=[OFF_TOPIC],
        prior={
            label: share**config.prior_strength
            for label, share in {**taxonomy.priors("stages"), OFF_TOPIC: config.off_topic_prior}.items()
        },
        grams=grams[_rows(examples, "stage")],
        c_ngram=config.c_ngram,
        ngram_mix=config.ngram_mix_stage,
        hidden=config.hidden,
        alpha=config.alpha,
    ).save(heads)
    x, y, w = _family_arrays(examples, in_context, "touchpoint")
    LabelHead.fit(
        "touchpoint",
        x,
        y,
        config.c_touchpoint,
        w,
        grams=grams[_rows(examples, "touchpoint")],
        c_ngram=config.c_ngram,
        ngram_mix=config.ngram_mix_touchpoint,
        hidden=config.hidden,
        alpha=config.alpha,
    ).save(heads)
    x, y, w = _family_arrays(examples, vectors, "emotion")
    LabelHead.fit("emotion", x, y, config.c_emotion, w).save(heads)
    rows = [i for i, e in enumerate(examples) if e.polarity is not None]
    x, y, w = _family_arrays(examples, vectors, "polarity")
    segments = [Segment(0, examples[i].text, 0, len(examples[i].text), examples[i].language) for i in rows]
    features, _ = SentimentLexicon.load().features(segments)
    SentimentHead.fit(
        x,
        y,
        config.c_sentiment,
        w,
        config.sentiment_threshold,
        features,
        config.lexicon_feature_scale,
        grams=grams[rows],
        c_ngram=config.c_ngram,
        ngram_mix=config.ngram_mix_sentiment,
        neutral_weight=config.neutral_weight,
    ).save(heads)
    valence: dict[str, Counter[str]] = defaultdict(Counter)
    for example in examples:
        if example.emotion and example.polarity:
            valence[example.emotion][example.polarity] += 1
    counts: dict[str, int] = defaultdict(int)
    for example in examples:
        counts[example.source.split(":")[0]] += 1
    manifest = Manifest(
        name=name,
        version=version,
        embedder=embedder.name,
        dimension=int(vectors.shape[1]),
        taxonomy_fingerprint=taxonomy.fingerprint(),
        training_data_sha256=training_data_hash(examples),
        created=datetime.now(UTC).strftime("%Y-%m-%d"),
        settings={
            "min_neutral_stage_score": config.min_neutral_stage_score,
            "context_weight": config.context_weight,
            "sentiment_context": config.sentiment_context,
            "weak_sentiment": config.weak_sentiment,
            "sentiment_threshold": config.sentiment_threshold,
            "moment_threshold": config.moment_threshold,
            "neutral_moment_threshold": config.neutral_moment_threshold,
            "continuation_threshold": config.continuation_threshold,
            # the polarities each emotion was seen with in 10%+ of its examples
            "emotion_polarities": {
                e: sorted(p for p, n in c.items() if n >= 0.1 * sum(c.values())) for e, c in sorted(valence.items())
            },
        },
        training_data={
            "examples": len(examples),
            "by_source": dict(sorted(counts.items())),
            "lexicons_sha256": _directory_hash(LEXICON_DIR),
            "config": config.__dict__,
        },
        libraries=library_versions(),
    )
    manifest.write(output)
    if annotated:
        seed_rows = [i for i, e in enumerate(examples) if e.source.startswith("seed:")]
        seed_segments = [
            Segment(0, examples[i].text, 0, len(examples[i].text), examples[i].language) for i in seed_rows
        ]
        seed_features, _ = SentimentLexicon.load().features(seed_segments)
        seed_labels = [int(examples[i].stage != OFF_TOPIC) for i in seed_rows]
        seed = (vectors[seed_rows], seed_features, seed_segments, seed_labels)
        moment, continuation = fit_moment_heads(output, taxonomy, embedder, annotated, seed, config)
        moment.save(heads)
        continuation.save(heads)
    return manifest
