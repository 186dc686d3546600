"""Debian's Chromium for the browser journeys, driven by Playwright — never a downloaded
browser (Playwright's own download does not work on these machines)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from playwright.async_api import Browser, async_playwright

from conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"


@asynccontextmanager
async def launch_chromium(args: Sequence[str]) -> AsyncIterator[Browser]:
    """A headless Chromium with ``args``; missing Chromium skips (fails when CI=true)."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=list(args))
        try:
            yield browser
        finally:
            await browser.close()
