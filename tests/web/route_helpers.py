"""The app's routes as the route-walking tests need them: with the routes of included
routers in their place, and a path template filled with ids."""

from __future__ import annotations

import re
from typing import Any


def included_routes(routes: list[Any]) -> list[Any]:
    """The routes, with those of included routers (at any depth) in their place; mounted
    apps (the API, the static files) stay one route each."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found += included_routes(included.routes) if included is not None else [route]
    return found


def filled(path: str, ids: dict[str, str]) -> str:
    """``path`` with each ``{name}`` replaced by ``ids[name]``."""
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
