"""Claims notices become a domain: the notice's matter, status and facts, its claims file
(milestones and costs) and the deductible calls; and the answers kept for Idempotency-Key.

Revision ID: e3a9b0c4d5f6
Revises: c4d2f8a61b07
Create Date: 2026-11-25 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e3a9b0c4d5f6"
down_revision: str | None = "c4d2f8a61b07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotent_answer",
        sa.Column("caller_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=True),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller_id", "key", name=op.f("pk_idempotent_answer")),
    )
    op.create_index(
        op.f("ix_idempotent_answer_expires_at"), "idempotent_answer", ["expires_at"], unique=False
    )
    op.create_table(
        "claim_file_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entry_type", sa.String(length=16), nullable=False),
        sa.Column("milestone", sa.String(length=32), nullable=True),
        sa.Column("cost_kind", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(entry_type = 'milestone' AND milestone IS NOT NULL AND amount IS NULL) OR (entry_type = 'cost' AND cost_kind IS NOT NULL AND amount > 0)",
            name=op.f("ck_claim_file_entry_entry_shape"),
        ),
        sa.CheckConstraint(
            "entry_type IN ('milestone', 'cost')", name=op.f("ck_claim_file_entry_type_known")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["claim_notice.id"],
            name=op.f("fk_claim_file_entry_notice_id_claim_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_claim_file_entry_recorded_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_file_entry")),
        sa.UniqueConstraint(
            "notice_id", "position", name=op.f("uq_claim_file_entry_notice_id_position")
        ),
    )
    op.create_table(
        "deductible_call",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("lawyer_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("cumulative", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_deductible_call_amount_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["claim_file_entry.id"],
            name=op.f("fk_deductible_call_entry_id_claim_file_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["lawyer_id"], ["app_user.id"], name=op.f("fk_deductible_call_lawyer_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["claim_notice.id"],
            name=op.f("fk_deductible_call_notice_id_claim_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deductible_call")),
    )
    op.create_index(
        "ix_deductible_call_lawyer_id_due_on",
        "deductible_call",
        ["lawyer_id", "due_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_deductible_call_notice_id"), "deductible_call", ["notice_id"], unique=False
    )
    op.add_column("claim_notice", sa.Column("reference", sa.String(length=20), nullable=True))
    op.add_column("claim_notice", sa.Column("firm_id", sa.Uuid(), nullable=True))
    op.add_column("claim_notice", sa.Column("filed_by_id", sa.Uuid(), nullable=True))
    op.add_column("claim_notice", sa.Column("status", sa.String(length=16), nullable=True))
    op.add_column("claim_notice", sa.Column("channel", sa.String(length=16), nullable=True))
    op.add_column("claim_notice", sa.Column("awareness_date", sa.Date(), nullable=True))
    op.add_column("claim_notice", sa.Column("client_name", sa.String(length=200), nullable=True))
    op.add_column("claim_notice", sa.Column("matter_description", sa.Text(), nullable=True))
    op.add_column("claim_notice", sa.Column("retainer_date", sa.Date(), nullable=True))
    op.add_column("claim_notice", sa.Column("claimant", sa.String(length=200), nullable=True))
    op.add_column("claim_notice", sa.Column("alleged_error", sa.Text(), nullable=True))
    op.add_column(
        "claim_notice",
        sa.Column("potential_damages", sa.Numeric(precision=14, scale=2), nullable=True),
    )
    op.add_column(
        "claim_notice",
        sa.Column(
            "chronology",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.add_column(
        "claim_notice",
        sa.Column("reported_on_section_d", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "claim_notice",
        sa.Column(
            "facts", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
    )
    op.add_column(
        "claim_notice",
        sa.Column(
            "social_engineering_steps",
            postgresql.ARRAY(sa.String(length=40)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column("claim_notice", sa.Column("policy_id", sa.Uuid(), nullable=True))
    op.add_column("claim_notice", sa.Column("counsel_id", sa.Uuid(), nullable=True))
    op.add_column(
        "claim_notice", sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("claim_notice", sa.Column("acknowledged_by_id", sa.Uuid(), nullable=True))
    op.add_column(
        "claim_notice", sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("claim_notice", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("claim_notice", sa.Column("version", sa.Integer(), nullable=True))
    # notices recorded before the domain existed: received on paper, filed by the lawyer
    op.execute(
        "UPDATE claim_notice SET filed_by_id = lawyer_id, status = 'submitted',"
        " channel = 'paper', version = 1"
    )
    for column in ("filed_by_id", "status", "channel", "version"):
        op.alter_column("claim_notice", column, nullable=False)
    op.create_check_constraint(
        op.f("ck_claim_notice_status_known"),
        "claim_notice",
        "status IN ('draft', 'submitted', 'acknowledged', 'closed')",
    )
    op.create_check_constraint(
        op.f("ck_claim_notice_channel_known"),
        "claim_notice",
        "channel IN ('portal', 'paper', 'telephone')",
    )
    op.create_check_constraint(
        op.f("ck_claim_notice_potential_damages_not_negative"),
        "claim_notice",
        "potential_damages >= 0",
    )
    op.create_check_constraint(
        op.f("ck_claim_notice_filed_notice_complete"),
        "claim_notice",
        "status = 'draft' OR (kind IS NOT NULL AND reported_on IS NOT NULL"
        " AND awareness_date IS NOT NULL)",
    )
    op.execute("CREATE SEQUENCE claim_notice_reference_seq")
    op.alter_column("claim_notice", "kind", existing_type=sa.VARCHAR(length=16), nullable=True)
    op.alter_column("claim_notice", "reported_on", existing_type=sa.DATE(), nullable=True)
    op.create_index("ix_claim_notice_counsel_id", "claim_notice", ["counsel_id"], unique=False)
    op.create_index(
        "ix_claim_notice_created_at_id", "claim_notice", ["created_at", "id"], unique=False
    )
    op.create_index(
        op.f("ix_claim_notice_filed_by_id"), "claim_notice", ["filed_by_id"], unique=False
    )
    op.create_index(
        "ix_claim_notice_status_created_at", "claim_notice", ["status", "created_at"], unique=False
    )
    op.create_unique_constraint(op.f("uq_claim_notice_reference"), "claim_notice", ["reference"])
    op.create_foreign_key(
        op.f("fk_claim_notice_policy_id_policy"), "claim_notice", "policy", ["policy_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_claim_notice_counsel_id_app_user"),
        "claim_notice",
        "app_user",
        ["counsel_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_claim_notice_filed_by_id_app_user"),
        "claim_notice",
        "app_user",
        ["filed_by_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_claim_notice_firm_id_firm"), "claim_notice", "firm", ["firm_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_claim_notice_acknowledged_by_id_app_user"),
        "claim_notice",
        "app_user",
        ["acknowledged_by_id"],
        ["id"],
    )
    op.drop_column("claim_notice", "with_payment")


def downgrade() -> None:
    op.execute("DROP SEQUENCE claim_notice_reference_seq")
    for name in (
        "status_known",
        "channel_known",
        "potential_damages_not_negative",
        "filed_notice_complete",
    ):
        op.drop_constraint(op.f(f"ck_claim_notice_{name}"), "claim_notice", type_="check")
    # drafts were never notice: they go; the payments recorded on a file come back as a flag
    op.execute("DELETE FROM deductible_call")
    op.execute(
        "DELETE FROM claim_file_entry WHERE notice_id IN (SELECT id FROM claim_notice WHERE status = 'draft')"
    )
    op.execute("DELETE FROM claim_notice WHERE status = 'draft'")
    op.add_column(
        "claim_notice",
        sa.Column(
            "with_payment",
            sa.BOOLEAN(),
            server_default=sa.text("false"),
            autoincrement=False,
            nullable=False,
        ),
    )
    op.execute(
        "UPDATE claim_notice SET with_payment = EXISTS (SELECT 1 FROM claim_file_entry e"
        " WHERE e.notice_id = claim_notice.id AND e.entry_type = 'cost'"
        " AND e.cost_kind IN ('investigation', 'repair', 'loss_prevention', 'indemnity'))"
    )
    op.drop_constraint(
        op.f("fk_claim_notice_acknowledged_by_id_app_user"), "claim_notice", type_="foreignkey"
    )
    op.drop_constraint(op.f("fk_claim_notice_firm_id_firm"), "claim_notice", type_="foreignkey")
    op.drop_constraint(
        op.f("fk_claim_notice_filed_by_id_app_user"), "claim_notice", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_claim_notice_counsel_id_app_user"), "claim_notice", type_="foreignkey"
    )
    op.drop_constraint(op.f("fk_claim_notice_policy_id_policy"), "claim_notice", type_="foreignkey")
    op.drop_constraint(op.f("uq_claim_notice_reference"), "claim_notice", type_="unique")
    op.drop_index("ix_claim_notice_status_created_at", table_name="claim_notice")
    op.drop_index(op.f("ix_claim_notice_filed_by_id"), table_name="claim_notice")
    op.drop_index("ix_claim_notice_created_at_id", table_name="claim_notice")
    op.drop_index("ix_claim_notice_counsel_id", table_name="claim_notice")
    op.alter_column("claim_notice", "reported_on", existing_type=sa.DATE(), nullable=False)
    op.alter_column("claim_notice", "kind", existing_type=sa.VARCHAR(length=16), nullable=False)
    op.drop_column("claim_notice", "version")
    op.drop_column("claim_notice", "closed_at")
    op.drop_column("claim_notice", "submitted_at")
    op.drop_column("claim_notice", "acknowledged_by_id")
    op.drop_column("claim_notice", "acknowledged_at")
    op.drop_column("claim_notice", "counsel_id")
    op.drop_column("claim_notice", "policy_id")
    op.drop_column("claim_notice", "social_engineering_steps")
    op.drop_column("claim_notice", "facts")
    op.drop_column("claim_notice", "reported_on_section_d")
    op.drop_column("claim_notice", "chronology")
    op.drop_column("claim_notice", "potential_damages")
    op.drop_column("claim_notice", "alleged_error")
    op.drop_column("claim_notice", "claimant")
    op.drop_column("claim_notice", "retainer_date")
    op.drop_column("claim_notice", "matter_description")
    op.drop_column("claim_notice", "client_name")
    op.drop_column("claim_notice", "awareness_date")
    op.drop_column("claim_notice", "channel")
    op.drop_column("claim_notice", "status")
    op.drop_column("claim_notice", "filed_by_id")
    op.drop_column("claim_notice", "firm_id")
    op.drop_column("claim_notice", "reference")
    op.drop_index(op.f("ix_deductible_call_notice_id"), table_name="deductible_call")
    op.drop_index("ix_deductible_call_lawyer_id_due_on", table_name="deductible_call")
    op.drop_table("deductible_call")
    op.drop_table("claim_file_entry")
    op.drop_index(op.f("ix_idempotent_answer_expires_at"), table_name="idempotent_answer")
    op.drop_table("idempotent_answer")
