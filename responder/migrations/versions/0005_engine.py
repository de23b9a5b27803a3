"""Schema changes of issue 5 (clocks engine): the outbox's due index also covers rows waiting to retry.

Revision ID: 0005
Revises: 0004

A linear chain is reserved per capability so that parallel work never forks
the migration history. A revision with nothing to change stays a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import responder.models.types  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


OLD = "status IN ('pending', 'sending', 'held')"
NEW = "status IN ('pending', 'sending', 'held', 'failed')"


def _recreate(where: str) -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due_open")
        batch_op.create_index("ix_outbox_due_open", ["next_attempt_at"], unique=False,
                              sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    _recreate(NEW)


def downgrade() -> None:
    _recreate(OLD)
