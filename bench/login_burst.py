"""Logins under a burst: how long a plain request waits while many clients post passwords.

argon2 takes tens of milliseconds of a core per check. Run on the event loop, a handful
of clients posting logins would stall every page and socket of the process; in the
hashing threads (``services.staff_auth``) the loop stays free. ``videotermin serve`` runs
on a fresh SQLite database with one staff account; a probe asks for ``/healthz`` every
20 ms, first on an idle server (the ceiling), then while ``--clients`` clients post wrong
passwords as fast as they are answered, each from its own address (``X-Forwarded-For``,
believed from 127.0.0.1 like a reverse proxy's), for ``--seconds``.

Printed: the probe's p50 and p99 idle and under the burst and their ratio, and the login
checks per second the server answered.

    .venv/bin/python bench/login_burst.py [--clients 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from seed import free_port
from signaling import started

PROBE_EVERY = 0.02


async def probe(client: httpx.AsyncClient, seconds: float) -> list[float]:
    waits = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        answer = await client.get("/healthz")
        answer.raise_for_status()
        waits.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(PROBE_EVERY)
    return waits


async def guesser(base: str, n: int, end: float) -> int:
    """Posts wrong passwords for made-up names from its own address; returns the count."""
    done = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        page = await client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        while time.monotonic() < end:
            address = f"10.{n}.{done // 250 % 250}.{done % 250 + 1}"
            answer = await client.post(
                "/login",
                data={"csrf_token": token, "username": f"nobody{n}-{done}", "password": "falsch"},
                headers={"X-Forwarded-For": address},
            )
            assert answer.status_code == 200, answer.status_code
            done += 1
    return done


def p(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * share))]


async def measure(base: str, clients: int, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await probe(client, 1)  # warm up
        idle = await probe(client, seconds)
        end = time.monotonic() + seconds
        guessers = [asyncio.create_task(guesser(base, n, end)) for n in range(clients)]
        busy = await probe(client, seconds)
        checks = sum(await asyncio.gather(*guessers))
    print(f"probe idle:  p50 {statistics.median(idle):6.1f} ms  p99 {p(idle, 0.99):6.1f} ms")
    print(f"probe burst: p50 {statistics.median(busy):6.1f} ms  p99 {p(busy, 0.99):6.1f} ms")
    print(f"p99 ratio burst/idle: {p(busy, 0.99) / p(idle, 0.99):.1f}")
    print(f"login checks answered: {checks / seconds:.1f}/s by {clients} clients")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy samples (collapsed stacks) of the server, idle phase and burst",
    )
    args = parser.parse_args()
    videotermin = str(Path(sys.executable).with_name("videotermin"))
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "VIDEOTERMIN_DATA_DIR": folder,
            "VIDEOTERMIN_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
            "VIDEOTERMIN_PUBLIC_URL": base,
        }
        subprocess.run([videotermin, "migrate"], env=env, check=True, capture_output=True)
        server = started([videotermin, "serve", "--port", str(port)], env, f"{base}/healthz")
        spy = None
        if args.profile:  # starts with the idle phase: its first samples are the idle server
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "--threads",
                    "--pid",
                    str(server.pid),
                    "--output",
                    str(args.profile),
                    "--format",
                    "raw",
                    "--duration",
                    str(int(2 * args.seconds + 2)),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        try:
            asyncio.run(measure(base, args.clients, args.seconds))
            if spy is not None:
                spy.wait(30)
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
