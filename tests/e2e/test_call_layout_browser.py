"""The call's layout in Debian's Chromium (issue 10, item 6): the citizen's room and the
advisor's desk, each at 360×740, 740×360, 768×1024, 1280×720 and 1920×1080, with two
people, with the advisor's shared screen and with three people (the interpreter joins).

One browser and one call: Clara is admitted (two people), the advisor shares the screen
and stops again, then Ivo is admitted (three people). For each page, size and scenario,
with every panel closed (and, for the advisor at 1280×720 and 1920×1080, once more with
the waiting list open beside the call, where it must cover no tile), the test resizes
the page, waits two animation frames (and any finite transition in the call) and checks:

1. no page scroll (the scrolling element is no larger than the viewport);
2. every visible button of the control bar lies inside the viewport, is at least 44×44
   CSS px, has a text label and is not overlapped (``elementFromPoint`` at its centre
   and just inside its — rounded — corners hits the button);
3. every other person's picture — the tile, and the picture drawn in it under
   ``object-fit: contain`` — is at least three times the self-view tile, pictures are not
   cropped, and a shared screen is the largest tile;
4. axe-core finds nothing;
5. Tab walks the bar in its visual order (left to right, or top to bottom for a bar at
   the side — a bar taller than wide);
6. with two people, after the rest: "Eigenes Bild verschieben" moves the self view to another corner
   (and the controls stay clear), "Eigenes Bild" in the bar hides it and shows it again.

Every failure is collected with its page, size and scenario, so one run reports the whole
picture; the test fails at the end with the list. A screenshot of each case goes to
``$VIDEOTERMIN_SCREENSHOTS`` (or a pytest temporary folder), with failures.txt and the
measured boxes in measurements.json; the path is printed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from call_pages import (
    CLARA,
    IVO,
    START,
    advisor_call_page,
    appointment_with,
    browser,
    received_video,
    tile,
    waiting,
)
from playwright.async_api import Browser, Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

__all__ = ["browser"]  # the fixture, launched with the fake devices and screen capture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

SIZES = [(360, 740), (740, 360), (768, 1024), (1280, 720), (1920, 1080)]
WIDE = [(1280, 720), (1920, 1080)]  # panels beside the call
BAR = "#call .call-bar"
# The bar's controls by accessible name; each must be in the bar (visible or not, as the
# size allows). This is desktop Chromium: screen sharing and full screen exist.
CONTROLS = ["Stummschalten", "Kamera aus", "Bildschirm teilen", "Chat", "Teilnehmende"]
CONTROLS += ["Geräte", "Vollbild", "Eigenes Bild", "Auflegen"]
ROLE_CONTROLS = {"citizen": ["Hilfe"], "advisor": ["Warteraum", "Für alle beenden"]}
# On screen at every size.
ALWAYS_VISIBLE = ["Stummschalten", "Kamera aus", "Auflegen"]

# Two animation frames, then every finite animation or transition in the call is done.
SETTLE = """async () => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  await frame();
  await frame();
  const call = document.getElementById('call');
  const running = (call ? call.getAnimations({ subtree: true }) : []).filter(
    (a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity));
  await Promise.all(running.map((a) => a.finished.catch(() => null)));
  await frame();
}"""

# Everything the checks need, measured in one go. ``bar`` falls back to the old
# ``role=group`` controls only so the rest can still be measured (reported as a failure).
MEASURE = """(barSelector) => {
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const scroller = document.scrollingElement;
  const shown = (el) => Boolean(el) && !el.closest('[hidden]') && el.checkVisibility(
    { checkOpacity: true, checkVisibilityCSS: true }) && (() => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  })();
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom,
             width: r.width, height: r.height };
  };
  const clip = (r) => {
    const w = Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0));
    const h = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    return w * h;
  };
  const describe = (el) => {
    if (!el) return 'nothing (outside the viewport)';
    const label = (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40);
    const cls = el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}`
      + (label ? ` "${label.replace(/\\s+/g, ' ')}"` : '');
  };
  const nameOf = (b) => (b.getAttribute('aria-label') || b.innerText || '')
    .replace(/\\s+/g, ' ').trim();
  const radius = (b, r) => {
    const style = getComputedStyle(b);
    let most = 0;
    for (const side of ['borderTopLeftRadius', 'borderTopRightRadius',
                        'borderBottomLeftRadius', 'borderBottomRightRadius']) {
      for (const part of style[side].split(' ')) {
        const value = part.endsWith('%')
          ? parseFloat(part) / 100 * Math.min(r.width, r.height) : parseFloat(part) || 0;
        most = Math.max(most, value);
      }
    }
    return Math.min(most, Math.min(r.width, r.height) / 2);
  };

  const result = {
    viewport: { width: vw, height: vh },
    scroll: { width: scroller.scrollWidth, height: scroller.scrollHeight },
    inCall: document.body.classList.contains('in-call'),
    barFound: Boolean(document.querySelector(barSelector)),
    bar: null, buttons: [], tiles: [], stage: null, panels: [],
  };
  const bar = document.querySelector(barSelector)
    || document.querySelector('#call [role=group]');
  if (bar) {
    result.bar = box(bar);
    const buttons = [...bar.querySelectorAll('button')].filter(shown);
    result.buttons = buttons.map((b) => {
      const r = box(b);
      // Just inside each corner, inside the rounding (a circle's corner is not the button).
      const inset = Math.min(Math.max(2, radius(b, r) * (1 - Math.SQRT1_2) + 2),
                             r.width / 2, r.height / 2);
      const points = {
        centre: [r.left + r.width / 2, r.top + r.height / 2],
        'top left': [r.left + inset, r.top + inset],
        'top right': [r.right - inset, r.top + inset],
        'bottom left': [r.left + inset, r.bottom - inset],
        'bottom right': [r.right - inset, r.bottom - inset],
      };
      const covered = [];
      for (const [where, [x, y]] of Object.entries(points)) {
        if (x < 0 || y < 0 || x >= vw || y >= vh) continue; // reported as outside
        const hit = document.elementFromPoint(x, y);
        if (!(hit && (hit === b || b.contains(hit)))) covered.push(`${where}: ${describe(hit)}`);
      }
      return { name: nameOf(b), box: r, covered, disabled: b.disabled,
               text: (b.innerText || '').trim() !== '' };
    });
  }

  for (const figure of document.querySelectorAll('#call figure.tile')) {
    const self = figure.classList.contains('tile--self');
    const screen = figure.classList.contains('tile--screen');
    const visible = shown(figure) && figure.dataset.hidden !== 'true';
    const video = figure.querySelector('video');
    const entry = {
      kind: self ? 'self' : screen ? 'screen' : 'remote',
      inGrid: Boolean(figure.closest('#call .call-grid')),
      name: (figure.querySelector('.tile__name')?.textContent || '').trim(),
      visible,
      hiddenAttr: figure.hidden || figure.dataset.hidden === 'true',
      box: box(figure),
      area: visible ? clip(box(figure)) : 0,
      video: null,
    };
    if (video) {
      const r = box(video);
      const fit = getComputedStyle(video).objectFit;
      const { videoWidth: w, videoHeight: h } = video;
      let picture = 0;
      let drawn = null;
      if (shown(video) && w > 0 && h > 0) {
        let scale = fit === 'contain' || fit === 'scale-down'
          ? Math.min(r.width / w, r.height / h) : fit === 'none' ? 1 : null;
        if (fit === 'scale-down') scale = Math.min(scale, 1);
        if (scale !== null) {
          const dw = w * scale;
          const dh = h * scale;
          const left = r.left + (r.width - dw) / 2;
          const top = r.top + (r.height - dh) / 2;
          drawn = { left, top, right: left + dw, bottom: top + dh, width: dw, height: dh };
        } else {
          drawn = r; // cover or fill: the element's box, cropped or stretched
        }
        picture = clip(drawn);
      }
      entry.video = { box: r, fit, videoWidth: w, videoHeight: h, drawn, picture,
                      shown: shown(video) };
    }
    result.tiles.push(entry);
  }

  result.panels = [...document.querySelectorAll('#call .call-panel')].filter(shown)
    .map((panel) => ({ id: panel.id, box: box(panel) }));

  const selfTile = document.querySelector('#call figure.tile--self');
  if (selfTile) {
    let stage = selfTile.closest('.call-stage') || selfTile.offsetParent;
    if (!stage || !document.getElementById('call').contains(stage)) {
      stage = document.getElementById('call');
    }
    result.stage = { box: box(stage), element: describe(stage) };
  }
  return result;
}"""

# Which visible bar button has the focus (its index in MEASURE's list), -1 for none.
FOCUSED = """(barSelector) => {
  const bar = document.querySelector(barSelector)
    || document.querySelector('#call [role=group]');
  if (!bar) return -1;
  const shown = (el) => !el.closest('[hidden]') && el.checkVisibility(
    { checkOpacity: true, checkVisibilityCSS: true }) && (() => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  })();
  const buttons = [...bar.querySelectorAll('button')].filter(shown);
  return buttons.indexOf(document.activeElement);
}"""

FOCUS_NTH = """([barSelector, n]) => {
  const bar = document.querySelector(barSelector)
    || document.querySelector('#call [role=group]');
  const shown = (el) => !el.closest('[hidden]') && el.checkVisibility(
    { checkOpacity: true, checkVisibilityCSS: true }) && (() => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  })();
  [...bar.querySelectorAll('button')].filter(shown)[n].focus();
}"""

TOLERANCE = 0.5  # CSS px of sub-pixel rounding


class Findings:
    """Failures per case, collected rather than raised."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.measured: dict[str, Any] = {}
        self.cases = 0
        self.case = ""

    @contextmanager
    def at(self, case: str) -> Iterator[None]:
        outer, self.case = self.case, case
        try:
            yield
        finally:
            self.case = outer

    def fail(self, what: str) -> None:
        self.failures.append(f"{self.case}: {what}")

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.fail(what)


def px(value: float) -> str:
    return f"{value:.0f}"


def area(value: float) -> str:
    return f"{value / 1000:.1f}k px²"


def visual_order(buttons: list[dict[str, Any]], side: bool) -> list[int]:
    """Indices of ``buttons`` in reading order of the bar: rows top to bottom, each left
    to right; for a bar at the side columns left to right, each top to bottom."""
    main, cross = ("left", "top") if not side else ("top", "left")
    cross_end = "bottom" if not side else "right"
    lines: list[list[int]] = []
    for i in sorted(range(len(buttons)), key=lambda i: buttons[i]["box"][cross]):
        b = buttons[i]["box"]
        middle = (b[cross] + b[cross_end]) / 2
        line = lines[-1] if lines else None
        if line and buttons[line[0]]["box"][cross] <= middle <= buttons[line[0]]["box"][cross_end]:
            line.append(i)
        else:
            lines.append([i])
    return [i for line in lines for i in sorted(line, key=lambda i: buttons[i]["box"][main])]


def corner(tile_box: dict[str, float], stage: dict[str, float]) -> str:
    x = (tile_box["left"] + tile_box["right"]) / 2
    y = (tile_box["top"] + tile_box["bottom"]) / 2
    vertical = "top" if y < (stage["top"] + stage["bottom"]) / 2 else "bottom"
    horizontal = "left" if x < (stage["left"] + stage["right"]) / 2 else "right"
    return f"{vertical} {horizontal}"


async def settle(page: Page) -> None:
    await page.evaluate(SETTLE)


async def measure(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate(MEASURE, BAR))


def check_scroll(found: Findings, m: dict[str, Any]) -> None:
    view, scroll = m["viewport"], m["scroll"]
    found.check(
        scroll["height"] <= view["height"],
        f"page scrolls vertically: scrollHeight {scroll['height']} > innerHeight {view['height']}",
    )
    found.check(
        scroll["width"] <= view["width"],
        f"page scrolls sideways: scrollWidth {scroll['width']} > innerWidth {view['width']}",
    )


def check_controls(found: Findings, m: dict[str, Any], role: str) -> None:
    found.check(m["inCall"], "body has no class in-call")
    found.check(m["barFound"], f"no {BAR} (measured the old #call [role=group] instead)")
    if m["bar"] is None:
        found.fail("no control bar at all")
        return
    view = m["viewport"]
    names = [b["name"] for b in m["buttons"]]
    for name in ALWAYS_VISIBLE:
        found.check(any(named(n, name) for n in names), f"no visible bar button {name!r}")
    for b in m["buttons"]:
        box, label = b["box"], f"button {b['name']!r}"
        inside = (
            box["left"] >= -TOLERANCE
            and box["top"] >= -TOLERANCE
            and box["right"] <= view["width"] + TOLERANCE
            and box["bottom"] <= view["height"] + TOLERANCE
        )
        found.check(
            inside,
            f"{label} not inside the viewport: left {px(box['left'])}, top {px(box['top'])}, "
            f"right {px(box['right'])}, bottom {px(box['bottom'])} "
            f"(viewport {view['width']}×{view['height']})",
        )
        found.check(
            box["width"] >= 44 - TOLERANCE and box["height"] >= 44 - TOLERANCE,
            f"{label} smaller than 44×44: {box['width']:.1f}×{box['height']:.1f}",
        )
        found.check(b["text"], f"{label} has no visible text label")
        found.check(not b["covered"], f"{label} overlapped at {'; '.join(b['covered'])}")


def name_pattern(wanted: str) -> re.Pattern[str]:
    """A name ending in the words ``wanted`` ("Gespräch für alle beenden" is "Für alle
    beenden"), perhaps followed by a state mark (" ✓", " ✕": CSS content, so part of the
    accessible name) or a count (unread chat messages, people waiting)."""
    return re.compile(rf"(^|\s){re.escape(wanted)}( ?[^\w\s]+)?( \d+)?$", re.IGNORECASE)


def named(name: str, wanted: str) -> bool:
    return bool(name_pattern(wanted).fullmatch(name))


def control(page: Page, name: str) -> Locator:
    """The call's button ``name``, whatever its state, to click (whether it is in the
    bar is checked by check_controls_present)."""
    return page.locator("#call").get_by_role("button", name=name_pattern(name))


async def check_controls_present(found: Findings, page: Page, role: str) -> None:
    bar = page.locator(BAR)
    if await bar.count() == 0:
        return  # reported by check_controls
    for name in [*CONTROLS, *ROLE_CONTROLS[role]]:
        count = await bar.get_by_role(
            "button", name=name_pattern(name), include_hidden=True
        ).count()
        found.check(count == 1, f"the bar has {count} buttons named {name!r}, not one")


def check_pictures(found: Findings, m: dict[str, Any], remotes: int, screen: bool) -> None:
    tiles = m["tiles"]
    selves = [t for t in tiles if t["kind"] == "self"]
    others = [t for t in tiles if t["kind"] == "remote" and t["visible"]]
    screens = [t for t in tiles if t["kind"] == "screen" and t["visible"]]
    for t in tiles:
        if t["kind"] != "self":
            found.check(t["inGrid"], f"{t['kind']} tile {t['name']!r} is not in .call-grid")
    found.check(len(selves) == 1, f"{len(selves)} self tiles, not one")
    found.check(
        len(others) == remotes,
        f"{len(others)} visible remote tiles, not {remotes}: {[t['name'] for t in others]}",
    )
    found.check(len(screens) == int(screen), f"{len(screens)} visible screen tiles")
    for t in others + screens:
        video = t["video"]
        if video is None or not video["shown"] or not video["videoWidth"]:
            found.fail(f"{t['kind']} tile {t['name']!r} shows no picture: {video}")
            continue
        found.check(
            video["fit"] in ("contain", "scale-down"),
            f"{t['kind']} picture {t['name']!r} has object-fit {video['fit']} (cropped or "
            "stretched), not contain",
        )
    self_tile = selves[0] if selves else None
    if self_tile and self_tile["visible"]:
        self_area = self_tile["area"]
        for t in others:
            picture = t["video"]["picture"] if t["video"] else 0
            found.check(
                t["area"] >= 3 * self_area,
                f"tile of {t['name']!r} {area(t['area'])} in view "
                f"({px(t['box']['width'])}×{px(t['box']['height'])}) < 3 × self tile "
                f"{area(self_area)} ({px(self_tile['box']['width'])}×"
                f"{px(self_tile['box']['height'])}); ratio {ratio(t['area'], self_area)}",
            )
            drawn = (t["video"] or {}).get("drawn") or {"width": 0, "height": 0}
            found.check(
                picture >= 3 * self_area,
                f"picture of {t['name']!r} {area(picture)} in view "
                f"({px(drawn['width'])}×{px(drawn['height'])} drawn) < 3 × self tile "
                f"{area(self_area)}; ratio {ratio(picture, self_area)}",
            )
    else:
        found.fail("self view not visible (before it was hidden on purpose)")
    for s in screens:
        for t in tiles:
            if t is s or not t["visible"]:
                continue
            found.check(
                s["area"] > t["area"],
                f"screen tile {area(s['area'])} not larger than {t['kind']} tile "
                f"{t['name']!r} {area(t['area'])}",
            )
        screen_picture = s["video"]["picture"] if s["video"] else 0
        for t in others:
            picture = t["video"]["picture"] if t["video"] else 0
            found.check(
                screen_picture > picture,
                f"shared screen's picture {area(screen_picture)} not larger than the picture "
                f"of {t['name']!r} {area(picture)}",
            )


def check_panel_beside(found: Findings, m: dict[str, Any], panel: str) -> None:
    """The open panel sits beside the call: it covers no tile."""
    panels = [p for p in m["panels"] if p["id"] == panel]
    if not panels:
        found.fail(f"panel #{panel} not shown")
        return
    p = panels[0]["box"]
    for t in m["tiles"]:
        b = t["box"]
        overlap = max(0, min(p["right"], b["right"]) - max(p["left"], b["left"])) * max(
            0, min(p["bottom"], b["bottom"]) - max(p["top"], b["top"])
        )
        found.check(
            not t["visible"] or overlap <= 1,
            f"panel #{panel} covers {area(overlap)} of the {t['kind']} tile {t['name']!r}",
        )


async def close_panels(page: Page) -> None:
    """Close whatever panel is open (the advisor's waiting list opens by itself)."""
    opened = page.locator("#call .call-bar [aria-controls][aria-expanded=true]")
    while await opened.count():
        await opened.first.click()
    await settle(page)


def summary(m: dict[str, Any]) -> dict[str, Any]:
    """What a person reading measurements.json wants: scroll, the bar, each picture."""
    self_area = sum(t["area"] for t in m["tiles"] if t["kind"] == "self")
    return {
        "viewport": m["viewport"],
        "scroll": m["scroll"],
        "bar": m["bar"],
        "buttons": [b["name"] for b in m["buttons"]],
        "tiles": [
            {
                "kind": t["kind"],
                "name": t["name"],
                "tile": round(t["area"]),
                "picture": round(t["video"]["picture"]) if t["video"] else 0,
                "picture / self": round(t["video"]["picture"] / self_area, 2)
                if t["video"] and self_area and t["kind"] != "self"
                else None,
            }
            for t in m["tiles"]
        ],
    }


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "∞"


async def check_axe(found: Findings, page: Page) -> None:
    response = (await Axe().run(page)).response
    for v in response["violations"]:
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:4])
        found.fail(f"axe {v['id']} ({v['impact']}): {len(v['nodes'])} × {targets}")


async def check_keyboard(found: Findings, page: Page, m: dict[str, Any]) -> None:
    buttons = m["buttons"]
    if not buttons or m["bar"] is None:
        return
    side = m["bar"]["height"] > m["bar"]["width"]
    order = [i for i in visual_order(buttons, side) if not buttons[i]["disabled"]]
    if not order:
        return
    await page.evaluate(FOCUS_NTH, [BAR, order[0]])
    seen = [await page.evaluate(FOCUSED, BAR)]
    for _ in order[1:]:
        await page.keyboard.press("Tab")
        seen.append(await page.evaluate(FOCUSED, BAR))
    await page.evaluate("() => document.activeElement?.blur()")

    def names(indices: list[int]) -> list[str]:
        return [buttons[i]["name"] if i >= 0 else "(outside the bar)" for i in indices]

    found.check(
        seen == order,
        f"Tab order {names(seen)} is not the visual order "
        f"({'top to bottom' if side else 'left to right'}) {names(order)}",
    )


async def clicked(found: Findings, button: Locator, what: str) -> bool:
    """Click ``button``; a click the page does not let through is a failure."""
    try:
        await button.click(timeout=5_000)
    except PlaywrightTimeout as error:
        blocked = re.findall(r"(<[^>]+>[^\n]*) intercepts pointer events", str(error))
        found.fail(f"cannot click {what}: " + (blocked[-1] if blocked else str(error)[:300]))
        return False
    return True


async def check_self_view(found: Findings, page: Page, role: str) -> None:
    """Move the self view to another corner (controls stay clear), hide and show it."""
    await check_move(found, page, role)
    await check_hide(found, page)


async def check_move(found: Findings, page: Page, role: str) -> None:
    move = page.locator("#call").get_by_role("button", name="Eigenes Bild verschieben", exact=True)
    if await move.count() == 0 or not await move.is_visible():
        found.fail("no visible button 'Eigenes Bild verschieben'")
        return
    before = await measure(page)
    if not await clicked(found, move, "'Eigenes Bild verschieben'"):
        return
    await settle(page)
    after = await measure(page)
    old, new = self_box(before), self_box(after)
    if not (old and new and before["stage"] and after["stage"]):
        found.fail(f"self view not measurable around the move: {old} → {new}")
        return
    was = corner(old, before["stage"]["box"])
    now = corner(new, after["stage"]["box"])
    found.check(
        was != now,
        f"'Eigenes Bild verschieben' left the self view in the {now} corner "
        f"({px(old['left'])},{px(old['top'])} → {px(new['left'])},{px(new['top'])}) "
        f"of {after['stage']['element']}",
    )
    with found.at(f"{found.case}, self view moved to the {now} corner"):
        check_scroll(found, after)
        check_controls(found, after, role)


async def check_hide(found: Findings, page: Page) -> None:
    toggle = control(page, "Eigenes Bild")
    if await toggle.count() == 0 or not await toggle.is_visible():
        found.fail("no visible toggle 'Eigenes Bild'")
        return
    pressed = await toggle.get_attribute("aria-pressed")
    found.check(pressed in ("true", "false"), f"'Eigenes Bild' has aria-pressed={pressed!r}")
    if not await clicked(found, toggle, "'Eigenes Bild'"):
        return
    await settle(page)
    found.check(await self_gone(page), "after 'Eigenes Bild' the self view is still visible")
    found.check(
        await toggle.get_attribute("aria-pressed") != pressed,
        f"'Eigenes Bild' kept aria-pressed={pressed!r} when hiding",
    )
    if not await clicked(found, toggle, "'Eigenes Bild' again"):
        return
    await settle(page)
    found.check(not await self_gone(page), "after 'Eigenes Bild' again the self view is not back")
    found.check(
        await toggle.get_attribute("aria-pressed") == pressed,
        f"'Eigenes Bild' did not return to aria-pressed={pressed!r}",
    )


def self_box(m: dict[str, Any]) -> dict[str, float] | None:
    selves = [t for t in m["tiles"] if t["kind"] == "self" and t["visible"]]
    return selves[0]["box"] if selves else None


async def self_gone(page: Page) -> bool:
    """Hidden as the contract says (``hidden`` or ``data-hidden="true"``) and not drawn."""
    self_tile = page.locator("#call figure.tile--self")
    if await self_tile.count() == 0:
        return True
    marked = await self_tile.evaluate("(t) => t.hidden || t.dataset.hidden === 'true'")
    return bool(marked) and not await self_tile.locator("video").is_visible()


async def check_case(
    found: Findings,
    page: Page,
    role: str,
    scenario: str,
    size: tuple[int, int],
    *,
    remotes: int,
    screen: bool,
    folder: Path,
    self_view: bool,
    panel: str | None = None,
) -> None:
    width, height = size
    await page.set_viewport_size({"width": width, "height": height})
    await settle(page)
    found.cases += 1
    name = f"{scenario}-{panel}" if panel else scenario
    case = f"{role} {width}×{height} {scenario}" + (f", panel #{panel} open" if panel else "")
    with found.at(case):
        m = await measure(page)
        found.measured[case] = summary(m)
        await page.screenshot(path=folder / f"{name}-{role}-{width}x{height}.png")
        check_scroll(found, m)
        check_controls(found, m, role)
        await check_controls_present(found, page, role)
        check_pictures(found, m, remotes, screen)
        if panel:
            check_panel_beside(found, m, panel)
        await check_axe(found, page)
        await check_keyboard(found, page, m)
        if self_view:
            await check_self_view(found, page, role)


async def check_scenario(
    found: Findings,
    pages: dict[str, Page],
    scenario: str,
    *,
    remotes: int,
    screen: bool,
    folder: Path,
    self_view: bool = False,
) -> None:
    for role, page in pages.items():
        await close_panels(page)
        for size in SIZES:
            await check_case(
                found,
                page,
                role,
                scenario,
                size,
                remotes=remotes,
                screen=screen,
                folder=folder,
                self_view=self_view,
            )
    # The advisor's desk as it starts on a wide screen: the waiting list beside the call.
    desk = pages["advisor"]
    await control(desk, "Warteraum").click()
    for size in WIDE:
        await check_case(
            found,
            desk,
            "advisor",
            scenario,
            size,
            remotes=remotes,
            screen=screen,
            folder=folder,
            self_view=False,
            panel="call-waiting",
        )
    await close_panels(desk)


async def admit(desk: Page, name: str) -> None:
    """Click "Abholen" for ``name``, opening the waiting list ("Warteraum") first if the
    layout keeps it in a closed panel."""
    admit_button = desk.get_by_role("button", name=f"Abholen: {name}", include_hidden=True)
    await expect(admit_button).to_have_count(1)
    opened = False
    if not await admit_button.is_visible():
        await control(desk, "Warteraum").click()
        opened = True
    await admit_button.click()
    if opened:
        await control(desk, "Warteraum").click()


async def sees(page: Page, name: str) -> None:
    await received_video(page, tile(page, name).locator("video"))


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("VIDEOTERMIN_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("call-layout")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the call layout: {folder}")
    return folder


async def test_the_call_fills_the_screen_at_every_size(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    screenshots: Path,
) -> None:
    appointment_id, [(_, citizen), (_, interpreter)] = await appointment_with(
        db, settings, clock, [CLARA, IVO]
    )
    clock.set(START - timedelta(minutes=2))
    room, room_errors = await waiting(browser, live_server, citizen)
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)
    await desk.set_viewport_size({"width": 1280, "height": 720})
    await admit(desk, "Clara Kundin")
    await sees(room, "Bea Berater")
    await sees(desk, "Clara Kundin")
    pages = {"citizen": room, "advisor": desk}
    found = Findings()

    await check_scenario(
        found, pages, "two", remotes=1, screen=False, folder=screenshots, self_view=True
    )

    await desk.set_viewport_size({"width": 1280, "height": 720})
    share = control(desk, "Bildschirm teilen")
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "true")
    await received_video(room, room.locator("#call figure.tile--screen video"))
    await check_scenario(found, pages, "screen", remotes=1, screen=True, folder=screenshots)
    await desk.set_viewport_size({"width": 1280, "height": 720})
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "false")
    await expect(room.locator("#call figure.tile--screen")).to_have_count(0)

    _third, third_errors = await waiting(browser, live_server, interpreter, width=800)
    await admit(desk, "Ivo Dolmetscher")
    for page, names in ((room, ["Bea Berater", "Ivo Dolmetscher"]), (desk, ["Ivo Dolmetscher"])):
        for name in names:
            await sees(page, name)
    await check_scenario(found, pages, "three", remotes=2, screen=False, folder=screenshots)

    report = "\n".join(found.failures)
    (screenshots / "failures.txt").write_text(report + "\n", encoding="utf-8")
    (screenshots / "measurements.json").write_text(
        json.dumps(found.measured, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    print(f"{len(found.failures)} failures in {found.cases} cases:\n{report}")
    assert not found.failures, f"{len(found.failures)} layout failures:\n{report}"
    assert room_errors == [] and desk_errors == [] and third_errors == []
