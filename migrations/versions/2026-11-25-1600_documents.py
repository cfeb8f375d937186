"""Documents: the metadata of files attached to other domains' records, and their bytes in a
table of their own.

Revision ID: c4d2f8a61b07
Revises: 7a1c2e9d4b10
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d2f8a61b07"
down_revision: str | None = "7a1c2e9d4b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("attached_to_type", sa.String(length=32), nullable=False),
        sa.Column("attached_to_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/png', 'image/jpeg')",
            name=op.f("ck_document_content_type_known"),
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_document_sha256_hex")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_document_size_bytes_positive")),
        sa.CheckConstraint(
            "attached_to_type ~ '^[a-z][a-z_]*$'", name=op.f("ck_document_attached_to_type_name")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["app_user.id"], name=op.f("fk_document_owner_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["app_user.id"], name=op.f("fk_document_uploaded_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    op.create_index(
        "ix_document_attached_to_type_attached_to_id_created_at",
        "document",
        ["attached_to_type", "attached_to_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_document_owner_id", "document", ["owner_id"], unique=False)
    op.create_table(
        "document_content",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_document_content_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_content")),
    )
    # Uncompressed out-of-line storage: PDFs and images barely compress, and a download reads
    # the value slice by slice (substring), which then fetches only the slice's TOAST chunks.
    op.execute("ALTER TABLE document_content ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("document_content")
    op.drop_index("ix_document_owner_id", table_name="document")
    op.drop_index("ix_document_attached_to_type_attached_to_id_created_at", table_name="document")
    op.drop_table("document")
