"""Markdown an operator or admin writes, as HTML for a page: raw HTML switched off (a
text cannot inject markup or scripts), and headings shifted so the text's biggest one
sits at the level the page gives it, keeping one h1 per page whatever levels were used.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def _nest_headings(tokens: list[Token], top: int) -> None:
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    shift = top - min(levels)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"


def render_markdown(markdown: str, top: int) -> str:
    """``markdown`` as HTML whose biggest heading is ``h{top}``."""
    tokens = _markdown.parse(markdown)
    _nest_headings(tokens, top)
    html: str = _markdown.renderer.render(tokens, _markdown.options, {})
    return html
