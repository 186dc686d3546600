from email.message import EmailMessage


def compose_mail(kind, *, appointment, participant, link, settings) -> EmailMessage:  # type: ignore[no-untyped-def]
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = participant.email
    message["Subject"] = f"Videotermin {kind}"
    message.set_content(link or "")
    return message
