"""Failure class "log injection": a value in a request (an encoded line break, a space, an
escape sequence in the path) never forges a log line or a field — checked on the real
app's requests, written through the formatter ``videotermin serve`` installs."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from conftest import LiveServer
from videotermin.logs import OneLineFormatter, one_line, setup_logging

LINE = re.compile(r"^ts=\S+ \S+ level=[A-Z]+ logger=[\w.]+ ")


@pytest.fixture
def served_log() -> Iterator[io.StringIO]:
    """The root logger as ``videotermin serve`` sets it up, its stream kept for the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging("INFO")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_log_injection_through_an_encoded_path_stays_inside_its_line(
    live_server: LiveServer, served_log: io.StringIO
) -> None:
    forged = "ts=2026-12-02 level=ERROR logger=videotermin.auth login admin ok"
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        for path in (
            "/x%0d%0a" + forged.replace(" ", "%20"),
            "/x%0a%1b[2J%e2%80%a8" + forged.replace(" ", "%20"),
            "/v/secret%0a" + forged.replace(" ", "%20"),
            "/x%20status=200%20ms=1",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404
    # A line is written once its answer is sent, which the client may see first.
    for _ in range(100):
        lines = [line for line in served_log.getvalue().splitlines() if "request " in line]
        access = [line for line in lines if "logger=videotermin.access" in line]
        if len(access) >= 4:
            break
        await asyncio.sleep(0.05)
    assert len(access) == 4, lines
    for line in lines:
        assert LINE.match(line), line
        assert "\x1b" not in line and "\u2028" not in line
    assert not any(line.startswith(forged) for line in lines)
    # The order of lines may differ.
    log = "\n".join(access)
    assert "path=/x%0D%0Ats%3D" not in log  # "=" is kept: the path as on the wire
    assert "path=/x%0D%0Ats=2026-12-02%20level=ERROR" in log
    assert "path=/x%0A%1B%5B2J%E2%80%A8ts=2026-12-02%20level=ERROR" in log
    assert "path=/v/<token> " in log and "secret" not in log
    (spaced,) = [line for line in access if "path=/x%20status=200%20ms=1 " in line]
    assert " status=404 " in spaced


def test_every_record_is_one_line_whatever_a_library_logs() -> None:
    formatter = OneLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("lib", logging.WARNING, "f", 1, "got %s", ("a\nb\r\x00\x85",), None)
    assert formatter.format(record) == "WARNING got a\\nb\\r\\x00\\x85"
    assert one_line("plain – äöü €") == "plain – äöü €"
