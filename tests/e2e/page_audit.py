"""The layout audit of failure class "a page nobody looked at", shared by the Chromium and
the Firefox page tests: ``AUDIT`` (run in a page: what a person would notice — a page
wider than its window, a word broken across lines, controls or headings drawn over each
other, choices of different sizes, a rating scale wrapped into two rows), ``every_page``
(the data that makes every page exist, and the pages each login reaches), the ``WIDTHS``
to look at, the folder ``SHOTS`` their screenshots are kept in (``LAYOUT_SHOTS``, default
a temporary folder) and ``report``.

The whole-page tests in both browsers and the Firefox journeys use the same audit, so it
lives here rather than in one of those test modules."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

from page_helpers import TOMORROW_10, book
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import IN_WINDOW, record_consent

from conftest import add_staff
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft, Role
from videotermin.domain.clock import FakeClock
from videotermin.domain.support_code import format_support_code
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser

WIDTHS = (360, 1280)
SHOTS = Path(os.environ.get("LAYOUT_SHOTS") or tempfile.mkdtemp(prefix="layout-"))

# Runs in the page: what a person would notice, as one list of sentences.
AUDIT = """() => {
  const problems = [];
  // Hidden from the eye: in a closed <details>, or inside a box clipped to nothing (the
  // screen-reader-only pattern, e.g. a phone table's header row).
  const clipped = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      const box = up.getBoundingClientRect();
      if (style.clipPath === 'inset(50%)' || style.clip === 'rect(0px, 0px, 0px, 0px)') return true;
      if (style.overflow !== 'visible' && (box.width <= 1 || box.height <= 1)) return true;
      if (up.tagName === 'DETAILS' && !up.open && !el.closest('summary')) return true;
    }
    return false;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && box.width > 0
      && box.height > 0 && !el.closest('.visually-hidden, [hidden], [aria-hidden="true"]')
      && !clipped(el);
  };
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth + 1) {
    problems.push(`page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, textarea, pre, code, svg') || !visible(el)) continue;
    // A word, as a person reads it: between spaces, hyphens and slashes (where a break
    // is allowed); a long run (a link, a token, an address) may wrap anywhere.
    for (const match of node.textContent.matchAll(/[^\\s\\-\\/\\u00ad]{2,24}/g)) {
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
        .map((r) => Math.round(r.top)));
      if (lines.size > 1) problems.push(`"${match[0]}" breaks across ${lines.size} lines`);
    }
  }
  const parts = [...document.querySelectorAll(
    'a, button, input, select, textarea, label, h1, h2, h3, legend, summary, th')]
    .filter(visible);
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      const a = parts[i], b = parts[j];
      if (a.contains(b) || b.contains(a) || (a.htmlFor && a.htmlFor === b.id)) continue;
      const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      const x = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const y = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (x > 2 && y > 2) {
        const name = (el) =>
          `<${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 30)}"`;
        problems.push(`${name(a)} overlaps ${name(b)}`);
      }
    }
  }
  const sizes = new Set([...document.querySelectorAll('input[type=radio], input[type=checkbox]')]
    .filter(visible).map((el) => {
      const box = el.getBoundingClientRect();
      return `${Math.round(box.width)}x${Math.round(box.height)}`;
    }));
  if (sizes.size > 1) problems.push(`choice controls come in ${sizes.size} sizes: ${[...sizes]}`);
  // A rating scale is read as one line: 1 to 5 side by side, never 5 below the rest.
  for (const scale of [...document.querySelectorAll('.scale')].filter(visible)) {
    const rows = new Set([...scale.children]
      .map((el) => Math.round(el.getBoundingClientRect().top)));
    if (rows.size > 1) problems.push(`a rating scale is drawn in ${rows.size} rows`);
  }
  return problems;
}"""


async def journeys(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> dict[str, str]:
    """A link in every state a citizen can meet, by state; the clock ends inside the window."""
    people = iter(range(100))

    async def booked(**extra: Any) -> Any:
        n = next(people)
        citizen = ParticipantDraft(name=f"Clara Kundin {n}", email=f"clara{n}@example.org")
        extra.setdefault("participants", [citizen])
        return await book(db, settings, clock, **extra)

    interpreter = ParticipantDraft(
        name="Ivan Dolmetscher", email="ivan@example.org", role=Role.INTERPRETER
    )
    agreed = await booked(
        participants=[
            ParticipantDraft(name="Clara Kundin", email="clara@example.org"),
            interpreter,
        ]
    )
    await record_consent(db, settings, agreed.participant_ids[0])
    undecided, declined, withdrawn, cancelled = [await booked() for _ in range(4)]
    await record_consent(db, settings, declined.participant_ids[0], "declined")
    await record_consent(db, settings, withdrawn.participant_ids[0], "agreed")
    await record_consent(db, settings, withdrawn.participant_ids[0], "withdrawn")
    early = await booked(start=clock() + timedelta(hours=1))  # over once the clock moves
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        stored = await scheduling.get_appointment(session, cancelled.appointment_id)
        assert stored is not None
        await scheduling.cancel(session, ctx, stored)
    before = await booked(start=TOMORROW_10 + timedelta(days=7))
    clock.set(IN_WINDOW)
    return {
        "agreed": agreed.tokens[0],
        "appointment": agreed.appointment_id,
        "citizen": agreed.participant_ids[0],
        "interpreter": agreed.participant_ids[1],
        "undecided": undecided.tokens[0],
        "declined": declined.tokens[0],
        "withdrawn": withdrawn.tokens[0],
        "cancelled": cancelled.tokens[0],
        "over": early.tokens[0],
        "before": before.tokens[0],
    }


async def support_code(db: async_sessionmaker[AsyncSession], participant_id: str) -> str:
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == participant_id)
        )
    return format_support_code(code) or ""


class EveryPage(NamedTuple):
    """The pages to look at, by who looks (``""``: nobody logged in), and the support code
    whose look-up leads the support desk to a participant's page."""

    by_login: dict[str, list[str]]
    support_code: str


