"""Personal data masking: what a stored text looks like after PiiMasker.mask."""

from __future__ import annotations

import pytest

from nlp.pii import PII_KINDS, PiiMasker, PiiMatch

# FR76 3000 6000 0112 3456 7890 189 is the usual French example IBAN; FR20 4111 ... is a valid IBAN whose
# digits start with the Luhn-valid test card 4111 1111 1111 1111.
IBAN_FR = "FR76 3000 6000 0112 3456 7890 189"
IBAN_WITH_CARD_DIGITS = "FR20 4111 1111 1111 1111 1111 111"

REVIEW = (
    "Bonjour, suite au sinistre n°45873 du 12/05/2026, merci de me rembourser les 1 234,56 € sur mon compte "
    f"{IBAN_FR}. Vous pouvez me joindre au 06 12 34 56 78 ou par mail à jean.dupont@example.fr. Très déçue !"
)


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    return PiiMasker()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Écrivez-moi à jean.dupont@example.fr svp", "Écrivez-moi à [email] svp"),
        ("mail : marie+sinistre@mail.hexa-assur.fr.", "mail : [email]."),
        ("CONTACT: Jean.Dupont@Example.COM, merci", "CONTACT: [email], merci"),
        ("écrire à andré.lefèvre@exemple.fr", "écrire à [email]"),
        ("Merci...jean@exemple.fr", "Merci...[email]"),
        ("écrivez à jean [at] gmail [dot] com svp", "écrivez à [email] svp"),
        ("écrivez à jean(at)gmail.com svp", "écrivez à [email] svp"),
        ("écrivez à jean.dupont (at) mail [dot] hexa-assur [dot] fr.", "écrivez à [email]."),
        ("écrivez à jean@gmail[dot]com svp", "écrivez à [email] svp"),
        ("écrivez à JEAN [AT] GMAIL [DOT] COM svp", "écrivez à [email] svp"),
        ("écrivez à jean [arobase] free [point] fr svp", "écrivez à [email] svp"),
    ],
)
def test_emails_are_masked(masker: PiiMasker, text: str, expected: str) -> None:
    assert masker.mask(text) == expected


@pytest.mark.parametrize(
    "number",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+33 06 12 34 56 78",
        "0033 6 12 34 56 78",
        "+33612345678",
        "01 23 45 67 89",
        "02 98 76 54 32",
        "03 20 12 34 56",
        "04 91 12 34 56",
        "05 56 12 34 56",
        "07 12 34 56 78",
        "08 00 12 34 56",
        "09 87 65 43 21",
        "06\u00a012\u00a034\u00a056\u00a078",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+1 (415) 555-0132",
        "+1-415-555-0132",
        "+49 30 1234567",
        "+32 470 12 34 56",
        "0044 20 7946 0958",
        "06/12/34/56/78",
        "06 1234 5678",
        "06.1234.5678",
        "(+33) 6 12 34 56 78",
        "(+33) 06 12 34 56 78",
        "(0033) 6 12 34 56 78",
        "(+44) 20 7946 0958",
    ],
)
def test_phone_numbers_are_masked_in_every_common_writing(masker: PiiMasker, number: str) -> None:
    assert masker.mask(f"Appelez-moi au {number} svp") == "Appelez-moi au [phone] svp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tél.06.12.34.56.78.", "Tél.[phone]."),
        ("au 06 12 34 56 78 ou au 07 12 34 56 78", "au [phone] ou au [phone]"),
        ("appelé au 06 12 34 56 78 2 fois", "appelé au [phone] 2 fois"),
        ("call +44 20 7946 0958 2 times", "call [phone] 2 times"),
    ],
)
def test_phone_numbers_end_where_the_number_ends(masker: PiiMasker, text: str, expected: str) -> None:
    assert masker.mask(text) == expected


@pytest.mark.parametrize(
    "iban",
    [
        IBAN_FR,
        "FR7630006000011234567890189",
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "BE68 5390 0754 7034",
        "fr76 3000 6000 0112 3456 7890 189",
        "FR76-3000-6000-0112-3456-7890-189",
        "DE89-3704-0044-0532-0130-00",
    ],
)
def test_ibans_are_masked(masker: PiiMasker, iban: str) -> None:
    assert masker.mask(f"Virement sur {iban} pour le remboursement") == "Virement sur [iban] pour le remboursement"


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5555 5555 5555 4444",
        "378282246310005",
        "3782 822463 10005",
        "4111.1111.1111.1111",
        "5555.5555.5555.4444",
    ],
)
def test_card_numbers_are_masked(masker: PiiMasker, card: str) -> None:
    assert masker.mask(f"Débité sur la carte {card} hier") == "Débité sur la carte [card] hier"


