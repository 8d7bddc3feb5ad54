"""Language identification per text (py3langid), robust to very short texts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any

logger = logging.getLogger(__name__)

# Languages a review platform realistically sees; restricting py3langid to them avoids
# answers like Latin or Volapük for "Nul." or "lol". Texts in any other language still
# get analysed (the embedder is multilingual); they are labelled with the closest of these.
COMMON_LANGUAGES = (
    "fr", "en", "de", "es", "it", "pt", "nl", "pl", "ro", "sv", "da", "no", "fi", "cs", "sk", "hu", "el",
    "tr", "ru", "uk", "bg", "hr", "sl", "lt", "lv", "et", "ar", "he", "fa", "hi", "zh", "ja", "ko",
    "vi", "th", "id", "ms", "ca", "eu", "gl",
)  # fmt: skip


class LanguageIdentifier:
    """Identify the language of each text.

    Short or ambiguous texts ("Top !", "ok", "Nul") carry too little signal for a character
    model; when the best guess is below `min_confidence` the most probable of the
    `preferred` languages wins, and `default` is used when no letter is present at all.
    """

    def __init__(
        self,
        preferred: Sequence[str] = ("fr", "en"),
        languages: Sequence[str] = COMMON_LANGUAGES,
        min_confidence: float = 0.5,
        default: str = "fr",
        max_chars: int = 400,
    ) -> None:
        self.preferred = tuple(preferred)
        self.languages = tuple(dict.fromkeys([*preferred, *languages]))
        self.min_confidence = min_confidence
        self.default = default
        self.max_chars = max_chars

    @cached_property
    def _identifier(self) -> Any:
        from py3langid import langid

        identifier = langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)
        supported = set(identifier.nb_classes)
        identifier.set_languages([lang for lang in self.languages if lang in supported])
        return identifier

    def identify(self, text: str) -> str:
        """Return the ISO 639-1 code of `text`'s language."""
        if not any(ch.isalpha() for ch in text):
            return self.default
        # The first few hundred characters tell the language as well as the whole text, at a fraction of the cost.
        ranking = self._identifier.rank(text[: self.max_chars])
        best, confidence = ranking[0]
        if confidence >= self.min_confidence:
            return str(best)
        for language, _ in ranking:
            if language in self.preferred:
                return str(language)
        return str(best)

    def __call__(self, texts: Sequence[str]) -> list[str]:
        """Return one language code per text."""
        return [self.identify(text) for text in texts]
