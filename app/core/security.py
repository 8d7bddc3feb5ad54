"""API keys: random, shown once, stored as SHA-256 (a key has 256 bits of entropy, so no slow hash is needed)."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "pk_"


def new_api_key() -> str:
    """Return a fresh API key, e.g. `pk_Xq3...` (47 characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_prefix(key: str) -> str:
    """Return the part of a key safe to show in listings and logs."""
    return key[:10]


def same_secret(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
