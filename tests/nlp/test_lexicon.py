"""The team lexicons as evidence: inflections, negation, offsets."""

from __future__ import annotations

import pytest

from nlp.lexicon import SentimentLexicon


@pytest.fixture(scope="module")
def lexicon() -> SentimentLexicon:
    return SentimentLexicon.load()


@pytest.mark.parametrize(
    ("text", "language", "word", "positive"),
    [
        ("Les plats sont excellents.", "fr", "excellents", True),
        ("De belles assiettes copieuses.", "fr", "copieuses", True),
        ("Les sièges sont très confortables", "fr", "confortables", True),
        ("So many delays this week", "en", "delays", False),
    ],
)
def test_inflected_forms_find_their_lexicon_entry(
    lexicon: SentimentLexicon, text: str, language: str, word: str, positive: bool
) -> None:
    evidence = {e.text: e.weight for e in lexicon.evidence(text, language)}
    assert word in evidence
    assert (evidence[word] > 0) is positive


def test_negation_flips_an_inflected_word(lexicon: SentimentLexicon) -> None:
    (hit,) = lexicon.evidence("Les plats ne sont pas excellents", "fr")
    assert hit.text == "excellents" and hit.weight < 0


def test_evidence_offsets_point_into_the_original_text(lexicon: SentimentLexicon) -> None:
    text = "Accueil DÉPLORABLE, conseillers très aimables"
    for hit in lexicon.evidence(text, "fr"):
        assert text[hit.start : hit.end] == hit.text
    assert {h.text for h in lexicon.evidence(text, "fr")} >= {"DÉPLORABLE", "aimables"}


@pytest.mark.parametrize(
    ("text", "language", "word", "positive"),
    [
        ("Non seulement des incapables, mais en plus lents", "fr", "incapables", False),
        ("Sans doute le meilleur accueil de la ville", "fr", "le meilleur", True),
        ("Nothing but problems since the upgrade", "en", "problems", False),
    ],
)
def test_a_pseudo_negation_negates_nothing_after_it(
    lexicon: SentimentLexicon, text: str, language: str, word: str, positive: bool
) -> None:
    evidence = {e.text: e.weight for e in lexicon.evidence(text, language)}
    assert (evidence[word] > 0) is positive
