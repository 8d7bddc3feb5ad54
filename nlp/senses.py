"""Word senses that rule a touchpoint out: "mon chat" is the pet, not the live chat (`data/lexicons/senses.yaml`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from nlp.heads import LabelHead
from nlp.lexicon import LEXICON_DIR
from nlp.types import Scored, Segment


@dataclass(frozen=True)
class WordSenses:
    """Per touchpoint, the patterns of a clause that cannot carry it (another sense of the word)."""

    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = LEXICON_DIR / "senses.yaml") -> WordSenses:
        """Read the patterns; a missing file means no exclusions."""
        if not path.exists():
            return cls()
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            {label: re.compile("|".join(f"(?:{p})" for p in items), re.IGNORECASE) for label, items in raw.items()}
        )

    def excluded(self, text: str) -> set[str]:
        """The touchpoints this clause's own words rule out."""
        return {label for label, pattern in self.patterns.items() if pattern.search(text)}

    def correct(
        self, segments: Sequence[Segment], head: LabelHead, x: np.ndarray, probabilities: np.ndarray
    ) -> list[Scored]:
        """The head's predictions (from its `probabilities` for `x`), with a ruled-out touchpoint replaced by the
        head's best remaining label."""
        predicted = head.predict(x, probabilities=probabilities)
        rows = [i for i, (s, p) in enumerate(zip(segments, predicted, strict=True)) if p.label in self.excluded(s.text)]
        for row in rows:
            ruled_out = self.excluded(segments[row].text)
            kept = probabilities[row] * np.array([c not in ruled_out for c in head.classes], dtype=np.float64)
            best = int(kept.argmax())
            predicted[row] = Scored(head.classes[best], float(kept[best] / max(kept.sum(), 1e-12)))
        return predicted
