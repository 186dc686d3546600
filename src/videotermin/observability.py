"""The app's Prometheus metrics, one registry per app instance.

Every metric is named ``videotermin_*`` and labelled only with fixed words
(method, route template, status class, socket kind, outcome, table): never an
id, a name, an address or a token. The app factory creates one :class:`Metrics`
and keeps it on the :class:`~videotermin.context.AppContext`; ``/metrics`` renders
its registry (not the process-wide default one, so many apps can live in one
process, as they do in the tests).

Gauges that describe state (who waits, who is in a call) are read when scraped,
from callables the lifespan hands over, so no message pays for them.

This module sits beside ``settings`` and ``logs`` in the layers: it imports only
``prometheus_client`` and the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST
LAG_INTERVAL_SECONDS = 0.5
SOCKET_KINDS = ("citizen", "advisor_call", "staff_list", "support")
MAIL_OUTCOMES = ("sent", "failed", "retried")
PURGED_TABLES = (
    "appointments",
    "participants",
    "device_checks",
    "sessions",
    "audit_entries",
    "mail_files",
)
GC_PAUSE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_duration = Histogram(
            "videotermin_http_request_duration_seconds",
            "HTTP request latency by route template and status class",
            ("method", "route", "status"),
            registry=r,
        )
        self.websocket_connections = Gauge(
            "videotermin_websocket_connections",
            "Open WebSocket sessions of this instance by kind",
            ("kind",),
            registry=r,
        )
        for kind in SOCKET_KINDS:
            self.websocket_connections.labels(kind=kind)
        self.waiting_participants = Gauge(
            "videotermin_waiting_participants",
            "Participants this instance holds in a waiting room (not in the call)",
            registry=r,
        )
        self.call_seats = Gauge(
            "videotermin_call_seats",
            "Connections this instance holds in a call (citizens and advisors)",
            registry=r,
        )
        self.admissions = Counter(
            "videotermin_admissions", "Participants admitted to a call", registry=r
        )
        self.test_calls = Counter(
            "videotermin_test_calls",
            "Device-check test calls answered by the echo peer",
            registry=r,
        )
        self.mails = Counter(
            "videotermin_mails", "Mail delivery attempts by outcome", ("outcome",), registry=r
        )
        for outcome in MAIL_OUTCOMES:
            self.mails.labels(outcome=outcome)
        self.purged_rows = Counter(
            "videotermin_purged_rows", "Rows erased by the retention purge", ("table",), registry=r
        )
        for table in PURGED_TABLES:
            self.purged_rows.labels(table=table)
        self.event_loop_lag = Gauge(
            "videotermin_event_loop_lag_seconds",
            "How late the event loop last woke a 0.5 s sleep",
            registry=r,
        )
        self.gc_pause = Histogram(
            "videotermin_gc_pause_seconds",
            "Pauses of the garbage collector (every socket of the process waits them out)",
            ("generation",),
            buckets=GC_PAUSE_BUCKETS,
            registry=r,
        )
        for generation in ("0", "1", "2"):
            self.gc_pause.labels(generation=generation)

    def observe_presence(self, waiting: Callable[[], float], in_call: Callable[[], float]) -> None:
        """Read the presence gauges from these callables at every scrape."""
        self.waiting_participants.set_function(waiting)
        self.call_seats.set_function(in_call)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def watch_event_loop_lag(self, interval: float = LAG_INTERVAL_SECONDS) -> None:
        """Sleep ``interval`` again and again and record how late each wake-up came;
        runs until cancelled (the app's lifespan starts and stops it)."""
        while True:
            started = time.monotonic()
            await asyncio.sleep(interval)
            self.event_loop_lag.set(max(0.0, time.monotonic() - started - interval))

    @contextlib.contextmanager
    def watching_gc(self) -> Iterator[None]:
        """Time every collection while the app runs (``gc.callbacks``)."""
        started = 0.0

        def timed(phase: str, info: dict[str, Any]) -> None:
            nonlocal started
            if phase == "start":
                started = time.perf_counter()
            else:
                pause = time.perf_counter() - started
                self.gc_pause.labels(generation=str(info["generation"])).observe(pause)

        gc.callbacks.append(timed)
        try:
            yield
        finally:
            gc.callbacks.remove(timed)


def status_class(status: int) -> str:
    return f"{status // 100}xx"
