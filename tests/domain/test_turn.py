"""TURN REST API credentials (coturn ``--use-auth-secret``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from videotermin.domain.turn import AFTER_THE_CALL, expiry, turn_credential

NOW = datetime(2026, 11, 27, 9, 55, tzinfo=UTC)


def test_known_vector() -> None:
    """Computed independently: ``printf '1700000000:probe' | openssl dgst -sha1 -hmac
    north-wind -binary | base64``."""
    credential = turn_credential("north-wind", 1_700_000_000, "probe")

    assert credential.username == "1700000000:probe"
    assert credential.credential == "d4W7yJRcw4E1YW1QInN+7TLNYhE="


def test_a_colon_in_the_id_is_refused() -> None:
    with pytest.raises(ValueError):
        turn_credential("secret", 1_700_000_000, "a:b")


def test_credentials_outside_a_call_live_the_configured_ttl() -> None:
    assert expiry(NOW, 6 * 3600) == NOW + timedelta(hours=6)


def test_a_calls_credentials_end_shortly_after_the_call() -> None:
    ends = NOW + timedelta(minutes=35)
    assert expiry(NOW, 6 * 3600, ends) == ends + timedelta(minutes=5) == ends + AFTER_THE_CALL
    assert expiry(NOW, 600, ends) == NOW + timedelta(seconds=600), "a shorter TTL still rules"
