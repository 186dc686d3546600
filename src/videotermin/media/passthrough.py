"""Encoded frames in, encoded frames out: aiortc without a codec in between.

aiortc's receiver reassembles RTP into encoded frames and hands them to a
decoder thread; its sender takes either raw frames (and encodes them) or
``av.Packet`` objects, which it only packetizes
(``RTCRtpSender._next_encoded_frame`` → ``encoder.pack``). aiortc has no public
hook for the encoded frames, so :class:`EncodedTrack` installs a tap in place
of the receiver's decoder queue and plays what arrives as packets. Nothing is
ever decoded or encoded — the echo peer's whole cost is per packet.

The tap relies on one private name of aiortc (pinned by the echo tests and
checked on install): ``RTCRtpReceiver.__decoder_queue``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from fractions import Fraction
from typing import Any

import av
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

# Frames waiting for the sender; more means the sender stalled, and old frames are useless.
QUEUE_FRAMES = 64
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"

_Frame = tuple[RTCRtpCodecParameters, Any]  # (codec, aiortc.jitterbuffer.JitterFrame)


class EncodedTrack(MediaStreamTrack):
    """A track playing the encoded frames that ``receiver`` gets, as ``av.Packet`` objects.

    When the consumer falls behind, frames are dropped; for video the remote
    decoder then asks for a keyframe and the picture recovers.
    """

    def __init__(self, receiver: RTCRtpReceiver, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._frames: asyncio.Queue[_Frame | None] = asyncio.Queue(QUEUE_FRAMES)
        _EncodedFrameTap(self._frames).install(receiver)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._frames.get()
        if item is None:
            self.stop()
            raise MediaStreamError
        codec, frame = item
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = Fraction(1, codec.clockRate)
        return packet


class _EncodedFrameTap:
    """Takes the place of an ``RTCRtpReceiver``'s decoder queue.

    The receiver calls ``put((codec, frame))`` on the event loop for every
    reassembled frame and ``put(None)`` when it stops. aiortc's decoder thread
    calls ``get()``; it returns (with ``None``) only once the receiver stops, so
    the thread ends without ever creating a decoder.
    """

    def __init__(self, frames: asyncio.Queue[_Frame | None]) -> None:
        self._frames = frames
        self._stopped = threading.Event()

    def install(self, receiver: RTCRtpReceiver) -> None:
        if not hasattr(receiver, _DECODER_QUEUE):
            raise RuntimeError(f"aiortc changed: RTCRtpReceiver has no {_DECODER_QUEUE}")
        setattr(receiver, _DECODER_QUEUE, self)

    def put(self, item: _Frame | None) -> None:
        if item is None:
            self._stopped.set()
        with contextlib.suppress(asyncio.QueueFull):
            self._frames.put_nowait(item)

    def get(self) -> None:
        self._stopped.wait()
