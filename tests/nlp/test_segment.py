from __future__ import annotations

import pytest

from nlp.segment import Segmenter


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


def texts_of(segmenter: Segmenter, text: str, language: str) -> list[str]:
    (segments,) = segmenter([text], [language])
    for segment in segments:
        assert text[segment.start : segment.end] == segment.text
    return [s.text for s in segments]


def test_french_contrast_splits_the_delight_from_the_irritant(segmenter: Segmenter) -> None:
    assert texts_of(segmenter, "Livraison rapide mais le SAV ne répond jamais", "fr") == [
        "Livraison rapide",
        "mais le SAV ne répond jamais",
    ]


def test_english_contrast_splits_clauses(segmenter: Segmenter) -> None:
    assert texts_of(segmenter, "great crew but the seat was broken", "en") == ["great crew", "but the seat was broken"]


def test_sentences_newlines_and_semicolons_split(segmenter: Segmenter) -> None:
    text = "Super accueil !\nPar contre le parking est hors de prix; à éviter. Je recommande quand même."
    assert texts_of(segmenter, text, "fr") == [
        "Super accueil !",
        "Par contre le parking est hors de prix",
        "à éviter.",
        "Je recommande quand même.",
    ]


def test_run_on_text_splits_at_a_capitalised_sentence_start(segmenter: Segmenter) -> None:
    text = "Abonnement arrêté dès le lendemain Je déconseille cet opérateur"
    assert texts_of(segmenter, text, "fr") == ["Abonnement arrêté dès le lendemain", "Je déconseille cet opérateur"]


def test_one_word_fragments_join_their_neighbour(segmenter: Segmenter) -> None:
    text = "J'ai attendu trois semaines. INADMISSIBLE"
    assert texts_of(segmenter, text, "fr") == [text]


def test_offsets_are_exact_with_leading_spaces_and_emoji(segmenter: Segmenter) -> None:
    text = "   😡 Colis jamais arrivé, mais remboursé en 48h 👍  \n\n  Merci à Paul au téléphone !  "
    segments = texts_of(segmenter, text, "fr")
    assert segments == ["😡 Colis jamais arrivé", "mais remboursé en 48h 👍", "Merci à Paul au téléphone !"]


def test_blank_text_has_no_segment_and_other_languages_still_split(segmenter: Segmenter) -> None:
    segments = segmenter(["   ", "Das Hotel war sauber. Das Frühstück war kalt."], ["fr", "de"])
    assert segments[0] == []
    assert [s.text for s in segments[1]] == ["Das Hotel war sauber.", "Das Frühstück war kalt."]


def test_a_capitalised_one_word_sentence_is_a_segment_of_its_own(segmenter: Segmenter) -> None:
    text = "Parfait. Le livreur a appelé avant de passer"
    assert texts_of(segmenter, text, "fr") == ["Parfait.", "Le livreur a appelé avant de passer"]


def test_unpunctuated_english_review_splits_at_a_common_review_word(segmenter: Segmenter) -> None:
    text = "The pool was freezing Parking cost extra every night"
    assert texts_of(segmenter, text, "en") == ["The pool was freezing", "Parking cost extra every night"]


def test_an_additive_connector_opens_a_new_clause(segmenter: Segmenter) -> None:
    text = "Livraison soignée ainsi que des conseils utiles au téléphone"
    assert texts_of(segmenter, text, "fr") == ["Livraison soignée", "ainsi que des conseils utiles au téléphone"]
