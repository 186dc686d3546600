"""Firefox ESR for the Python tests, driven step by step over WebDriver BiDi.

Playwright's BiDi mode does not work with Debian's Firefox ESR, puppeteer-core
does; so the test runs tests/e2e/firefox/driver.mjs (Node) as a subprocess and
sends it one command per line (its header documents the protocol). Each method
here is one step and returns when Firefox has done it, so a test can interleave
Firefox steps with Playwright steps in Chromium.

Without Firefox, Node or puppeteer-core (``npm install``) the tests skip — and
fail with ``CI=true`` (skip_or_fail).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from conftest import skip_or_fail

FIREFOX = "/usr/bin/firefox-esr"
ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("firefox") / "driver.mjs"
PUPPETEER = ROOT / "node_modules" / "puppeteer-core"
START_SECONDS = 60
# Longer than any step's own timeout in the driver, so the driver reports first.
ANSWER_SECONDS = 120
# Answers carry page values (an evaluated expression may return a lot).
LINE_LIMIT = 16 * 1024 * 1024


class FirefoxError(Exception):
    """A step Firefox could not do, with the driver's reason."""


class Firefox:
    """One running Firefox with one page; every method is one step of the protocol."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self._process = process
        self._log = log
        self._ids = itertools.count(1)

    async def init(self, script: str) -> None:
        """Run ``script`` in every page this Firefox opens from now on, before its own."""
        await self._call("init", script=script)

    async def goto(self, url: str, *, timeout_ms: int = 15_000) -> str:
        return str(await self._call("goto", url=url, timeout=timeout_ms))

    async def wait(
        self, selector: str, text: str | None = None, *, timeout_ms: int = 10_000
    ) -> str:
        """Wait for a visible element matching ``selector`` (containing ``text``); its text."""
        return str(await self._call("wait", selector=selector, text=text, timeout=timeout_ms))

    async def click(
        self, selector: str, text: str | None = None, *, timeout_ms: int = 10_000
    ) -> None:
        await self._call("click", selector=selector, text=text, timeout=timeout_ms)

    async def type(self, selector: str, value: str, *, timeout_ms: int = 10_000) -> None:
        """Type ``value`` into the visible element matching ``selector``, key by key."""
        await self._call("type", selector=selector, value=value, timeout=timeout_ms)

    async def cookie(self, url: str, name: str, value: str) -> None:
        """Set a cookie for ``url`` as the browser would store one the site sent."""
        await self._call("cookie", url=url, name=name, value=value)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        return await self._call("evaluate", expression=expression)

    async def until(self, expression: str, *, timeout_ms: int = 10_000) -> Any:
        """Evaluate ``expression`` again until it is truthy; that value."""
        return await self._call("until", expression=expression, timeout=timeout_ms)

    async def viewport(self, width: int, height: int) -> None:
        """Size the page's window (a phone is 360 px wide), as a person's screen would."""
        await self._call("viewport", width=width, height=height)

    async def screenshot(self, path: Path) -> None:
        """The whole page as a PNG at ``path``, to look at what Firefox drew."""
        await self._call("screenshot", path=str(path))

    async def errors(self) -> list[str]:
        """Console errors and uncaught exceptions the page reported so far."""
        return list(await self._call("errors"))

    async def _call(self, op: str, **fields: Any) -> Any:
        command_id = next(self._ids)
        command = {"id": command_id, "op": op, **{k: v for k, v in fields.items() if v is not None}}
        answer = await self._exchange(command)
        if answer.get("id") != command_id:
            raise FirefoxError(f"answer out of order: {answer!r}")
        if not answer.get("ok"):
            raise FirefoxError(f"{op} {str(fields)[:200]} failed: {answer.get('error')}")
        return answer.get("value")

    async def _exchange(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()
        line = await asyncio.wait_for(self._process.stdout.readline(), ANSWER_SECONDS)
        if not line:
            raise FirefoxError(f"the driver ended: {self.log_tail()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-2000:]

    async def close(self) -> None:
        with contextlib.suppress(FirefoxError, ConnectionError, TimeoutError):
            await self._call("close")
        if await self._ended(within=20):
            return
        # SIGTERM lets puppeteer close Firefox; a killed driver would leave it running.
        self._process.terminate()
        if not await self._ended(within=10):
            self._process.kill()
            await self._process.wait()

    async def _ended(self, *, within: float) -> bool:
        try:
            await asyncio.wait_for(self._process.wait(), within)
        except TimeoutError:
            return False
        return True


def firefox_missing() -> str | None:
    """Why Firefox cannot be driven here, or None."""
    if not os.path.exists(FIREFOX):
        return f"{FIREFOX} is missing (apt-get install firefox-esr)"
    if shutil.which("node") is None:
        return "node is missing"
    if not PUPPETEER.exists():
        return "puppeteer-core is missing (npm install)"
    return None


@contextlib.asynccontextmanager
async def firefox() -> AsyncIterator[Firefox]:
    """A headless Firefox ESR with fake camera and microphone, closed afterwards."""
    missing = firefox_missing()
    if missing:
        skip_or_fail(missing)
    with tempfile.TemporaryDirectory(prefix="firefox-driver-") as workdir:
        log = Path(workdir) / "driver.log"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                "node",
                str(DRIVER),
                cwd=ROOT,
                env={**os.environ, "FIREFOX": FIREFOX},
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                limit=LINE_LIMIT,
            )
        browser = Firefox(process, log)
        try:
            assert process.stdout
            ready = await asyncio.wait_for(process.stdout.readline(), START_SECONDS)
            if not ready or not json.loads(ready).get("ready"):
                raise FirefoxError(f"Firefox did not start: {browser.log_tail()}")
            yield browser
        finally:
            await browser.close()
