"""Capability tokens (domain.tokens)."""

from __future__ import annotations

from videotermin.domain.tokens import hash_token, looks_like_token, new_token, tokens_equal


def test_tokens_are_long_unique_and_url_safe() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert looks_like_token(token)
        assert len(token) * 6 >= 128
        assert token.replace("-", "").replace("_", "").isalnum()


def test_only_a_hash_is_kept_and_it_is_stable() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert token not in hash_token(token)
    assert len(hash_token(token)) == 64


def test_shape_check_refuses_what_cannot_be_a_token() -> None:
    for candidate in ["", "abc", "x" * 33, "a" * 31 + "/", "a" * 31 + "%", "ä" * 32]:
        assert not looks_like_token(candidate)


def test_constant_time_comparison() -> None:
    assert tokens_equal("abc", "abc")
    assert not tokens_equal("abc", "abd")
