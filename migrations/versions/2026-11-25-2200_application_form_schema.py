"""The version of the form's model that wrote an application's form (its schema's fingerprint),
so that a form written by the current version is answered as stored. Existing forms have none
and are validated again when read.

Revision ID: 5e1f0b7a9c2d
Revises: 1c3c6407df0f
Create Date: 2026-11-25 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0b7a9c2d"
down_revision: str | None = "1c3c6407df0f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("application", sa.Column("form_schema", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("application", "form_schema")
