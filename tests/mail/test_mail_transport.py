"""Transports: the folder of ``.eml`` files (embedded default) and the choice of SMTP."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import free_port
from videotermin.mail.transport import (
    FolderTransport,
    SmtpTransport,
    smtp_address,
    transport_for,
)
from videotermin.settings import Settings

EML_NAME = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}\.eml$")


def a_mail(subject: str) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "noreply@agentur.example"
    message["To"] = "Erika Mustermann <erika@example.org>"
    message["Subject"] = subject
    message.set_content("Ihr persönlicher Link: https://video.example/v/abc\n")
    return message.as_bytes()


async def test_folder_transport_writes_mails_that_parse_back(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "mail"  # created on first use
    transport = FolderTransport(folder)

    await transport.send(a_mail("erste"), "erika@example.org")
    await transport.send(a_mail("zweite"), "erika@example.org")

    files = sorted(folder.iterdir())
    assert len(files) == 2, "no temporary files are left behind"
    assert all(EML_NAME.match(f.name) for f in files), [f.name for f in files]
    assert files[0].read_bytes() == a_mail("erste")
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert [m["Subject"] for m in parsed] == ["erste", "zweite"], "names sort by time"
    assert parsed[0]["To"].addresses[0].addr_spec == "erika@example.org"


async def test_folder_transport_raises_when_it_cannot_write(tmp_path: Path) -> None:
    blocked = tmp_path / "mail"
    blocked.write_text("a file where the folder should be")

    with pytest.raises(OSError):
        await FolderTransport(blocked).send(a_mail("x"), "erika@example.org")


def test_without_smtp_mails_go_to_the_mail_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    transport = transport_for(settings)

    assert isinstance(transport, FolderTransport)
    assert transport.folder == tmp_path / "mail"


def test_an_smtp_url_selects_smtp_with_the_sender_address(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        smtp_url="smtp://user:geheim@mail.example:2525?starttls=1",
        mail_from="Agentur für Arbeit <noreply@agentur.example>",
    )
    transport = transport_for(settings)

    assert isinstance(transport, SmtpTransport)
    assert transport.sender == "noreply@agentur.example"
    assert (transport.target.host, transport.target.port) == ("mail.example", 2525)
    assert transport.target.start_tls is True


async def test_an_unreachable_smtp_server_raises(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}")

    with pytest.raises(ConnectionError):
        await transport_for(settings).send(a_mail("x"), "erika@example.org")


@pytest.mark.parametrize(
    ("stored", "sent"),
    [
        ("erika@example.org", "erika@example.org"),
        ("max@müller.de", "max@xn--mller-kva.de"),
        ("jörg@example.org", "jörg@example.org"),
        ("not an address", "not an address"),
    ],
)
def test_smtp_address_puts_the_domain_in_ascii(stored: str, sent: str) -> None:
    assert smtp_address(stored) == sent
