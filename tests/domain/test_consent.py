"""Which consent counts (domain.consent)."""

from __future__ import annotations

from videotermin.domain.consent import Decision, effective_consent, may_decide, text_hash
from videotermin.domain.journey import Consent


def test_the_latest_decision_counts_whichever_version_it_was_on() -> None:
    assert effective_consent(None) == Consent.NONE
    assert effective_consent(Decision.AGREED) == Consent.AGREED
    assert effective_consent(Decision.DECLINED) == Consent.DECLINED
    assert effective_consent(Decision.WITHDRAWN) == Consent.WITHDRAWN


def test_who_may_decide_what() -> None:
    assert may_decide(Consent.NONE, Decision.AGREED)
    assert may_decide(Consent.DECLINED, Decision.AGREED), "a decline can be changed"
    assert may_decide(Consent.AGREED, Decision.WITHDRAWN)
    assert not may_decide(Consent.NONE, Decision.WITHDRAWN)
    assert not may_decide(Consent.WITHDRAWN, Decision.AGREED), "withdrawal is final"


def test_text_hash_pins_the_exact_wording() -> None:
    assert text_hash("Ich stimme zu.") != text_hash("Ich stimme zu!")
    assert len(text_hash("x")) == 64
