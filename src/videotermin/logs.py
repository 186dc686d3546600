"""Structured log lines (``key=value``) for the app and its commands.

Log calls pass ids, counts and states only — never names, addresses or link
tokens — and the access log redacts link paths (see ``web.middleware``).
"""

from __future__ import annotations

import logging
import re
import sys

# Control characters, and the Unicode line and paragraph separators some log viewers break on.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``): a
    value in a log line can never start a line of its own or steer a terminal."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Every record is one line, whatever its values hold: a request path with an encoded
    line break cannot forge a second entry. A traceback keeps its own lines after it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        return super().formatMessage(record)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        OneLineFormatter("ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


# Loggers that would print SQL parameters, addresses or URLs with tokens at INFO.
NOISY = ("sqlalchemy", "aiosqlite", "asyncpg", "httpx", "httpcore", "aiosmtplib")


def quiet_libraries() -> None:
    """Keep libraries that log data (SQL parameters, request URLs) at WARNING."""
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
    handshakes = logging.getLogger("uvicorn.error")
    if _drop_websocket_handshakes not in handshakes.filters:
        handshakes.addFilter(_drop_websocket_handshakes)


# Uvicorn's line for every WebSocket handshake: client address and full path.
_HANDSHAKE = '%s - "WebSocket %s"'


def _drop_websocket_handshakes(record: logging.LogRecord) -> bool:
    """Drop uvicorn's WebSocket handshake lines.

    They carry the client's IP address and the path, and a citizen's socket
    path (``/ws/v/<token>``) holds the personal link token. Everything else
    uvicorn reports on this logger (startup, errors) passes.
    """
    return not (isinstance(record.msg, str) and record.msg.startswith(_HANDSHAKE))
