"""The team's sentiment lexicons (`data/lexicons/`): explainable evidence and features for the sentiment head.

A segment's lexicon evidence is every polar term found in it (longest multi-word match first),
flipped by a negator up to three tokens before it and scaled by intensifiers and diminishers.
The evidence is what Parcours shows as "the words that decided it".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from nlp.types import Evidence, Segment

LEXICON_DIR = Path(__file__).resolve().parent.parent / "data" / "lexicons"
_TOKEN = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)
NEGATION_WINDOW = 4
_THANKS = frozenset({"thanks", "thank", "merci", "thx"})
FEATURES = 5


def _fold_char(ch: str) -> str:
    if ch == "’":
        return "'"
    base = [c for c in unicodedata.normalize("NFKD", ch.lower()) if not unicodedata.combining(c)]
    return base[0] if base else ch


class _FoldTable(dict[int, str]):
    """A str.translate table that folds each character the first time it is seen, then remembers it."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD = _FoldTable()


def _fold(text: str) -> str:
    """Lower-case and strip accents character by character (offsets kept): 'DÉÇU' and 'decu' match."""
    return text.translate(_FOLD)


# Light inflection folding, tried only when a term is not found as written: "excellents", "copieuses",
# "confortables" and "delays" find the lexicon's "excellent", "copieux", "confortable", "delay".
_SUFFIXES = {
    "fr": (("euses", "eu"), ("euse", "eu"), ("eux", "eu"), ("ives", "if"), ("ive", "if"), ("elles", "el"),
           ("elle", "el"), ("ennes", "en"), ("enne", "en"), ("aux", "al"), ("es", ""), ("s", ""), ("x", ""),
           ("e", "")),
    "en": (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("ss", "ss"), ("s", "")),
}  # fmt: skip


@lru_cache(maxsize=200_000)
def _stem(word: str, language: str) -> str:
    """Strip one plural or gender ending (at least 3 letters kept); other languages unchanged."""
    for suffix, replacement in _SUFFIXES.get(language, ()):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


@dataclass(frozen=True)
class _Language:
    entries: dict[tuple[str, ...], float]
    longest: int
    negators: frozenset[str]
    modifiers: dict[str, float]
    stemmed: dict[tuple[str, ...], float]
    pseudo_negations: frozenset[tuple[str, ...]] = frozenset()
    # first tokens of the entries as written and inflection-folded: most tokens start no entry at all
    starts: frozenset[str] = frozenset()
    stem_starts: frozenset[str] = frozenset()
    pseudo_sizes: tuple[int, ...] = ()
    # ironic praise: an opener ("merci pour", "oh great") at the start of a clause that goes on to name a bad
    # situation ("attente", "again", "cancelled") turns the praise around ("Bravo pour les 3 semaines d'attente")
    irony_openers: frozenset[tuple[str, ...]] = frozenset()
    irony_situations: frozenset[str] = frozenset()

    def irony_opener(self, words: list[str]) -> tuple[int, int] | None:
        """The token span of ironic praise: an opener in the first four tokens followed by a bad situation.

        A situation word next to a thank-you ("thanks again", "encore merci") does not count.
        """
        for start in range(min(4, len(words))):
            for opener in self.irony_openers:
                end = start + len(opener)
                if tuple(words[start:end]) != opener:
                    continue
                for j in range(end, len(words)):
                    near = {words[j - 1], words[j + 1] if j + 1 < len(words) else ""}
                    if words[j] in self.irony_situations and not near & _THANKS:
                        return start, end
        return None

    def pseudo_negation_at(self, words: list[str], i: int) -> int:
        """Return the length of a pseudo-negation ("non seulement", "no doubt") starting at token i, else 0."""
        for size in self.pseudo_sizes:
            if tuple(words[i : i + size]) in self.pseudo_negations:
                return size
        return 0

    def match_at(self, words: list[str], stems: list[str], i: int) -> tuple[int, float] | None:
        """Return (length, weight) of the longest entry at token i, as written or else inflection-folded."""
        as_written, folded = words[i] in self.starts, stems[i] in self.stem_starts
        if not (as_written or folded):
            return None
        for size in range(min(self.longest, len(words) - i), 0, -1):
            weight = self.entries.get(tuple(words[i : i + size])) if as_written else None
            if weight is None and folded:
                weight = self.stemmed.get(tuple(stems[i : i + size]))
            if weight is not None:
                return size, weight
        return None


