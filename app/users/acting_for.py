"""Who a lawyer-owned record is for: the lawyer themselves, or a lawyer of the firm of the
firm admin or integration acting for them. The lawyer stays the owner either way."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import FIRM_ROLES, Role
from app.auth.principal import Principal
from app.core.audited import Visibility
from app.core.errors import FieldError, Forbidden, InvalidInput
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


async def lawyer_on_record(db: AsyncSession, lawyer_id: UUID | None) -> tuple[UUID, UUID | None]:
    """For staff entering a lawyer's record (a paper notice): the lawyer's id and current
    firm, or 422 naming `lawyer_id`."""
    lawyer = await get_user(db, lawyer_id) if lawyer_id is not None else None
    if lawyer is None or lawyer.role != Role.lawyer:
        raise InvalidInput(
            errors=[
                FieldError(
                    "lawyer_id",
                    "required" if lawyer_id is None else "unknown",
                    "Name the lawyer (a user with the lawyer role).",
                )
            ]
        )
    return lawyer.id, lawyer.firm_id


async def active_user_with_role(db: AsyncSession, user_id: UUID, role: Role) -> bool:
    """Whether `user_id` is an enabled account with `role` (a claims counsel, say)."""
    user = await get_user(db, user_id)
    return user is not None and user.role == role and user.disabled_at is None


def lawyer_records_visible(
    principal: Principal, *, readers: frozenset[Role], owner: str = "r.owner_id"
) -> Visibility:
    """The one visibility rule for a lawyer's records (quotes, applications, policies and the
    domains to come), as an SQL condition on the owning lawyer's id column `owner`: the lawyer's
    own records; for a firm's admin and integration, the records of the lawyers who are in the
    firm *now* (need to know follows the lawyer, not a snapshot kept on the record); all for
    staff with need to know (`readers`); nothing for anyone else. Only the branch that applies
    is sent, so the database can use the owner's index."""
    if principal.role in readers:
        return Visibility("TRUE", {})
    if principal.role in FIRM_ROLES and principal.firm_id is not None:
        return Visibility(
            f"{owner} IN (SELECT member.id FROM app_user AS member"  # noqa: S608 (constants)
            " WHERE member.firm_id = CAST(:firm_id AS uuid))",
            {"firm_id": principal.firm_id},
        )
    if principal.role is Role.lawyer:
        # a lawyer sees only their own: the data subject is known before anything is read
        return Visibility(
            f"{owner} = CAST(:lawyer_id AS uuid)",
            {"lawyer_id": principal.user_id},
            subject=principal.user_id,
        )
    return Visibility("FALSE", {})


async def contact_of(db: AsyncSession, user_id: UUID) -> tuple[str | None, str | None]:
    """A user's e-mail address and full name, for a notice (either may be missing)."""
    user = await get_user(db, user_id)
    return (user.email, user.full_name) if user is not None else (None, None)
