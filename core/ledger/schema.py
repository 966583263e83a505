"""Tables of the ledger (SQLAlchemy Core). Migrations in ``migrations/versions`` create them.

Amounts are integer cents. Every table is keyed by pipeline, so pipelines sharing one ledger never
see each other's data. Nothing is deleted: cancelled and failed messages stay, with a reason.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

debtors = Table(
    "debtors",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("debtor_id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("contact_name", Text),
    Column("first_name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("language", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("tags", Text, nullable=False, server_default=""),
    Column("country", String(2)),
    Column("timezone", String(64)),
    Column("last_contact_day", Date),
    Column("contacts", Text),
    Column("address", Text),
)

invoices = Table(
    "invoices",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("number", String(200), primary_key=True),
    Column("debtor_id", String(200), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount_total_cents", BigInteger, nullable=False),
    Column("amount_open_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_link", Text),
    Column("is_credit_note", Integer, nullable=False),
    Column("place", Text),
    Column("in_source", Integer, nullable=False),
    Column("last_sync_id", Integer),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("tags", Text, nullable=False, server_default=""),
    Column("paid_on", Date),
    Column("discount_percent", String(12)),
    Column("discount_days", Integer),
    Column("ladder_step", String(100)),
    Column("ladder_day", Date),
    Column("days_late", Integer),
    Column("handed_over_on", Date),
    Column("payment_reference", Text),
    Column("taken_over_on", Date),
    Column("released_on", Date),
    Index("ix_invoices_debtor", "pipeline", "debtor_id"),
    Index("ix_invoices_paid_on", "pipeline", "paid_on"),
    Index(
        "ix_invoices_payment_figures",
        "pipeline",
        "debtor_id",
        "days_late",
        "is_credit_note",
        "amount_open_cents",
        sqlite_where=text("paid_on IS NOT NULL"),
        postgresql_where=text("paid_on IS NOT NULL"),
    ),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("cursor", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("process", Text, nullable=False),
    Column("summary", Text),
    Index("ix_runs_pipeline_status", "pipeline", "status"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("idempotency_key", String(400), nullable=False, unique=True),
    Column("debtor_id", String(200), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("step", String(100), nullable=False),
    Column("template", String(200), nullable=False),
    Column("planned_for", Date, nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("recipient", Text),
    Column("reason", Text),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(20), nullable=False, server_default="step"),
    Column("noted_at", DateTime(timezone=True)),
    Column("note_error", Text),
    Index("ix_messages_pipeline_state", "pipeline", "state"),
    Index("ix_messages_debtor", "pipeline", "debtor_id"),
    Index("ix_messages_day", "planned_for", "pipeline"),
)

message_items = Table(
    "message_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False),
    Column("pipeline", String(100), nullable=False),
    Column("invoice_number", String(200), nullable=False),
    Column("step", String(100), nullable=False),
    Column("item_key", String(600), nullable=False),
    Column("amount_open_cents", BigInteger, nullable=False),
    Column("cancelled_reason", Text),
    Column("note", Text),
    UniqueConstraint("item_key", name="uq_message_items_item_key"),
    Index("ix_message_items_message", "message_id"),
    Index("ix_message_items_invoice", "pipeline", "invoice_number"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("provider_message_id", Text, nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("detail", Text),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("invoice_number", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("origin", String(50), nullable=False),
    Column("reference", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("written_back_at", DateTime(timezone=True)),
    Column("writeback_error", Text),
    Index("ix_payments_invoice", "pipeline", "invoice_number"),
)

pauses = Table(
    "pauses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("debtor_id", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("invoice_numbers", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("until", Date),
    Column("grace_days", Integer, nullable=False),
    Column("open_at_start_cents", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("ended_on", Date),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", Text),
    Column("closed_at", DateTime(timezone=True)),
    Column("close_reason", Text),
    Index("ix_pauses_debtor", "pipeline", "debtor_id"),
)

instalments = Table(
    "instalments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pause_id", Integer, ForeignKey("pauses.id"), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Index("ix_instalments_pause", "pause_id"),
)

ladders = Table(
    "ladders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("steps", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_ladders_pipeline", "pipeline", "id"),
)

legal_letters = Table(
    "legal_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False),
    Column("debtor_id", String(200), nullable=False),
    Column("invoice_numbers", Text, nullable=False),
    Column("channel", String(100), nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("principal_cents", BigInteger, nullable=False),
    Column("costs_cents", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_legal_letters_debtor", "pipeline", "debtor_id"),
)

call_tasks = Table(
    "call_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("debtor_id", String(200), nullable=False),
    Column("message_id", Integer, ForeignKey("messages.id"), unique=True),
    Column("follows_task_id", Integer, ForeignKey("call_tasks.id"), unique=True),
    Column("step", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("invoice_numbers", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("due_time", String(5)),
    Column("hours", String(11)),
    Column("assigned_to", Text),
    Column("contact_role", String(40), nullable=False),
    Column("contact_name", Text),
    Column("contact_phone", Text),
    Column("talking_points", Text, nullable=False, server_default=""),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("status", String(20), nullable=False),
    Column("flag", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column("done_by", Text),
    Column("outcome", String(40)),
    Column("spoken_to", Text),
    Column("details", Text),
    Column("note", Text),
    Column("effect", Text),
    Column("source_ref", Text),
    Column("mirror_error", Text),
    Index("ix_call_tasks_queue", "pipeline", "status", "due_on"),
    Index("ix_call_tasks_debtor", "pipeline", "debtor_id"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("debtor_id", String(200), nullable=False),
    Column("message_id", Integer, ForeignKey("messages.id"), nullable=False),
    Column("reference", String(400), nullable=False, unique=True),
    Column("channel", String(100), nullable=False),
    Column("invoice_numbers", Text, nullable=False),
    Column("open_cents", Text, nullable=False),
    Column("handed_on", Date, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
    Column("receipt", Text),
    Index("ix_handoffs_debtor", "pipeline", "debtor_id"),
)

agency_reports = Table(
    "agency_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("invoice_number", String(200), nullable=False),
    Column("status", String(40), nullable=False),
    Column("collected_cents", BigInteger, nullable=False),
    Column("reported_on", Date, nullable=False),
    Column("place", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "pipeline",
        "invoice_number",
        "status",
        "collected_cents",
        "reported_on",
        name="uq_agency_reports_line",
    ),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("debtor_id", String(200), nullable=False),
    Column("channel_kind", String(50), nullable=False),
    Column("address", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "pipeline", "debtor_id", "channel_kind", "address", name="uq_opt_outs_address"
    ),
)

payment_links = Table(
    "payment_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("key", String(400), nullable=False, unique=True),
    Column("provider", String(50), nullable=False),
    Column("link_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("provider", String(50), primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
