"""the signed calls the national axis' façade has seen, to refuse replays

Revision ID: 0005_vdxp_nonces
Revises: 0004_bodies_uncompressed
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_vdxp_nonces"
down_revision: str | None = "0004_bodies_uncompressed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vdxp_seen",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("systemid", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    op.create_index("ix_vdxp_seen_expires", "vdxp_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_vdxp_seen_expires", table_name="vdxp_seen")
    op.drop_table("vdxp_seen")
