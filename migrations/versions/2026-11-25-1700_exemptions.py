"""Exemptions: the form (a)-(h), its review and the return of premium it produced; a policy's
cover may end early (an exemption), recorded as an adjustment of its own kind.

Revision ID: 5b8e2f71c9a3
Revises: e3a9b0c4d5f6
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5b8e2f71c9a3"
down_revision: str | None = "e3a9b0c4d5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exemption",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("filed_by_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("form", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column(
            "facts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_id", sa.Uuid(), nullable=True),
        sa.Column("review_note", sa.String(length=2000), nullable=True),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("refund", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("refund_total", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('portal', 'paper')", name=op.f("ck_exemption_channel_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_review', 'accepted', 'refused', 'ended')",
            name=op.f("ck_exemption_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["app_user.id"], name=op.f("fk_exemption_filed_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["app_user.id"], name=op.f("fk_exemption_owner_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_exemption_policy_id_policy")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["app_user.id"], name=op.f("fk_exemption_reviewed_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exemption")),
    )
    op.create_index("ix_exemption_created_at_id", "exemption", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_exemption_owner_id_created_at", "exemption", ["owner_id", "created_at"], unique=False
    )
    op.create_index(
        "uq_exemption_owner_live",
        "exemption",
        ["owner_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending_review', 'accepted')"),
    )
    op.add_column("policy", sa.Column("cover_ends", sa.Date(), nullable=True))
    op.drop_constraint(op.f("ck_mid_term_change_kind_known"), "mid_term_change", type_="check")
    op.create_check_constraint(
        op.f("ck_mid_term_change_kind_known"),
        "mid_term_change",
        "kind IN ('add_real_estate', 'remove_real_estate', 'lose_part_time', 'exemption_refund')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM mid_term_change WHERE kind = 'exemption_refund'")
    op.drop_constraint(op.f("ck_mid_term_change_kind_known"), "mid_term_change", type_="check")
    op.create_check_constraint(
        op.f("ck_mid_term_change_kind_known"),
        "mid_term_change",
        "kind IN ('add_real_estate', 'remove_real_estate', 'lose_part_time')",
    )
    op.drop_column("policy", "cover_ends")
    op.drop_index(
        "uq_exemption_owner_live",
        table_name="exemption",
        postgresql_where=sa.text("status IN ('pending_review', 'accepted')"),
    )
    op.drop_index("ix_exemption_owner_id_created_at", table_name="exemption")
    op.drop_index("ix_exemption_created_at_id", table_name="exemption")
    op.drop_table("exemption")
