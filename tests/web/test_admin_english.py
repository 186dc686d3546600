"""The administration in English: an admin who chose English reads the statistics and the
audit log in English, and the exports she downloads are the same tables in the same
language — header, row labels and notes translated, cells and columns unchanged."""

from __future__ import annotations

import csv
import io
import re

import httpx
from admin_helpers import admin_browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from statistics_helpers import seed_counts, table_cells

__all__ = ["admin_browser"]


def header_cells(html: str, slug: str) -> list[str]:
    section = html[html.index(f'<section class="stat" id="{slug}"') :]
    head = section[section.index("<thead>") : section.index("</thead>")]
    return re.findall(r'<th scope="col"[^>]*>(.*?)</th>', head)


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_statistics_and_audit_log_read_in_english_and_their_csv_too(
    admin_browser: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    await seed_counts(
        db,
        {
            ("browser", "Chrome"): 40,
            ("browser", "Firefox"): 12,
            ("browser", "unbekannt"): 9,
            ("appointments", "scheduled"): 20,
            ("appointments", "held"): 16,
        },
    )
    query = {"from": "2026-12-01", "to": "2026-12-02"}
    page = await admin_browser.get("/admin/statistik", params={**query, "lang": "en"})
    assert page.status_code == 200
    for english in (
        "<h1>Statistics</h1>",
        '<h2 id="termine-heading">Appointments</h2>',
        '<h2 id="wartezeit-heading">Waiting time until the call</h2>',
        "Period: 2026-12-01 to 2026-12-02",
        "Median and 90th percentile: fewer than 5 values, so not shown.",
        "Browser as CSV",
    ):
        assert english in page.text
    for german in ("Statistik</h1>", "Wartezeit bis zum Gespräch", "Summe", "Anzahl", "Zeitraum"):
        assert german not in page.text
    outcomes = ["Scheduled", "Held", "Cancelled", "No-show"]
    assert header_cells(page.text, "termine") == ["Day", *outcomes]
    assert table_cells(page.text, "browser") == [
        ["Chrome", "40"],
        ["Firefox", "12"],
        ["unknown", "9"],
        ["Total", "61"],
    ]
    assert table_cells(page.text, "termine")[0] == ["2026-12-01", "20", "16", "<5", "<5"]

    # The export link carries no language: the remembered choice makes it English too.
    for slug in ("browser", "termine"):
        rows = csv_rows(await admin_browser.get(f"/admin/statistik/{slug}.csv", params=query))
        assert rows[0] == header_cells(page.text, slug)
        assert rows[1:] == table_cells(page.text, slug)
    waiting = csv_rows(await admin_browser.get("/admin/statistik/wartezeit.csv", params=query))
    assert waiting[0] == ["Waiting time", "Count"]
    assert waiting[-1] == ["Median and 90th percentile: fewer than 5 values, so not shown."]

    audit = await admin_browser.get("/admin/protokoll")
    assert audit.status_code == 200
    assert "<h1>Audit log</h1>" in audit.text and "Download as CSV" in audit.text
    assert '<td data-label="Action">Login</td>' in audit.text
    assert "Protokoll</h1>" not in audit.text and "Anmeldung" not in audit.text
    exported = csv_rows(await admin_browser.get("/admin/protokoll.csv"))
    assert exported[0] == ["Time", "Person", "Action", "Appointment", "Account concerned", "Detail"]
    assert [row[2] for row in exported[1:]] == ["Login"]
