"""Topics with BERTopic on the shipped multilingual embedder: themes found, ids stable when recomputed."""

from __future__ import annotations

import dataclasses

from nlp.pipeline import Pipeline
from nlp.topics import MIN_COVERAGE, TopicModeller, label_coverage, topic_from_dict

THEMES = {
    "delivery": [
        "Colis livré avec deux semaines de retard",
        "Livraison en retard, aucun suivi du colis",
        "Le livreur n'est jamais passé",
        "Package arrived a week late",
        "Delivery was late again, parcel damaged",
        "Mon colis est arrivé abîmé",
        "Toujours pas reçu ma commande, colis introuvable",
        "The courier left my parcel in the rain",
        "Retard de livraison inacceptable",
        "Delivery took forever, parcel lost",
        "Colis perdu par le transporteur",
        "Where is my parcel, ordered three weeks ago",
    ],
    "app": [
        "L'application plante à chaque ouverture",
        "Appli inutilisable depuis la mise à jour",
        "The app crashes every time I log in",
        "App keeps freezing on the payment screen",
        "Impossible de me connecter à l'appli",
        "The mobile app logs me out constantly",
        "Bug de l'application sur Android",
        "L'appli ne charge plus mes relevés",
        "App update broke everything",
        "Application très lente et buguée",
        "Can't open the app since yesterday",
        "L'appli plante encore",
    ],
    "billing": [
        "Facture erronée, on m'a prélevé deux fois",
        "Double prélèvement ce mois-ci",
        "I was charged twice on my bill",
        "Frais cachés sur ma facture",
        "My invoice shows fees I never agreed to",
        "Prélèvement non autorisé sur ma facture",
        "Overcharged again this month, wrong bill",
        "Montant de la facture incompréhensible",
        "Billing error on my invoice, still waiting",
        "Ils ont augmenté ma facture sans prévenir",
        "Wrong amount on my bill",
        "Facture deux fois plus chère que prévu",
    ],
}
KEYWORDS = {"delivery": {"colis", "livraison", "parcel", "delivery", "retard"},
            "app": {"app", "appli", "application", "plante"},
            "billing": {"facture", "bill", "prélèvement", "invoice", "frais"}}  # fmt: skip


def theme_of(words: list[str]) -> str | None:
    hits = {theme: len(set(words) & keys) for theme, keys in KEYWORDS.items()}
    best = max(hits, key=lambda t: hits[t])
    return best if hits[best] else None


def test_three_clear_themes_give_their_topics_across_languages(shipped: Pipeline) -> None:
    texts = [t for group in THEMES.values() for t in group]
    result = TopicModeller(shipped.embedder, min_topic_size=4).fit(texts)
    found = {theme_of(t.words) for t in result.topics}
    assert {"delivery", "app", "billing"} <= found
    assert len(result.assignments) == len(texts)
    for topic in result.topics:
        assert not {"le", "la", "de", "the", "and", "très", "my"} & set(topic.words)  # stop words removed
        members = [i for i, a in enumerate(result.assignments) if a == topic.id]
        assert len(members) == topic.size and set(topic.representatives) <= set(members)
    assert sum(1 for a in result.assignments if a >= 0) >= 0.7 * len(texts)


def test_labels_hold_no_numbers_or_fragments(shipped: Pipeline) -> None:
    noisy = [f"{t}, 2eme fois, 3 jours, ok" for t in THEMES["delivery"]] + [f"{t} x2 le 12/03" for t in THEMES["app"]]
    result = TopicModeller(shipped.embedder, min_topic_size=4).fit(noisy + THEMES["billing"])
    assert result.topics
    for topic in result.topics:
        assert all(len(w) >= 3 and w.isalpha() for w in topic.words), topic.words


def test_recomputing_on_more_data_keeps_the_topic_ids(shipped: Pipeline) -> None:
    modeller = TopicModeller(shipped.embedder, min_topic_size=4)
    texts = [t for group in THEMES.values() for t in group]
    first = modeller.fit(texts)
    more = texts + [f"{t} !" for t in THEMES["app"][:6]] + [f"Encore : {t.lower()}" for t in THEMES["delivery"][:6]]
    second = modeller.fit(more, previous=first.topics)
    first_ids = {theme_of(t.words): t.id for t in first.topics}
    second_ids = {theme_of(t.words): t.id for t in second.topics}
    for theme in ("delivery", "app", "billing"):
        if theme in first_ids and theme in second_ids:
            assert second_ids[theme] == first_ids[theme], (theme, first.topics, second.topics)
    assert len(set(first_ids) & set(second_ids)) >= 2


def test_too_few_texts_give_no_topics(shipped: Pipeline) -> None:
    result = TopicModeller(shipped.embedder).fit(["Colis en retard", "Appli plantée"])
    assert result.topics == [] and result.assignments == [-1, -1]


# Short generic verdicts: the embedder finds them alike, but no word is shared by more than two of them.
JUNK = [
    "Parfait.", "Voleurs !", "2eme fois.", "Bof.", "Nul.", "Top.", "Merci.", "Arnaque", "Super", "Moyen",
    "Jamais plus", "Génial", "Scandaleux", "Ok sans plus", "Rien à dire", "Horrible",
]  # fmt: skip


def test_a_junk_drawer_topic_is_labelled_mixed_and_clear_topics_are_not(shipped: Pipeline) -> None:
    texts = [t for group in THEMES.values() for t in group] + JUNK
    result = TopicModeller(shipped.embedder, min_topic_size=4).fit(texts)
    junk = set(range(len(texts) - len(JUNK), len(texts)))
    mixed = [t for t in result.topics if t.mixed]
    assert len(mixed) == 1, [(t.words, t.coverage) for t in result.topics]
    members = {i for i, a in enumerate(result.assignments) if a == mixed[0].id}
    assert len(members & junk) >= 0.8 * len(members)  # the drawer holds the generic verdicts
    assert mixed[0].label == "Mixed" and mixed[0].label_in("fr") == "Divers" and mixed[0].coverage < MIN_COVERAGE
    clear = {theme_of(t.words) for t in result.topics if not t.mixed}
    assert {"delivery", "app", "billing"} <= clear
    for topic in result.topics:
        if not topic.mixed:
            assert topic.coverage >= MIN_COVERAGE and topic.label == " · ".join(topic.words[:3])
    assert topic_from_dict(dataclasses.asdict(mixed[0])).mixed  # stored and read back, still mixed


def test_label_coverage_counts_documents_holding_a_top_word() -> None:
    documents = [["colis", "retard"], ["livraison"], ["parfait"], ["merci", "top"]]
    assert label_coverage(["colis", "livraison", "parcel"], documents) == 0.5
    assert label_coverage(["a", "b", "c", "d", "e", "merci"], documents) == 0.0  # only the top 5 words count
    assert label_coverage(["colis"], []) == 0.0
