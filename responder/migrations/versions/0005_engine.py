"""Schema changes of issue 5 (clocks engine).

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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
