"""Access log without secrets, request metrics by route template, and security
headers on every response.

The access log replaces the token of a personal link (``/v/<token>``) and
drops query strings, so neither links nor anything typed into a form ever
reaches a log line. Uvicorn's own access log is switched off in favour of this.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from videotermin.observability import Metrics, status_class

access_log = logging.getLogger("videotermin.access")

# What a path may hold unencoded (RFC 3986 pchar and "/"), and the redaction's brackets.
_PATH_SAFE = "/:@!$&'()*+,;=-._~<>"
_TOKEN_PATH = re.compile(r"^/(v|ws/v)/[^/]+")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def redact_path(path: str) -> str:
    """The path as a log value: a link's token replaced, and encoded again as it came on
    the wire, so a decoded space or line break cannot add a field or a line."""
    return quote(_TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/<token>", path), safe=_PATH_SAFE)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            access_log.info(
                "request method=%s path=%s status=%d ms=%.1f",
                scope["method"],
                redact_path(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )


UNMATCHED = "unmatched"


def route_template(scope: Scope, root_path_before: str, status: int) -> str:
    """The template of the route that answered (``/v/{token}/warteraum``), read from the
    scope after routing; never the raw path, which may carry a token.

    FastAPI leaves the answering route in ``scope["route"]``, relative to the app that
    routed it; a mount's fixed prefix (``/api/v1``) is what the router appended to
    ``root_path``. A mount that answers without a route of its own (``/static``) is
    ``<prefix>/{path}``; a path nothing knows (a 404 without a route) is ``unmatched``.
    """
    prefix = str(scope.get("root_path", ""))[len(root_path_before) :]
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return prefix + path
    if prefix and status != 404:
        return f"{prefix}/{{path}}"
    return UNMATCHED


class MetricsMiddleware:
    """Times every HTTP request into ``videotermin_http_request_duration_seconds``.

    The time is recorded just before the response's last part goes out, so a client
    that has its answer finds it counted; a request that ends without one (an error,
    a client gone) is recorded when it ends.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.duration = metrics.http_duration

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = str(scope.get("root_path", ""))
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            self.duration.labels(
                method=scope["method"] if scope["method"] in _METHODS else "other",
                route=route_template(scope, root_path, status),
                status=status_class(status),
            ).observe(time.perf_counter() - started)

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            record()


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, secure: bool = False) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"camera=(self), microphone=(self), display-capture=(self)"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if secure:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.headers if name not in existing
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadMiddleware:
    """``HEAD`` answers like ``GET`` without the body, on every page and API path.

    Link checkers, mail previews and monitors ask with ``HEAD``; FastAPI's routes only
    know ``GET``, so without this they would get 405. The status and headers (the
    length included) are the ``GET``'s, as HTTP asks.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer that does not say otherwise: for an
    app (the integration API) whose answers hold personal data and links."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
            await send(message)

        await self.app(scope, receive, send_no_store)
