"""`Pipeline.with_taxonomy`: the shared model seen through an edited taxonomy, without retraining."""

from __future__ import annotations

import dataclasses

from nlp.pipeline import Pipeline
from nlp.taxonomy import Label

TEXTS = ["Livraison rapide mais le SAV ne répond jamais.", "Impossible de joindre quelqu'un au téléphone."]


def test_the_same_taxonomy_gives_the_pipeline_itself(tiny: Pipeline) -> None:
    renamed = dataclasses.replace(
        tiny.taxonomy, stages=tuple(dataclasses.replace(s, names={"fr": s.id.upper()}) for s in tiny.taxonomy.stages)
    )
    assert tiny.with_taxonomy(tiny.taxonomy) is tiny
    assert tiny.with_taxonomy(renamed) is tiny  # names do not change what is predicted


def test_a_view_shares_the_model_predicts_new_labels_and_never_left_out_ones(tiny: Pipeline) -> None:
    taxonomy = tiny.taxonomy
    words = Label("words", {"en": "Words"}, "zzq qqz zzq", ("zzq qqz zzq zzq", "qqz zzq qqz"))
    edited = dataclasses.replace(
        taxonomy, touchpoints=tuple(t for t in taxonomy.touchpoints if t.id != "phone") + (words,)
    )
    view = tiny.with_taxonomy(edited)
    assert view is tiny.with_taxonomy(edited)  # cached per fingerprint
    assert view.embedder is tiny.embedder and view.stage_head is tiny.stage_head  # stages unchanged: same head
    assert view.touchpoint_head is not tiny.touchpoint_head
    assert view.touchpoint_head.weights is tiny.touchpoint_head.weights
    segments = view.analyze(["zzq qqz zzq zzq qqz", *TEXTS])
    assert segments[0].segments[0].touchpoint == "words"
    assert all(s.touchpoint != "phone" for a in segments for s in a.segments)
    # the shipped pipeline is untouched
    before = [a.to_dict() for a in tiny.analyze(TEXTS)]
    assert [a.to_dict() for a in tiny.analyze(TEXTS)] == before
    assert "words" not in tiny.taxonomy.ids("touchpoints")
