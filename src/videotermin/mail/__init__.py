"""Invitation mails: rendering (text, HTML, iCalendar, QR), the outbox and delivery."""
