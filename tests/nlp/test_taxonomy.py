from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlp.errors import TaxonomyError
from nlp.pipeline import Pipeline, load_pipeline
from nlp.taxonomy import DEFAULT_TAXONOMY, load_taxonomy, parse_taxonomy


def test_default_taxonomy_follows_the_journey_guide() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.ids("stages") == [
        "awareness",
        "consideration",
        "purchase",
        "onboarding",
        "usage",
        "support",
        "retention",
        "advocacy",
    ]
    assert len(taxonomy.ids("touchpoints")) == 13 and "none" in taxonomy.ids("touchpoints")
    assert taxonomy.ids("polarities") == ["irritant", "delight", "neutral"]
    assert {"joy", "trust", "surprise", "anger", "frustration", "sadness", "fear", "none"} == set(
        taxonomy.ids("emotions")
    )
    assert taxonomy.label("stages", "support").name("fr") == "Service client / SAV"


def test_unknown_label_and_family_errors_list_the_valid_options() -> None:
    taxonomy = load_taxonomy()
    with pytest.raises(TaxonomyError, match="No stage 'billing'. Available ids: awareness, consideration"):
        taxonomy.label("stages", "billing")
    with pytest.raises(TaxonomyError, match="Available families: stages, touchpoints, polarities, emotions"):
        taxonomy.family("channels")


def test_invalid_documents_are_refused_with_the_place_of_the_error() -> None:
    document = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    document["touchpoints"].append({"name": {"en": "Kiosk"}})
    with pytest.raises(TaxonomyError, match=r"touchpoints\[13\]: each label needs a string 'id'"):
        parse_taxonomy(document)
    document["touchpoints"][-1] = {"id": "phone"}
    with pytest.raises(TaxonomyError, match="touchpoints: duplicate ids phone"):
        parse_taxonomy(document)


def extended_taxonomy(tmp_path: Path) -> Path:
    document = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    document["touchpoints"].insert(
        0,
        {
            "id": "voice_assistant",
            "name": {"fr": "Assistant vocal", "en": "Voice assistant"},
            "description": "The company's voice assistant or smart speaker skill (Alexa, Google Assistant, Siri).",
            "examples": [
                "L'assistant vocal ne comprend jamais ce que je dis.",
                "J'ai demandé mon solde à Alexa.",
                "The voice assistant on my smart speaker keeps misunderstanding me.",
                "Asking Google Assistant for my balance works great.",
            ],
        },
    )
    document["stages"][5]["name"] = {"fr": "Réclamations", "en": "Complaints"}
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_a_label_added_to_the_taxonomy_is_predicted_without_retraining(tmp_path: Path, shipped: Pipeline) -> None:
    taxonomy = load_taxonomy(extended_taxonomy(tmp_path))
    pipeline = load_pipeline(taxonomy=taxonomy, embedder=shipped.embedder)
    analyses = pipeline.analyze(
        [
            "L'assistant vocal Alexa de la banque ne comprend jamais ma demande",
            "The voice assistant skill on my smart speaker could not find my bill",
            "Le colis est arrivé cassé",
        ]
    )
    touchpoints = [a.segments[0].touchpoint for a in analyses]
    assert touchpoints[:2] == ["voice_assistant", "voice_assistant"]
    assert touchpoints[2] == "delivery"
    assert taxonomy.label("stages", "support").name("en") == "Complaints"
