"""Schema changes of issue 6 (notification delivery).

Revision ID: 0003
Revises: 0002

``outbox.outcome_unknown`` marks a row whose last send was interrupted (crash
between the provider call and the record), so the dispatcher asks the provider
before sending again; ``delivery_attempt.channel`` keeps the channel with each
attempt (a digest or a fallback may change it).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import responder.models.types  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_unknown", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("outcome_unknown")
