"""Database tables.

Every column holding a citizen's personal data is declared with
:func:`personal` — that marker is the one list the retention purge and the
"nothing left" tests read (see :mod:`videotermin.store.personal_data`).
Times are stored as UTC and always come back timezone-aware.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from videotermin.domain.appointments import Status
from videotermin.domain.call import new_call_key
from videotermin.domain.outbox import MailStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def personal(**kwargs: Any) -> Any:
    """A column with a citizen's personal data: erased by the retention purge."""
    info = kwargs.pop("info", {})
    return mapped_column(info={**info, "personal": True}, **kwargs)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    """An organisational unit (agency, job centre, family benefits office)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    hotline: Mapped[str] = mapped_column(String(60), default="")
    hotline_hours: Mapped[str] = mapped_column(String(200), default="")
    # The hours in English for English pages and mails; empty: the German ones are shown.
    hotline_hours_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed logins per attempted username — known or not, so a lock reveals nothing.

    Keyed by a hash of the username, so the table does not collect what people typed.
    """

    __tablename__ = "login_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """A server-side login session; the cookie holds a token, the table its hash."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[StaffUser] = relationship(lazy="joined")


class StaffPasswordLink(Base):
    """A one-time link with which a staff member sets their own password.

    Only the token's hash is stored; using the link deletes it, and a newer link
    for the same person replaces the older one.
    """

    __tablename__ = "staff_password_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship(lazy="joined")


class AuditEntry(Base):
    """Who did what, when, to which appointment: append-only (the database refuses
    updates, see migration 0005), no citizen data, purged after the audit retention."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """The staff user who acted; no foreign key, so the entry outlives any change to them."""
    api_token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    appointment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The staff account an admin action concerned."""
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")


