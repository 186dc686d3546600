"""Statistics dashboard: how long one year of 50 units takes to render, on PostgreSQL,
beside a plain admin page of the same app as the ceiling.

A fresh database is migrated and filled with SQL: 50 units, and for each unit and each
day of one year the counters a busy unit writes (appointments by outcome, waiting and
call-length histograms, advisor punctuality, device-check verdicts, reasons, browsers,
systems, call quality — about 35 counters a day), plus a year of survey answers. Then
``videotermin serve`` runs on it and an admin's browser (httpx) asks for:

- ``/admin/statistik`` for the whole year and all units (every table, every chart);
- the same year for one unit;
- ``/admin/personal``, a plain admin page (the ceiling: login, layout, one query).

Printed: p50 and p90 of each over ``--repeat`` requests, and the dashboard's p50 over
the plain page's. Goal: the year for all units below 300 ms at p50.

    .venv/bin/python bench/stats.py [--repeat 20]

Needs PostgreSQL at 127.0.0.1:5432 (a database of its own is made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from seed import free_port
from signaling import started
from videotermin.domain.passwords import hash_password
from videotermin.store.db import create_engine
from videotermin.store.migrate import upgrade

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password-1"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
UNITS = 50
COUNTERS = [
    ("appointments", "scheduled", 40),
    ("appointments", "held", 34),
    ("appointments", "cancelled", 3),
    ("appointments", "no_show", 3),
    *(
        ("waiting_minutes", str(b), n)
        for b, n in ((0, 9), (1, 7), (2, 5), (3, 4), (5, 4), (10, 2), (15, 1))
    ),
    ("advisor", "on_time", 30),
    ("advisor", "late", 4),
    *(("call_minutes", str(b), n) for b, n in ((0, 6), (10, 12), (20, 10), (30, 5), (45, 1))),
    ("check_verdict", "green", 50),
    ("check_verdict", "yellow", 8),
    ("check_verdict", "red", 2),
    *(
        ("check_reason", r, n)
        for r, n in (("camera", 2), ("upload", 4), ("jitter", 3), ("speaker", 1))
    ),
    *(
        ("browser", b, n)
        for b, n in (
            ("Chrome", 30),
            ("Chrome Mobile", 14),
            ("Firefox", 8),
            ("Mobile Safari", 6),
            ("Edge", 2),
        )
    ),
    *(
        ("os", o, n)
        for o, n in (("Windows", 25), ("Android", 15), ("iOS", 8), ("Mac OS X", 7), ("Linux", 5))
    ),
    ("call_quality", "good", 900),
    ("call_quality", "fair", 80),
    ("call_quality", "poor", 20),
]


async def admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def seed(url: str) -> int:
    engine = create_engine(url)
    try:
        await upgrade(engine, "Europe/Berlin")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO units (slug, name, address, phone, email, hotline, hotline_hours,"
                    " timezone, is_default) SELECT 'unit-' || i, 'Dienststelle ' || i, '', '',"
                    " '', '', '', 'Europe/Berlin', false FROM generate_series(1, :n) AS i"
                ),
                {"n": UNITS - 1},
            )
            await connection.execute(
                text(
                    "INSERT INTO staff_users (username, display_name, email, phone, role,"
                    " unit_id, password_hash, active, created_at) SELECT 'admin', 'Anna Admin',"
                    " '', '', 'admin', id, :hash, true, now() FROM units WHERE is_default"
                ),
                {"hash": hash_password(PASSWORD)},
            )
            for metric, key, n in COUNTERS:
                await connection.execute(
                    text(
                        "INSERT INTO stat_counts (unit_id, day, metric, key, count)"
                        " SELECT u.id, d::date, :metric, :key,"
                        " :n + (u.id + extract(doy from d)::int) % 3"
                        " FROM units u, generate_series(CAST(:first AS date), CAST(:last AS date),"
                        " interval '1 day') AS d"
                    ),
                    {"metric": metric, "key": key, "n": n, "first": YEAR[0], "last": YEAR[1]},
                )
            await connection.execute(
                text(
                    "INSERT INTO survey_responses (id, unit_id, month, satisfaction, av_quality,"
                    " use_again) SELECT md5(random()::text || g), u.id,"
                    " to_char(make_date(2026, 1 + g % 12, 1), 'YYYY-MM'), 1 + g % 5, 1 + g % 4,"
                    " (ARRAY['yes', 'no', 'dont_know'])[1 + g % 3]"
                    " FROM units u, generate_series(1, 120) AS g"
                )
            )
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            await connection.execute(text("ANALYZE"))
            rows = int(
                (await connection.execute(text("SELECT count(*) FROM stat_counts"))).scalar_one()
            )
        return rows
    finally:
        await engine.dispose()


def timed(client: httpx.Client, path: str, repeat: int) -> list[float]:
    client.get(path).raise_for_status()  # warm
    times = []
    for _ in range(repeat):
        started_at = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started_at) * 1000)
        answer.raise_for_status()
    return times


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    database = f"vt_stats_{uuid.uuid4().hex[:10]}"
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    try:
        rows = asyncio.run(seed(url))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "VIDEOTERMIN_DATABASE_URL": url, "VIDEOTERMIN_PUBLIC_URL": base}
        server = started(
            [str(Path(sys.executable).with_name("videotermin")), "serve", "--port", str(port)],
            env,
            f"{base}/login",
        )
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                page = client.get("/login")
                token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                client.post(
                    "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD}
                )
                year = f"from={YEAR[0].isoformat()}&to={YEAR[1].isoformat()}"
                results = {
                    "dashboard, 1 year x 50 units": timed(
                        client, f"/admin/statistik?{year}", repeat
                    ),
                    "dashboard, 1 year x 1 unit": timed(
                        client, f"/admin/statistik?{year}&unit=1", repeat
                    ),
                    "plain admin page (ceiling)": timed(client, "/admin/personal", repeat),
                }
        finally:
            server.terminate()
            server.wait(10)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print(f"stat_counts rows: {rows:,} ({UNITS} units x {(YEAR[1] - YEAR[0]).days + 1} days)")
    for name, times in results.items():
        print(f"{name:<32} p50 {p(times, 0.5):7.1f} ms   p90 {p(times, 0.9):7.1f} ms")
    ratio = statistics.median(results["dashboard, 1 year x 50 units"]) / statistics.median(
        results["plain admin page (ceiling)"]
    )
    print(f"dashboard p50 / plain page p50 = {ratio:.1f}")


if __name__ == "__main__":
    main()
