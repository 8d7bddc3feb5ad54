"""Find and mask personal data (emails, phone numbers, IBANs, card numbers) in feedback text before storage.

People write them in many ways: "jean [at] gmail [dot] com", "06/12/34/56/78", "06 1234 5678",
"(+33) 6 12 34 56 78", IBANs in dashed groups, card numbers in dotted groups.

Patterns find candidates; checksums (ISO 13616 mod-97 for IBANs, Luhn for cards) and shape rules decide,
so dates, amounts, postcodes and order numbers are left alone. Masking replaces each match and keeps the
rest of the text exactly as it was:

    >>> PiiMasker().mask("Écrivez à jean.dupont@example.fr ou au 06 12 34 56 78.")
    'Écrivez à [email] ou au [phone].'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

PII_KINDS: tuple[str, ...] = ("email", "phone", "iban", "card")


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data: its kind (one of PII_KINDS) and its character offsets into the text."""

    kind: str
    start: int
    end: int


# A detector yields (start, end, is_pii). is_pii False claims text without masking it: an IBAN-shaped
# string that fails mod-97 is a mistyped IBAN, and the digits inside it are not a card or a phone.
_Span = tuple[int, int, bool]
_Detector = Callable[[str], Iterator[_Span]]

# Separators people put inside numbers; copy-pasted French text often has (narrow) no-break spaces.
_SPACE = "[ \u00a0\u202f]"
_IBAN_SEP = "[ \u00a0\u202f-]"
_CARD_SEP = "[ .\u00a0\u202f-]"
_PHONE_SEP = "[ .\u00a0\u202f-]"
_FR_PHONE_SEP = "[ ./\u00a0\u202f-]"  # "06/12/34/56/78": a date has a year, so never five slashed pairs
_SEPARATORS = frozenset(" .,/-\u00a0\u202f")

_ANY_DIGIT = re.compile(r"\d")

# Unicode word characters in the local part and labels ("andré@exemple.fr"); a dotted domain ending in
# letters, so "5@7" and "@HexaAssur" handles never match; dots only between characters, so an ellipsis
# before the address stays text ("merci...jean@exemple.fr"). Matches start only where a run of address
# characters starts and possessive quantifiers never backtrack: a long word or "a-a-a-..." costs linear time.
_EMAIL = re.compile(
    r"(?<![\w%+-])(?<![\w%+-]\.)[\w%+-]++(?:\.[\w%+-]++)*+@(?:[^\W_]++(?:-++[^\W_]++)*+\.)+[^\W\d_]{2,}(?![\w-])"
)
# Addresses written to dodge robots: "jean [at] gmail [dot] com", "jean(at)gmail.com", "jean@gmail(dot)com".
# The "at" must be bracketed ("at" alone is an English word); a dot may be written plainly or bracketed.
_AT_WORD = r"\s*+[\[(]\s*+(?:at|arobase)\s*+[\])]\s*+"
_DOT_WORD = r"\s*+[\[(]\s*+(?:dot|point)\s*+[\])]\s*+"
_OBFUSCATION = re.compile(r"[\[(]\s*+(?:at|arobase)\s*+[\])]|[\[(]\s*+(?:dot|point)\s*+[\])]", re.IGNORECASE)
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w%+-])(?<![\w%+-]\.)[\w%+-]++(?:\.[\w%+-]++)*+(?:{_AT_WORD}|@)"
    rf"(?:[^\W_]++(?:-++[^\W_]++)*+(?:\.|{_DOT_WORD}))+[^\W\d_]{{2,}}(?![\w-])",
    re.IGNORECASE,
)

# Compact, or in groups of 4 with a shorter last group. A grouped candidate may run on into a following
# word or number ("... 7034 pour"), so validation tries it shortened group by group.
_IBAN = re.compile(
    rf"\b[A-Z]{{2}}[0-9]{{2}}(?:[A-Z0-9]{{11,30}}|(?:{_IBAN_SEP}[A-Z0-9]{{4}}){{2,7}}(?:{_IBAN_SEP}[A-Z0-9]{{1,4}})?)\b",
    re.IGNORECASE | re.ASCII,
)
_IBAN_GROUP = re.compile(r"[A-Za-z0-9]+")

# Number patterns start with a plain character, not a lookbehind, so that the regex engine can skip to
# candidates: what comes before a candidate is checked by _glued, which is 2 to 8 times faster on
# texts full of dates and amounts.
# A run of at least 13 digits, single separators allowed; which part of it is a card is decided by layout.
_DIGIT_RUN = re.compile(rf"[0-9](?:{_CARD_SEP}?[0-9]){{12,}}", re.ASCII)
_DIGIT_GROUP = re.compile(r"[0-9]+")
# How cards are printed: 4-4-4-4 (and 13 to 19 digit variants of it), Amex 4-6-5, Diners 4-6-4.
_CARD_LAYOUTS = frozenset(
    {(4, 4, 4, n) for n in range(1, 5)} | {(4, 4, 4, 4, n) for n in range(1, 4)} | {(4, 6, 5), (4, 6, 4)}
)

