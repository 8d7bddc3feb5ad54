"""A catch-all theme (most irritants on one stage x touchpoint) split by its topics into the subjects it holds."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.models import MentionRow, TopicModel
from tests.app.conftest import new_workspace, wait_analysed, wait_for

# Three subjects the shipped model files under usage x product (irritants), and a few irritants elsewhere.
SUBJECTS = {
    "battery": [
        "La batterie du téléphone ne tient même pas une journée.",
        "Batterie à plat en deux heures, produit décevant.",
        "The battery drains in a few hours, very disappointing product.",
        "Autonomie de la batterie catastrophique après un mois d'utilisation.",
        "La batterie chauffe et se décharge très vite.",
        "Battery life is terrible, it dies before lunch.",
        "Ma batterie gonfle déjà, produit de mauvaise qualité.",
        "The battery stopped charging after two weeks.",
        "Batterie qui se vide même éteint, nul.",
        "Battery percentage drops suddenly from 40 to 0.",
    ],
    "noise": [
        "Le moteur de l'aspirateur fait un bruit infernal.",
        "The vacuum is extremely noisy, the motor screams.",
        "Bruit de ferraille dans l'appareil dès la première utilisation.",
        "The fan makes a loud rattling noise.",
        "L'appareil est beaucoup trop bruyant, impossible la nuit.",
        "Loud buzzing noise from the motor after a week.",
        "Ce ventilateur fait un bruit insupportable.",
        "The machine is so loud I can't hear the TV.",
        "Un sifflement aigu sort de l'appareil en marche.",
        "Noisy motor, grinding sound every time.",
    ],
    "screen": [
        "L'écran du téléphone s'est fissuré tout seul au bout d'une semaine.",
        "Vitre de l'écran rayée dès le premier jour, produit de mauvaise qualité.",
        "The phone's screen cracked after a tiny drop, poor quality product.",
        "Écran du téléphone cassé sans choc, produit fragile.",
        "The glass screen of this phone shattered within a month.",
        "La vitre de l'écran est fendue, produit fragile.",
        "Screen glass cracked on its own, fragile device.",
        "Écran fissuré dans le coin, téléphone de piètre qualité.",
        "Cracked screen after two days, the glass is so thin.",
        "L'écran s'est brisé en le posant sur la table.",
    ],
}
KEYWORDS = {
    "battery": {"batterie", "battery", "autonomie", "charging", "décharge"},
    "noise": {"bruit", "noise", "noisy", "loud", "bruyant", "moteur", "motor", "sound"},
    "screen": {"écran", "screen", "vitre", "glass", "cracked", "fissuré"},
}
ELSEWHERE = [
    "Colis livré avec deux semaines de retard.",
    "Livraison en retard, aucun suivi du colis.",
    "Personne ne répond au service client au téléphone.",
    "Facture erronée, on m'a prélevé deux fois.",
]


def subject_of(words: str) -> str | None:
    found = {s for s, keys in KEYWORDS.items() if keys & set(words.lower().replace("·", " ").split())}
    return found.pop() if len(found) == 1 else None


def test_a_catch_all_theme_is_split_into_its_subjects(client: TestClient) -> None:
    auth = new_workspace(client)
    texts = [t for group in SUBJECTS.values() for t in group] + ELSEWHERE
    body = client.post("/v1/feedback", json={"items": [{"text": t} for t in texts]}, headers=auth).json()
    wait_analysed(client, auth, [i["id"] for i in body["items"]])
    before = client.get("/v1/irritants", headers=auth).json()["themes"][0]
    assert (before["stage"], before["touchpoint"]) == ("usage", "product") and before["sub_themes"] is None

    def topics() -> dict[str, Any] | None:
        found = client.get("/v1/topics", params={"polarity": "irritant"}, headers=auth).json()
        return found if found["status"] == "done" else None

    wait_for(topics, timeout=300, what="topics")
    themes = client.get("/v1/irritants", headers=auth).json()["themes"]
    theme = themes[0]
    assert (theme["stage"], theme["touchpoint"]) == ("usage", "product")
    assert theme["mentions"] >= 0.25 * sum(t["mentions"] for t in themes)  # a catch-all: most of the irritants
    subs = theme["sub_themes"]
    assert subs is not None and 2 <= len(subs) <= 5
    assert {subject_of(s["label"]) for s in subs} >= {"battery", "noise", "screen"}, [s["label"] for s in subs]
    counts = [s["mentions"] for s in subs]
    assert counts == sorted(counts, reverse=True) and sum(counts) <= theme["mentions"]
    for sub in subs:  # verbatims that represent their topic: one per piece of feedback, about its subject
        subject = subject_of(sub["label"])
        assert 1 <= len(sub["verbatims"]) <= 3
        assert len({v["feedback_id"] for v in sub["verbatims"]}) == len(sub["verbatims"])
        for verbatim in sub["verbatims"]:
            said = verbatim["mention"]["text"]
            assert verbatim["text"][verbatim["mention"]["start"] : verbatim["mention"]["end"]] == said
            if subject is not None:
                assert subject_of(said.replace(",", " ").replace(".", " ").replace("'", " ")) in (subject, None)

    # the counts add up: each sub-theme counts exactly the theme's mentions its topic was given
    workspace_id = client.get("/v1/workspace", headers=auth).json()["id"]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        m = MentionRow.__table__.c
        in_theme = set(
            session.scalars(
                select(m.id).where(
                    m.workspace_id == workspace_id, m.stage == "usage", m.touchpoint == "product",
                    m.polarity == "irritant",
                )
            )
        )  # fmt: skip
        result = session.scalars(
            select(TopicModel.result).where(
                TopicModel.workspace_id == workspace_id, TopicModel.slice == "stage=*|polarity=irritant"
            )
        ).one()
    coherent = {t["id"] for t in result["topics"] if not t["mixed"]}
    expected = Counter(t for i, t in result["assignments"].items() if int(i) in in_theme and t in coherent)
    assert {s["id"]: s["mentions"] for s in subs} == dict(expected.most_common(5))
