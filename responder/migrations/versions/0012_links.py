"""Schema changes of issue 17: links in messages, per-person receipts, reply codes and inbound replies.

Revision ID: 0012
Revises: 0011 (0010 when branched; the lead re-chains on merge)
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import responder.models.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recipient_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", responder.models.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("message_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_link_case_id"), ["case_id"], unique=False)
    op.create_table(
        "recipient_ack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("via", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "recipient"),
    )
    with op.batch_alter_table("recipient_ack", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipient_ack_case_id"), ["case_id"], unique=False)

    op.create_table(
        "reply_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("reply_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_code_code"), ["code"], unique=False)
    op.create_table(
        "sms_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("sent_at", responder.models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("received_at", responder.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("sms_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_reply_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_reply_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_table("sms_reply")
    op.drop_table("reply_code")
    op.drop_table("recipient_ack")
    op.drop_table("message_link")
