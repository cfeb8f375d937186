"""Audit events name their data subjects and the records a list read returned, and keep the
client's own request id beside ours; seals keep their events' numbers.

Revision ID: 7a1c2e9d4b10
Revises: 9d43eb1e8b58
Create Date: 2026-11-25 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a1c2e9d4b10"
down_revision: str | None = "9d43eb1e8b58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_event",
        sa.Column(
            "subject_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column(
        "audit_event",
        sa.Column(
            "resource_ids",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_audit_event_subject_ids", "audit_event", ["subject_ids"], postgresql_using="gin"
    )
    op.create_index(
        "ix_audit_event_resource_ids", "audit_event", ["resource_ids"], postgresql_using="gin"
    )
    op.add_column("audit_seal", sa.Column("event_seqs", postgresql.ARRAY(sa.BigInteger())))
    op.add_column("audit_event", sa.Column("client_request_id", sa.String(length=64)))


def downgrade() -> None:
    op.drop_column("audit_event", "client_request_id")
    op.drop_column("audit_seal", "event_seqs")
    op.drop_index("ix_audit_event_resource_ids", table_name="audit_event")
    op.drop_index("ix_audit_event_subject_ids", table_name="audit_event")
    op.drop_column("audit_event", "resource_ids")
    op.drop_column("audit_event", "subject_ids")
