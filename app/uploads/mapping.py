"""CSV exports to feedback items: column mapping from common export headers (FR/EN) and per-row parsing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil import parser as dateparser
from pydantic import ValidationError

from app.core.errors import AppError
from app.feedback.privacy import masked_reason, shown
from app.models import Kind
from app.schemas import FeedbackCreate
from nlp.readers import ID_COLUMNS, TEXT_COLUMNS, FeedbackRow, RowError, column_list, fold_name

# Feedback fields a CSV column can fill, with the export headers that name them (folded: lower case, no accents).
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": TEXT_COLUMNS,
    "external_id": ID_COLUMNS,
    "created_at": (
        "date", "created_at", "date_publication", "date_de_publication", "date_avis", "review_date", "published",
        "published_at", "publication_date", "submitted_at", "submission_date", "timestamp", "datetime", "created",
        "date_de_l'avis", "date_reponse", "response_date", "posted_at", "time",
    ),
    "rating": (
        "rating", "note", "stars", "star_rating", "score", "etoiles", "nb_etoiles", "nombre_d'etoiles", "review_rating",
        "reviewer_score", "overall_rating", "notation", "note_globale", "satisfaction", "csat",
    ),
    "nps": ("nps", "nps_score", "score_nps", "likelihood_to_recommend", "recommandation", "recommend_score"),
    "title": ("title", "titre", "subject", "sujet", "objet", "headline", "review_title", "titre_de_l'avis"),
    "author": ("author", "auteur", "reviewer", "reviewer_name", "user", "username", "pseudo", "name", "nom"),
    "source": ("source", "platform", "plateforme", "site"),
    "channel": ("channel", "canal"),
    "segment": ("segment", "customer_segment", "segment_client", "product", "produit", "offre", "offer"),
    "language": ("language", "langue", "lang", "locale"),
    "kind": ("kind",),
}  # fmt: skip
# Fields kept in metadata rather than as columns of their own.
METADATA_FIELDS = ("title", "author")
_MONTHS_FR = [
    ("janv", "janvier", "jan"), ("févr", "février", "fevrier", "fév", "fev"), ("mars", "mar"), ("avr", "avril"),
    ("mai",), ("juin",), ("juil", "juillet"), ("août", "aout"), ("sept", "septembre", "sep"), ("oct", "octobre"),
    ("nov", "novembre"), ("déc", "décembre", "decembre", "dec"),
]  # fmt: skip


class _BilingualDates(dateparser.parserinfo):
    """dateutil's English month names plus the French ones ("12 mars 2026")."""

    MONTHS = [(*english, *french) for english, french in zip(dateparser.parserinfo.MONTHS, _MONTHS_FR, strict=True)]


_DATES = _BilingualDates()
_NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(?:/\s*(\d+(?:[.,]\d+)?))?\s*$")


@dataclass(frozen=True)
class UploadOptions:
    """What an upload says about all its rows: a `kind` or `source` given here wins over the file's columns."""

    kind: Kind | None = None  # None: a kind column says, else review
    source: str | None = None  # None: a source column (source, platform, site) says, else none
    rating_scale: float | None = None
    dayfirst: bool = True


LISTED_COLUMNS = 500
COLUMN_NAME_CHARS = 200


def listed_columns(header: Sequence[str]) -> dict[str, Any]:
    """The `columns` of a refusal about columns, so that a client can offer them: the first 500 names, each with
    any personal data masked and cut to 200 characters, and `columns_total`, how many the file has."""
    return {
        "columns": [shown(name, COLUMN_NAME_CHARS) for name in header[:LISTED_COLUMNS]],
        "columns_total": len(header),
    }


def resolve_columns(header: Sequence[str], mapping: Mapping[str, str], text_column: str) -> dict[str, str]:
    """Return field -> column for this header: the explicit mapping first, then known export headers."""
    unknown = sorted(set(mapping) - set(FIELD_COLUMNS))
    if unknown:
        raise AppError(
            422,
            "invalid_mapping",
            f"Unknown field(s) in mapping: {', '.join(unknown)}. Mappable fields: {', '.join(FIELD_COLUMNS)}",
        )
    by_folded = {fold_name(name): name for name in header}
    columns: dict[str, str] = {}
    for field, column in mapping.items():
        if fold_name(column) not in by_folded:
            raise AppError(
                422,
                "missing_column",
                masked_reason(
                    f"The mapping names column '{column}' for '{field}', which the file does not have. "
                    f"Available columns: {column_list(header)}"
                ),
                **listed_columns(header),
            )
        columns[field] = by_folded[fold_name(column)]
    columns["text"] = text_column
    taken = set(columns.values())
    for field, candidates in FIELD_COLUMNS.items():
        if field in columns:
            continue
        for candidate in candidates:
            if candidate in by_folded and by_folded[candidate] not in taken:
                columns[field] = by_folded[candidate]
                taken.add(by_folded[candidate])
                break
    return columns


def _number(value: str) -> tuple[float, float | None] | None:
    stars = value.count("★")
    if stars and not value.strip("★☆ "):
        return float(stars), float(stars + value.count("☆"))
    match = _NUMBER.match(value)
    if not match:
        return None
    scale = float(match.group(2).replace(",", ".")) if match.group(2) else None
    return float(match.group(1).replace(",", ".")), scale


def _date(value: str, dayfirst: bool) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return dateparser.parse(value, parserinfo=_DATES, dayfirst=dayfirst)


def row_to_item(row: FeedbackRow, columns: Mapping[str, str], options: UploadOptions) -> FeedbackCreate | RowError:
    """Turn one CSV row into a feedback item, or a RowError naming the column at fault."""
    values = {field: row.fields.get(column, "").strip() for field, column in columns.items()}
    item: dict[str, Any] = {"text": row.text, "kind": options.kind or Kind.review, "source": options.source}
    for field in ("external_id", "source", "channel", "segment"):
        if values.get(field) and not (field == "source" and options.source is not None):
            item[field] = values[field]
    if values.get("kind") and options.kind is None:
        item["kind"] = values["kind"].lower()
    if values.get("language"):
        item["language"] = values["language"].lower().replace("_", "-").split("-")[0]
    if values.get("rating"):
        parsed = _number(values["rating"])
        if parsed is None:
            return RowError(row.line, f"rating '{shown(values['rating'])}' is not a number", columns["rating"])
        item["rating"], item["rating_scale"] = parsed[0], parsed[1] or options.rating_scale
    if values.get("nps"):
        parsed = _number(values["nps"])
        if parsed is None or not parsed[0].is_integer():
            reason = f"nps '{shown(values['nps'])}' is not a whole number from 0 to 10"
            return RowError(row.line, reason, columns["nps"])
        item["nps"] = int(parsed[0])
    if values.get("created_at"):
        try:
            item["created_at"] = _date(values["created_at"], options.dayfirst)
        except (ValueError, OverflowError):
            return RowError(row.line, f"date '{shown(values['created_at'])}' is not a date", columns["created_at"])
    mapped = set(columns.values()) - {columns[f] for f in METADATA_FIELDS if f in columns}
    overridden = [f for f in ("source", "kind") if f in columns and getattr(options, f) is not None]
    mapped -= {columns[f] for f in overridden}  # the user's choice won: the column is kept as metadata
    metadata = {name: value for name, value in row.fields.items() if name not in mapped and value.strip()}
    for field in METADATA_FIELDS:
        if values.get(field):
            metadata[field] = values[field]
            metadata.pop(columns[field], None)
    item["metadata"] = metadata
    try:
        return FeedbackCreate.model_validate(item)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "text"
        return RowError(row.line, first["msg"], columns.get(field, columns["text"]))
