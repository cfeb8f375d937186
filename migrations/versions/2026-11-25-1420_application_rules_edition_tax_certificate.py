"""application: the rules edition that judged a submission; staff confirmation of the tax
certificate's copy on file

Revision ID: 9d43eb1e8b58
Revises: 2f61d8840cba
Create Date: 2026-11-25 14:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9d43eb1e8b58'
down_revision: str | None = '2f61d8840cba'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('application', sa.Column('rules_edition', sa.String(length=16), nullable=True))
    op.add_column(
        'application',
        sa.Column('tax_certificate_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        'application', sa.Column('tax_certificate_confirmed_by_id', sa.Uuid(), nullable=True)
    )
    op.create_foreign_key(
        op.f('fk_application_tax_certificate_confirmed_by_id_app_user'),
        'application',
        'app_user',
        ['tax_certificate_confirmed_by_id'],
        ['id'],
    )
    # Applications submitted before the corrected rules keep their outcome: mark the edition
    # that judged them, so nobody mistakes them for judgments under the corrected rules.
    op.execute(
        "UPDATE application SET rules_edition = '2026-11-24' WHERE submitted_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f('fk_application_tax_certificate_confirmed_by_id_app_user'),
        'application',
        type_='foreignkey',
    )
    op.drop_column('application', 'tax_certificate_confirmed_by_id')
    op.drop_column('application', 'tax_certificate_confirmed_at')
    op.drop_column('application', 'rules_edition')
