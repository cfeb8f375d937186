"""Payments: authorizations on file (account numbers encrypted), each policy's account and
receivables, the append-only ledger (a trigger refuses UPDATE and DELETE), collection attempts,
the processor's events (each applied once) and the built-in simulator's own tables.

Revision ID: a7c4e2d19b60
Revises: 8c4d1a2b3e5f
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a7c4e2d19b60"
down_revision: str | None = "8c4d1a2b3e5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processor_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_processor_event_event_id")),
    )
    op.create_table(
        "processor_sim_callback",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_sim_callback")),
    )
    op.create_table(
        "processor_sim_charge",
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_processor_sim_charge")),
    )
    op.create_table(
        "payment_account",
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("lawyer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delinquent_since", sa.Date(), nullable=True),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('current', 'delinquent')", name=op.f("ck_payment_account_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["app_user.id"], name=op.f("fk_payment_account_lawyer_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_payment_account_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_payment_account")),
    )
    op.create_index(
        op.f("ix_payment_account_lawyer_id"), "payment_account", ["lawyer_id"], unique=False
    )
    op.create_index("ix_payment_account_status", "payment_account", ["status"], unique=False)
    op.create_table(
        "payment_authorization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("lawyer_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.String(length=16), nullable=False),
        sa.Column("payor_name", sa.String(length=200), nullable=False),
        sa.Column("payor_email", sa.String(length=320), nullable=True),
        sa.Column("payor_is_lawyer", sa.Boolean(), nullable=False),
        sa.Column("third_party_consent", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("institution_number", sa.String(length=3), nullable=True),
        sa.Column("transit_number", sa.String(length=5), nullable=True),
        sa.Column("account_number_token", sa.Text(), nullable=True),
        sa.Column("account_last4", sa.String(length=4), nullable=True),
        sa.Column("card_token", sa.String(length=200), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("on_application_form", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("applies_from", sa.Date(), nullable=True),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method <> 'card' OR card_token IS NOT NULL",
            name=op.f("ck_payment_authorization_card_complete"),
        ),
        sa.CheckConstraint(
            "method <> 'cheque' OR plan = 'lump_sum'",
            name=op.f("ck_payment_authorization_cheque_lump_sum"),
        ),
        sa.CheckConstraint(
            "method <> 'pad' OR (institution_number IS NOT NULL AND transit_number IS NOT NULL AND account_number_token IS NOT NULL AND account_last4 IS NOT NULL)",
            name=op.f("ck_payment_authorization_pad_complete"),
        ),
        sa.CheckConstraint(
            "method IN ('pad', 'card', 'cheque')",
            name=op.f("ck_payment_authorization_method_known"),
        ),
        sa.CheckConstraint(
            "plan IN ('lump_sum', 'quarterly', 'monthly')",
            name=op.f("ck_payment_authorization_plan_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'superseded')", name=op.f("ck_payment_authorization_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_payment_authorization_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["app_user.id"], name=op.f("fk_payment_authorization_lawyer_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_payment_authorization_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_authorization")),
    )
    op.create_index(
        "ix_payment_authorization_created_at_id",
        "payment_authorization",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_authorization_lawyer_id"),
        "payment_authorization",
        ["lawyer_id"],
        unique=False,
    )
    op.create_index(
        "ix_payment_authorization_policy_id_created_at",
        "payment_authorization",
        ["policy_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "receivable",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("lawyer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind = 'deductible_call' OR policy_id IS NOT NULL",
            name=op.f("ck_receivable_policy_for_premium"),
        ),
        sa.CheckConstraint(
            "kind IN ('instalment', 'adjustment', 'deductible_call')",
            name=op.f("ck_receivable_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('due', 'paid', 'failed', 'cancelled')",
            name=op.f("ck_receivable_status_known"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_receivable_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["app_user.id"], name=op.f("fk_receivable_lawyer_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_receivable_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable")),
        sa.UniqueConstraint("origin", name=op.f("uq_receivable_origin")),
    )
    op.create_index(
        "ix_receivable_lawyer_id_due_on", "receivable", ["lawyer_id", "due_on"], unique=False
    )
    op.create_index(
        "ix_receivable_policy_id_due_on", "receivable", ["policy_id", "due_on"], unique=False
    )
    op.create_index("ix_receivable_status_due_on", "receivable", ["status", "due_on"], unique=False)
    op.create_table(
        "collection_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("lawyer_id", sa.Uuid(), nullable=False),
        sa.Column("receivable_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("attempted_on", sa.Date(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("authorization_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("payor", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("processor_reference", sa.String(length=100), nullable=True),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')",
            name=op.f("ck_collection_attempt_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_collection_attempt_amount_positive")),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["payment_authorization.id"],
            name=op.f("fk_collection_attempt_authorization_id_payment_authorization"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_collection_attempt_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["app_user.id"], name=op.f("fk_collection_attempt_lawyer_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_collection_attempt_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_attempt")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_collection_attempt_idempotency_key")),
    )
    op.create_index(
        "ix_collection_attempt_created_at_id",
        "collection_attempt",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_collection_attempt_policy_id_on",
        "collection_attempt",
        ["policy_id", "attempted_on"],
        unique=False,
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("lawyer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("receivable_id", sa.Uuid(), nullable=True),
        sa.Column("attempt_id", sa.Uuid(), nullable=True),
        sa.Column("payor", sa.String(length=200), nullable=True),
        sa.Column("processor_reference", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'adjustment' AND amount <> 0) OR amount > 0",
            name=op.f("ck_ledger_entry_amount_sign"),
        ),
        sa.CheckConstraint(
            "kind IN ('charge', 'adjustment', 'payment', 'failed_payment', 'refund')",
            name=op.f("ck_ledger_entry_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["collection_attempt.id"],
            name=op.f("fk_ledger_entry_attempt_id_collection_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["app_user.id"], name=op.f("fk_ledger_entry_lawyer_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_ledger_entry_policy_id_policy")
        ),
        sa.ForeignKeyConstraint(
            ["receivable_id"],
            ["receivable.id"],
            name=op.f("fk_ledger_entry_receivable_id_receivable"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("seq", name=op.f("uq_ledger_entry_seq")),
    )
    op.create_index(
        "ix_ledger_entry_lawyer_id_seq", "ledger_entry", ["lawyer_id", "seq"], unique=False
    )
    op.create_index(
        "ix_ledger_entry_policy_id_seq", "ledger_entry", ["policy_id", "seq"], unique=False
    )
    op.create_index(
        "ix_ledger_entry_receivable_id", "ledger_entry", ["receivable_id"], unique=False
    )
    op.create_index(
        "uq_payment_authorization_policy_active",
        "payment_authorization",
        ["policy_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    # The ledger is append-only: a correction is a new entry, never a changed one.
    op.execute(
        "CREATE FUNCTION ledger_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'ledger_entry is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry"
        " FOR EACH ROW EXECUTE FUNCTION ledger_entry_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER ledger_entry_append_only ON ledger_entry")
    op.execute("DROP FUNCTION ledger_entry_refuse_change()")
    op.drop_index(
        "uq_payment_authorization_policy_active",
        table_name="payment_authorization",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index("ix_ledger_entry_receivable_id", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_policy_id_seq", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_lawyer_id_seq", table_name="ledger_entry")
    op.drop_table("ledger_entry")
    op.drop_index("ix_collection_attempt_policy_id_on", table_name="collection_attempt")
    op.drop_index("ix_collection_attempt_created_at_id", table_name="collection_attempt")
    op.drop_table("collection_attempt")
    op.drop_index("ix_receivable_status_due_on", table_name="receivable")
    op.drop_index("ix_receivable_policy_id_due_on", table_name="receivable")
    op.drop_index("ix_receivable_lawyer_id_due_on", table_name="receivable")
    op.drop_table("receivable")
    op.drop_index(
        "ix_payment_authorization_policy_id_created_at", table_name="payment_authorization"
    )
    op.drop_index(op.f("ix_payment_authorization_lawyer_id"), table_name="payment_authorization")
    op.drop_index("ix_payment_authorization_created_at_id", table_name="payment_authorization")
    op.drop_table("payment_authorization")
    op.drop_index("ix_payment_account_status", table_name="payment_account")
    op.drop_index(op.f("ix_payment_account_lawyer_id"), table_name="payment_account")
    op.drop_table("payment_account")
    op.drop_table("processor_sim_charge")
    op.drop_table("processor_sim_callback")
    op.drop_table("processor_event")