# 0X then four pairs, one separator throughout; a following pair means a longer reference number, a lone
# digit does not ("au 06 12 34 56 78 2 fois").
_FR_PHONE = re.compile(
    rf"0[1-9](?P<sep>{_FR_PHONE_SEP}?)[0-9]{{2}}(?:(?P=sep)[0-9]{{2}}){{3}}(?![0-9])(?!(?P=sep)[0-9]{{2}})",
    re.ASCII,
)
# 0X then two groups of four ("06 1234 5678"), with a separator: without one it is the pattern above.
_FR_PHONE_FOURS = re.compile(
    rf"0[1-9](?P<sep>{_PHONE_SEP})[0-9]{{4}}(?P=sep)[0-9]{{4}}(?![0-9])(?!(?P=sep)[0-9])",
    re.ASCII,
)
# "+" or "00", the country code, then digit groups with optional parenthesised groups: "+1 (415) 555-0132",
# "+33 (0)6 12 34 56 78". How many digits are kept is decided by _international_phone_end.
# The country code may be bracketed: "(+33) 6 12 34 56 78".
_INTL_PHONE = re.compile(
    rf"(?:\+|00|\(\+(?=[1-9][0-9]{{0,2}}\))|\(00(?=[1-9][0-9]{{0,2}}\)))[1-9][0-9]*\)?(?:{_PHONE_SEP}?\([0-9]{{1,4}}\){_PHONE_SEP}?[0-9]+|{_PHONE_SEP}[0-9]+)*",
    re.ASCII,
)
_PHONE_GROUP = re.compile(r"\([0-9]+\)|[0-9]+")
# "+12 345 678 €" is a change in an amount, not a phone number.
_AMOUNT_UNIT = re.compile(r"\s?(?:[€$£%]|k€|eur(?:os?)?\b|usd\b|dollars?\b)", re.IGNORECASE)


