"""Which bus an app instance speaks over, chosen by its settings."""

from __future__ import annotations

from videotermin.bus.core import Bus, MemoryBus
from videotermin.bus.redis_bus import RedisBus
from videotermin.settings import Settings


def bus_for(settings: Settings) -> Bus:
    """Redis pub/sub when ``VIDEOTERMIN_REDIS_URL`` is set, so app instances share rooms;
    instances with the same ``REDIS_CHANNEL_PREFIX`` form one deployment."""
    if settings.redis_url:
        return RedisBus(settings.redis_url, channel_prefix=settings.redis_channel_prefix)
    return MemoryBus()
