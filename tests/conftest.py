"""Shared fixtures: the shipped pipeline (real models) and a tiny deterministic one for fast tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.embed import HashingEmbedder
from nlp.pipeline import Pipeline, load_pipeline
from nlp.taxonomy import load_taxonomy
from nlp.training import TrainingConfig, build_training_set, train

ROOT = Path(__file__).resolve().parent.parent
# The tiny model keeps a small hidden layer: the same code paths as the shipped model, at a fraction of the cost.
TINY_CONFIG = TrainingConfig(hidden=16)


@pytest.fixture(scope="session")
def shipped() -> Pipeline:
    """The shipped model (models/journey-v1) with the multilingual USE embedder."""
    return load_pipeline()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained from data/ alone on the hashing embedder: fast, deterministic, no semantics."""
    output = tmp_path_factory.mktemp("models") / "tiny-v1"
    taxonomy = load_taxonomy()
    examples = build_training_set(taxonomy, None, TINY_CONFIG)
    train(taxonomy, HashingEmbedder(256), examples, TINY_CONFIG, output, name="tiny")
    return output


@pytest.fixture(scope="session")
def tiny(tiny_model_dir: Path) -> Pipeline:
    """The tiny pipeline loaded back from its directory."""
    return load_pipeline(tiny_model_dir)
