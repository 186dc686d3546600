"""The browser's files (``web/static/``) under a versioned address, so they can be cached
for good.

Pages link ``/static/<version>/<path>``, where the version is a digest of every file in
the folder: a release that changes any file changes every address, and a browser (or
nginx, which serves the folder itself in production, ``deploy/nginx/videotermin.conf``)
may keep a versioned file for a year without asking again. The version is a path
segment, not a query string, so the modules a script imports by relative address
(``./protocol.js``) carry it too.

The unversioned ``/static/<path>`` keeps answering, revalidated on every use, for
anything that still links it.

:func:`publish` (``videotermin publish-static DIR``) copies the folder to
``DIR/<version>/`` with a gzip copy of every text file beside it, for nginx to serve
without asking the app. Earlier versions stay there, so a page an instance of the
previous release rendered still finds its files during a rolling upgrade (and after a
rollback, no browser holds a newer file under an older version's address).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
from functools import cache
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
VERSION_LENGTH = 12
_VERSION = re.compile(rf"[0-9a-f]{{{VERSION_LENGTH}}}")
IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSED_SUFFIXES = frozenset({".css", ".js", ".svg", ".json"})
REVALIDATE = "no-cache"


@cache
def static_version() -> str:
    """A digest of the folder's file names and contents, the same on every instance of
    one release."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:VERSION_LENGTH]


def static_url(path: str) -> str:
    """The versioned address of ``web/static/<path>``."""
    return f"/static/{static_version()}/{path}"


def publish(target: Path) -> Path:
    """Copy the folder to ``target/<version>/`` (replacing a copy of the same version)
    with ``<file>.gz`` beside every text file; returns that folder."""
    final = target / static_version()
    staging = target / f".{static_version()}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(STATIC, staging, ignore=shutil.ignore_patterns(".*"))
    for path in sorted(staging.rglob("*")):
        if path.is_file() and path.suffix in COMPRESSED_SUFFIXES:
            packed = path.with_name(path.name + ".gz")
            packed.write_bytes(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
            shutil.copystat(path, packed)
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final


class VersionedStaticFiles(StaticFiles):
    """``/static/<version>/<path>`` with a year's ``immutable`` caching, ``/static/<path>``
    revalidated. A version other than this release's is not found: a file of another
    release must never be kept under an address that promises it never changes."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC)

    async def get_response(self, path: str, scope: Scope) -> Response:
        first, _, rest = path.partition("/")
        if _VERSION.fullmatch(first) and rest:
            if first != static_version():
                raise HTTPException(status_code=404)
            response = await super().get_response(rest, scope)
            cache_control = IMMUTABLE
        else:
            response = await super().get_response(path, scope)
            cache_control = REVALIDATE
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = cache_control
        return response
