"""Support codes: short, easy to read aloud over the phone, never ambiguous.

Six characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S,
8/B), shown as two groups of three ("K7P-3XM"). ~28 bits: enough to find one
of the current participants, not a secret — the code grants nothing.
"""

from __future__ import annotations

import secrets

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 6


def new_support_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def format_support_code(code: str | None) -> str | None:
    """As shown and read aloud; ``None`` once the participant's data is erased."""
    return f"{code[:3]}-{code[3:]}" if code else None


def parse_support_code(typed: str) -> str | None:
    """Accept what a person types: any case, spaces or hyphens; ``None`` if it cannot be a code."""
    cleaned = "".join(c for c in typed.upper() if c not in " -")
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned
