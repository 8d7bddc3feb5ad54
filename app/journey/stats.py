"""The statistics behind the journey curve: means with confidence intervals, shares, period-over-period tests."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats as scipy_stats

from app.models import MEASURES

CONFIDENCE = 0.95
SIGNIFICANCE = 0.05


@dataclass
class MentionStats:
    """Sums over a set of mentions: enough for mean, variance, shares and emotions (additive, as in the rollup).

    Its numeric fields are the rollup's measures (`MEASURES`), named alike in the rollup table and in queries.
    """

    mentions: int = 0
    feedback: int = 0
    sentiment_sum: float = 0.0
    sentiment_sq: float = 0.0
    irritant: int = 0
    delight: int = 0
    neutral: int = 0
    emotions: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_sums(cls, sums: Mapping[str, Any]) -> MentionStats:
        """Build from a query row whose columns are labelled with the measures' names (None counts as 0)."""
        return cls(**{name: kind(sums[name] or 0) for name, kind in MEASURES.items()})

    def add(self, other: MentionStats) -> None:
        """Add another set's sums (feedback counts add up too: callers keep the sets disjoint)."""
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.emotions.update(other.emotions)

    @property
    def mean(self) -> float | None:
        return self.sentiment_sum / self.mentions if self.mentions else None

    @property
    def variance(self) -> float | None:
        """The sample variance of the sentiment (None under two mentions)."""
        if self.mentions < 2:
            return None
        mean = self.sentiment_sum / self.mentions
        return max(self.sentiment_sq - self.mentions * mean * mean, 0.0) / (self.mentions - 1)

    def interval(self) -> tuple[float, float] | tuple[None, None]:
        """The 95% Student-t confidence interval of the mean, within [-1, 1] (where the mean must lie)."""
        if self.variance is None or self.mean is None:
            return None, None
        half = scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, self.mentions - 1) * math.sqrt(self.variance / self.mentions)
        return max(self.mean - half, -1.0), min(self.mean + half, 1.0)

    def share(self, polarity: str) -> float | None:
        return getattr(self, polarity) / self.mentions if self.mentions else None

    def summary(self) -> dict[str, Any]:
        """The curve's figures for this set of mentions."""
        low, high = self.interval()
        irritant, delight, neutral = (self.share(p) for p in ("irritant", "delight", "neutral"))
        emotions = [(e, n) for e, n in self.emotions.most_common() if e != "none" and n > 0]
        return {
            "mentions": self.mentions,
            "feedback": self.feedback,
            "mean_sentiment": _round(self.mean),
            "ci_low": _round(low),
            "ci_high": _round(high),
            "irritant_share": _round(irritant),
            "delight_share": _round(delight),
            "neutral_share": _round(neutral),
            "net_sentiment": round(100 * (delight - irritant), 1)
            if delight is not None and irritant is not None
            else None,
            "emotions": [{"emotion": e, "share": round(n / self.mentions, 4)} for e, n in emotions[:3]],
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def welch_p(a: MentionStats, b: MentionStats) -> float | None:
    """Two-sided p-value of Welch's t-test that two sets have the same mean sentiment."""
    if a.variance is None or b.variance is None or a.mean is None or b.mean is None:
        return None
    va, vb = a.variance / a.mentions, b.variance / b.mentions
    if va + vb == 0:
        return 1.0 if a.mean == b.mean else 0.0
    t = (a.mean - b.mean) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va**2 / (a.mentions - 1)) + (vb**2 / (b.mentions - 1)))
    return float(2 * scipy_stats.t.sf(abs(t), df))


def proportion_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float | None:
    """Two-sided p-value of the two-proportion z-test."""
    if not n_a or not n_b:
        return None
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0
    z = (hits_a / n_a - hits_b / n_b) / se
    return float(2 * scipy_stats.norm.sf(abs(z)))


def fisher_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float | None:
    """Two-sided p-value of Fisher's exact test that two sets have the same share of hits."""
    if not n_a or not n_b:
        return None
    table = [[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]]
    return float(scipy_stats.fisher_exact(table).pvalue)


def count_p(count: int, weekly: list[int]) -> tuple[float, str]:
    """Two-sided p-value that `count` comes from the distribution of the `weekly` baseline counts, and its model.

    Poisson with the baseline mean (half a count added, so that a value never seen before is not an infinite
    surprise); negative binomial with the baseline's mean and variance when the weeks vary more than Poisson.
    """
    mean = (sum(weekly) + 0.5) / len(weekly)
    variance = statistics.variance(weekly) if len(weekly) > 1 else mean
    if variance > mean:
        r = mean * mean / (variance - mean)
        model: Any = scipy_stats.nbinom(r, r / (r + mean))
        name = "negative_binomial"
    else:
        model, name = scipy_stats.poisson(mean), "poisson"
    tail = model.sf(count - 1) if count >= mean else model.cdf(count)
    return min(1.0, 2 * float(tail)), name


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given: q < alpha controls the FDR at alpha."""
    n = len(p_values)
    order = sorted(range(n), key=lambda i: p_values[i])
    adjusted = [1.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * n / rank)
        adjusted[i] = running
    return adjusted


def z_of(p_value: float) -> float:
    """The |z| of a normal two-sided test with this p-value (capped at 40 for p = 0)."""
    return min(float(scipy_stats.norm.isf(max(p_value, 1e-300) / 2)), 40.0)


def change(current: MentionStats, previous: MentionStats) -> dict[str, Any]:
    """How a stage moved against the previous period (now minus before), and whether the move is significant."""
    now, before = current.summary(), previous.summary()

    def delta(key: str, scale: float = 1.0, digits: int = 4) -> float | None:
        if now[key] is None or before[key] is None:
            return None
        return round(scale * (now[key] - before[key]), digits)

    p_mean = welch_p(current, previous)
    p_irritant = proportion_p(current.irritant, current.mentions, previous.irritant, previous.mentions)
    return {
        "previous_mentions": previous.mentions,
        "previous_mean_sentiment": before["mean_sentiment"],
        "mentions_delta": current.mentions - previous.mentions,
        "mean_sentiment_delta": delta("mean_sentiment"),
        "irritant_share_delta_pts": delta("irritant_share", 100.0, 2),
        "delight_share_delta_pts": delta("delight_share", 100.0, 2),
        "net_sentiment_delta": delta("net_sentiment", 1.0, 1),
        "p_value": None if p_mean is None else round(p_mean, 4),
        "irritant_share_p_value": None if p_irritant is None else round(p_irritant, 4),
        "significant": p_mean is not None and p_mean < SIGNIFICANCE,
    }


def nps(promoters: int, detractors: int, answers: int) -> float | None:
    """Net Promoter Score in [-100, 100]: % of 9-10 answers minus % of 0-6 answers."""
    return round(100 * (promoters - detractors) / answers, 1) if answers else None
