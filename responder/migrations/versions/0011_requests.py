"""Schema changes of issue 19 (working-day obligations): disclosure requests.

Revision ID: 0011
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import responder.models.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("count_from", sa.Date(), nullable=False),
        sa.Column("applicant", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("unit_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("clock_id", sa.Integer(), nullable=True),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("extension", sa.JSON(), nullable=False),
        sa.Column("correction", sa.JSON(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("calendar", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("answer_type", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_at", responder.models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answer_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("created_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("disclosure_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_request_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosure_request_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("disclosure_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_request_created_at"))
        batch_op.drop_index(batch_op.f("ix_disclosure_request_state"))
    op.drop_table("disclosure_request")
