"""Debian's Chromium for the browser journeys, driven by Playwright — never a downloaded
browser (Playwright's own download does not work on these machines).

The flags every journey launches it with live here, so that a test module needs no other
test module for them; so does a fresh page that collects what its console reports."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from playwright.async_api import Browser, Page, async_playwright

from conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"

# Headless on a build machine: no sandbox, no GPU, nothing fetched or synced meanwhile.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A fake camera and microphone, granted without asking.
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


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


async def new_page(browser: Browser, width: int) -> tuple[Page, list[str]]:
    """A page ``width`` px wide in a fresh German context, and the console errors and
    uncaught exceptions it reports."""
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors
