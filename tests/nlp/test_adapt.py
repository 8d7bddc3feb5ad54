"""The workspace adapter on the real shipped model: a systematic error corrected 50 times is fixed on unseen cases,
other clauses keep their shipped labels, and the cross-validated model score shows it."""

from __future__ import annotations

import time

import pytest

from nlp.adapt import Adapter, ModelScore, Taught, cross_validate, fit, review_order
from nlp.pipeline import Pipeline
from nlp.types import Analysis
from tests.nlp.adapt_cases import CHECK_IN, UNRELATED

TRAIN, HELD_OUT = CHECK_IN[:50], CHECK_IN[50:]


def taught(texts: list[str], **labels: str) -> list[Taught]:
    return [Taught(text=t, start=0, end=len(t), labels=labels) for t in texts]


def labels(analyses: list[Analysis]) -> list[tuple[str, str, str]]:
    return [(m.stage, m.touchpoint, m.polarity) for a in analyses for m in a.mentions]


@pytest.fixture(scope="module")
def learnt(shipped: Pipeline) -> tuple[Adapter, ModelScore, float]:
    started = time.perf_counter()
    adapter, score = fit(shipped, taught(TRAIN, stage="usage"))
    return adapter, score, time.perf_counter() - started


def test_the_constructed_error_is_one_the_shipped_model_makes(shipped: Pipeline) -> None:
    stages = [s.stage for a in shipped.analyze(CHECK_IN) for s in a.segments]
    assert sum(s == "onboarding" for s in stages) / len(stages) >= 0.75  # measured: 59 of 76 clauses


def test_unseen_cases_of_a_corrected_error_are_fixed(
    shipped: Pipeline, learnt: tuple[Adapter, ModelScore, float]
) -> None:
    adapter, _, _ = learnt
    stages = [s.stage for a in adapter.apply(shipped).analyze(HELD_OUT) for s in a.segments]
    fixed = sum(s == "usage" for s in stages) / len(stages)
    print(f"held-out cases fixed: {fixed:.2%} of {len(stages)} clauses")
    assert fixed >= 0.7


def test_unrelated_feedback_keeps_its_shipped_labels(
    shipped: Pipeline, learnt: tuple[Adapter, ModelScore, float]
) -> None:
    adapter, _, _ = learnt
    before, after = shipped.analyze(UNRELATED), adapter.apply(shipped).analyze(UNRELATED)
    assert [len(a.mentions) for a in after] == [len(b.mentions) for b in before]
    kept = sum(x == y for x, y in zip(labels(after), labels(before), strict=True)) / len(labels(before))
    print(f"unrelated mentions unchanged: {kept:.2%} of {len(labels(before))}")
    # measured 55 of 58: the two clauses about luggage at the destination and "Welcome pack arrived with missing
    # documents" move to usage (docs/LEARNING.md)
    assert kept >= 0.93


def test_the_cross_validated_score_rises_above_the_shipped_one(learnt: tuple[Adapter, ModelScore, float]) -> None:
    _, score, seconds = learnt
    print(
        f"model score: adapted {score.adapted} vs shipped {score.shipped} on {score.items} items; fit {seconds:.2f} s"
    )
    assert score.items >= len(TRAIN)  # one item per corrected clause (a correction may span two)
    assert score.shipped is not None and score.shipped <= 0.2
    assert score.adapted is not None and score.adapted >= score.shipped + 0.5


def test_the_score_never_sees_the_items_it_scores(shipped: Pipeline) -> None:
    # each text corrected alone, to a label no other correction names: no fold can learn it from another text
    odd = taught(TRAIN[:5], stage="advocacy") + taught(TRAIN[5:10], stage="awareness")
    score = cross_validate(shipped, odd[:1] + odd[5:6], folds=2)
    assert score.adapted == score.shipped == 0.0


def test_a_corrected_polarity_is_learnt(shipped: Pipeline) -> None:
    # a team that tracks check-in as an operational fact: every check-in clause is neutral to them
    adapter = Adapter.learn(shipped, taught(TRAIN, polarity="neutral"))
    assert set(adapter.families) == {"polarity"}
    before = [s.polarity for a in shipped.analyze(HELD_OUT) for s in a.segments]
    after = [s.polarity for a in adapter.apply(shipped).analyze(HELD_OUT) for s in a.segments]
    print(f"held-out polarities neutral: {before.count('neutral')} of {len(before)} -> {after.count('neutral')}")
    assert after.count("neutral") >= before.count("neutral") + 0.5 * (len(before) - before.count("neutral"))


def test_an_adapter_round_trips_through_bytes(shipped: Pipeline, learnt: tuple[Adapter, ModelScore, float]) -> None:
    adapter, _, _ = learnt
    data = adapter.to_bytes()
    again = Adapter.from_bytes(data)
    assert len(data) < 64_000
    assert labels(again.apply(shipped).analyze(HELD_OUT)) == labels(adapter.apply(shipped).analyze(HELD_OUT))


def test_an_adapter_that_learnt_nothing_is_the_shipped_pipeline(shipped: Pipeline) -> None:
    confirmed = taught(UNRELATED[:3], stage="onboarding")[:1]  # "Colis reçu": onboarding already
    assert Adapter.learn(shipped, confirmed).apply(shipped) is shipped
    assert Adapter().apply(shipped) is shipped


def test_the_review_queue_puts_the_least_sure_first(shipped: Pipeline) -> None:
    analyses = shipped.analyze([*UNRELATED[:10], *HELD_OUT[:10]])
    order = review_order(analyses)
    confidences = [analyses[a].mentions[m].confidence for a, m in order]
    assert len(order) == sum(len(a.mentions) for a in analyses)
    assert confidences == sorted(confidences)