def _iban_valid(compact: str) -> bool:
    """Return whether an IBAN without spaces passes the ISO 13616 mod-97 check."""
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _luhn_valid(digits: str) -> bool:
    """Return whether a digit string passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _glued(text: str, start: int) -> bool:
    """Return whether a number at `start` continues a word, a "+" or a number before it ("1,4111...", "1234 06...")."""
    if start == 0:
        return False
    before = text[start - 1]
    if before.isalnum() or before in "_+":
        return True
    return before in _SEPARATORS and start > 1 and text[start - 2].isdigit()


def _find_ibans(text: str) -> Iterator[_Span]:
    for candidate in _IBAN.finditer(text):
        groups = list(_IBAN_GROUP.finditer(candidate.group()))
        start = candidate.start()
        # Longest first: the regex may have taken a trailing word or number as a last group.
        for count in range(len(groups), 0, -1):
            compact = "".join(group.group() for group in groups[:count])
            if _iban_valid(compact):
                yield start, start + groups[count - 1].end(), True
                break
        else:
            yield candidate.start(), candidate.end(), False


def _card_layout(lengths: tuple[int, ...]) -> bool:
    """Return whether digit groups of these lengths are a card number as people write one."""
    return 13 <= lengths[0] <= 19 if len(lengths) == 1 else lengths in _CARD_LAYOUTS


def _find_cards(text: str) -> Iterator[_Span]:
    for run in _DIGIT_RUN.finditer(text):
        start, value = run.start(), run.group()
        if _glued(text, start):
            continue
        groups = list(_DIGIT_GROUP.finditer(value))
        # Longest first: an expiry date or a CVV may follow the number ("4111 1111 1111 1111 12/27").
        # No layout has more than 5 groups.
        for count in range(min(len(groups), 5), 0, -1):
            kept = groups[:count]
            separators = {value[a.end() : b.start()] for a, b in zip(kept, kept[1:], strict=False)}
            if len(separators) > 1 or not _card_layout(tuple(len(group.group()) for group in kept)):
                continue
            digits = "".join(group.group() for group in kept)
            # No card network number starts with 0, and "0000 0000 0000 0000" passes Luhn.
            if digits[0] != "0" and _luhn_valid(digits):
                yield start, start + kept[-1].end(), True
                break


def _find_emails(text: str) -> Iterator[_Span]:
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield match.start(), match.end(), True
    if _OBFUSCATION.search(text) is not None:
        for match in _OBFUSCATED_EMAIL.finditer(text):
            yield match.start(), match.end(), True


def _is_amount(groups: list[re.Match[str]]) -> bool:
    """Return whether digit groups read as a thousands-grouped amount ("+15 000 000 de clients")."""
    tail = [group.group() for group in groups[1:]]
    return len(tail) > 1 and all(len(group) == 3 and group.isdigit() for group in tail) and "000" in tail


def _international_phone_end(text: str, match: re.Match[str]) -> int | None:
    """Return where the phone number in an international candidate ends, or None when it is not one."""
    opening = text[match.start()] == "("
    plus = text[match.start() + opening] == "+"
    prefix = opening + (1 if plus else 2)
    body = match.group()[prefix:]
    groups = list(_PHONE_GROUP.finditer(body))
    # Longest first, cutting only after a plain digit group: "+44 20 7946 0958 2 fois" keeps "+44 20 7946 0958".
    # 15 digits at most, so never more than 15 groups.
    for count in range(min(len(groups), 15), 0, -1):
        last = groups[count - 1].group()
        if last.startswith("(") or len(last) < 2:
            continue
        # "(0)" is the trunk prefix dialled only from inside the country: not part of the number.
        digits = "".join(group.group().strip("()") for group in groups[:count] if group.group() != "(0)")
        end = match.start() + prefix + groups[count - 1].end()
        if digits.startswith("33"):
            # France: nine digits after the country code, with or without the trunk 0 ("+33 06 ...").
            national = digits[2:]
            valid = len(national) == 9 or (len(national) == 10 and national[0] == "0")
        else:
            # "0012345678" is an order number more often than a dialled international call.
            valid = 8 <= len(digits) <= 15 and (plus or count > 1) and not _is_amount(groups[:count])
        if valid and not _AMOUNT_UNIT.match(text, end):
            return end
    return None


def _find_phones(text: str) -> Iterator[_Span]:
    # International first: "(+33) 06 12 34 56 78" is one number, not a code before a French one.
    for match in _INTL_PHONE.finditer(text):
        end = None if _glued(text, match.start()) else _international_phone_end(text, match)
        if end is not None:
            yield match.start(), end, True
    for pattern in (_FR_PHONE, _FR_PHONE_FOURS):
        for match in pattern.finditer(text):
            if not _glued(text, match.start()):
                yield match.start(), match.end(), True


# Order of precedence on overlaps: a checksum beats a pattern, so a Luhn-valid run inside an IBAN is the
# IBAN, and a card number is never read as a phone.
_DETECTORS: tuple[tuple[str, _Detector], ...] = (
    ("iban", _find_ibans),
    ("card", _find_cards),
    ("email", _find_emails),
    ("phone", _find_phones),
)


class PiiMasker:
    """Find emails, phone numbers, IBANs and card numbers in text and replace them with "[kind]"."""

    def __init__(self, kinds: Iterable[str] = PII_KINDS) -> None:
        """Mask only the given kinds; raise ValueError on a kind not in PII_KINDS."""
        selected = frozenset(kinds)
        unknown = sorted(selected - set(PII_KINDS))
        if unknown:
            raise ValueError(f"Unknown PII kind(s) {unknown}. Available kinds: {', '.join(PII_KINDS)}")
        self.kinds = selected
        # Kinds of higher precedence than the last one asked for still run, unmasked, so that
        # PiiMasker(kinds=["card"]) never masks the digits of an IBAN.
        order = [kind for kind, _ in _DETECTORS]
        last = max((order.index(kind) for kind in selected), default=-1)
        self._detectors = _DETECTORS[: last + 1]

    def __repr__(self) -> str:
        return f"PiiMasker(kinds={[kind for kind in PII_KINDS if kind in self.kinds]})"

    def find(self, text: str) -> list[PiiMatch]:
        """Return the personal data in `text`: non-overlapping matches sorted by start."""
        # Every kind needs a digit or an "@": most feedback texts stop here.
        if "@" not in text and _ANY_DIGIT.search(text) is None and _OBFUSCATION.search(text) is None:
            return []
        claimed: list[tuple[int, int, str, bool]] = []
        for kind, detect in self._detectors:
            for start, end, is_pii in detect(text):
                if not any(start < other_end and other_start < end for other_start, other_end, _, _ in claimed):
                    claimed.append((start, end, kind, is_pii))
        return sorted(
            (PiiMatch(kind, start, end) for start, end, kind, is_pii in claimed if is_pii and kind in self.kinds),
            key=lambda match: match.start,
        )

    def mask(self, text: str) -> str:
        """Return `text` with each match replaced by "[email]", "[phone]", "[iban]" or "[card]"."""
        matches = self.find(text)
        if not matches:
            return text
        parts: list[str] = []
        position = 0
        for match in matches:
            parts.extend((text[position : match.start], f"[{match.kind}]"))
            position = match.end
        parts.append(text[position:])
        return "".join(parts)
