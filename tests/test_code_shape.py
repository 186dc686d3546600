"""Where code lives: queries only in ``services/`` and ``store/``, and short functions.

The import layers themselves are checked by ``lint-imports`` (``make imports``);
these are the two rules it cannot see. Both read the source with :mod:`ast`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "videotermin"
# The pages, sockets, jobs and commands translate between their wire and a service call.
NO_QUERIES = [
    *(PACKAGE / "web").rglob("*.py"),
    *(PACKAGE / "realtime").rglob("*.py"),
    *(PACKAGE / "jobs").rglob("*.py"),
    PACKAGE / "app.py",
    PACKAGE / "cli.py",
]
# The session methods that read or write rows; ``begin``/``commit`` (the transaction) are fine.
QUERY_METHODS = {
    "add",
    "add_all",
    "delete",
    "execute",
    "flush",
    "get",
    "get_one",
    "merge",
    "refresh",
    "scalar",
    "scalars",
    "stream",
    "stream_scalars",
}
SESSION_NAMES = {"db", "session"}
MAX_FUNCTION_LINES = 80
SHORT = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def queries_in(source: str) -> list[str]:
    """``line: what`` for every SQLAlchemy import other than the session's type, and every
    call of a query method on something named like a session."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if node.module != "sqlalchemy.ext.asyncio":
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}" for a in node.names if "sqlalchemy" in a.name
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in SESSION_NAMES
            and node.func.attr in QUERY_METHODS
        ):
            found.append(f"{node.lineno}: {node.func.value.id}.{node.func.attr}(...)")
    return found


def long_functions(source: str) -> list[str]:
    return [
        f"{node.lineno}: {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("path", NO_QUERIES, ids=_name)
def test_pages_sockets_jobs_and_commands_leave_queries_to_the_services(path: Path) -> None:
    assert queries_in(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SHORT, ids=_name)
def test_no_function_is_longer_than_a_screen(path: Path) -> None:
    assert long_functions(path.read_text(encoding="utf-8")) == []


def test_the_query_check_sees_a_query_and_lets_the_session_type_through() -> None:
    source = (
        "from sqlalchemy import select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "async def f(db: AsyncSession, form: dict) -> None:\n"
        "    form.get('x')\n"
        "    await db.scalar(select(1))\n"
        "    await db.commit()\n"
    )
    assert queries_in(source) == ["1: from sqlalchemy import ...", "5: db.scalar(...)"]


def test_the_length_check_counts_a_function_from_def_to_its_last_line() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    assert long_functions(f"def ok():\n{body}") == []
    assert long_functions(f"def long():\n{body}    return 0\n") == ["1: long (81 lines)"]
