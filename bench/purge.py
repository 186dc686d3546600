"""Purge rate: personal rows erased per second at 10k, 100k and 1M expired participants on
PostgreSQL, beside a bare ``DELETE`` of the same participants as the ceiling.

For each size a fresh database is migrated and filled with SQL (``generate_series``):
``n`` appointments that ended 30 days ago, each with a citizen, a personal link, a
consent record, a device check and a sent mail — every personal column filled — and a
tenth as many appointments still ahead, which must stay. Then, in one run:

- the ceiling: ``DELETE FROM participants`` of exactly the expired ones (cascading to
  links, consents, checks and mails), in a transaction that is rolled back;
- the purge as the app runs it (:func:`videotermin.services.retention.erase_expired`).

Printed per size: seconds, participants erased per second, all rows touched per second
(participants, their links, consents, checks and mails deleted, appointments blanked),
the ratio to the bare delete, and the growth of the rate from one size to the next
(linear work keeps the rate flat). Asserts only that the future appointments survive.

    .venv/bin/python bench/purge.py [--sizes 10000,100000,1000000]

Needs PostgreSQL at 127.0.0.1:5432 (a database of its own is made and dropped per size).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from videotermin.services.retention import erase_expired
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RETENTION_DAYS = 14

SEED = [
    """INSERT INTO staff_users (username, display_name, email, phone, role, unit_id,
           password_hash, active, created_at)
       SELECT 'bench', 'Bea Bench', '', '', 'advisor', id, '!', true, :now FROM units LIMIT 1""",
    # Expired appointments (ended 30 days ago) and a tenth as many still ahead.
    """INSERT INTO appointments (id, unit_id, advisor_id, start_at, duration_minutes, subject,
           status, waiting_message, ics_sequence, call_key, created_at, updated_at,
           stats_recorded)
       SELECT 'a-' || i, (SELECT id FROM units LIMIT 1), (SELECT id FROM staff_users LIMIT 1),
              CASE WHEN i <= :n THEN CAST(:past AS timestamptz)
                   ELSE CAST(:future AS timestamptz) END,
              30, 'Betreff ' || i, 'completed',
              'Nachricht ' || i, 0, md5(i::text), :past, :past, true
       FROM generate_series(1, :n + :n / 10) AS i""",
    """INSERT INTO participants (id, appointment_id, role, name, email, customer_number,
           language, support_code, survey_closed, created_at, activity, activity_at,
           entered_waiting_at)
       SELECT 'p-' || i, 'a-' || i, 'citizen', 'Name ' || i, 'person' || i || '@example.org',
              'K' || i, 'de', upper(substr(md5(i::text), 1, 6)), false, :past, 'link_page',
              :past, :past
       FROM generate_series(1, :n + :n / 10) AS i""",
    """INSERT INTO participant_links (token_hash, participant_id, created_at)
       SELECT md5('link' || i) || md5('x' || i), 'p-' || i, :past
       FROM generate_series(1, :n + :n / 10) AS i""",
    """INSERT INTO consent_records (participant_id, version, language, text_hash, decision,
           decided_at)
       SELECT 'p-' || i, '2026-12-01', 'de', md5(i::text) || md5(i::text), 'agreed', :past
       FROM generate_series(1, :n + :n / 10) AS i""",
    """INSERT INTO device_checks (participant_id, checked_at, verdict, device_key_hash,
           findings, os_family, browser_family, upload_kbps, download_kbps, ip_address)
       SELECT 'p-' || i, :past, 'green', md5(i::text), '[]', 'Linux', 'Firefox', 5000, 20000,
              '198.51.100.' || (i % 250)
       FROM generate_series(1, :n + :n / 10) AS i""",
    """INSERT INTO outbox_mails (appointment_id, participant_id, kind, recipient, message,
           status, attempts, created_at, sent_at)
       SELECT 'a-' || i, 'p-' || i, 'invitation', 'person' || i || '@example.org', NULL,
              'sent', 1, :past, :past
       FROM generate_series(1, :n + :n / 10) AS i""",
    "ANALYZE",
]
COUNT = """SELECT (SELECT count(*) FROM participants) + (SELECT count(*) FROM participant_links)
    + (SELECT count(*) FROM consent_records) + (SELECT count(*) FROM device_checks)
    + (SELECT count(*) FROM outbox_mails)"""


async def admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def seed(engine: AsyncEngine, n: int) -> float:
    started = time.perf_counter()
    past = NOW - timedelta(days=30)
    values = {"n": n, "now": NOW, "past": past, "future": NOW + timedelta(days=7)}
    async with engine.begin() as connection:
        for statement in SEED[:-1]:
            await connection.execute(text(statement), values)
    async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        await connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def bare_delete(engine: AsyncEngine, n: int) -> float:
    """The ceiling: one DELETE of the expired participants (cascades), rolled back."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        started = time.perf_counter()
        await connection.execute(
            text(
                "DELETE FROM participants WHERE appointment_id IN "
                "(SELECT id FROM appointments WHERE start_at < :cutoff)"
            ),
            {"cutoff": NOW - timedelta(days=RETENTION_DAYS)},
        )
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    return elapsed


async def one_size(n: int) -> dict[str, float]:
    database = f"vt_purge_{uuid.uuid4().hex[:10]}"
    await admin(f'CREATE DATABASE "{database}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    engine = create_engine(url)
    try:
        await upgrade(engine, "Europe/Berlin")
        seeded = await seed(engine, n)
        async with engine.connect() as connection:
            rows_before = int((await connection.execute(text(COUNT))).scalar_one())
        ceiling = await bare_delete(engine, n)
        sessions = session_factory(engine)
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            report = await erase_expired(session, NOW, RETENTION_DAYS)
        elapsed = time.perf_counter() - started
        async with engine.connect() as connection:
            rows_after = int((await connection.execute(text(COUNT))).scalar_one())
            left = int(
                (await connection.execute(text("SELECT count(*) FROM participants"))).scalar_one()
            )
        assert left == n // 10, f"{left} participants left, expected the {n // 10} still ahead"
        assert report.participants == n
        touched = (rows_before - rows_after) + report.appointments
        return {
            "n": n,
            "seed_s": seeded,
            "purge_s": elapsed,
            "bare_s": ceiling,
            "participants_per_s": report.participants / elapsed,
            "rows_per_s": touched / elapsed,
            "ratio": ceiling / elapsed,
        }
    finally:
        await engine.dispose()
        await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    results = []
    for n in sizes:
        result = asyncio.run(one_size(n))
        results.append(result)
        print(
            f"{n:>9} expired participants: purge {result['purge_s']:7.2f} s "
            f"({result['participants_per_s']:>9,.0f} participants/s, "
            f"{result['rows_per_s']:>9,.0f} rows/s); bare DELETE {result['bare_s']:7.2f} s; "
            f"purge rate / bare = {result['ratio']:.2f}   (seeding took {result['seed_s']:.1f} s)",
            flush=True,
        )
    for small, large in pairwise(results):
        growth = large["participants_per_s"] / small["participants_per_s"]
        print(
            f"rate at {int(large['n']):,} / rate at {int(small['n']):,} = {growth:.2f}"
            " (1.00 is linear work)"
        )


if __name__ == "__main__":
    main()
