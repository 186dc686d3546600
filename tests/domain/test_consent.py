"""Which consent counts (domain.consent)."""

from __future__ import annotations

from videotermin.domain.consent import Decision, effective_consent, may_decide, text_hash
from videotermin.domain.journey import Consent


def test_agreement_counts_only_for_the_current_version() -> None:
    assert effective_consent(None, None, "2") == Consent.NONE
    assert effective_consent(Decision.AGREED, "2", "2") == Consent.AGREED
    assert effective_consent(Decision.AGREED, "1", "2") == Consent.NONE
    assert effective_consent(Decision.DECLINED, "1", "2") == Consent.DECLINED
    assert effective_consent(Decision.WITHDRAWN, "2", "2") == Consent.WITHDRAWN


def test_who_may_decide_what() -> None:
    assert may_decide(Consent.NONE, Decision.AGREED)
    assert may_decide(Consent.DECLINED, Decision.AGREED), "a decline can be changed"
    assert may_decide(Consent.AGREED, Decision.WITHDRAWN)
    assert not may_decide(Consent.NONE, Decision.WITHDRAWN)
    assert not may_decide(Consent.WITHDRAWN, Decision.AGREED), "withdrawal is final"


def test_text_hash_pins_the_exact_wording() -> None:
    assert text_hash("Ich stimme zu.") != text_hash("Ich stimme zu!")
    assert len(text_hash("x")) == 64
