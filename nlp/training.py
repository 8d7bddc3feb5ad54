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

from nlp.embed import Embedder
from nlp.heads import LabelHead, SentimentHead
from nlp.language import LanguageIdentifier
from nlp.lexicon import LEXICON_DIR, SentimentLexicon
from nlp.ngrams import CharNgrams
from nlp.pipeline import OFF_TOPIC
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


@dataclass(frozen=True)
class TrainingConfig:
    """Knobs of a training run, recorded in the manifest."""

    per_intent: int = 20
    booking_per_polarity: int = 1500
    public_weight: float = 0.5
    c_stage: float = 1.0
    c_touchpoint: float = 1.0
    c_emotion: float = 2.0
    c_sentiment: float = 1.0
    c_ngram: float = 10.0
    ngram_min_df: int = 2
    ngram_mix_stage: float = 1.5
    ngram_mix_touchpoint: float = 1.5
    ngram_mix_sentiment: float = 0.3
    sentiment_threshold: float = 0.08
    off_topic_prior: float = 0.05
    lexicon_feature_scale: float = 1.0
    min_neutral_stage_score: float = 0.95
    context_weight: float = 0.4
    sentiment_context: float = 1.0
    weak_sentiment: float = 0.15


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


def journey_dev_texts(shared_data: Path) -> list[str]:
    """Return the journey_dev texts (to keep them out of training)."""
    path = shared_data / "journey_dev" / "dev.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_training_set(taxonomy: Taxonomy, shared_data: Path | None, config: TrainingConfig) -> list[Example]:
    """Collect every training example; public sets are used only when `shared_data` exists."""
    examples = load_seed() + taxonomy_examples(taxonomy)
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


def train(
    taxonomy: Taxonomy,
    embedder: Embedder,
    examples: Sequence[Example],
    config: TrainingConfig,
    output: Path,
    name: str = "journey",
    version: str = "v1",
) -> Manifest:
    """Embed the examples, fit the four heads and write a model directory with its manifest."""
    texts = [e.text for e in examples]
    vectors = embedder.encode(texts)
    heads = output / "heads"
    ngrams = CharNgrams.fit(texts, min_df=config.ngram_min_df)
    ngrams.save(heads)
    grams = ngrams.transform(texts)
    x, y, w = _family_arrays(examples, vectors, "stage")
    LabelHead.fit(
        "stage",
        x,
        y,
        config.c_stage,
        w,
        reserved=[OFF_TOPIC],
        prior={**taxonomy.priors("stages"), OFF_TOPIC: config.off_topic_prior},
        grams=grams[_rows(examples, "stage")],
        c_ngram=config.c_ngram,
        ngram_mix=config.ngram_mix_stage,
    ).save(heads)
    x, y, w = _family_arrays(examples, vectors, "touchpoint")
    LabelHead.fit(
        "touchpoint",
        x,
        y,
        config.c_touchpoint,
        w,
        grams=grams[_rows(examples, "touchpoint")],
        c_ngram=config.c_ngram,
        ngram_mix=config.ngram_mix_touchpoint,
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
    return manifest
