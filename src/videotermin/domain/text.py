"""Messages the code hands to a page, written in German and shown in the reader's language.

A message is its German text: the msgid of the gettext catalogs (``web/i18n``), as the
templates' own texts are. :func:`N_` marks a literal so the catalog check finds it; the
page translates it when it is shown (the templates' ``t`` filter). A message with
values in it is a :class:`Text`: its German words with ``%(name)s`` placeholders are the
msgid, and the values are filled in after translation, so the sentence can be ordered
as each language needs.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` as a msgid; it is translated where a page shows it."""
    return message


class Text(str):
    """A message with values: reads as its German sentence; ``msgid`` and ``params``
    let a page translate it first and fill the values in after."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Text:
        text = super().__new__(cls, msgid % params)
        text.msgid = msgid
        text.params = params
        return text
