"""ICE servers: what browsers get for their calls, and what the echo peer uses.

The test call must take the path a real call takes, so the device check and
the call pages hand the browser the same list, built here: the STUN URLs and,
when configured, the TURN URLs with fresh TURN REST credentials
(:mod:`videotermin.domain.turn`). The TURN username carries a random id, not
the participant, because it ends up in the TURN server's log.

The echo peer runs on the server itself; it uses STUN (to learn its public
address behind NAT) but never TURN: relaying the server's own side would add a
hop that no real call has, and the browser's side already tests the relay.

``ICE_TRANSPORT_POLICY=relay`` makes browsers send everything through TURN
(``iceTransportPolicy: 'relay'``): a peer then sees only the TURN server's
address, never a participant's own IP address — a privacy choice an operator
can make at the cost of one more hop. The browser gets the policy together with
the ICE servers so that the test call proves exactly the path the call takes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal, TypedDict

from aiortc import RTCConfiguration, RTCIceServer

from videotermin.domain.turn import expiry, turn_credential
from videotermin.settings import Settings


class BrowserIceServer(TypedDict, total=False):
    """One entry of ``RTCConfiguration.iceServers`` as the browser takes it (JSON)."""

    urls: list[str]
    username: str
    credential: str


def browser_ice_servers(
    settings: Settings, now: datetime, call_ends: datetime | None = None
) -> list[BrowserIceServer]:
    """The ICE servers for one page; TURN credentials expire after the configured TTL,
    and a call's soon after the call ends (:func:`videotermin.domain.turn.expiry`)."""
    servers: list[BrowserIceServer] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret:
        expires = expiry(now, settings.turn_credential_ttl_seconds, call_ends)
        credential = turn_credential(
            settings.turn_secret, int(expires.timestamp()), secrets.token_hex(8)
        )
        servers.append(
            {
                "urls": list(settings.turn_urls),
                "username": credential.username,
                "credential": credential.credential,
            }
        )
    return servers


class BrowserRtcConfiguration(TypedDict):
    """The part of ``RTCConfiguration`` the server decides (JSON, browser spelling)."""

    iceServers: list[BrowserIceServer]
    iceTransportPolicy: Literal["all", "relay"]


def browser_rtc_configuration(settings: Settings, now: datetime) -> BrowserRtcConfiguration:
    """ICE servers and transport policy for one page's peer connections."""
    return {
        "iceServers": browser_ice_servers(settings, now),
        "iceTransportPolicy": settings.ice_transport_policy,
    }


def echo_configuration(settings: Settings) -> RTCConfiguration:
    """The echo peer's own ICE configuration: STUN only (see the module docstring)."""
    return RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in settings.stun_urls])
