"""Who a lawyer-owned record is for: the lawyer themselves, or a lawyer of the firm of the
firm admin or integration acting for them. The lawyer stays the owner either way."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import FIRM_ROLES, Role
from app.auth.principal import Principal
from app.core.errors import FieldError, Forbidden, InvalidInput
from app.core.sql import Bound
from app.users.repository import get_user

ACTING_ROLES = frozenset({Role.lawyer, Role.firm_admin, Role.integration})


async def lawyer_acted_for(
    db: AsyncSession, principal: Principal, lawyer_id: UUID | None, *, what: str
) -> tuple[UUID, UUID | None]:
    """The owning lawyer's id and firm, or 403/422 naming `lawyer_id`."""
    if principal.role not in ACTING_ROLES:
        raise Forbidden(f"{what} are made by lawyers, their firm's admin or integration.")
    if principal.role is Role.lawyer:
        if lawyer_id not in (None, principal.user_id):
            raise InvalidInput(
                errors=[FieldError("lawyer_id", "not_allowed", "Lawyers act for themselves.")]
            )
        return principal.user_id, principal.firm_id
    if lawyer_id is None:
        raise InvalidInput(
            errors=[FieldError("lawyer_id", "required", "Name the lawyer of your firm.")]
        )
    lawyer = await get_user(db, lawyer_id)
    if lawyer is None or lawyer.role != Role.lawyer or lawyer.firm_id != principal.firm_id:
        raise InvalidInput(
            errors=[FieldError("lawyer_id", "unknown", "No lawyer of your firm has this id.")]
        )
    return lawyer.id, lawyer.firm_id


# The one visibility rule for a lawyer's records (quotes, applications, policies, and the
# domains to come). A firm's admin and integration see the records of the lawyers who are in
# the firm *now*: need to know follows the lawyer, not a snapshot kept on the record.
_VISIBLE_SQL = (
    "({owner} = CAST(:viewer_id AS uuid) OR CAST(:sees_all AS boolean)"
    " OR {owner} IN (SELECT member.id FROM app_user AS member"
    " WHERE member.firm_id = CAST(:viewer_firm_id AS uuid)))"
)


def lawyer_records_visible(
    principal: Principal, *, readers: frozenset[Role], owner: str = "r.owner_id"
) -> Bound:
    """SQL condition on the owning lawyer's id column `owner`: the lawyer's own records; their
    current firm's for its admin and integration; all for staff with need to know (`readers`);
    nothing for anyone else."""
    firm_wide = principal.role in FIRM_ROLES and principal.firm_id is not None
    return Bound(
        _VISIBLE_SQL.format(owner=owner),
        {
            "viewer_id": principal.user_id if principal.role is Role.lawyer else None,
            "sees_all": principal.role in readers,
            "viewer_firm_id": principal.firm_id if firm_wide else None,
        },
    )
