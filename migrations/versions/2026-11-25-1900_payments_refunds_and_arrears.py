"""Payments: refunds paid out to the original payors (payment_refund), the written requests
that send a payor's refunds to another payee (refund_payee_request), the simulator's own
refunds; each receivable's policy period (for_policy_id: the policy's own, or the policy a
deductible call's claim was matched to), filled in for the receivables already there.

Revision ID: 0c80c94b2529
Revises: a7c4e2d19b60
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0c80c94b2529'
down_revision: str | None = 'a7c4e2d19b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processor_sim_refund',
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('charge_reference', sa.String(length=100), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_processor_sim_refund'))
    )
    op.create_index('ix_processor_sim_refund_charge_reference', 'processor_sim_refund', ['charge_reference'], unique=False)
    op.create_table('refund_payee_request',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('policy_id', sa.Uuid(), nullable=False),
    sa.Column('lawyer_id', sa.Uuid(), nullable=False),
    sa.Column('original_payor', sa.String(length=200), nullable=False),
    sa.Column('payee_name', sa.String(length=200), nullable=False),
    sa.Column('payee_token', sa.String(length=200), nullable=False),
    sa.Column('lawyer_signed_on', sa.Date(), nullable=False),
    sa.Column('payor_signed_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_refund_payee_request_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['lawyer_id'], ['app_user.id'], name=op.f('fk_refund_payee_request_lawyer_id_app_user')),
    sa.ForeignKeyConstraint(['policy_id'], ['policy.id'], name=op.f('fk_refund_payee_request_policy_id_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_payee_request'))
    )
    op.create_index('ix_refund_payee_request_created_at_id', 'refund_payee_request', ['created_at', 'id'], unique=False)
    op.create_index('ix_refund_payee_request_policy_id_created_at', 'refund_payee_request', ['policy_id', 'created_at'], unique=False)
    op.create_table('payment_refund',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('policy_id', sa.Uuid(), nullable=False),
    sa.Column('lawyer_id', sa.Uuid(), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=False),
    sa.Column('payor', sa.String(length=200), nullable=False),
    sa.Column('charge_reference', sa.String(length=100), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.Uuid(), nullable=True),
    sa.Column('payee', sa.String(length=200), nullable=True),
    sa.Column('processor_reference', sa.String(length=100), nullable=True),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f('ck_payment_refund_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_refund_amount_positive')),
    sa.ForeignKeyConstraint(['attempt_id'], ['collection_attempt.id'], name=op.f('fk_payment_refund_attempt_id_collection_attempt')),
    sa.ForeignKeyConstraint(['lawyer_id'], ['app_user.id'], name=op.f('fk_payment_refund_lawyer_id_app_user')),
    sa.ForeignKeyConstraint(['policy_id'], ['policy.id'], name=op.f('fk_payment_refund_policy_id_policy')),
    sa.ForeignKeyConstraint(['request_id'], ['refund_payee_request.id'], name=op.f('fk_payment_refund_request_id_refund_payee_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_refund')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payment_refund_idempotency_key'))
    )
    op.create_index('ix_payment_refund_attempt_id', 'payment_refund', ['attempt_id'], unique=False)
    op.create_index('ix_payment_refund_policy_id', 'payment_refund', ['policy_id'], unique=False)
    op.create_index('ix_payment_refund_status_created_at', 'payment_refund', ['status', 'created_at'], unique=False)
    op.create_index('ix_processor_sim_charge_reference', 'processor_sim_charge', ['reference'], unique=False)
    op.add_column('receivable', sa.Column('for_policy_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_receivable_for_policy_id_policy'), 'receivable', 'policy', ['for_policy_id'], ['id'])
    op.execute("UPDATE receivable SET for_policy_id = policy_id WHERE policy_id IS NOT NULL")
    op.execute(
        "UPDATE receivable AS r SET for_policy_id = n.policy_id"
        " FROM deductible_call AS c JOIN claim_notice AS n ON n.id = c.notice_id"
        " WHERE r.kind = 'deductible_call' AND r.origin = 'deductible_call:' || c.id::text"
    )


def downgrade() -> None:
    op.drop_constraint(op.f('fk_receivable_for_policy_id_policy'), 'receivable', type_='foreignkey')
    op.drop_column('receivable', 'for_policy_id')
    op.drop_index('ix_processor_sim_charge_reference', table_name='processor_sim_charge')
    op.drop_index('ix_payment_refund_status_created_at', table_name='payment_refund')
    op.drop_index('ix_payment_refund_policy_id', table_name='payment_refund')
    op.drop_index('ix_payment_refund_attempt_id', table_name='payment_refund')
    op.drop_table('payment_refund')
    op.drop_index('ix_refund_payee_request_policy_id_created_at', table_name='refund_payee_request')
    op.drop_index('ix_refund_payee_request_created_at_id', table_name='refund_payee_request')
    op.drop_table('refund_payee_request')
    op.drop_index('ix_processor_sim_refund_charge_reference', table_name='processor_sim_refund')
    op.drop_table('processor_sim_refund')
