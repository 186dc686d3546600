"""anonymous statistics, the facts about a call that feed them, and erased_at

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_counts",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "day", "metric", "key", name=op.f("pk_stat_counts")),
    )
    with op.batch_alter_table("stat_counts", schema=None) as batch_op:
        batch_op.create_index("ix_stat_counts_day", ["day"], unique=False)
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("call_ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("stats_recorded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            "ix_appointments_stats_due", ["stats_recorded", "start_at"], unique=False
        )
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_appointments_erased", ["erased_at", "start_at"], unique=False)
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entered_waiting_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("first_admitted_at", sa.DateTime(timezone=True), nullable=True)
        )
    # The statistics start with this upgrade: appointments from before were never
    # counted as scheduled, and whether their citizen came was not recorded.
    op.execute("UPDATE appointments SET stats_recorded = true")


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("first_admitted_at")
        batch_op.drop_column("entered_waiting_at")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_erased")
        batch_op.drop_column("erased_at")
        batch_op.drop_index("ix_appointments_stats_due")
        batch_op.drop_column("stats_recorded")
        batch_op.drop_column("call_ended_at")
        batch_op.drop_column("call_started_at")
    op.drop_table("stat_counts")
