"""ix_exchanges_day covers the statistics' sums (day, sender, channel, paper_copy): a year of
a million exchanges is summed from the index alone, without reading the table (bench.console)

Revision ID: 0010_exchanges_day_covering
Revises: 0009_inbox_order
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_exchanges_day_covering"
down_revision: str | None = "0009_inbox_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_exchanges_day", table_name="exchanges")
    op.create_index(
        "ix_exchanges_day", "exchanges", ["day", "sender", "channel", "paper_copy"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_exchanges_day", table_name="exchanges")
    op.create_index("ix_exchanges_day", "exchanges", ["day", "sender"], unique=False)
