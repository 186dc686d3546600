"""The echo peer returns a caller's own media, frame for frame, without transcoding.

An aiortc client in the test sends a generated 320×240 picture and a tone to
the echo service and decodes what comes back. Spies on aiortc's codec classes
prove the echo only *packs* the received frames: every encoder that packed a
frame never encoded one, and the only decoders in the process are the client's.
A keyframe request to the echo reaches the client's own encoder.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.codecs import opus, vpx
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack

from videotermin.media.echo import EchoBusy, EchoService, InvalidOffer
from videotermin.settings import Settings

WIDTH, HEIGHT = 320, 240


class PatternTrack(VideoStreamTrack):
    """A 320×240 picture with a moving bar, so the encoder has something to encode."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        offset = (pts // 3000) % WIDTH
        luma = bytes((x + offset) % 256 for x in range(WIDTH)) * HEIGHT
        frame.planes[0].update(luma)
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


class Spy:
    """Records which codec objects did what, by ``id``."""

    def __init__(self) -> None:
        self.encoded: set[int] = set()
        self.packed: set[int] = set()
        self.decoders: set[int] = set()

    def wrap(self, cls: type, name: str, into: set[int]) -> Callable[..., Any]:
        original = getattr(cls, name)

        def spy(this: Any, *args: Any, **kwargs: Any) -> Any:
            into.add(id(this))
            return original(this, *args, **kwargs)

        return spy


@pytest.fixture
def codec_spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    spy = Spy()
    for cls in (vpx.Vp8Encoder, opus.OpusEncoder):
        monkeypatch.setattr(cls, "encode", spy.wrap(cls, "encode", spy.encoded))
        monkeypatch.setattr(cls, "pack", spy.wrap(cls, "pack", spy.packed))
    for cls in (vpx.Vp8Decoder, opus.OpusDecoder):
        monkeypatch.setattr(cls, "__init__", spy.wrap(cls, "__init__", spy.decoders))
    yield spy


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path, testcall_seconds=2, **overrides)


async def offer_from(client: RTCPeerConnection) -> str:
    await client.setLocalDescription(await client.createOffer())
    return client.localDescription.sdp


async def first_frames(track: MediaStreamTrack, count: int) -> list[Any]:
    return [await track.recv() for _ in range(count)]


async def test_echo_returns_video_and_audio_without_transcoding(
    tmp_path: Path, codec_spy: Spy
) -> None:
    echo = EchoService(settings(tmp_path))
    client = RTCPeerConnection()
    client.addTrack(PatternTrack())
    client.addTrack(AudioStreamTrack())
    returned: dict[str, asyncio.Future[MediaStreamTrack]] = {
        "audio": asyncio.get_running_loop().create_future(),
        "video": asyncio.get_running_loop().create_future(),
    }
    client.on("track", lambda track: returned[track.kind].set_result(track))
    try:
        answer = await echo.answer(await offer_from(client))
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        assert echo.active_calls == 1

        video = await asyncio.wait_for(returned["video"], 5)
        frames = await asyncio.wait_for(first_frames(video, 10), 10)
        audio = await asyncio.wait_for(returned["audio"], 5)
        sounds = await asyncio.wait_for(first_frames(audio, 5), 10)
    finally:
        await client.close()
        await echo.close()

    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    assert all(isinstance(s, av.AudioFrame) for s in sounds)
    assert codec_spy.packed, "the echo sent pre-encoded frames"
    assert not codec_spy.packed & codec_spy.encoded, "no echo encoder ever encoded a frame"
    assert len(codec_spy.decoders) == 2, "only the client's audio and video decoders exist"
    assert echo.active_calls == 0


async def test_a_keyframe_request_reaches_the_callers_own_encoder(tmp_path: Path) -> None:
    """The echo cannot make keyframes; a PLI to its sender must reach the caller's sender."""
    echo = EchoService(settings(tmp_path))
    client = RTCPeerConnection()
    sender = client.addTrack(PatternTrack())
    requests: list[float] = []
    sender._send_keyframe = lambda: requests.append(time.monotonic())  # type: ignore[method-assign]
    returned: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    client.on("track", returned.set_result)
    try:
        answer = await echo.answer(await offer_from(client))
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(first_frames(await asyncio.wait_for(returned, 5), 3), 10)
        receiver = client.getReceivers()[0]
        echo_ssrc = receiver.getSynchronizationSources()[0].source
        assert requests == [], "nothing asked for a keyframe yet"

        await receiver._send_rtcp_pli(echo_ssrc)
        async with asyncio.timeout(3):
            while not requests:
                await asyncio.sleep(0.05)
    finally:
        await client.close()
        await echo.close()

    assert requests


async def test_echo_hangs_up_after_the_test_call_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("videotermin.media.echo.GRACE_SECONDS", 0.5)
    echo = EchoService(settings(tmp_path))
    client = RTCPeerConnection()
    client.addTrack(AudioStreamTrack())
    try:
        answer = await echo.answer(await offer_from(client))
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        assert echo.active_calls == 1
        async with asyncio.timeout(6):
            while echo.active_calls:
                await asyncio.sleep(0.1)
    finally:
        await client.close()
        await echo.close()


async def test_echo_refuses_a_call_beyond_the_limit(tmp_path: Path) -> None:
    echo = EchoService(settings(tmp_path, testcall_max_concurrent=1))
    clients = [RTCPeerConnection(), RTCPeerConnection()]
    for client in clients:
        client.addTrack(AudioStreamTrack())
    try:
        await echo.answer(await offer_from(clients[0]))
        with pytest.raises(EchoBusy) as busy:
            await echo.answer(await offer_from(clients[1]))
        assert busy.value.retry_after >= 1
        assert echo.active_calls == 1
    finally:
        for client in clients:
            await client.close()
        await echo.close()
    assert echo.active_calls == 0


@pytest.mark.parametrize("sdp", ["", "v=0\r\nnonsense", "x" * 200])
async def test_echo_refuses_a_malformed_offer_and_frees_the_slot(tmp_path: Path, sdp: str) -> None:
    echo = EchoService(settings(tmp_path))
    with pytest.raises(InvalidOffer):
        await echo.answer(sdp)
    assert echo.active_calls == 0
    await echo.close()


async def test_echo_refuses_more_than_one_video_section(tmp_path: Path) -> None:
    echo = EchoService(settings(tmp_path))
    client = RTCPeerConnection()
    client.addTransceiver("video")
    client.addTransceiver("video")
    try:
        with pytest.raises(InvalidOffer):
            await echo.answer(await offer_from(client))
        assert echo.active_calls == 0
    finally:
        await client.close()
        await echo.close()
