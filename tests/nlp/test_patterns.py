"""The failure patterns seen on feedback from companies and channels the team had never seen (issue: journey
analysis that holds on unseen feedback), pinned with the team's own examples in French and English.

Each test runs the shipped model on a text and checks the mentions a user would see. None of these sentences is
in the training data (data/seed, data/annotated).
"""

from __future__ import annotations

import pytest

from nlp.pipeline import Pipeline
from nlp.types import Mention


def mentions(pipeline: Pipeline, text: str) -> list[Mention]:
    (analysis,) = pipeline.analyze([text])
    return analysis.mentions


def labels(pipeline: Pipeline, text: str) -> list[tuple[str, str, str]]:
    return [(m.stage, m.touchpoint, m.polarity) for m in mentions(pipeline, text)]


# 1. A mild irritant inside a happy review keeps its own polarity.
@pytest.mark.parametrize(
    ("text", "touchpoint"),
    [
        (
            "Séjour vraiment parfait, le seul bémol c'est le colis de bienvenue arrivé abîmé par le transporteur.",
            "delivery",
        ),
        ("Loved everything about the phone, only downside was the courier leaving my parcel in the rain.", "delivery"),
        ("Très contente de mon contrat, sauf que la facture de mars était fausse.", "billing"),
        ("Great bank overall, except the monthly fees keep going up for no reason.", "billing"),
    ],
)
def test_mild_irritant_inside_happy_text(shipped: Pipeline, text: str, touchpoint: str) -> None:
    found = labels(shipped, text)
    assert any(t == touchpoint and p == "irritant" for _, t, p in found), found


# 2. Privative and negated wording.
@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("Colis reçu en deux jours sans le moindre problème.", "delight"),
        ("Jamais eu un seul souci avec mes remboursements.", "delight"),
        ("No complaints at all about how my claim was handled.", "delight"),
        ("Ma réclamation est toujours sans réponse après un mois.", "irritant"),
        ("Nobody ever called me back about my refund.", "irritant"),
    ],
)
def test_negation_and_privation(shipped: Pipeline, text: str, polarity: str) -> None:
    found = mentions(shipped, text)
    assert found and all(m.polarity == polarity for m in found), [(m.stage, m.polarity) for m in found]


# 3. Plain favourable verdicts are delights; sarcasm is an irritant.
@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("La nouvelle interface de l'appli me plaît vraiment.", "delight"),
        ("Really like the new look of the website.", "delight"),
        ("Merci pour les quatre semaines d'attente pour un simple remboursement.", "irritant"),
        ("Oh great, my train is cancelled again.", "irritant"),
    ],
)
def test_verdicts_and_sarcasm(shipped: Pipeline, text: str, polarity: str) -> None:
    found = mentions(shipped, text)
    assert found and found[0].polarity == polarity, [(m.stage, m.polarity) for m in found]


# 4. Fragments that are not a moment never become mentions.
@pytest.mark.parametrize("text", ["De plus.", "Même si oui", "Numéro de commande : 88213", "Order ref: 55-1204"])
def test_fragments_are_not_mentions(shipped: Pipeline, text: str) -> None:
    assert mentions(shipped, text) == []


IMPLICIT = "known weak spot (model card): a moment told without any polar word reads as context to the moment head"


@pytest.mark.xfail(strict=True, reason=IMPLICIT)
def test_fragment_does_not_add_a_mention_to_a_review(shipped: Pipeline) -> None:
    text = "Le conseiller a réglé mon dossier en une journée. De plus. Date de commande : 02/05"
    found = mentions(shipped, text)
    assert len(found) == 1 and found[0].polarity == "delight", [(m.stage, m.start, m.end) for m in found]


# 5. Word sense: the pet is not the chat touchpoint; a photo is not the mobile app.
@pytest.mark.parametrize(
    ("text", "not_touchpoint"),
    [
        ("Mon chat a été opéré et la mutuelle animaux a tout remboursé en une semaine.", "chat"),
        ("The photos of the room on the listing were nothing like the real thing.", "mobile_app"),
    ],
)
def test_word_sense(shipped: Pipeline, text: str, not_touchpoint: str) -> None:
    found = labels(shipped, text)
    assert found and all(t != not_touchpoint for _, t, _ in found), found


# 6. Stages usage used to absorb: reaching support, onboarding, retention.
@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Impossible d'avoir quelqu'un au téléphone depuis trois jours.", "support"),
        ("Couldn't get through to anyone on the phone for a week.", "support"),
        ("Le technicien a installé la box en vingt minutes, tout a marché du premier coup.", "onboarding"),
        pytest.param(
            "Check-in at the airport took over an hour.",
            "onboarding",
            marks=pytest.mark.xfail(strict=True, reason=IMPLICIT),
        ),
        ("À l'échéance je résilie, ils ont encore augmenté la cotisation.", "retention"),
        pytest.param(
            "I'm leaving for another provider as soon as my contract ends.",
            "retention",
            marks=pytest.mark.xfail(strict=True, reason=IMPLICIT),
        ),
    ],
)
def test_stages_that_are_not_usage(shipped: Pipeline, text: str, stage: str) -> None:
    found = labels(shipped, text)
    assert found and found[0][0] == stage, found


# 7. One moment over several clauses is one mention; two moments in one sentence are two.
@pytest.mark.parametrize(
    "text",
    [
        "J'ai appelé quatre fois, personne ne décroche, et la dernière fois on m'a raccroché au nez.",
        "I called three times, waited forty minutes each time, and nobody ever picked up.",
    ],
)
def test_one_moment_told_over_several_clauses(shipped: Pipeline, text: str) -> None:
    found = labels(shipped, text)
    assert len(found) == 1 and found[0][0] == "support" and found[0][2] == "irritant", found


@pytest.mark.parametrize(
    "text",
    [
        "La livraison a été super rapide mais le service client ne répond jamais aux mails.",
        "Delivery was really quick but customer service never answers emails.",
    ],
)
def test_two_moments_in_one_sentence(shipped: Pipeline, text: str) -> None:
    found = labels(shipped, text)
    assert [(s, p) for s, _, p in found] == [("onboarding", "delight"), ("support", "irritant")], found


def test_fragments_do_not_add_mentions_to_a_review(shipped: Pipeline) -> None:
    text = "Le conseiller a été adorable et a réglé mon dossier en une journée. De plus. Date de commande : 02/05"
    found = mentions(shipped, text)
    assert len(found) == 1 and found[0].polarity == "delight", [(m.stage, m.start, m.end) for m in found]


def test_mentions_say_how_sure_they_are(shipped: Pipeline) -> None:
    found = mentions(shipped, "Le remboursement de mon sinistre a pris trois mois, c'est inadmissible.")
    assert found and all(0.0 < m.confidence <= 1.0 for m in found)
