"""The version of the form's model that wrote an exemption's form (its schema's fingerprint),
so that a form written by the current version is answered as stored, as an application's is.
Existing forms have none and are validated again when read.

Revision ID: 7a3d9c41e0b5
Revises: 5e1f0b7a9c2d
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a3d9c41e0b5"
down_revision: str | None = "5e1f0b7a9c2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("exemption", sa.Column("form_schema", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("exemption", "form_schema")
