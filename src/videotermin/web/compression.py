"""gzip for text responses, so a citizen on metered mobile data pays for fewer bytes.

The embedded server has no proxy in front that could compress, so the app does it
itself (behind nginx, nginx may do it instead: a response that already carries a
``Content-Encoding`` is left alone either way). What is compressed, and what never is:

* only text — HTML, CSS, JavaScript, JSON, SVG, plain text, CSV, iCalendar — of at
  least :data:`MINIMUM_SIZE` bytes, and only when the browser's ``Accept-Encoding``
  accepts gzip (a ``q=0`` refuses it; a header that cannot be read accepts nothing);
* never the speed test's random bytes (``application/octet-stream``, and they say
  ``Content-Encoding: identity``): compressing them would only cost time, and a
  transfer that a proxy had shrunk would measure the line as faster than it is;
* never images or fonts that are compressed already, WebSockets (not HTTP), partial
  (206) or empty (204, 304) answers, ``Cache-Control: no-transform``, or a HEAD;
* never a streaming answer without a ``Content-Length``: it may need each part to
  reach the browser when it is sent. A file sent in parts (it declares its length) is
  collected up to :data:`BUFFER_LIMIT` and compressed whole.

Every response of a compressible type says ``Vary: Accept-Encoding``, compressed or
not, so no cache hands a gzip body to a browser that did not ask for one. A compressed
body's ``ETag`` becomes weak (``W/``), as nginx does: the bytes differ from the
identity body's, the content does not.
"""

from __future__ import annotations

import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/problem+json",
        "image/svg+xml",
        "text/plain",
        "text/csv",
        "text/calendar",
    }
)
# Below about one packet there is nothing to save.
MINIMUM_SIZE = 1024
# A file sent in parts is compressed whole up to this size; larger ones go as they are.
BUFFER_LIMIT = 1024 * 1024
LEVEL = 6
# The codings a browser lists are few; a longer header is read this far only.
MAX_CODINGS = 32


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header (RFC 9110, 12.5.3) accepts gzip.

    ``gzip`` (or ``x-gzip``) with a weight above zero accepts it; so does ``*`` above
    zero when gzip is not named. An unreadable weight accepts nothing for its coding.
    """
    named: float | None = None
    anything: float | None = None
    for item in header.split(",", MAX_CODINGS)[:MAX_CODINGS]:
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        weight = _weight(params)
        if coding in ("gzip", "x-gzip"):
            named = max(named or 0.0, weight)
        elif coding == "*":
            anything = weight
    if named is not None:
        return named > 0
    return anything is not None and anything > 0


def _weight(params: str) -> float:
    """The ``q`` of a coding's parameters; 1 without one, 0 when it cannot be read."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            if len(value) > 5 or not value.replace(".", "", 1).isdigit():
                return 0.0
            weight = float(value)
            return weight if weight <= 1 else 0.0
    return 1.0


def _compressible(headers: Headers, status: int) -> bool:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return (
        media_type in COMPRESSIBLE
        and 200 <= status < 300
        and status not in (204, 206)
        and "content-encoding" not in headers
        and "no-transform" not in headers.get("cache-control", "").lower()
    )


def gzip_body(body: bytes) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


class CompressionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = scope["method"] != "HEAD" and accepts_gzip(
            Headers(scope=scope).get("accept-encoding", "")
        )
        responder = _Responder(send, wanted)
        await self.app(scope, receive, responder.send)


class _Responder:
    """One response: held back at its start until its body shows whether to compress."""

    def __init__(self, send: Send, wanted: bool) -> None:
        self._send = send
        self._wanted = wanted
        self._start: Message | None = None
        self._parts: list[bytes] = []
        self._passing = False

    async def send(self, message: Message) -> None:
        if self._passing or message["type"] not in ("http.response.start", "http.response.body"):
            await self._flush_start()
            await self._send(message)
        elif message["type"] == "http.response.start":
            await self._started(message)
        else:
            await self._body(message)

    async def _started(self, message: Message) -> None:
        headers = MutableHeaders(raw=list(message.get("headers", [])))
        status = int(message["status"])
        if status == 304:
            headers.add_vary_header("Accept-Encoding")
        if not _compressible(headers, status):
            self._passing = True
            await self._send({**message, "headers": headers.raw})
            return
        headers.add_vary_header("Accept-Encoding")
        self._start = {**message, "headers": headers.raw}
        if not self._wanted:
            self._passing = True
            await self._flush_start()

    async def _body(self, message: Message) -> None:
        self._parts.append(message.get("body", b""))
        if message.get("more_body", False):
            if self._may_collect():
                return
            # A stream that must flush part by part: it goes as it is, from here on.
            self._passing = True
            await self._flush_start()
            await self._send({**message, "body": b"".join(self._parts)})
            self._parts = []
            return
        body = b"".join(self._parts)
        self._parts = []
        assert self._start is not None
        if len(body) >= MINIMUM_SIZE:
            compressed = gzip_body(body)
            if len(compressed) < len(body):
                body = compressed
                headers = MutableHeaders(raw=self._start["headers"])
                headers["Content-Encoding"] = "gzip"
                headers["Content-Length"] = str(len(body))
                etag = headers.get("etag")
                if etag and not etag.startswith("W/"):
                    headers["ETag"] = "W/" + etag
        await self._flush_start()
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    def _may_collect(self) -> bool:
        assert self._start is not None
        declared = Headers(raw=self._start["headers"]).get("content-length", "")
        return declared.isdigit() and int(declared) <= BUFFER_LIMIT

    async def _flush_start(self) -> None:
        if self._start is not None:
            start, self._start = self._start, None
            await self._send(start)
