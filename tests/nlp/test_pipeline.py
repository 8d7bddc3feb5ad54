"""The shipped model on clear French and English cases, one label family at a time."""

from __future__ import annotations

import pytest

from nlp import analyze
from nlp.pipeline import Pipeline


def segment_labels(pipeline: Pipeline, text: str) -> list[tuple[str | None, str | None, str]]:
    (analysis,) = pipeline.analyze([text])
    return [(s.stage, s.touchpoint, s.polarity) for s in analysis.segments]


def mention_labels(pipeline: Pipeline, text: str) -> list[tuple[str, str, str, str]]:
    (analysis,) = pipeline.analyze([text])
    return [(m.stage, m.touchpoint, m.polarity, m.emotion) for m in analysis.mentions]


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("J'ai découvert votre marque grâce à une publicité à la télévision.", "awareness"),
        ("Getting a quote on the website was quick and easy.", "consideration"),
        ("The checkout kept failing when I tried to pay for my order.", "purchase"),
        ("Le colis est arrivé avec une semaine de retard.", "onboarding"),
        ("The app crashes every time I open it.", "usage"),
        ("Impossible de joindre le service client au téléphone, personne ne décroche.", "support"),
        ("I cancelled my subscription and switched to a competitor.", "retention"),
        ("Je recommande vivement cette assurance à tous mes proches.", "advocacy"),
    ],
)
def test_stage_on_clear_cases(shipped: Pipeline, text: str, stage: str) -> None:
    assert [s for s, _, _, _ in mention_labels(shipped, text)] == [stage]


@pytest.mark.parametrize(
    ("text", "touchpoint"),
    [
        ("Getting a quote on the website was quick and easy.", "website"),
        ("The app crashes every time I open it.", "mobile_app"),
        ("Impossible de joindre le service client au téléphone, personne ne décroche.", "phone"),
        ("Le colis est arrivé avec une semaine de retard.", "delivery"),
        ("La chambre était sale et le lit inconfortable.", "product"),
        ("Le conseiller en agence était très aimable et compétent.", "staff"),
        ("J'ai découvert votre marque grâce à une publicité à la télévision.", "advertising"),
    ],
)
def test_touchpoint_on_clear_cases(shipped: Pipeline, text: str, touchpoint: str) -> None:
    assert [t for _, t, _, _ in mention_labels(shipped, text)] == [touchpoint]


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("Je suis furieux, c'est une arnaque totale !", "irritant"),
        ("Avoid this airline at all costs.", "irritant"),
        ("La chambre était sale et le lit inconfortable.", "irritant"),
        ("Le conseiller en agence était très aimable et compétent.", "delight"),
        ("Getting a quote on the website was quick and easy.", "delight"),
        ("Je recommande vivement cette assurance à tous mes proches.", "delight"),
    ],
)
def test_polarity_on_clear_cases(shipped: Pipeline, text: str, polarity: str) -> None:
    (analysis,) = shipped.analyze([text])
    assert [m.polarity for m in analysis.mentions] == [polarity]
    sentiment = analysis.mentions[0].sentiment
    assert (sentiment < -0.25) if polarity == "irritant" else (sentiment > 0.25)


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("Je suis furieux, c'est une arnaque totale !", "anger"),
        ("I'm so worried I will never get my money back.", "fear"),
        ("Agréablement surpris par le surclassement gratuit.", "surprise"),
        ("Très déçue, je m'attendais à beaucoup mieux.", "sadness"),
        ("Je recommande vivement cette assurance à tous mes proches.", "trust"),
    ],
)
def test_emotion_on_clear_cases(shipped: Pipeline, text: str, emotion: str) -> None:
    assert [e for _, _, _, e in mention_labels(shipped, text)] == [emotion]


def test_one_review_yields_its_irritant_and_its_delight_separately(shipped: Pipeline) -> None:
    text = "Livraison rapide mais le SAV ne répond jamais"
    (analysis,) = shipped.analyze([text])
    assert [(m.polarity, text[m.start : m.end]) for m in analysis.mentions] == [
        ("delight", "Livraison rapide"),
        ("irritant", "mais le SAV ne répond jamais"),
    ]
    assert analysis.mentions[1].stage == "support"


def test_english_mixed_sentence(shipped: Pipeline) -> None:
    assert [p for _, _, p in segment_labels(shipped, "Great crew but the seat was broken")] == ["delight", "irritant"]


def test_text_about_nothing_journey_related_has_no_mentions(shipped: Pipeline) -> None:
    analyses = shipped.analyze(
        ["Il fait beau aujourd'hui à Paris.", "I love watching football with my kids on Sundays."]
    )
    assert [a.mentions for a in analyses] == [[], []]
    assert all(s.stage is None for a in analyses for s in a.segments)


def test_evidence_points_at_the_words_that_decided(shipped: Pipeline) -> None:
    text = "Service client nul, je ne recommande pas du tout."
    (analysis,) = shipped.analyze([text])
    evidence = [(e.text, e.weight < 0) for s in analysis.segments for e in s.evidence]
    assert ("nul", True) in evidence and ("recommande", True) in evidence
    for segment in analysis.segments:
        for item in segment.evidence:
            assert text[item.start : item.end] == item.text


def test_analyze_function_returns_one_typed_record_per_text_in_order() -> None:
    analyses = analyze(["Top !", "", "Colis perdu, remboursement refusé."], ids=["x", "y", "z"])
    assert [a.id for a in analyses] == ["x", "y", "z"]
    assert analyses[1].segments == [] and analyses[1].mentions == []
    assert analyses[2].mentions and analyses[2].mentions[0].polarity == "irritant"


def test_a_weak_sentiment_takes_the_tone_of_the_other_sentences_only(tiny: Pipeline) -> None:
    from dataclasses import replace

    import numpy as np

    from nlp.types import Segment

    segments = [
        Segment(0, "Aucune réponse depuis un mois.", 0, 30, "fr", 0),
        Segment(0, "Dossier transmis au service", 31, 58, "fr", 1),
        Segment(0, "mais un mois de silence", 59, 82, "fr", 1),
        Segment(1, "Chambre propre", 0, 14, "fr", 0),
        Segment(1, "mais petit-déjeuner tiède", 15, 40, "fr", 0),
    ]
    sentiments = np.array([-0.9, 0.05, -0.8, 0.9, 0.05], dtype=np.float32)
    pipeline = replace(tiny, sentiment_context=1.0, weak_sentiment=0.15)
    blended = pipeline.with_sentiment_context(segments, sentiments)
    assert blended[1] < -0.5  # weak, in an angry text: takes the other sentence's tone
    assert blended[4] == sentiments[4]  # a contrast inside one sentence is left alone
    assert list(blended[[0, 2, 3]]) == list(sentiments[[0, 2, 3]])  # strong scores are untouched
