"""An audit detail stays one short line, whatever a caller hands it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from videotermin.domain.audit import (
    ACTION_LABELS,
    DETAIL_LENGTH,
    AuditAction,
    audit_cutoff,
    clean_detail,
)


def test_control_characters_cannot_forge_a_second_line() -> None:
    assert clean_detail("start,\r\nlogin;admin\x00\x1b[31m") == "start, login;admin [31m"
    assert clean_detail("\u2028rolle:\u202eadmin") == "rolle: admin"


def test_a_detail_is_cut_to_its_column() -> None:
    assert len(clean_detail("x" * 10_000)) == DETAIL_LENGTH
    assert clean_detail("") == ""


def test_every_action_has_a_german_label() -> None:
    assert set(ACTION_LABELS) == set(AuditAction)


def test_the_cutoff_is_the_retention_before_now() -> None:
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert audit_cutoff(now, 365) == now - timedelta(days=365)
