"""The ``videotermin`` command, run as a real process against the test database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cli_helpers import env, run

from conftest import LiveServer
from videotermin.domain.clock import FakeClock

__all__ = ["env"]


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_migrate_creates_a_fresh_database(tmp_path: Path, db_kind: str) -> None:
    data_dir = tmp_path / "fresh"
    result = run({"VIDEOTERMIN_DATA_DIR": str(data_dir)}, "migrate")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (data_dir / "videotermin.sqlite3").exists()


def test_user_and_token_commands_feed_the_running_app(
    env: dict[str, str], live_server: LiveServer
) -> None:
    added = run(
        {**env, "VIDEOTERMIN_PASSWORD": "lang-genug-123"},
        "user",
        "add",
        "dora",
        "--role",
        "advisor",
        "--display-name",
        "Dora Beraterin",
    )
    assert added.returncode == 0, added.stderr
    again = run({**env, "VIDEOTERMIN_PASSWORD": "lang-genug-123"}, "user", "add", "dora")
    assert again.returncode == 2
    assert "exists already" in again.stderr

    created = run(env, "token", "create", "fachverfahren")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)

    response = httpx.post(
        f"{live_server.url}/api/v1/appointments",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "start": "2026-12-03T11:00:00+01:00",
            "advisor": "dora",
            "participants": [{"name": "Clara", "email": "clara@example.org"}],
        },
        timeout=20,
    )
    assert response.status_code == 201, response.text
    assert response.json()["advisor"] == "dora"
    duplicate = run(env, "token", "create", "fachverfahren")
    assert duplicate.returncode == 2


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_user_add_refuses_weak_passwords_and_unknown_roles(env: dict[str, str]) -> None:
    weak = run({**env, "VIDEOTERMIN_PASSWORD": "kurz"}, "user", "add", "eva")
    assert weak.returncode == 2
    assert "password too weak" in weak.stderr
    role = run(
        {**env, "VIDEOTERMIN_PASSWORD": "lang-genug-123"}, "user", "add", "eva", "--role", "king"
    )
    assert role.returncode == 2
    assert "role must be one of" in role.stderr
    unit = run(
        {**env, "VIDEOTERMIN_PASSWORD": "lang-genug-123"},
        "user",
        "add",
        "eva",
        "--unit",
        "nirgendwo",
    )
    assert unit.returncode == 2
    assert "no unit" in unit.stderr


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_invalid_setting_stops_with_one_line(env: dict[str, str]) -> None:
    result = run({**env, "VIDEOTERMIN_TIMEZONE": "Nowhere/City"}, "migrate")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "VIDEOTERMIN_TIMEZONE" in result.stderr


def test_demo_prints_logins_and_a_working_link(
    env: dict[str, str], live_server: LiveServer, clock: FakeClock
) -> None:
    result = run(env, "demo")
    assert result.returncode == 0, result.stderr
    logins = dict(re.findall(r"^\s+(\w+)\s+password: (\S+)$", result.stdout, re.MULTILINE))
    assert set(logins) == {"admin", "berater", "support"}
    link = re.search(r"Citizen link: \S+/v/([A-Za-z0-9_-]{32})$", result.stdout, re.MULTILINE)
    assert link is not None
    clock.set(datetime.now(UTC))  # the demo appointment starts ten minutes from real time
    page = httpx.get(f"{live_server.url}/v/{link.group(1)}", timeout=20)
    assert page.status_code == 200
    assert "Clara Beispiel" in page.text


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_purge_dry_run_lists_what_it_would_erase_by_kind(env: dict[str, str]) -> None:
    result = run(env, "purge", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "would erase (nothing changed):"
    kinds = dict(line.split() for line in lines[1:])
    assert kinds == {
        "appointments": "0",
        "participants": "0",
        "device_checks": "0",
        "sessions": "0",
        "audit_entries": "0",
        "mail_files": "0",
    }


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_purge_reports_what_it_erased(env: dict[str, str]) -> None:
    result = run(env, "purge")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("erased: 0 participants")
