"""foundation: users, firms, sessions, audit trail

Revision ID: 3e41773a05ab
Revises: 
Create Date: 2026-11-24 15:41:46.532544+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.audit.models import Xid8

revision: str = '3e41773a05ab'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The audit trail is append-only for everyone, the application's own login included:
# UPDATE, DELETE and TRUNCATE are refused, and each event is stamped with the id of the
# transaction that wrote it (what the sealer batches by), whatever the INSERT said.
APPEND_ONLY_UP = [
    """
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE FUNCTION audit_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.xid := pg_current_xact_id();
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER audit_event_stamp_xid BEFORE INSERT ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_stamp_xid()",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
]
APPEND_ONLY_DOWN = [
    "DROP TRIGGER audit_seal_no_truncate ON audit_seal",
    "DROP TRIGGER audit_seal_append_only ON audit_seal",
    "DROP TRIGGER audit_event_no_truncate ON audit_event",
    "DROP TRIGGER audit_event_append_only ON audit_event",
    "DROP TRIGGER audit_event_stamp_xid ON audit_event",
    "DROP FUNCTION audit_stamp_xid()",
    "DROP FUNCTION audit_refuse_change()",
]


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('actor_label', sa.String(length=150), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=True),
    sa.Column('resource_id', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('xid', Xid8(), server_default=sa.text('pg_current_xact_id()'), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('id', name=op.f('uq_audit_event_id'))
    )
    op.create_index('ix_audit_event_action_seq', 'audit_event', ['action', 'seq'], unique=False)
    op.create_index('ix_audit_event_actor_id_seq', 'audit_event', ['actor_id', 'seq'], unique=False)
    op.create_index('ix_audit_event_occurred_at', 'audit_event', ['occurred_at'], unique=False)
    op.create_index('ix_audit_event_resource', 'audit_event', ['resource_type', 'resource_id', 'seq'], unique=False)
    op.create_index('ix_audit_event_xid', 'audit_event', ['xid'], unique=False)
    op.create_table('audit_seal',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('xid_from', Xid8(), nullable=False),
    sa.Column('xid_to', Xid8(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('first_event_seq', sa.BigInteger(), nullable=True),
    sa.Column('last_event_seq', sa.BigInteger(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_seal')),
    sa.UniqueConstraint('xid_to', name=op.f('uq_audit_seal_xid_to'))
    )
    op.create_table('firm',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('firm_number', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm')),
    sa.UniqueConstraint('firm_number', name=op.f('uq_firm_firm_number'))
    )
    op.create_table('outbox_email',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email'))
    )
    op.create_table('app_user',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('firm_id', sa.Uuid(), nullable=True),
    sa.Column('scopes', sa.ARRAY(sa.String(length=64)), server_default='{}', nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_login_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('role_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('lawyer', 'firm_admin', 'integration', 'customer_service', 'underwriter', 'claims', 'finance', 'auditor', 'admin')", name=op.f('ck_app_user_role_known')),
    sa.CheckConstraint("role NOT IN ('firm_admin', 'integration') OR firm_id IS NOT NULL", name=op.f('ck_app_user_firm_roles_have_firm')),
    sa.CheckConstraint('failed_login_count >= 0', name=op.f('ck_app_user_failed_login_count_non_negative')),
    sa.ForeignKeyConstraint(['firm_id'], ['firm.id'], name=op.f('fk_app_user_firm_id_firm')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user'))
    )
    op.create_index(op.f('ix_app_user_firm_id'), 'app_user', ['firm_id'], unique=False)
    op.create_index('uq_app_user_username_lower', 'app_user', [sa.literal_column('lower(username)')], unique=True)
    op.create_table('auth_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('grant_type', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('absolute_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_auth_session_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session'))
    )
    op.create_index('ix_auth_session_user_id_live', 'auth_session', ['user_id', 'revoked_at'], unique=False)
    op.create_table('password_reset_token',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_password_reset_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_token')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_password_reset_token_token_digest'))
    )
    op.create_index(op.f('ix_password_reset_token_user_id'), 'password_reset_token', ['user_id'], unique=False)
    for statement in APPEND_ONLY_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in APPEND_ONLY_DOWN:
        op.execute(statement)
    op.drop_index(op.f('ix_password_reset_token_user_id'), table_name='password_reset_token')
    op.drop_table('password_reset_token')
    op.drop_index('ix_auth_session_user_id_live', table_name='auth_session')
    op.drop_table('auth_session')
    op.drop_index('uq_app_user_username_lower', table_name='app_user')
    op.drop_index(op.f('ix_app_user_firm_id'), table_name='app_user')
    op.drop_table('app_user')
    op.drop_table('outbox_email')
    op.drop_table('firm')
    op.drop_table('audit_seal')
    op.drop_index('ix_audit_event_xid', table_name='audit_event')
    op.drop_index('ix_audit_event_resource', table_name='audit_event')
    op.drop_index('ix_audit_event_occurred_at', table_name='audit_event')
    op.drop_index('ix_audit_event_actor_id_seq', table_name='audit_event')
    op.drop_index('ix_audit_event_action_seq', table_name='audit_event')
    op.drop_table('audit_event')
