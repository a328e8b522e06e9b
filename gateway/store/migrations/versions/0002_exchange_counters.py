"""exchange counters for the statistics

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchanges",
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=300), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("paper_copy", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("sender", "document_id", "recipient"),
    )
    op.create_index("ix_exchanges_day", "exchanges", ["day", "sender"])


def downgrade() -> None:
    op.drop_index("ix_exchanges_day", table_name="exchanges")
    op.drop_table("exchanges")
