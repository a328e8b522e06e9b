"""when each agency last listed or fetched its inbox: an agency that stopped collecting shows

Revision ID: 0006_mailbox_polls
Revises: 0005_vdxp_nonces
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_mailbox_polls"
down_revision: str | None = "0005_vdxp_nonces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox_polls",
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("listed_at", sa.Double(), nullable=True),
        sa.Column("fetched_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("agency"),
    )


def downgrade() -> None:
    op.drop_table("mailbox_polls")
