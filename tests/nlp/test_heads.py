from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp.embed import HashingEmbedder
from nlp.errors import ModelError
from nlp.heads import LabelHead, SentimentHead
from nlp.pipeline import load_pipeline
from nlp.store import Manifest
from nlp.taxonomy import load_taxonomy
from nlp.training import build_training_set, train
from tests.conftest import TINY_CONFIG


def toy_data() -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    labels = ["irritant", "neutral", "delight"]
    x = np.vstack([centres[i] + 0.1 * rng.normal(size=(20, 16)) for i in range(3)]).astype(np.float32)
    return x, [labels[i] for i in range(3) for _ in range(20)]


def test_label_head_save_load_round_trip(tmp_path: Path) -> None:
    x, y = toy_data()
    head = LabelHead.fit("stage", x, y, reserved=["off_topic"])
    head.save(tmp_path)
    loaded = LabelHead.load(tmp_path, "stage")
    assert loaded.classes == head.classes and loaded.reserved == ("off_topic",)
    assert loaded.predict(x) == head.predict(x)
    assert [p.label for p in loaded.predict(x)] == y


def test_hidden_layer_head_round_trip(tmp_path: Path) -> None:
    x, y = toy_data()
    head = LabelHead.fit("touchpoint", x, y, hidden=8)
    assert head.hidden_weights is not None and head.hidden_weights.shape == (8, 16)
    head.save(tmp_path)
    loaded = LabelHead.load(tmp_path, "touchpoint")
    np.testing.assert_allclose(loaded.probabilities(x)[1], head.probabilities(x)[1], atol=1e-2)
    assert [p.label for p in loaded.predict(x)] == [p.label for p in head.predict(x)]


def test_sentiment_head_round_trip_scores_and_thresholds(tmp_path: Path) -> None:
    x, y = toy_data()
    head = SentimentHead.fit(x, y, threshold=0.3)
    head.save(tmp_path)
    loaded = SentimentHead.load(tmp_path)
    np.testing.assert_allclose(loaded.score(x), head.score(x))
    scores = loaded.score(x)
    assert scores.min() >= -1 and scores.max() <= 1
    assert [loaded.polarity(float(s)) for s in scores] == y


def test_missing_head_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Head 'touchpoint' is missing"):
        LabelHead.load(tmp_path, "touchpoint")


def test_training_is_deterministic(tmp_path: Path, tiny_model_dir: Path) -> None:
    taxonomy = load_taxonomy()
    examples = build_training_set(taxonomy, None, TINY_CONFIG)
    train(taxonomy, HashingEmbedder(256), examples, TINY_CONFIG, tmp_path / "again", name="tiny")
    first, second = Manifest.read(tiny_model_dir), Manifest.read(tmp_path / "again")
    assert first.training_data_sha256 == second.training_data_sha256
    for family in ("stage", "touchpoint", "emotion", "sentiment", "moment", "continuation"):
        a = np.load(tiny_model_dir / "heads" / f"{family}.npz")
        b = np.load(tmp_path / "again" / "heads" / f"{family}.npz")
        np.testing.assert_array_equal(a["weights"], b["weights"])


def test_loading_checks_the_manifest(tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(ModelError, match="no manifest.json"):
        load_pipeline(tmp_path)
    with pytest.raises(ModelError, match="trained on embedder 'hashing-256', not 'hashing-64'"):
        load_pipeline(tiny_model_dir, embedder=HashingEmbedder(64))


def test_tiny_pipeline_output_shape(tiny_model_dir: Path) -> None:
    pipeline = load_pipeline(tiny_model_dir)
    text = "Livraison rapide mais le SAV ne répond jamais"
    (analysis,) = pipeline.analyze([text], ids=["a1"])
    assert analysis.id == "a1" and analysis.language == "fr"
    assert [s.text for s in analysis.segments] == ["Livraison rapide", "mais le SAV ne répond jamais"]
    taxonomy = load_taxonomy()
    for segment in analysis.segments:
        assert text[segment.start : segment.end] == segment.text
        assert -1 <= segment.sentiment <= 1
        assert segment.polarity in taxonomy.ids("polarities")
        assert segment.emotion in taxonomy.ids("emotions")
        assert segment.stage is None or segment.stage in taxonomy.ids("stages")


def test_ngram_channel_round_trip_and_decides_on_words(tmp_path: Path) -> None:
    from nlp.ngrams import CharNgrams

    texts = ["déclaration de sinistre", "sinistre non remboursé", "livraison du colis", "colis livré en retard",
             "résiliation du contrat", "demande de résiliation"] * 4  # fmt: skip
    labels = ["support", "support", "onboarding", "onboarding", "retention", "retention"] * 4
    ngrams = CharNgrams.fit(texts, min_df=1)
    x = np.ones((len(texts), 4), dtype=np.float32)  # embeddings that tell nothing apart
    head = LabelHead.fit("stage", x, labels, grams=ngrams.transform(texts), ngram_mix=1.0)
    head.save(tmp_path)
    ngrams.save(tmp_path)
    loaded, loaded_ngrams = LabelHead.load(tmp_path, "stage"), CharNgrams.load(tmp_path)
    assert loaded_ngrams is not None and loaded_ngrams.vocabulary == ngrams.vocabulary
    probe = ["mon sinistre", "le colis", "résiliation"]
    predicted = loaded.predict(np.ones((3, 4), dtype=np.float32), loaded_ngrams.transform(probe))
    assert [s.label for s in predicted] == ["support", "onboarding", "retention"]
    original = head.predict(np.ones((3, 4), dtype=np.float32), ngrams.transform(probe))
    assert [p.score for p in predicted] == pytest.approx([p.score for p in original], abs=1e-3)  # float16 on disk
