"""Settings from the environment (prefix ``VIDEOTERMIN_``).

Every setting has a default that runs the embedded system on a laptop: a SQLite
file and mails written to a folder under ``DATA_DIR``. Production swaps in
PostgreSQL and SMTP by configuration only.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Channels are "<prefix>:<name>"; a ':' or pattern characters in the prefix would blur
# which deployment a channel belongs to.
_CHANNEL_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,40}")


class SmtpTarget(BaseModel):
    """Where and how to deliver mail, parsed from ``smtp://user:pass@host:port?starttls=1``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIDEOTERMIN_", extra="ignore", enable_decoding=False
    )

    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default is a SQLite file in DATA_DIR.",
    )
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_from: str = "Videotermin <videotermin@localhost>"
    timezone: str = "Europe/Berlin"
    retention_days: int = Field(default=14, ge=1, le=3650)
    audit_retention_days: int = Field(
        default=365, ge=1, le=3650, description="How long the audit log keeps an entry."
    )
    password_link_hours: int = Field(
        default=72, ge=1, le=720, description="How long a one-time password link works."
    )
    support_lookups_per_minute: int = Field(
        default=20, ge=1, le=1000, description="Support look-ups one staff user may make."
    )
    join_early_minutes: int = Field(default=5, ge=0, le=240)
    default_duration_minutes: int = Field(default=30, ge=5, le=480)
    mail_max_attempts: int = Field(default=8, ge=1, le=50)
    mail_retry_base_seconds: int = Field(default=30, ge=1, le=3600)
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    session_hours: int = Field(default=10, ge=1, le=168)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lock_minutes: int = Field(default=15, ge=1, le=1440)
    consent_dir: Path | None = Field(
        default=None, description="Operator's consent texts; overrides the shipped ones."
    )
    redis_url: str | None = None
    redis_channel_prefix: str = Field(
        default="videotermin",
        description="Prefix of this deployment's Redis channels, so several deployments"
        " can share one Redis server.",
    )
    stun_urls: list[str] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    turn_secret: str | None = None
    turn_credential_ttl_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)
    ice_transport_policy: Literal["all", "relay"] = Field(
        default="all",
        description="'relay' sends all browser media through TURN: peers never learn each"
        " other's IP address (privacy), at the cost of a hop. Needs TURN_URLS.",
    )
    testcall_max_concurrent: int = Field(default=16, ge=1, le=1000)
    testcall_seconds: int = Field(default=6, ge=2, le=30)
    call_max_participants: int = Field(
        default=4, ge=2, le=16, description="Mesh limit of a call, the advisor included."
    )

    @field_validator("public_url")
    @classmethod
    def _public_url_is_absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://video.example.org")
        return value.rstrip("/")

    @field_validator("stun_urls", "turn_urls", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("stun_urls", "turn_urls")
    @classmethod
    def _ice_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"{url!r} must start with stun:, turn: or turns:")
        return value

    @model_validator(mode="after")
    def _turn_needs_secret(self) -> Settings:
        if self.turn_urls and not self.turn_secret:
            raise ValueError("VIDEOTERMIN_TURN_SECRET is required when TURN_URLS is set")
        return self

    @model_validator(mode="after")
    def _relay_needs_turn(self) -> Settings:
        if self.ice_transport_policy == "relay" and not self.turn_urls:
            raise ValueError("VIDEOTERMIN_ICE_TRANSPORT_POLICY=relay needs VIDEOTERMIN_TURN_URLS")
        return self

    @field_validator("redis_channel_prefix")
    @classmethod
    def _channel_prefix_is_plain(cls, value: str) -> str:
        if not _CHANNEL_PREFIX.fullmatch(value):
            raise ValueError(
                f"{value!r} must be 1 to 40 letters, digits, '_', '.' or '-' (no ':' or spaces)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_async(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_parses(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        _parse_smtp_url(value)
        return value

    @model_validator(mode="after")
    def _defaults_from_data_dir(self) -> Settings:
        if self.database_url is None:
            self.database_url = (
                f"sqlite+aiosqlite:///{(self.data_dir / 'videotermin.sqlite3').resolve()}"
            )
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def smtp(self) -> SmtpTarget | None:
        return _parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def _parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must look like smtp://user:pass@host:port or smtps://host:465")
    query = parse_qs(parts.query)
    start_tls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        start_tls=start_tls,
    )


class SettingsError(Exception):
    """Raised with one readable line naming the offending setting."""


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; turn validation errors into one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them in its message
            raise SettingsError(f"invalid settings: {message}") from None
        name = "VIDEOTERMIN_" + str(first["loc"][0]).upper()
        raise SettingsError(f"invalid setting {name}: {message}") from None
