"""Settings from the environment; an invalid one stops the start with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from videotermin.settings import SettingsError, load_settings


def test_defaults_run_the_embedded_system(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDEOTERMIN_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert (
        settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'videotermin.sqlite3'}"
    )
    assert settings.smtp is None
    assert settings.mail_dir == tmp_path / "mail"
    assert settings.timezone == "Europe/Berlin"
    assert settings.retention_days == 14
    assert settings.join_early_minutes == 5
    assert settings.redis_channel_prefix == "videotermin"
    assert not settings.secure_cookies


def test_smtp_url_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOTERMIN_SMTP_URL", "smtp://mailer:p%40ss@relay.example:587?starttls=1")
    smtp = load_settings().smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.username, smtp.password) == (
        "relay.example",
        587,
        "mailer",
        "p@ss",
    )
    assert smtp.start_tls and not smtp.use_tls
    monkeypatch.setenv("VIDEOTERMIN_SMTP_URL", "smtps://relay.example")
    smtp = load_settings().smtp
    assert smtp is not None and smtp.use_tls and smtp.port == 465


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIMEZONE", "Mars/Olympus", "VIDEOTERMIN_TIMEZONE: unknown time zone"),
        ("PUBLIC_URL", "video.example.org", "VIDEOTERMIN_PUBLIC_URL: must be an absolute"),
        ("SMTP_URL", "http://relay", "VIDEOTERMIN_SMTP_URL: must look like smtp://"),
        ("SMTP_URL", "smtp://relay:port", "VIDEOTERMIN_SMTP_URL: has an invalid port"),
        ("DATABASE_URL", "mysql://x", "VIDEOTERMIN_DATABASE_URL: must start with"),
        ("RETENTION_DAYS", "0", "VIDEOTERMIN_RETENTION_DAYS:"),
        ("JOIN_EARLY_MINUTES", "fünf", "VIDEOTERMIN_JOIN_EARLY_MINUTES:"),
        ("REDIS_CHANNEL_PREFIX", "amt:a", "VIDEOTERMIN_REDIS_CHANNEL_PREFIX: 'amt:a' must be"),
        ("REDIS_CHANNEL_PREFIX", "", "VIDEOTERMIN_REDIS_CHANNEL_PREFIX: '' must be 1 to 40"),
        ("REDIS_CHANNEL_PREFIX", "x" * 41, "VIDEOTERMIN_REDIS_CHANNEL_PREFIX:"),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"VIDEOTERMIN_{name}", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    text = str(raised.value)
    assert text.startswith("invalid setting ")
    assert message in text
    assert "\n" not in text


def test_ice_servers_are_comma_separated_and_turn_needs_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOTERMIN_TURN_URLS", "turn:turn.example:3478, turns:turn.example:5349")
    with pytest.raises(SettingsError, match="VIDEOTERMIN_TURN_SECRET is required"):
        load_settings()
    monkeypatch.setenv("VIDEOTERMIN_TURN_SECRET", "geheim")
    assert load_settings().turn_urls == ["turn:turn.example:3478", "turns:turn.example:5349"]
    monkeypatch.setenv("VIDEOTERMIN_STUN_URLS", "https://stun.example")
    with pytest.raises(SettingsError, match=r"VIDEOTERMIN_STUN_URLS: 'https://stun\.example'"):
        load_settings()


def test_redis_channel_prefix_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOTERMIN_REDIS_CHANNEL_PREFIX", "amt-nord_2.test")
    assert load_settings().redis_channel_prefix == "amt-nord_2.test"
