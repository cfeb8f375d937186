"""updated_at on every record a list filters by `updated_since` (users, applications, policies,
claims notices, exemptions, payment authorizations), set by the database: a trigger stamps it
on every UPDATE that changes a row, whoever wrote it (the ORM, a bulk update, plain SQL); a
milestone, cost or deductible call added to a claims file moves its notice's too, and a change of
a policy (shown with its application) moves its application's. Indexed for
the filter. Existing rows get the latest time they record.

Revision ID: 1c3c6407df0f
Revises: 0c80c94b2529
Create Date: 2026-11-25 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1c3c6407df0f"
down_revision: str | None = "0c80c94b2529"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables that gain the column, with what their rows already say of their last change.
NEW = {
    "policy": "issued_at",
    "claim_notice": "greatest(created_at, submitted_at, acknowledged_at, closed_at)",
    "exemption": "greatest(created_at, submitted_at, reviewed_at)",
    "payment_authorization": "created_at",
}
# Those that had it already, set by the ORM alone until now.
STAMPED = ("app_user", "application", *NEW)
# Rows whose insert changes their claims notice (its file, its calls).
NOTICE_PARTS = ("claim_file_entry", "deductible_call")


def upgrade() -> None:
    for table, last_change in NEW.items():
        op.add_column(
            table,
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.text("now()"),
                nullable=False,
            ),
        )
        op.execute(f"UPDATE {table} SET updated_at = {last_change}")  # noqa: S608 (constants)
    op.execute(
        "CREATE FUNCTION stamp_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN NEW.updated_at := now(); RETURN NEW; END $$"
    )
    op.execute(
        "CREATE FUNCTION touch_claim_notice() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN UPDATE claim_notice SET updated_at = now() WHERE id = NEW.notice_id;"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION touch_application() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN UPDATE application SET updated_at = now() WHERE id = NEW.application_id;"
        " RETURN NULL; END $$"
    )
    for table in STAMPED:
        op.execute(
            f"CREATE TRIGGER {table}_stamp_updated_at BEFORE UPDATE ON {table} FOR EACH ROW"
            " WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION stamp_updated_at()"
        )
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])
    for table in NOTICE_PARTS:
        op.execute(
            f"CREATE TRIGGER {table}_touch_notice AFTER INSERT ON {table} FOR EACH ROW"
            " EXECUTE FUNCTION touch_claim_notice()"
        )
    op.execute(
        "CREATE TRIGGER policy_touch_application AFTER UPDATE ON policy FOR EACH ROW"
        " WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_application()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER policy_touch_application ON policy")
    op.execute("DROP FUNCTION touch_application()")
    for table in NOTICE_PARTS:
        op.execute(f"DROP TRIGGER {table}_touch_notice ON {table}")
    for table in STAMPED:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
        op.execute(f"DROP TRIGGER {table}_stamp_updated_at ON {table}")
    op.execute("DROP FUNCTION touch_claim_notice()")
    op.execute("DROP FUNCTION stamp_updated_at()")
    for table in NEW:
        op.drop_column(table, "updated_at")