def test_an_expiry_date_after_a_card_number_stays(masker: PiiMasker) -> None:
    assert masker.mask("carte 4111 1111 1111 1111 12/27") == "carte [card] 12/27"


@pytest.mark.parametrize(
    "text",
    [
        "Sinistre déclaré le 2026-05-01, relancé le 01/05/2026 puis le 12.05.2026",
        "Rendez-vous à 14:30, puis à 14h30",
        "Facture de 1 234,56 € pour 12 000 euros de travaux, soit $1,200.00",
        "Hausse de 15 % puis de +3,5 %, +12 345 678 € de chiffre d'affaires",
        "+15 000 000 de clients en 2025",
        "Agence du 75011 Paris, sinistre n°45873",
        "Contrat 123456789, commande 10023456, dossier 01234567890, réf 0012345678",
        "Client depuis 1998, 3 enfants, 2 voitures",
        "06 12 34 56 78 90 est une référence",
        "Merci @HexaAssur, afterwork 5@7 !",
        "0000 0000 0000 0000",
        "Le 06/12/2026 à 06:12, rappel le 06/12/26 puis du 06/12 au 12/12/2025",
        "Les 01/02/03 et 04/05/06, ticket 2026/06/12/34",
        "Vers 06.12, 14.30 ou 14h30, puis 06:12:34",
        "Total 1.234.567,89 € soit 4111.11 € et 1.234.567.890.123 points",
        "Commande 0612 3456 7890, réf 06-1234-56789, sinistre 0612345678901",
        "ISBN 978-2-07-036822-8, version 4.1.1.1.1",
        "Hausse (+3,5 %) puis (+12 345 678 €)",
        "Rendez-vous (at) 14h. Merci (at) vous [dot]",
        "carte 4111.1111.1111.1112 refusée",
    ],
)
def test_numbers_that_are_not_personal_data_are_left_unchanged(masker: PiiMasker, text: str) -> None:
    assert masker.mask(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "IBAN FR12 3000 6000 0112 3456 7890 189 merci",
        "IBAN FR7630006000011234567890180 merci",
        "carte 4111 1111 1111 1112 merci",
        "carte 4111111111111112 merci",
    ],
)
def test_numbers_failing_their_checksum_are_left_unchanged(masker: PiiMasker, text: str) -> None:
    assert masker.mask(text) == text


def test_a_mixed_french_review_keeps_everything_but_the_personal_data(masker: PiiMasker) -> None:
    assert masker.mask(REVIEW) == (
        "Bonjour, suite au sinistre n°45873 du 12/05/2026, merci de me rembourser les 1 234,56 € sur mon compte "
        "[iban]. Vous pouvez me joindre au [phone] ou par mail à [email]. Très déçue !"
    )


def test_a_card_number_inside_an_iban_is_part_of_the_iban(masker: PiiMasker) -> None:
    text = f"IBAN {IBAN_WITH_CARD_DIGITS} merci"
    assert masker.mask(text) == "IBAN [iban] merci"
    assert PiiMasker(kinds=["card"]).mask(text) == text


def test_kinds_selects_what_is_masked() -> None:
    assert PiiMasker(kinds=["email"]).mask(REVIEW) == REVIEW.replace("jean.dupont@example.fr", "[email]")


def test_an_unknown_kind_is_refused_with_the_valid_kinds() -> None:
    with pytest.raises(ValueError, match="ssn") as error:
        PiiMasker(kinds=["email", "ssn"])
    assert all(kind in str(error.value) for kind in PII_KINDS)


def test_find_returns_sorted_offsets_that_slice_the_matched_values(masker: PiiMasker) -> None:
    matches = masker.find(REVIEW)
    assert [(m.kind, REVIEW[m.start : m.end]) for m in matches] == [
        ("iban", IBAN_FR),
        ("phone", "06 12 34 56 78"),
        ("email", "jean.dupont@example.fr"),
    ]
    assert all(isinstance(m, PiiMatch) for m in matches)
    assert all(a.end <= b.start for a, b in zip(matches, matches[1:], strict=False))


def test_text_without_digits_or_at_sign_has_no_matches(masker: PiiMasker) -> None:
    assert masker.find("Très bon accueil, conseillère à l'écoute.") == []
