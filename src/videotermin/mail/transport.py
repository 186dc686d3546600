"""Handing a finished mail over: to an SMTP server, or into a folder.

Production sends through SMTP; the embedded default writes each mail as an
``.eml`` file into ``DATA_DIR/mail`` so the whole product runs on a laptop and
a developer can open the invitations in any mail program. Both raise on
failure — retrying is the outbox's job, not the transport's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from videotermin.domain.clock import Clock, system_clock
from videotermin.settings import Settings, SmtpTarget

SMTP_TIMEOUT_SECONDS = 30.0


class Transport(Protocol):
    async def send(self, message: bytes, recipient: str) -> None:
        """Deliver ``message`` to ``recipient`` or raise."""


def smtp_address(address: str) -> str:
    """The address with its domain in ASCII (IDNA), the form every SMTP server accepts.

    Stored addresses are normalised with Unicode domains (``max@müller.de``);
    only a non-ASCII local part still needs a server with SMTPUTF8.
    """
    try:
        parsed = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return Address(username=parsed.local_part, domain=parsed.ascii_domain).addr_spec


class SmtpTransport:
    """One SMTP session per mail: simple, and no idle connection to keep alive."""

    def __init__(self, target: SmtpTarget, sender: str) -> None:
        self.target = target
        self.sender = sender

    async def send(self, message: bytes, recipient: str) -> None:
        await aiosmtplib.send(
            message,
            sender=self.sender,
            recipients=[smtp_address(recipient)],
            hostname=self.target.host,
            port=self.target.port,
            username=self.target.username,
            password=self.target.password,
            use_tls=self.target.use_tls,
            start_tls=self.target.start_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )


STAMP = "%Y%m%dT%H%M%S%fZ"


class FolderTransport:
    """Each mail becomes one ``.eml`` file; the recipient is in its ``To`` header.

    File names are the UTC time of writing (on the app's clock) plus a random
    suffix: they sort by time, never collide between processes and carry no
    personal data. The file is written under a hidden temporary name, flushed to
    disk and then renamed, so a reader never sees half a mail and a crash never
    leaves one. The retention purge deletes files older than the retention period
    by that time (:func:`delete_mail_files`): the folder holds personal data too.
    """

    def __init__(self, folder: Path, clock: Clock = system_clock) -> None:
        self.folder = folder
        self.clock = clock

    async def send(self, message: bytes, recipient: str) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = self.clock().astimezone(UTC).strftime(STAMP)
        name = f"{stamp}-{secrets.token_hex(4)}.eml"
        temporary = self.folder / f".{name}.tmp"
        with temporary.open("wb") as file:
            file.write(message)
            file.flush()
            os.fsync(file.fileno())
        return temporary.replace(self.folder / name)


def transport_for(settings: Settings, clock: Clock = system_clock) -> Transport:
    if settings.smtp is not None:
        _, sender = parseaddr(settings.mail_from)
        return SmtpTransport(settings.smtp, smtp_address(sender))
    return FolderTransport(settings.mail_dir, clock)


def mail_files_before(folder: Path, before: datetime) -> list[Path]:
    """The folder's mail files written before ``before`` (by the time in their name)."""
    if not folder.is_dir():
        return []
    old = []
    for path in folder.glob("*.eml"):
        try:
            written = datetime.strptime(path.name.split("-", 1)[0], STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # not one of ours
        if written < before:
            old.append(path)
    return old


def delete_mail_files(folder: Path, before: datetime) -> int:
    """Delete the folder's mail files written before ``before``; how many."""
    deleted = 0
    for path in mail_files_before(folder, before):
        path.unlink(missing_ok=True)
        deleted += 1
    return deleted
