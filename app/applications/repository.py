"""Queries for applications and policies."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import Role
from app.applications.models import Application, ApplicationStatus
from app.auth.principal import Principal
from app.core.audited import Source
from app.core.sql import Bound, as_clause
from app.policies.issuance import ISSUED_POLICY_COLUMNS, issued_policy_join
from app.quotes.pricing import QUOTE_COLUMNS, quote_join
from app.users.acting_for import lawyer_records_visible
from app.users.whose import LAWYER_COLUMNS, lawyer_join

APPLICATION_READERS = frozenset({Role.customer_service, Role.underwriter})
# Submitted and not declined: what the firm and later years rely on.
LODGED = (ApplicationStatus.submitted, ApplicationStatus.approved)


# An application is shown with its quote, the policy it issued and its lawyer: read in the same
# statement, through the SQL the quotes, policies and users domains publish for it.
APPLICATIONS = Source(
    "application",
    f"application AS r {lawyer_join('r.owner_id')} {quote_join('r.quote_id')}"
    f" {issued_policy_join('r.id')}",
    # the columns `service.application_answer` answers, not `r.*` (see `answered_columns`)
    columns="r.id, r.owner_id, r.firm_id, r.program_year, r.status, r.form, r.form_schema,"
    " r.submitted_at, r.decided_at, r.decision_note, r.tax_certificate_confirmed_at,"
    f" r.created_at, r.updated_at, r.version, {QUOTE_COLUMNS}, {ISSUED_POLICY_COLUMNS},"
    f" {LAWYER_COLUMNS}",
)


def visible_to(principal: Principal, *, owner: str = "r.owner_id") -> Bound:
    """The one rule for who sees an application: the lawyer's own, their current firm's, or
    staff with need to know."""
    return lawyer_records_visible(principal, readers=APPLICATION_READERS, owner=owner)


async def get_visible(
    db: AsyncSession, principal: Principal, application_id: UUID, *, for_update: bool = False
) -> Application | None:
    visible = as_clause(visible_to(principal, owner="application.owner_id"))
    stmt = select(Application).where(Application.id == application_id, visible)
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def firm_applications(
    db: AsyncSession, firm_id: UUID, program_year: int, *, excluding: UUID
) -> list[Application]:
    stmt = select(Application).where(
        Application.firm_id == firm_id,
        Application.program_year == program_year,
        Application.status.in_(LODGED),
        Application.id != excluding,
    )
    return list((await db.execute(stmt)).scalars())


async def earlier_forms(
    db: AsyncSession, lawyer_id: UUID, before_year: int
) -> list[dict[str, Any]]:
    """The forms of the lawyer's lodged applications for earlier program years."""
    stmt = select(Application.form).where(
        Application.owner_id == lawyer_id,
        Application.program_year < before_year,
        Application.status.in_(LODGED),
    )
    return list((await db.execute(stmt)).scalars())
