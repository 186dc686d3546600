"""Engine and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No ping before each use: with asyncpg it is three round trips (BEGIN, a query,
    # ROLLBACK) and an eighth of a socket's connect. A connection the server dropped
    # (a restart) fails its first statement instead, and SQLAlchemy then discards every
    # pooled connection made before it: one request fails, the next ones reconnect.
    return create_async_engine(url)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Foreign keys on (SQLite ignores them otherwise); WAL so readers never block the writer;
    secure_delete so erased personal data is overwritten in the file, not just unlinked."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# SQLSTATEs of a server that cannot serve now: class 08 (connection exceptions) and the
# operator's interventions (57P01 admin shutdown, 57P02 crash shutdown, 57P03 starting up).
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")
_UNREACHABLE_ERRORS = (ConnectionError, TimeoutError, socket.gaierror, sa_exc.TimeoutError)
UNREACHABLE_CLASSES: tuple[type[Exception], ...] = (
    OSError,
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
)
"""The exception classes an unreachable database raises; :func:`unreachable` tells which
of their instances really say so."""


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` says that the database cannot be reached right now (stopped,
    restarting, the connection lost, the pool exhausted), so the same request may succeed
    a little later — rather than that the request or the code is wrong.

    Follows the explicit causes (``raise … from``): SQLAlchemy wraps the driver's error,
    and a refused connection arrives as the socket's own ``OSError`` (so does Redis's,
    wrapped by redis-py: a request that needs the bus while it is down is answered alike)."""
    found: BaseException | None = error
    while found is not None:
        if isinstance(found, _UNREACHABLE_ERRORS):
            return True
        if isinstance(found, sa_exc.DBAPIError) and found.connection_invalidated:
            return True
        state = getattr(found, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNREACHABLE_STATES):
            return True
        found = found.__cause__
    return False


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def rowcount(result: Result[Any]) -> int:
    """The number of rows an UPDATE or DELETE matched.

    ``AsyncSession.execute`` returns a ``CursorResult`` for those statements, but
    its overloads only promise a ``Result``, which has no ``rowcount``.
    """
    return cast(CursorResult[Any], result).rowcount


async def flush_erased(engine: AsyncEngine) -> None:
    """After the purge on SQLite: copy the write-ahead log into the database and empty it,
    so erased data lives on in no older page of the log (PostgreSQL needs nothing here)."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
