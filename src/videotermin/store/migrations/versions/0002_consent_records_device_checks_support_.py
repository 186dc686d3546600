"""consent records, device checks, support codes, waiting-room message

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:13:23.190557
"""

import sqlalchemy as sa
from alembic import op

import videotermin.store.models
from videotermin.domain.support_code import new_support_code

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column(
            "decided_at", videotermin.store.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_consent_records_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_records_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "device_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column(
            "checked_at", videotermin.store.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("device_key_hash", sa.String(length=64), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("os_family", sa.String(length=60), nullable=True),
        sa.Column("os_version", sa.String(length=30), nullable=True),
        sa.Column("device_type", sa.String(length=20), nullable=True),
        sa.Column("device_model", sa.String(length=60), nullable=True),
        sa.Column("browser_family", sa.String(length=60), nullable=True),
        sa.Column("browser_version", sa.String(length=30), nullable=True),
        sa.Column("upload_kbps", sa.Float(), nullable=True),
        sa.Column("download_kbps", sa.Float(), nullable=True),
        sa.Column("round_trip_ms", sa.Float(), nullable=True),
        sa.Column("packet_loss_pct", sa.Float(), nullable=True),
        sa.Column("jitter_ms", sa.Float(), nullable=True),
        sa.Column("bitrate_kbps", sa.Float(), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_device_checks_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_checks")),
    )
    with op.batch_alter_table("device_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_checks_device_key_hash"), ["device_key_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_checks_checked_at"), ["checked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_device_checks_participant_id"), ["participant_id"], unique=False
        )

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_message", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column(
                "waiting_message_at",
                videotermin.store.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )

    # Existing participants get a code before the column becomes NOT NULL.
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support_code", sa.String(length=6), nullable=True))
    participants = sa.table("participants", sa.column("id"), sa.column("support_code"))
    connection = op.get_bind()
    for (participant_id,) in connection.execute(sa.select(participants.c.id)):
        connection.execute(
            participants.update()
            .where(participants.c.id == participant_id)
            .values(support_code=new_support_code())
        )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.alter_column("support_code", existing_type=sa.String(length=6), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_participants_support_code"), ["support_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participants_support_code"))
        batch_op.drop_column("support_code")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("waiting_message_at")
        batch_op.drop_column("waiting_message")

    with op.batch_alter_table("device_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_checks_device_key_hash"))
        batch_op.drop_index(batch_op.f("ix_device_checks_participant_id"))
        batch_op.drop_index(batch_op.f("ix_device_checks_checked_at"))

    op.drop_table("device_checks")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_participant_id"))

    op.drop_table("consent_records")
