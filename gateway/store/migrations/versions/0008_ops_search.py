"""operators' search and auditors' drill-down: a message's code number, and the indexes their
queries use (by document id, code, sender, recipient, time; the exchanges behind a figure;
refusals)

Revision ID: 0008_ops_search
Revises: 0005_vdxp_nonces
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_ops_search"
down_revision: str | None = "0007_console_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_messages_document", "messages", ["document_id"]),
    ("ix_messages_code", "messages", ["code"]),
    ("ix_messages_received", "messages", ["received_at"]),
    ("ix_messages_sender_received", "messages", ["sender", "received_at"]),
    ("ix_deliveries_recipient_received", "deliveries", ["recipient", "received_at"]),
    ("ix_deliveries_exchange", "deliveries", ["sender", "document_id", "recipient"]),
    ("ix_exchanges_details", "exchanges", ["sender", "channel", "day", "document_id", "recipient"]),
    ("ix_events_event", "events", ["event", "seq"]),
)


UNDELIVERED = sa.text("state IN ('failed', 'purged')")


def upgrade() -> None:
    op.add_column("messages", sa.Column("code", sa.String(length=120), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index(
        "ix_deliveries_undelivered",
        "deliveries",
        ["sender", "document_id", "recipient"],
        sqlite_where=UNDELIVERED,
        postgresql_where=UNDELIVERED,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_undelivered", table_name="deliveries")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("code")
