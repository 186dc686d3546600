"""The QR code of a personal link, so an invitation read on a PC opens on a phone."""

from __future__ import annotations

import io

import segno


def qr_png(link: str) -> bytes:
    """A PNG of ``link`` as a QR code.

    Error correction "M" survives a smudged screen; scale 6 keeps the image
    large enough to scan from a monitor yet only a few kilobytes in the mail.
    The quiet zone (border 4) is what the standard asks for.
    """
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()
