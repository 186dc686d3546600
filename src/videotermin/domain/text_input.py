"""What free text typed by people may hold.

A one-line field (a name, a subject, a title) ends up in mail headers and bodies, in
calendar files, in page titles and in logs. So it may hold any printable character of
any script, right-to-left ones included, but none that changes how the text around
it reads: no control character (which could add lines to a mail or a log), no line or
paragraph separator, no bidirectional override (which could show a text other than
the one stored), and no lone surrogate (not Unicode at all; no database stores it).
"""

from __future__ import annotations

import re

_NOT_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def is_one_line(text: str) -> bool:
    """May ``text`` stand in a one-line field?"""
    return _NOT_ONE_LINE.search(text) is None


def has_lone_surrogate(text: str) -> bool:
    """A decoded JSON string can hold half a surrogate pair (``"\\ud800"``): such a
    text is not Unicode and must be refused before it reaches the store."""
    return not text.isascii() and _LONE_SURROGATE.search(text) is not None


def storable(text: str) -> bool:
    """Can ``text`` be stored, or looked up, at all? Not with half a surrogate pair (not
    Unicode; SQLite refuses it) nor with NUL (PostgreSQL refuses it, even in a lookup).
    An address, an API body or a socket frame holding either is refused where it arrives,
    whichever field it is; form fields are judged by their own rules (a one-line field
    holds no control character), and a typed name that is not storable is nobody's."""
    return "\x00" not in text and not has_lone_surrogate(text)
