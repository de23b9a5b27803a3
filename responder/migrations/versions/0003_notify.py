"""Schema changes of issue 6 (notification delivery).

Revision ID: 0003
Revises: 0002

A linear chain is reserved per capability so that parallel work never forks
the migration history. A revision with nothing to change stays a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import responder.models.types  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
