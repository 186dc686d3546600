"""The echo peer of the test call: returns a participant's own audio and video.

The device check proves the media path a real call takes (ICE, STUN/TURN,
DTLS-SRTP, the network in both directions) by calling this peer, which sends
every received frame straight back. It keeps nothing and ends each call after
``testcall_seconds`` plus a grace period, or earlier when the browser hangs up.

**No transcoding.** Decoding and re-encoding each frame costs about a third of
a core per call (measured, see ``/work/shared/RECIPES.md``). Instead each
received track is played back as the encoded frames it carries
(:class:`videotermin.media.passthrough.EncodedTrack`), which aiortc's sender
only packetizes. Both directions use the first negotiated codec (the browser
sends with the first codec of the answer and so does aiortc), so the frames fit.

Because the sender never encodes, it cannot honour a keyframe request from the
browser's decoder (PLI/FIR); :meth:`_EchoCall._forward_keyframe_request` passes
it on to the browser's own encoder through the receiver's RTCP instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs import is_rtx

from videotermin.media.ice import echo_configuration
from videotermin.media.passthrough import EncodedTrack
from videotermin.settings import Settings

logger = logging.getLogger("videotermin.echo")

# Time for ICE and DTLS before the measured part, and for the last stats after it.
GRACE_SECONDS = 6.0
# A busy echo asks the page to retry this soon: most calls end by hang-up, early.
RETRY_AFTER_SECONDS = 2
# The browser's encoder needs a moment for a keyframe; asking again sooner only adds load.
KEYFRAME_INTERVAL_SECONDS = 0.5
# What a real call between browsers reaches within its first second (see _tune_video).
START_BITRATE_KBPS = 1000
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


class EchoBusy(Exception):
    """All test-call slots are taken; the page should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"echo is busy, retry after {retry_after} s")
        self.retry_after = retry_after


class InvalidOffer(Exception):
    """The SDP offer cannot be answered (malformed, no common codec, too many media)."""


class _EchoCall:
    """One test call: a peer connection that returns what it receives, then hangs up."""

    def __init__(self, settings: Settings, on_closed: Callable[[_EchoCall], None]) -> None:
        self.pc = RTCPeerConnection(echo_configuration(settings))
        self._closed = False
        self._on_closed = on_closed
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_keyframe_request = -KEYFRAME_INTERVAL_SECONDS
        self.pc.on("connectionstatechange", self._on_connection_state)

    async def answer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        """Set up the echo for ``offer``; the answer holds all candidates (no trickle)."""
        try:
            await self.pc.setRemoteDescription(offer)
        except Exception as exc:  # aiortc's SDP parser raises whatever a bad line triggers
            raise InvalidOffer(str(exc) or type(exc).__name__) from None
        transceivers = self.pc.getTransceivers()
        kinds = [t.kind for t in transceivers]
        if not kinds or len(kinds) != len(set(kinds)):
            raise InvalidOffer("the offer must have at most one audio and one video section")
        for transceiver in transceivers:
            transceiver.sender.replaceTrack(EncodedTrack(transceiver.receiver, transceiver.kind))
            transceiver.direction = "sendrecv"
            if transceiver.kind == "video":
                _tune_video(transceiver)
                receiver = transceiver.receiver
                # aiortc has no hook for keyframe requests: replace its private method.
                transceiver.sender._send_keyframe = functools.partial(  # type: ignore[method-assign]
                    self._forward_keyframe_request, receiver
                )
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription

    def hang_up_after(self, seconds: float) -> None:
        self._spawn(self._hang_up_later(seconds))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        await self.pc.close()
        self._on_closed(self)

    def _forward_keyframe_request(self, receiver: RTCRtpReceiver) -> None:
        """Pass the browser's keyframe request on to the browser's own video sender."""
        now = asyncio.get_running_loop().time()
        if now - self._last_keyframe_request < KEYFRAME_INTERVAL_SECONDS:
            return
        sources = receiver.getSynchronizationSources()
        if sources:
            self._last_keyframe_request = now
            self._spawn(receiver._send_rtcp_pli(sources[0].source))

    async def _hang_up_later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.close()

    async def _on_connection_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            await self.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _tune_video(transceiver: RTCRtpTransceiver) -> None:
    """Let the browser send video the way it would in a real call, from the first second.

    Between browsers, transport-wide congestion control probes up from the
    300 kbit/s start within a second. aiortc has no transport-cc, and its REMB
    estimator, besides costing CPU on every packet, halves the browser's rate
    at the first delay spike (the speed test runs alongside). So the answer
    asks for a higher start (``x-google-start-bitrate``, honoured by libwebrtc
    in Chrome, Edge and Safari) and offers neither REMB nor the abs-send-time
    extension it feeds on; the browser's loss-based control remains, so a line
    too slow for the start rate shows as loss and a falling bitrate — the truth.
    """
    for codec in transceiver._codecs:
        if not is_rtx(codec):
            codec.parameters["x-google-start-bitrate"] = START_BITRATE_KBPS
            codec.rtcpFeedback = [fb for fb in codec.rtcpFeedback if fb.type != "goog-remb"]
    transceiver._headerExtensions = [
        extension for extension in transceiver._headerExtensions if extension.uri != ABS_SEND_TIME
    ]


class EchoService:
    """All test calls of this process, at most ``testcall_max_concurrent`` at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._calls: set[_EchoCall] = set()

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def answer(self, offer_sdp: str) -> str:
        """Answer a browser's offer with an echo; raises :class:`EchoBusy` when full.

        The slot is taken before the first ``await``, so concurrent requests
        cannot together exceed the limit.
        """
        if len(self._calls) >= self.settings.testcall_max_concurrent:
            raise EchoBusy(RETRY_AFTER_SECONDS)
        call = _EchoCall(self.settings, on_closed=self._forget)
        self._calls.add(call)
        try:
            answer = await call.answer(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except BaseException:
            await call.close()
            raise
        call.hang_up_after(self.settings.testcall_seconds + GRACE_SECONDS)
        logger.info("testcall started active=%d", len(self._calls))
        return answer.sdp

    async def close(self) -> None:
        await asyncio.gather(*(call.close() for call in list(self._calls)))

    def _forget(self, call: _EchoCall) -> None:
        self._calls.discard(call)
        logger.info("testcall ended active=%d", len(self._calls))
