"""Schema changes of issue 8 (weekly logs and audit): chain sequence and archived file hashes.

Revision ID: 0006
Revises: 0005

A linear chain is reserved per capability so that parallel work never forks
the migration history.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("weekly_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("files", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("weekly_report", schema=None) as batch_op:
        batch_op.drop_column("files")
        batch_op.drop_column("chain_seq")