async def every_page(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> EveryPage:
    """Staff of each role, a link in every state, and every page they reach."""
    await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")
    await add_staff(db, "support-sven", role="support", display_name="Sven Support")
    links = await journeys(db, settings, clock)
    agreed, appointment = links["agreed"], links["appointment"]
    async with db() as session:
        advisor_id = await session.scalar(
            select(StaffUser.id).where(StaffUser.username == "berater")
        )
    citizen_pages = [
        *(
            f"/v/{links[state]}"
            for state in (
                "agreed",
                "undecided",
                "declined",
                "withdrawn",
                "cancelled",
                "over",
                "before",
            )
        ),
        f"/v/{agreed}/geraete",
        f"/v/{agreed}/warteraum",
        f"/v/{agreed}/widerruf",
        f"/v/{agreed}/umfrage",
        f"/v/{agreed}/umfrage?lang=en",
        f"/v/{agreed}?lang=en",
        f"/v/{links['undecided']}?lang=en",
        "/v/no-such-link-at-all",
        "/check",
        "/datenschutz",
        "/datenschutz?lang=en",
        "/no/such/page",
        "/login",
        "/login?lang=en",
        "/passwort/no-such-link",
    ]
    advisor_pages = [
        "/termine",
        "/termine/neu",
        f"/termine/{appointment}",
        f"/termine/{appointment}/absagen",
        f"/termine/{appointment}/teilnehmende/{links['interpreter']}/entfernen",
        f"/appointments/{appointment}/call",
        "/termine/no-such-appointment",
        "/admin/personal",  # refused: an advisor's 403 page
        f"/termine/{appointment}?lang=en",
        "/termine?lang=de",
    ]
    admin_pages = [
        "/admin/personal",
        "/admin/personal/neu",
        f"/admin/personal/{advisor_id}",
        "/admin/dienststellen",
        "/admin/dienststellen/neu",
        "/admin/dienststellen/1",
        "/admin/api-tokens",
        "/admin/einwilligung",
        "/admin/datenschutz",
        "/admin/statistik",
        "/admin/statistik?lang=en",
        "/admin/protokoll",
        "/admin/protokoll?lang=en",
        "/admin/protokoll?lang=de",
    ]
    pages = {"": citizen_pages, "berater": advisor_pages, "admin-anna": admin_pages}
    return EveryPage(pages, await support_code(db, links["citizen"]))


def report(found: dict[str, Any]) -> str:
    lines = "\n".join(f"{page}: {'; '.join(problems)}" for page, problems in found.items())
    return f"{lines}\n(screenshots in {SHOTS})"
