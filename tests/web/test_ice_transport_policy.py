"""``VIDEOTERMIN_ICE_TRANSPORT_POLICY``: an operator can force every browser's media
through TURN, so that no peer learns a participant's IP address. The check page hands
the policy to its script together with the ICE servers (the browser test
tests/e2e/test_device_check_relay_browser.py proves the call then really relays), and
the setting refuses ``relay`` without a TURN server to relay through."""

from __future__ import annotations

import httpx
import pytest
from device_check_helpers import page_config

from videotermin.settings import Settings, SettingsError, load_settings
from videotermin.store.models import StaffUser


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "turn_urls": ["turn:turn.example.org:3478?transport=udp"],
            "turn_secret": "geheimnis-fuer-coturn",
            "ice_transport_policy": "relay",
        }
    )


def test_the_policy_is_all_unless_set_and_relay_needs_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().ice_transport_policy == "all"
    monkeypatch.setenv("VIDEOTERMIN_ICE_TRANSPORT_POLICY", "relay")
    with pytest.raises(SettingsError, match="ICE_TRANSPORT_POLICY=relay needs VIDEOTERMIN_TURN"):
        load_settings()
    monkeypatch.setenv("VIDEOTERMIN_TURN_URLS", "turn:turn.example:3478")
    monkeypatch.setenv("VIDEOTERMIN_TURN_SECRET", "geheim")
    assert load_settings().ice_transport_policy == "relay"
    monkeypatch.setenv("VIDEOTERMIN_ICE_TRANSPORT_POLICY", "turn-only")
    with pytest.raises(SettingsError, match="VIDEOTERMIN_ICE_TRANSPORT_POLICY"):
        load_settings()


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_the_check_page_hands_its_script_the_policy_with_the_servers(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    page = await client.get("/check")

    assert page.status_code == 200
    config = page_config(page.text)
    assert config["iceTransportPolicy"] == "relay"
    [turn] = config["iceServers"]
    assert turn["urls"] == ["turn:turn.example.org:3478?transport=udp"]
    assert turn["username"] and turn["credential"]
