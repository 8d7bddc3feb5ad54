"""Split texts into clauses: sentences (spaCy) then contrastive clauses inside them.

Every segment keeps exact character offsets into its original text, so
`text[segment.start:segment.end] == segment.text` always holds.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from nlp.types import Segment

# Connectors that open a clause with a (usually) contrasting or additional evaluation. The split happens
# before the connector, which stays in the second clause: "rapide | mais le SAV ne répond pas".
_CONNECTORS = {
    "fr": [
        "mais", "cependant", "par contre", "en revanche", "toutefois", "néanmoins", "neanmoins", "pourtant",
        "sauf que", "alors que", "tandis que", "malheureusement", "hélas", "helas", "seul bémol", "seul bemol",
        "seul point négatif", "seul point negatif", "dommage que", "en plus", "de plus", "par ailleurs",
        "et en plus", "sinon", "ainsi que",
    ],
    "en": [
        "but", "however", "although", "though", "whereas", "except that", "unfortunately", "on the other hand",
        "the only downside", "only downside", "only complaint", "the only thing", "apart from that",
        "other than that", "also", "plus", "yet", "as well as",
    ],
}  # fmt: skip
# Run-on texts ("Contrat résilié le même jour Je ne recommande pas", "Staff were rude Breakfast was cold")
# start a new sentence with a capitalised function word or common review word right after a lower-case
# word; proper nouns are not in these lists.
_SENTENCE_STARTERS = {
    "fr": "Je J Il Elle Ils Elles On Nous Vous Le La Les L Un Une Des Ce Cet Cette Ces C Mon Ma Mes Notre Nos "
    "Votre Vos Très Tres Pas Aucun Aucune Rien Tout Toujours Jamais Bref Depuis Après Apres Avant Pour Enfin "
    "Mais Personnel Accueil Service Prix Tarif Tarifs Conseiller Conseillère Site Rapide Simple Bon Bonne "
    "Excellent Excellente Parfait Super Nul Nulle Assurance Contrat Sinistre Dossier Impossible Merci Satisfait "
    "Satisfaite Déçu Déçue Franchement Vraiment Sinon Ensuite Puis Quand Lors Suite Malgré Heureusement "
    "Malheureusement Cependant Seul Seule Dommage Attention Bravo Chambre Petit Propre Livraison Colis Commande "
    "Résiliation Souscription Devis Cotisation Application Appli",
    "en": "We My Our It They She He This That There The Was Were Is Are Very Staff Room Breakfast Would Not "
    "No Only Nothing Everything Location Bed Bathroom Hotel Service Nice Great Good Excellent Lovely Friendly "
    "Clean Comfortable Comfy Helpful Perfect Amazing Beautiful Big Small Large Spacious Quiet Noisy Poor Bad "
    "Terrible Awful Rude Dirty Expensive Cheap Overpriced Food Price Prices Value Parking Wifi Shower Reception "
    "Restaurant Bar Pool Lift Lifts Checkout Booking Everyone All Although So Then When Some Lots Lack Too "
    "Really Absolutely Definitely Will Had Have Got Did Loved Love Liked Enjoyed Easy Quick Slow Free Extra "
    "Plenty Beds Rooms Pillows Towels Decor Tea Coffee Unfortunately Overall Also Fantastic Superb Wonderful "
    "Brilliant Dated Old Tired Cold Hot Noise",
}
_MIN_WORDS = 2
_WORD = re.compile(r"\w+", re.UNICODE)


def _connector_pattern(words: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in words), key=len, reverse=True))
    # A connector counts after a separator (space, comma, dash) and before a word boundary.
    return re.compile(rf"(?<=[\s,;(\-–—])(?:{alternatives})\b", re.IGNORECASE)


_CONNECTOR_PATTERNS = {lang: _connector_pattern(words) for lang, words in _CONNECTORS.items()}
_HARD_BREAK = re.compile(r"\n+|(?<=[;!?…])\s+|\.{2,}\s*|…\s*|\s+[-–—]\s+|\s*/\s+|\s+vs\.?\s+")
# A comma separates two clauses when both sides are clause-sized ("Moules were excellent, lobster was
# salty"); shorter pieces ("Bref, ...", "rooms, bathrooms and halls") stay together.
_COMMA = re.compile(r"(?<=[\w)\"'»]),\s+|(?<=[a-zà-ÿ]),(?=[a-zà-ÿ])")
_COMMA_MIN_WORDS = 3
_STARTER_PATTERNS = {
    lang: re.compile(rf"(?<=[a-zà-ÿ\d])\s+(?=(?:{'|'.join(words.split())})\b)")
    for lang, words in _SENTENCE_STARTERS.items()
}
_SENTENCE_END = re.compile(r"[.!?…]")
_EDGE = " \t\r\n,;:.-–—()\"'«»"


class Segmenter:
    """Split texts into clause segments with exact offsets.

    Sentences come from spaCy: its French and English tokenizers with the rule-based sentencizer
    (measured as good as fr_core_news_sm's and en_core_web_sm's statistical `senter` on journey_dev
    and SemEval, at half the cost; `spacy_models` switches a language to an installed pipeline's
    senter); clauses come from contrastive connectors, hard breaks
    (newlines, `;`, dashes) and run-on sentence starts. Fragments shorter than
    `min_words` words are attached to their neighbour rather than analysed alone, except a
    capitalised one-word sentence ("Location.", "Parfait !"), which is a verdict of its own.
    """

    def __init__(
        self,
        min_words: int = _MIN_WORDS,
        languages: Sequence[str] = ("fr", "en"),
        spacy_models: dict[str, str] | None = None,
    ) -> None:
        self.min_words = min_words
        self.languages = tuple(languages)
        self.spacy_models = spacy_models or {}

    @cached_property
    def _pipelines(self) -> dict[str, Any]:
        import spacy

        pipelines: dict[str, Any] = {}
        for language in self.languages:
            if language in self.spacy_models:  # a trained pipeline's statistical sentence recogniser
                nlp = spacy.load(self.spacy_models[language], exclude=[p for p in _ALL_COMPONENTS if p != "senter"])
                nlp.enable_pipe("senter")
            else:
                nlp = spacy.blank(language)
                nlp.add_pipe("sentencizer")
            pipelines[language] = nlp
        fallback = spacy.blank("xx")
        fallback.add_pipe("sentencizer")
        pipelines["xx"] = fallback
        return pipelines

    def __call__(self, texts: Sequence[str], languages: Sequence[str]) -> list[list[Segment]]:
        """Return the segments of each text (an empty list for a blank text)."""
        by_language: dict[str, list[int]] = defaultdict(list)
        for index, language in enumerate(languages):
            by_language[language if language in self.languages else "xx"].append(index)
        result: list[list[Segment]] = [[] for _ in texts]
        for key, indices in by_language.items():
            # A text with no sentence-ending punctuation inside is one sentence: spaCy is not needed to say so.
            single = {i for i in indices if not _SENTENCE_END.search(texts[i].strip())}
            for index in single:
                result[index] = self.split(texts[index], [(0, len(texts[index]))], index, languages[index])
            indices = [i for i in indices if i not in single]
            nlp = self._pipelines[key]
            docs = nlp.pipe((texts[i] for i in indices), batch_size=256)
            for index, doc in zip(indices, docs, strict=True):
                sentences = [(s.start_char, s.end_char) for s in doc.sents]
                result[index] = self.split(texts[index], sentences, index, languages[index])
        return result

    def split(self, text: str, sentences: list[tuple[int, int]], doc_index: int, language: str) -> list[Segment]:
        """Split one text, given its sentence spans, into clause segments."""
        spans: list[tuple[int, int]] = []
        for start, end in sentences:
            for piece_start, piece_end in _split_on(text, start, end, _HARD_BREAK):
                spans.extend(self._clauses(text, piece_start, piece_end, language))
        spans = [s for s in (_trim(text, a, b) for a, b in spans) if s is not None]
        spans = self._attach_fragments(text, spans)
        starts = [start for start, _ in sentences]
        return [
            Segment(doc_index, text[a:b], a, b, language, max(bisect.bisect_right(starts, a) - 1, 0)) for a, b in spans
        ]

    def _clauses(self, text: str, start: int, end: int, language: str) -> Iterator[tuple[int, int]]:
        cuts: dict[int, int] = {}  # position -> words needed on each side
        for pattern in (_STARTER_PATTERNS.get(language), _CONNECTOR_PATTERNS.get(language)):
            if pattern is None:
                continue
            for match in pattern.finditer(text, start, end):
                cut = match.end() if match.group(0).isspace() else match.start()
                cuts[cut] = self.min_words
        for match in _COMMA.finditer(text, start, end):
            cuts.setdefault(match.end(), _COMMA_MIN_WORDS)
        positions = sorted(p for p in cuts if start < p < end)
        kept = [start]
        for index, cut in enumerate(positions):
            needed = cuts[cut]
            # a comma's right side runs to the next candidate cut; a connector's to the clause end
            right_end = positions[index + 1] if needed > self.min_words and index + 1 < len(positions) else end
            # Split only where both sides are real clauses, not "mais bon" or "but ok".
            if _words(text, kept[-1], cut) >= needed and _words(text, cut, right_end) >= needed:
                kept.append(cut)
        bounds = [*kept, end]
        yield from zip(bounds[:-1], bounds[1:], strict=False)

    def _attach_fragments(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        merged: list[tuple[int, int]] = []
        pending_start: int | None = None
        for start, end in spans:
            if pending_start is not None:
                start, pending_start = pending_start, None
            fragment = _words(text, start, end) < self.min_words and not _one_word_sentence(text, start, end)
            if fragment and len(spans) > 1:
                if merged:
                    merged[-1] = (merged[-1][0], end)
                else:
                    pending_start = start
                continue
            merged.append((start, end))
        if pending_start is not None:
            merged.append((pending_start, spans[-1][1]))
        return merged


_ALL_COMPONENTS = ["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner", "senter"]


def _one_word_sentence(text: str, start: int, end: int) -> bool:
    """A capitalised word closed by its own full stop ("Location.", "Parfait !") is a verdict, not a fragment."""
    word = text[start:end].rstrip(" .!?")
    return text[end - 1] in ".!?" and len(word) >= 4 and word[0].isupper() and word.isalpha()


def _words(text: str, start: int, end: int) -> int:
    return len(_WORD.findall(text, start, end))


def _split_on(text: str, start: int, end: int, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    position = start
    for match in pattern.finditer(text, start, end):
        yield position, match.start()
        position = match.end()
    yield position, end


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE and text[end - 1] not in ".)\"'»":
        end -= 1
    if not any(ch.isalnum() for ch in text[start:end]):
        return None
    return start, end
