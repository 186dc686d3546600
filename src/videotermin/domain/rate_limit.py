"""A token bucket per client, for the public endpoints that cost the server work.

The public device check (``/check``) and the speed test need no link, so
anyone may call them; a bucket per client address keeps one client from
occupying the echo peer or the uplink. A bucket holds ``capacity`` tokens and
refills at ``per_second``; a request costing more tokens than are left is
refused, and the answer says when to try again.

The buckets live in memory: a restart or a second instance forgets them, which
only makes the limit more generous. At most ``max_clients`` buckets are kept;
the least recently used one is dropped first, which forgets a client that is
idle anyway.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, capacity: float, per_second: float, max_clients: int = 10_000) -> None:
        if capacity <= 0 or per_second <= 0:
            raise ValueError("capacity and refill rate must be positive")
        self.capacity = capacity
        self.per_second = per_second
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; ``0`` if granted, else the seconds to wait before retrying.

        ``now`` is a monotonic time in seconds. A cost above the capacity can
        never be granted and is refused with the time a full bucket takes.
        """
        bucket = self._buckets.pop(client, None) or _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        self._buckets[client] = bucket
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if cost > self.capacity:
            return self.capacity / self.per_second
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.per_second

    def give_back(self, client: str, cost: float = 1.0) -> None:
        """Return what a request took when it turned out to cost nothing worth limiting
        (a login that succeeded: only failures use up an address's budget)."""
        bucket = self._buckets.get(client)
        if bucket is not None:
            bucket.tokens = min(self.capacity, bucket.tokens + cost)

    @staticmethod
    def retry_after(wait: float) -> str:
        """A ``Retry-After`` header value: whole seconds, at least one."""
        return str(max(1, math.ceil(wait)))
