"""Schema change of issue 18 (the response ledger): the month-end job's archive record.

Revision ID: 0010
Revises: 0006 (the lead re-chains on merge)
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import responder.models.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("generated_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("chain_head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month"),
    )


def downgrade() -> None:
    op.drop_table("ledger_report")