class ConsentVersion(Base):
    """A consent text an admin wrote, per version and language. A draft until its
    version is activated; once active, its text is never changed (records hash it)."""

    __tablename__ = "consent_versions"
    __table_args__ = (
        UniqueConstraint("version", "language", name="uq_consent_versions_version_language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))
    markdown: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SiteText(Base):
    """A page text an admin wrote (the privacy notice), per language."""

    __tablename__ = "site_texts"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    markdown: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class StatCount(Base):
    """One anonymous figure: how many times ``metric``/``key`` happened in a unit on a
    day. Nothing else: no appointment, no participant, no time of day (domain.statistics)."""

    __tablename__ = "stat_counts"
    __table_args__ = (Index("ix_stat_counts_day", "day"),)

    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """A revoked token is refused at once; the row stays for the audit log's names."""


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_stats_due", "stats_recorded", "start_at"),
        Index("ix_appointments_erased", "erased_at", "start_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str | None] = personal(type_=String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.SCHEDULED)
    waiting_message: Mapped[str | None] = personal(type_=String(500), nullable=True)
    waiting_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Made with the appointment (rows from before are given one by the first to join).
    call_key: Mapped[str | None] = mapped_column(String(64), nullable=True, default=new_call_key)
    """Made when the call starts; peer ids are derived from it (domain/call.py)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    call_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """The first admission; with the end, the call's length for the statistics."""
    call_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the purge erased the appointment's personal data; later purges skip it."""
    stats_recorded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether the statistics job has counted this appointment's outcome (once)."""

    unit: Mapped[Unit] = relationship(lazy="joined")
    advisor: Mapped[StaffUser] = relationship(lazy="joined")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="appointment",
        lazy="selectin",
        order_by="Participant.created_at",
        cascade="all, delete-orphan",
    )

    @property
    def ics_uid(self) -> str:
        return f"{self.id}@videotermin"


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = personal(type_=String(200), nullable=True)
    email: Mapped[str | None] = personal(type_=String(254), nullable=True)
    customer_number: Mapped[str | None] = personal(type_=String(40), nullable=True)
    language: Mapped[str] = mapped_column(String(5), default="de")
    # Personal, so erasing the participant (withdrawal, purge) makes the code unknown.
    support_code: Mapped[str | None] = personal(type_=String(6), nullable=True, index=True)
    survey_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Set when the advisor admits them to the call; removal or hanging up clears it."""
    # Where the citizen was last seen outside the waiting room and the call (the link page,
    # a step of the device check), for the support desk; written only when it changes.
    activity: Mapped[str | None] = personal(type_=String(20), nullable=True)
    activity_at: Mapped[datetime | None] = personal(type_=UTCDateTime, nullable=True)
    entered_waiting_at: Mapped[datetime | None] = personal(type_=UTCDateTime, nullable=True)
    """The first time they entered the waiting room (a no-show never did)."""
    first_admitted_at: Mapped[datetime | None] = personal(type_=UTCDateTime, nullable=True)
    """Their first admission: the statistics count a citizen's wait once."""

    appointment: Mapped[Appointment] = relationship(back_populates="participants")
    consents: Mapped[list[ConsentRecord]] = relationship(
        lazy="selectin", order_by="ConsentRecord.id", viewonly=True
    )
    device_checks: Mapped[list[DeviceCheck]] = relationship(
        lazy="selectin", order_by="DeviceCheck.id", viewonly=True
    )
    mails: Mapped[list[OutboxMail]] = relationship(
        lazy="selectin", order_by="OutboxMail.created_at", viewonly=True
    )

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def latest_consent(self) -> ConsentRecord | None:
        return self.consents[-1] if self.consents else None

    @property
    def latest_check(self) -> DeviceCheck | None:
        return self.device_checks[-1] if self.device_checks else None

    @property
    def invitation(self) -> OutboxMail | None:
        """The latest mail that carried this participant's link."""
        carrying = [m for m in self.mails if m.kind in ("invitation", "update")]
        return carrying[-1] if carrying else None


class ParticipantLink(Base):
    """A personal link: only the hash of its token is stored.

    Each mail that carries a link mints a fresh token, so no token ever needs
    to be read back; earlier links stay valid while the participant is active.
    """

    __tablename__ = "participant_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    participant: Mapped[Participant] = relationship(lazy="joined")


class OutboxMail(Base):
    """A mail accepted for delivery. The message (with the link) is erased once sent."""

    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str | None] = personal(type_=String(254), nullable=True)
    message: Mapped[bytes | None] = personal(type_=LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=MailStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = personal(type_=Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsentRecord(Base):
    """One decision on the consent text: what was shown (version, hash) and when."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))
    text_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceCheck(Base):
    """A device check's result. Everything but the verdict and time is personal data
    (device parameters, rates, transmission quality, IP): erased with the participant."""

    __tablename__ = "device_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    verdict: Mapped[str] = mapped_column(String(10))
    device_key_hash: Mapped[str | None] = personal(type_=String(64), nullable=True, index=True)
    findings: Mapped[str | None] = personal(type_=Text, nullable=True)
    os_family: Mapped[str | None] = personal(type_=String(60), nullable=True)
    os_version: Mapped[str | None] = personal(type_=String(30), nullable=True)
    device_type: Mapped[str | None] = personal(type_=String(20), nullable=True)
    device_model: Mapped[str | None] = personal(type_=String(60), nullable=True)
    browser_family: Mapped[str | None] = personal(type_=String(60), nullable=True)
    browser_version: Mapped[str | None] = personal(type_=String(30), nullable=True)
    upload_kbps: Mapped[float | None] = personal(type_=Float, nullable=True)
    download_kbps: Mapped[float | None] = personal(type_=Float, nullable=True)
    round_trip_ms: Mapped[float | None] = personal(type_=Float, nullable=True)
    packet_loss_pct: Mapped[float | None] = personal(type_=Float, nullable=True)
    jitter_ms: Mapped[float | None] = personal(type_=Float, nullable=True)
    bitrate_kbps: Mapped[float | None] = personal(type_=Float, nullable=True)
    ip_address: Mapped[str | None] = personal(type_=String(45), nullable=True)


class SurveyResponse(Base):
    """An anonymous survey answer: unit and month only, a random id, no timestamp.

    Nothing here points to a participant or appointment, and the random id gives
    no insertion order; see docs/privacy.md for why this cannot be linked back.
    """

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    av_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    use_again: Mapped[str | None] = mapped_column(String(10), nullable=True)
