"""What personal data is kept: every free-text field masked before it is stored, identifiers kept as keyed digests.

A workspace's `mask_pii` names the kinds masked (email, phone, iban, card) in each item's text, source,
channel, segment and metadata values. An `external_id` holding personal data is not masked (two customers'
"[email]" would collide, and re-sending an item would no longer find it) but replaced by a keyed digest,
"pii:" + HMAC-SHA256 of the workspace and the value under the server's secret: stable, so re-sending stays
idempotent, and not reversible by hashing a list of candidate addresses without the secret.

Messages about rejected rows never carry a raw cell value: `shown()` masks every kind and truncates.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.schemas import FeedbackCreate
from nlp.pii import PII_KINDS, PiiMasker

logger = logging.getLogger(__name__)

DIGEST_PREFIX = "pii:"
_DIGEST_CHARS = 32  # 128 bits of HMAC-SHA256: collisions are out of reach at any feedback volume
_ATTRIBUTE_CHARS = 100  # source, channel, segment columns
_SHOWN_CHARS = 24
_REASON_CHARS = 2000
SECRET_FILE = "pii.key"

_EVERY_KIND = PiiMasker(PII_KINDS)


def pii_secret(settings: Settings) -> bytes:
    """Return the server secret of external-id digests: `pii_secret` if set, else the data dir's own key file.

    The key file is created once (random, readable by the service's user only) and must be kept with the
    database: with another secret, items re-sent with the same personal external id are stored again.
    """
    if settings.pii_secret is not None:
        return settings.pii_secret.get_secret_value().encode("utf-8")
    return _key_file(settings.data_dir.resolve() / SECRET_FILE)


@lru_cache(maxsize=8)
def _key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole under a name of its own, then linked in place: a concurrent reader never sees it empty
    draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_hex(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # made earlier, or by another process just now: read it below
    else:
        logger.info("created the external-id digest secret %s", path)
    finally:
        draft.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"The secret file {path} is empty: delete it or set PARCOURS_PII_SECRET")
    return secret.encode("utf-8")


def shown(value: str, limit: int = _SHOWN_CHARS) -> str:
    """Return a cell value as an error message may show it: every kind of personal data masked, then truncated."""
    masked = _EVERY_KIND.mask(value)
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


def masked_reason(reason: str) -> str:
    """Return an error message as stored: every kind of personal data masked, at most 2,000 characters."""
    return _EVERY_KIND.mask(reason)[:_REASON_CHARS]


class ItemMasker:
    """Mask the personal data of feedback items as a workspace asks, before they are stored (and deduplicated)."""

    def __init__(self, kinds: Iterable[str], *, secret: bytes, workspace_id: int | None) -> None:
        """Mask `kinds` (a workspace's `mask_pii`; empty: store items as sent); digest ids under `secret`."""
        selected = list(kinds)
        self.masker = PiiMasker(selected) if selected else None
        self.secret, self.workspace_id = secret, workspace_id

    def text(self, value: str, limit: int | None = None) -> str:
        """Return `value` masked (and cut to `limit` characters: a mask can be longer than what it hides)."""
        masked = self.masker.mask(value) if self.masker else value
        return masked[:limit] if limit is not None else masked

    def attribute(self, value: str | None) -> str | None:
        """Return a source, channel or segment masked."""
        return None if value is None else self.text(value, _ATTRIBUTE_CHARS)

    def value(self, value: Any) -> Any:
        """Return a metadata value with its strings masked (in lists and objects too); other values as they are."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value

    def external_id(self, value: str | None) -> str | None:
        """Return an external id as stored: as sent, or its keyed digest when it holds personal data."""
        if value is None or self.masker is None or not self.masker.find(value):
            return value
        message = f"{self.workspace_id}\x1f{value}".encode()
        return DIGEST_PREFIX + hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:_DIGEST_CHARS]

    def mask_item(self, item: FeedbackCreate) -> FeedbackCreate:
        """Return the item as it is stored: every free-text field masked, a personal external id digested."""
        if self.masker is None:
            return item
        return item.model_copy(
            update={
                "external_id": self.external_id(item.external_id),
                "text": self.text(item.text),
                "source": self.attribute(item.source),
                "channel": self.attribute(item.channel),
                "segment": self.attribute(item.segment),
                "metadata": self.value(item.metadata),
            }
        )
