"""What the gateway keeps. Timestamps are unix seconds (double); JSON is stored as text.

- `messages`: one row per accepted edXML message (document or status), with its dedupe key.
- `bodies`: the bytes exactly as the sender sent them, apart so that listings stay small.
- `deliveries`: one row per (message, recipient): the mailbox and the delivery state.
- `events`: the append-only, hash-chained audit log; traces and statistics derive from it.
- `adapter_backoff`: per agency, whether its delivery adapter is backing off, and until when.
- `mailbox_polls`: per agency, when it last listed or fetched its inbox.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# A 64-bit identity on PostgreSQL, the rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # edoc | status
    sa.Column("sender", sa.String(64), nullable=False),
    sa.Column("document_id", sa.String(300), nullable=False),
    sa.Column("business_type", sa.SmallInteger, nullable=True),
    sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("paper_copy", sa.Boolean, nullable=False),
    sa.Column("received_at", sa.Double, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    sa.Column("reply_to", sa.String(32), nullable=True),  # a status: the message it answers
    sa.Column("status_code", sa.String(4), nullable=True),
    sa.Column("signature", sa.Text, nullable=False),  # JSON: what was verified, or "unsigned"
    sa.Column("code", sa.String(120), nullable=True),  # CodeNumber/CodeNotation, for searches
    sa.Index("ix_messages_unpublished", "published", "received_at"),
    sa.Index("ix_messages_sender_document", "sender", "document_id"),
    # the operators' search (gateway.audit.search)
    sa.Index("ix_messages_document", "document_id"),
    sa.Index("ix_messages_code", "code"),
    sa.Index("ix_messages_received", "received_at"),
    sa.Index("ix_messages_sender_received", "sender", "received_at"),
)

bodies = sa.Table(
    "bodies",
    metadata,
    sa.Column(
        "message_id",
        sa.String(32),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(32), nullable=False, unique=True),
    sa.Column(
        "message_id",
        sa.String(32),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("recipient", sa.String(64), nullable=False),
    sa.Column("sender", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("document_id", sa.String(300), nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("received_at", sa.Double, nullable=False),
    # queued -> inbox (mailbox) | delivered (pushed) -> acked; failed when dead-lettered
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Index("ix_deliveries_message", "message_id"),
    sa.Index("ix_deliveries_recipient_received", "recipient", "received_at"),
    sa.Index("ix_deliveries_exchange", "sender", "document_id", "recipient"),  # undelivered
    # the few deliveries never handed over (dead-lettered, purged): the `undelivered` column
    sa.Index(
        "ix_deliveries_undelivered",
        "sender",
        "document_id",
        "recipient",
        sqlite_where=sa.text("state IN ('failed', 'purged')"),
        postgresql_where=sa.text("state IN ('failed', 'purged')"),
    ),
)
# the inbox's order, urgent first then oldest (migration 0009): a page is read off the index
sa.Index(
    "ix_deliveries_inbox",
    deliveries.c.recipient,
    deliveries.c.state,
    deliveries.c.priority.desc(),
    deliveries.c.seq,
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=True),  # the agency or user who caused it
    sa.Column("message_id", sa.String(32), nullable=True),
    sa.Column("recipient", sa.String(64), nullable=True),
    sa.Column("data", sa.Text, nullable=False),  # JSON, metadata only: never a body
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_events_message", "message_id", "seq"),
    sa.Index("ix_events_at", "at"),  # the console's charts and filters read a time range
    sa.Index("ix_events_event", "event", "seq"),  # refusals
)

# The materialised counters of DESIGN §6, kept up to date from the audit entries in the same
# transaction (gateway.stats.facts); `edocgw stats --recompute` rebuilds them from the log.
exchanges = sa.Table(
    "exchanges",
    metadata,
    sa.Column("sender", sa.String(64), primary_key=True),
    sa.Column("document_id", sa.String(300), primary_key=True),
    sa.Column("recipient", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(10), nullable=False),  # electronic | paper | secret
    sa.Column("day", sa.String(10), nullable=False),  # YYYY-MM-DD in stats.timezone
    sa.Column("paper_copy", sa.Boolean, nullable=False),
    # covers the statistics' sums (gateway.stats.facts.day_counts): the index alone is read
    sa.Index("ix_exchanges_day", "day", "sender", "channel", "paper_copy"),
    # the auditors' drill-down (gateway.stats.details)
    sa.Index("ix_exchanges_details", "sender", "channel", "day", "document_id", "recipient"),
)

# Per-agency backoff of the delivery adapters (delivery.backoff): kept so that a restart does not
# start hammering a department system that is down, nor forget an operator's reset.
adapter_backoff = sa.Table(
    "adapter_backoff",
    metadata,
    sa.Column("agency", sa.String(64), primary_key=True),
    sa.Column("instance", sa.String(100), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),  # consecutive, 0 when up
    sa.Column("retry_at", sa.Double, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),  # a reason, never a body or a secret
    sa.Column("since", sa.Double, nullable=True),  # the first failure of the outage
    sa.Column("updated_at", sa.Double, nullable=False),
)

# The signed calls the national axis' façade has seen (gateway.api.vdxp_replays), kept until
# their timestamp leaves the window: a replay is recognised on whichever node it reaches.
vdxp_seen = sa.Table(
    "vdxp_seen",
    metadata,
    sa.Column("signature", sa.String(64), primary_key=True),  # the call's HMAC, hex
    sa.Column("systemid", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False),
    sa.Index("ix_vdxp_seen_expires", "expires_at"),
)

# When each agency last listed or fetched its inbox (gateway.store.backlog): an agency whose
# system stopped collecting shows in the operator's backlog. Written at most once a minute.
mailbox_polls = sa.Table(
    "mailbox_polls",
    metadata,
    sa.Column("agency", sa.String(64), primary_key=True),
    sa.Column("listed_at", sa.Double, nullable=True),
    sa.Column("fetched_at", sa.Double, nullable=True),
)

# The console's sign-ins (gateway.console.sessions): a record per session, so that one survives a
# restart and is known to every node. Only the SHA-256 of the session id is kept: a copy of the
# table signs no one in.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=True),  # where it signed in from
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("seen_at", sa.Double, nullable=False),  # the idle expiry counts from here
    sa.Index("ix_console_sessions_seen", "seen_at"),
)
