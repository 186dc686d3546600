"""Capability tokens: personal links, API tokens and session ids.

A token is the only proof a citizen has, so it is long (192 random bits),
URL-safe, and the server keeps only its SHA-256 hash. A shape check refuses
anything that cannot be a token before any database lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from videotermin.domain.text_input import is_one_line

TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(candidate: str) -> bool:
    return bool(_TOKEN_SHAPE.match(candidate))


def tokens_equal(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


MAX_TOKEN_NAME = 80


def token_name_problem(name: str) -> str | None:
    """Why an API token's name is refused (it says what the token is for), or ``None``."""
    if not name:
        return "required"
    if len(name) > MAX_TOKEN_NAME or not is_one_line(name):
        return "invalid"
    return None
