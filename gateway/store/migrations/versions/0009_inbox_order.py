"""the inbox index in the inbox's order (urgent first, then oldest): a listing reads its page
from the index instead of sorting every waiting item (a 10,000-item backlog: bench.scale)

Revision ID: 0009_inbox_order
Revises: 0008_ops_search
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_inbox_order"
down_revision: str | None = "0008_ops_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_inbox", table_name="deliveries")
    op.create_index(
        "ix_deliveries_inbox",
        "deliveries",
        ["recipient", "state", sa.text("priority DESC"), "seq"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_inbox", table_name="deliveries")
    op.create_index(
        "ix_deliveries_inbox", "deliveries", ["recipient", "state", "priority", "seq"], unique=False
    )
