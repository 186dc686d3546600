"""TURN REST API credentials (coturn ``--use-auth-secret``)."""

from __future__ import annotations

import pytest

from videotermin.domain.turn import turn_credential


def test_known_vector() -> None:
    """Computed independently: ``printf '1700000000:probe' | openssl dgst -sha1 -hmac
    north-wind -binary | base64``."""
    credential = turn_credential("north-wind", 1_700_000_000, "probe")

    assert credential.username == "1700000000:probe"
    assert credential.credential == "d4W7yJRcw4E1YW1QInN+7TLNYhE="


def test_a_colon_in_the_id_is_refused() -> None:
    with pytest.raises(ValueError):
        turn_credential("secret", 1_700_000_000, "a:b")
