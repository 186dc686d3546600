"""Failure class "a page nobody looked at", in Firefox ESR: every page of
test_every_page_layout.py — the citizen's in each state of a link, the staff's, the
support desk's, the administration's, the error and refusal pages — at 360 px and
1280 px as Firefox draws them, through the same audit (a page wider than its window, a
word broken across lines, controls drawn over each other, choices of different sizes, a
wrapped rating scale). Firefox draws form controls its own way (its radio buttons are
wider, which once wrapped the survey's scale), so Chromium's verdict is not enough.
Screenshots are kept in ``LAYOUT_SHOTS`` as ``firefox-…``.
"""

from __future__ import annotations

from typing import Any

import pytest
from firefox_driver import Firefox, firefox
from page_audit import AUDIT, SHOTS, WIDTHS, every_page, report
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]
HEIGHT = 900


async def log_in(fox: Firefox, server: LiveServer, name: str) -> None:
    """Log in by typing, and wait for the page the login leads to."""
    await fox.goto(f"{server.url}/login")
    await fox.type("input[name=username]", name)
    await fox.type("input[name=password]", PASSWORD)
    await fox.click("button[type=submit]", "Anmelden")
    await fox.until("location.pathname !== '/login' && document.readyState === 'complete'")


async def look(fox: Firefox, server: LiveServer, paths: list[str], who: str) -> dict[str, Any]:
    """Every path at each width; what is wrong, by page."""
    found: dict[str, Any] = {}
    for width in WIDTHS:
        await fox.viewport(width, HEIGHT)
        for path in paths:
            await fox.goto(server.url + path)
            name = f"{who or 'anonymous'}{path}".replace("/", "_").replace("?", "_")[:120]
            await fox.screenshot(SHOTS / f"firefox-{name}-{width}.png")
            problems = await fox.evaluate(f"({AUDIT})()")
            if problems:
                found[f"{path} at {width} px"] = problems
    return found


async def test_every_page_reads_well_in_firefox_at_360_and_1280_px(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    pages = await every_page(db, settings, clock)
    found: dict[str, Any] = {}
    for who, paths in pages.by_login.items():
        async with firefox() as fox:  # a fresh profile: nobody is logged in
            if who:
                await log_in(fox, live_server, who)
            found |= await look(fox, live_server, paths, who)
    async with firefox() as fox:
        await log_in(fox, live_server, "support-sven")
        await fox.type("input[name=code]", pages.support_code)
        await fox.click(".support-search button[type=submit]")
        looked_up = await fox.until(
            "location.pathname.includes('/teilnehmende/') && location.pathname"
        )
        found |= await look(fox, live_server, ["/support", looked_up], "support-sven")
    assert not found, report(found)
