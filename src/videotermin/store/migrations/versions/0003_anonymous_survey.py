"""anonymous survey

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 16:37:09.396980
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("av_quality", sa.Integer(), nullable=True),
        sa.Column("use_again", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_survey_responses_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_responses_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_responses_unit_id"), ["unit_id"], unique=False)

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("survey_closed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("survey_closed")

    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_unit_id"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_month"))

    op.drop_table("survey_responses")
