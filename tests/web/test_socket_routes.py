"""The WebSocket endpoints are reached past the HTTP middleware (web/sockets.py): the
table matches exactly its paths, converts their parameters, refuses an endpoint that
expects anything else, and a socket to any other path is refused as before."""

from __future__ import annotations

import pytest
from waiting_helpers import socket
from websockets.exceptions import InvalidStatus

from conftest import LiveServer
from videotermin.web.sockets import SocketRoutes


async def endpoint(websocket: object, token: str) -> None:
    """A stand-in endpoint (never awaited here)."""


async def no_params(websocket: object) -> None:
    """A stand-in endpoint without path parameters."""


def test_the_table_matches_whole_paths_and_hands_over_their_parameters() -> None:
    routes = SocketRoutes({"/ws/v/{token}": endpoint, "/ws/staff": no_params})

    assert routes.match("/ws/v/abc-DEF_123") == (endpoint, {"token": "abc-DEF_123"})
    assert routes.match("/ws/staff") == (no_params, {})
    for other in ("/ws/v/", "/ws/v/a/b", "/ws/staff/", "/ws/stafff", "/ws/v", "/"):
        assert routes.match(other) is None, other


def test_an_endpoint_must_take_exactly_its_paths_parameters() -> None:
    with pytest.raises(TypeError):
        SocketRoutes({"/ws/call/{appointment_id}": endpoint})
    with pytest.raises(TypeError):
        SocketRoutes({"/ws/staff": endpoint})


async def test_a_socket_to_another_path_is_refused(live_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with socket(live_server, "/ws/nothing-here", origin=live_server.url):
            pass
    assert refused.value.response.status_code == 403
