"""Rate tables published as data: a program year's table kept with its exact text and status
(draft, active, retired), beside the tables shipped with the service.

Revision ID: 8c4d1a2b3e5f
Revises: 5b8e2f71c9a3
Create Date: 2026-11-25 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "8c4d1a2b3e5f"
down_revision: str | None = "5b8e2f71c9a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_table",
        sa.Column("program_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("activated_on", sa.Date(), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'retired')", name=op.f("ck_rate_table_status_known")
        ),
        sa.PrimaryKeyConstraint("program_year", name=op.f("pk_rate_table")),
    )


def downgrade() -> None:
    op.drop_table("rate_table")
