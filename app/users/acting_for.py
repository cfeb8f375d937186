"""Who a lawyer-owned record is for: the lawyer themselves, or a lawyer of the firm of the
firm admin or integration acting for them. The lawyer stays the owner either way."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.auth.principal import Principal
from app.core.errors import FieldError, Forbidden, InvalidInput
from app.users.repository import get_user
from app.users.roles import FIRM_ROLES, Role

Column = QueryableAttribute[Any] | ColumnElement[Any]
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


def lawyer_record_visible(
    principal: Principal,
    *,
    owner: Column,
    firm: Column,
    readers: frozenset[Role],
) -> ColumnElement[bool]:
    """The lawyer's own; their firm's for its admin and integration; all for staff with need
    to know (`readers`); nothing for anyone else."""
    if principal.role in readers:
        return true()
    if principal.role in FIRM_ROLES and principal.firm_id is not None:
        return firm == principal.firm_id
    if principal.role is Role.lawyer:
        return owner == principal.user_id
    return false()
