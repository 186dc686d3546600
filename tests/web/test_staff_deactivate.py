"""``videotermin user deactivate NAME``: the account's pages log out at once, it cannot log
in again, and an unknown name is an error. (Its open sockets: tests/web/test_authority_ends.py.)"""

from __future__ import annotations

import httpx
import pytest
from cli_helpers import env, run
from page_helpers import login

from conftest import LiveServer
from videotermin.store.models import StaffUser

__all__ = ["env"]
pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)


async def test_a_deactivated_advisor_is_logged_out_and_cannot_log_in_again(
    env: dict[str, str], live_server: LiveServer, advisor: StaffUser
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=20) as browser:
        await login(browser)
        assert (await browser.get("/termine")).status_code == 200

        done = run(env, "user", "deactivate", "berater")
        assert done.returncode == 0, done.stderr
        assert "user berater deactivated" in done.stdout

        page = await browser.get("/termine")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        again = await login(browser)
        assert "Benutzername oder Passwort stimmen nicht" in again.text


def test_deactivating_an_unknown_user_is_an_error(env: dict[str, str]) -> None:
    unknown = run(env, "user", "deactivate", "niemand")
    assert unknown.returncode == 2 and "no user 'niemand'" in unknown.stderr
