"""WebSocket endpoints reached past the HTTP middleware stack.

A socket lives as long as a conversation. Passed through FastAPI, each one keeps a
coroutine frame alive in every middleware layer and route wrapper (about twenty,
with their closures and cells: of the 237 objects the garbage collector walked per
waiting citizen, 36 were coroutines), and every frame it sends or receives goes
through each layer's wrappers — for middleware that serves HTTP only (metrics,
access log, security headers, compression all pass sockets through). So the app
(:class:`videotermin.app.App`) hands a ``websocket`` connection whose path matches
one of these routes straight to its endpoint; any other path goes the usual way.

An endpoint takes the :class:`~starlette.websockets.WebSocket` and its path
parameters by name, nothing injected: dependency injection is part of what is
skipped, and a route that asked for it is refused when the table is built.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from re import Pattern
from typing import Any

from starlette.convertors import Convertor
from starlette.routing import compile_path

from videotermin.domain.text_input import storable

Endpoint = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class _Route:
    pattern: Pattern[str]
    convertors: dict[str, Convertor[Any]]
    endpoint: Endpoint


class SocketRoutes:
    """Path templates (Starlette's syntax, ``/ws/v/{token}``) and their endpoints."""

    def __init__(self, routes: Mapping[str, Endpoint]) -> None:
        self._routes = []
        for path, endpoint in routes.items():
            pattern, _, convertors = compile_path(path)
            wanted = list(inspect.signature(endpoint).parameters)[1:]
            if sorted(wanted) != sorted(convertors):
                raise TypeError(f"{endpoint.__name__} must take the socket and {path}'s parameters")
            self._routes.append(_Route(pattern, convertors, endpoint))

    def match(self, path: str) -> tuple[Endpoint, dict[str, Any]] | None:
        """The endpoint for ``path`` and its converted parameters, or ``None`` — also for a
        path holding NUL (``%00``), which names no link or appointment (and which
        PostgreSQL could not even look up)."""
        if not storable(path):
            return None
        for route in self._routes:
            found = route.pattern.match(path)
            if found is not None:
                params = {
                    name: route.convertors[name].convert(value)
                    for name, value in found.groupdict().items()
                }
                return route.endpoint, params
        return None
