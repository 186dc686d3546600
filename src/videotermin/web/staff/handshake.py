"""The opening of a staff socket (the live list, the support desk's view): authorised
like the pages by the session cookie, and only when the handshake's ``Origin`` is this
site — a foreign page gets HTTP 403 before any data, because the cookie travels with
any page's request. Every other refusal opens the socket and closes it with a code the
page can explain."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.websockets import WebSocket

from videotermin.realtime.connection import JsonSocket, same_origin
from videotermin.realtime.protocol import ClientMessage, CloseCode
from videotermin.realtime.service import Realtime
from videotermin.services.staff_auth import Login, current_login


async def staff_handshake(
    realtime: Realtime,
    websocket: WebSocket,
    token: str | None,
    messages: Mapping[str, type[ClientMessage]],
    may: Callable[[str], bool],
) -> tuple[JsonSocket, str, Login] | None:
    """The accepted socket, the session token and the login, when a role that ``may``
    use this socket is logged in; ``None`` after refusing."""
    if not same_origin(websocket, realtime.ctx.settings.public_url):
        await websocket.close(code=CloseCode.FORBIDDEN, reason=CloseCode.FORBIDDEN.reason)
        return None
    login = await current_login(realtime.ctx, token)
    await websocket.accept()
    socket = JsonSocket(websocket, messages)
    if login is None or token is None:
        await socket.close(CloseCode.LOGIN_REQUIRED)
        return None
    if not may(login.user.role):
        await socket.close(CloseCode.FORBIDDEN)
        return None
    return socket, token, login


async def still_allowed(
    realtime: Realtime, socket: JsonSocket, token: str, may: Callable[[str], bool]
) -> Login | None:
    """The login read again (an event, an alarm, the safety re-read): the socket is
    closed, as at the handshake, when it ended (4401) or its role may no longer use
    this socket (4403)."""
    login = await current_login(realtime.ctx, token)
    if login is None:
        await socket.close(CloseCode.LOGIN_REQUIRED)
        return None
    if not may(login.user.role):
        await socket.close(CloseCode.FORBIDDEN)
        return None
    return login