class SentimentLexicon:
    """Polar terms per language with negation and intensity rules."""

    def __init__(self, languages: dict[str, _Language]) -> None:
        self.languages = languages

    @classmethod
    def load(cls, directory: Path = LEXICON_DIR) -> SentimentLexicon:
        """Read `sentiment_<lang>.tsv` files and `modifiers.yaml` from `directory`."""
        modifiers = yaml.safe_load((directory / "modifiers.yaml").read_text(encoding="utf-8")) or {}
        languages = {}
        for path in sorted(directory.glob("sentiment_*.tsv")):
            language = path.stem.split("_", 1)[1]
            entries: dict[tuple[str, ...], float] = {}
            for line in path.read_text(encoding="utf-8").splitlines()[1:]:
                term, _, score = line.partition("\t")
                if term.strip() and score.strip():
                    entries[tuple(_TOKEN.findall(_fold(term.strip())))] = float(score)
            rules = modifiers.get(language, {})
            scale = {
                _fold(k): float(v) for k, v in {**rules.get("intensifiers", {}), **rules.get("diminishers", {})}.items()
            }
            negators = frozenset(_fold(n) for n in rules.get("negators", []))
            pseudo = frozenset(tuple(_TOKEN.findall(_fold(p))) for p in rules.get("pseudo_negations", []))
            openers = frozenset(tuple(_TOKEN.findall(_fold(p))) for p in rules.get("irony_openers", []))
            situations = frozenset(_fold(w) for w in rules.get("irony_situations", []))
            stemmed: dict[tuple[str, ...], float] = {}
            for key, value in entries.items():  # a folded form shared by opposite terms is left out
                folded = tuple(_stem(w, language) for w in key)
                stemmed[folded] = value if stemmed.get(folded, value) * value > 0 else 0.0
            stemmed = {k: v for k, v in stemmed.items() if v}
            languages[language] = _Language(
                entries,
                max(map(len, entries), default=1),
                negators,
                scale,
                stemmed,
                pseudo,
                frozenset(k[0] for k in entries if k),
                frozenset(k[0] for k in stemmed if k),
                tuple(sorted({len(p) for p in pseudo}, reverse=True)),
                openers,
                situations,
            )
        return cls(languages)

    def evidence(self, text: str, language: str) -> list[Evidence]:
        """Return the polar terms of `text` with their signed, negation-aware weights."""
        rules = self.languages.get(language)
        if rules is None:
            return [e for lang in self.languages for e in self.evidence(text, lang)] if self.languages else []
        folded = _fold(text)
        tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(folded)]
        words = [t for t, _, _ in tokens]
        stems = [_stem(w, language) for w in words]
        found: list[Evidence] = []
        scope_start = 0  # negation and modifiers never reach across punctuation or an earlier match
        i = 0
        while i < len(tokens):
            if not words[i][0].isalnum() and words[i] not in rules.entries and (words[i],) not in rules.entries:
                scope_start = i + 1
            pseudo = rules.pseudo_negation_at(words, i)
            if pseudo:  # "non seulement des incapables": the "non" negates nothing after it
                i += pseudo
                scope_start = i
                continue
            match = rules.match_at(words, stems, i)
            if match is None:
                i += 1
                continue
            size, weight = match
            window = words[max(scope_start, i - NEGATION_WINDOW) : i]
            entry = words[i : i + size]
            already_negated = any(w in rules.negators or w.endswith("n't") for w in entry)
            if not already_negated and any(w in rules.negators or w.endswith("n't") for w in window):
                weight = -weight * 0.8
            modifiers = [*window[-2:], " ".join(window[-2:])] if len(window) >= 2 else window[-2:]
            for modifier in modifiers:
                weight *= rules.modifiers.get(modifier, 1.0)
            start, end = tokens[i][1], tokens[i + size - 1][2]
            found.append(Evidence(text[start:end], start, end, round(max(-1.0, min(1.0, weight)), 3)))
            i += size
            scope_start = i
        opener = rules.irony_opener(words) if found and rules.irony_openers else None
        if opener is not None:
            start, end = tokens[opener[0]][1], tokens[opener[1] - 1][2]
            praise_elsewhere = any(e.weight >= 0.4 and (e.end <= start or e.start >= end) for e in found)
            if not praise_elsewhere:  # the praise is ironic: every polar term of the clause counts against it
                found = [Evidence(e.text, e.start, e.end, -abs(e.weight)) for e in found]
        return found

    def features(self, segments: Sequence[Segment]) -> tuple[np.ndarray, list[list[Evidence]]]:
        """Return per segment: [positive mass, negative mass, net tanh, any hit, hit density] and the evidence."""
        rows = np.zeros((len(segments), FEATURES), dtype=np.float32)
        evidence = []
        for row, segment in enumerate(segments):
            hits = self.evidence(segment.text, segment.language)
            evidence.append(hits)
            positive = sum(h.weight for h in hits if h.weight > 0)
            negative = -sum(h.weight for h in hits if h.weight < 0)
            words = max(len(segment.text.split()), 1)
            rows[row] = [
                np.tanh(positive),
                np.tanh(negative),
                np.tanh(positive - negative),
                float(bool(hits)),
                min(len(hits) / words, 1.0),
            ]
        return rows, evidence
