"""The per-client token bucket of the public check."""

from __future__ import annotations

import pytest

from videotermin.domain.rate_limit import RateLimiter


def test_a_full_bucket_grants_its_capacity_then_says_when_to_retry() -> None:
    limiter = RateLimiter(capacity=3, per_second=0.5)

    granted = [limiter.take("a", now=0.0) for _ in range(3)]
    refused = limiter.take("a", now=0.0)

    assert granted == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(2.0)
    assert limiter.take("b", now=0.0) == 0.0, "clients have their own buckets"
    assert limiter.take("a", now=2.0) == 0.0, "refilled after the wait"


def test_costs_and_impossible_costs() -> None:
    limiter = RateLimiter(capacity=10, per_second=1)

    assert limiter.take("a", now=0.0, cost=8) == 0.0
    assert limiter.take("a", now=0.0, cost=4) == pytest.approx(2.0)
    assert limiter.take("a", now=0.0, cost=11) == pytest.approx(10.0)


def test_only_the_most_recent_clients_are_kept() -> None:
    limiter = RateLimiter(capacity=1, per_second=0.001, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.take(client, now=0.0)

    assert limiter.take("a", now=0.0) == 0.0, "a was forgotten, so it starts full"
    assert limiter.take("c", now=0.0) > 0


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [RateLimiter.retry_after(w) for w in (0.01, 1.0, 1.2)] == ["1", "1", "2"]


def test_what_is_given_back_can_be_taken_again_up_to_the_capacity() -> None:
    limiter = RateLimiter(capacity=2, per_second=0.001)
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.0) > 0
    limiter.give_back("a")
    assert limiter.take("a", 0.0) == 0.0
    limiter.give_back("a", 5)
    limiter.give_back("unknown")  # nothing taken, nothing kept
    assert limiter.take("a", 0.0, cost=2) == 0.0
    assert limiter.take("a", 0.0) > 0
