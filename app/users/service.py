"""User administration: create, change roles, disable, unlock, and the yearly access review."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app.accounts.models import AppUser
from app.accounts.roles import ROLES_REQUIRING_FIRM, Role
from app.auth import credentials
from app.auth.principal import Principal
from app.core.audited import (
    ALL,
    UPDATED_SINCE,
    Source,
    conditions,
    contains,
    read_page,
    read_record,
    reread,
)
from app.core.db import violated_constraint
from app.core.errors import Conflict, FieldError, InvalidInput, NotFound
from app.core.etag import require_if_match
from app.core.pagination import TimeKeyset
from app.core.responses import answered_columns, page_of
from app.core.security import hash_password, new_secret
from app.core.sql import Bound
from app.core.unit_of_work import Unit
from app.firms.directory import firm_exists
from app.users import repository as repo
from app.users.schemas import (
    AccessReview,
    AccessReviewRole,
    AccessReviewUser,
    UserCreate,
    UserCreated,
    UserRead,
    UserUpdate,
)

SETUP_CODE_TTL = timedelta(days=3)
RIGHTS_FIELDS = ("role", "firm_id", "scopes")
_FIRM_BOUND = ROLES_REQUIRING_FIRM | {Role.lawyer}


# The fields of an account's answer that show a stored value otherwise: computed in SQL.
_SHOWN = ("scopes", "disabled", "locked")
USERS = Source(
    "user",
    "app_user AS r",
    # an account as its answer shows it (its lock as of now, its disabling as a flag), for reads
    # and after changes alike; never its secrets (the password hash, failed logins)
    columns=f"{answered_columns(UserRead, besides=_SHOWN)}, coalesce(r.scopes, '{{}}') AS scopes,"
    " r.disabled_at IS NOT NULL AS disabled,"
    " (r.locked_until IS NOT NULL AND r.locked_until > now()) AS locked",
    subject="id",
    keyset=TimeKeyset(newest_first=False),
)


async def _changed(unit: Unit, user: AppUser) -> UserRead:
    """An account as the API shows it after a change: read back as a read reads it."""
    return UserRead.model_validate(user_answer(await reread(unit, USERS, user.id)))


def _snapshot(user: AppUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "email": user.email,
        "full_name": user.full_name,
        "firm_id": user.firm_id,
        "scopes": list(user.scopes or []),
    }


async def _check_firm(unit: Unit, role: Role, firm_id: UUID | None) -> list[FieldError]:
    if role in ROLES_REQUIRING_FIRM and firm_id is None:
        return [FieldError("firm_id", "required", f"A {role.value} belongs to a firm.")]
    if firm_id is not None and role not in _FIRM_BOUND:
        return [
            FieldError("firm_id", "not_allowed", "Only lawyers and firm users belong to a firm.")
        ]
    if firm_id is not None and not await firm_exists(unit.db, firm_id):
        return [FieldError("firm_id", "unknown", "No such firm.")]
    return []


async def create_user(unit: Unit, body: UserCreate) -> UserCreated:
    errors = await _check_firm(unit, body.role, body.firm_id)
    client_secret: str | None = None
    if body.role is Role.integration:
        if body.password is not None:
            errors.append(
                FieldError("password", "not_allowed", "Integrations get a generated client secret.")
            )
        client_secret = new_secret()
    else:
        if body.scopes:
            errors.append(FieldError("scopes", "not_allowed", "Only integrations have scopes."))
        if body.password is not None:
            errors += credentials.password_problems(body.password, username=body.username)
        elif body.email is None:
            errors.append(
                FieldError("email", "required", "Without a password, a set-up code is e-mailed.")
            )
    if errors:
        raise InvalidInput(errors=errors)
    if await repo.username_taken(unit.db, body.username):
        raise Conflict(errors=[FieldError("username", "taken", "This username is taken.")])

    secret = client_secret or body.password
    user = AppUser(
        username=body.username,
        role=body.role.value,
        email=body.email,
        full_name=body.full_name,
        firm_id=body.firm_id,
        scopes=body.scopes,
        password_hash=await hash_password(secret) if secret else None,
        password_changed_at=func.now() if secret else None,
    )
    unit.db.add(user)
    try:
        await unit.db.flush()
    except IntegrityError as exc:  # the same name, created concurrently since the check above
        if violated_constraint(exc) != "uq_app_user_username_lower":
            raise
        raise Conflict(errors=[FieldError("username", "taken", "This username is taken.")]) from exc
    await unit.db.refresh(user)
    if secret is None and user.email:
        await _send_setup_code(unit, user)
    unit.audit.record_change(
        "user.create",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        before=None,
        after=_snapshot(user),
    )
    created = await _changed(unit, user)
    return UserCreated(**created.model_dump(), client_secret=client_secret)


async def _send_setup_code(unit: Unit, user: AppUser) -> None:
    assert user.email
    await credentials.send_one_time_code(
        unit.db,
        user_id=user.id,
        email=user.email,
        ttl=SETUP_CODE_TTL,
        subject="Your portal account",
        body=(
            f"An account was opened for you (username {user.username}). Choose your password with "
            "this one-time code within 3 days:\n\n{code}\n"
        ),
        template="account_setup",
    )


async def _load(unit: Unit, user_id: UUID, *, for_update: bool = False) -> AppUser:
    user = await repo.get_user(unit.db, user_id, for_update=for_update)
    if user is None:
        raise NotFound("No such user.", resource_type="user", resource_id=str(user_id))
    return user


def user_answer(row: Mapping[Any, Any]) -> dict[str, Any]:
    """An account read by the audited path (`USERS`), as plain data (app/core/responses.py)."""
    return {
        "id": row["id"],
        "username": row["username"],
        "role": row["role"],
        "email": row["email"],
        "full_name": row["full_name"],
        "firm_id": row["firm_id"],
        "scopes": row["scopes"],
        "disabled": row["disabled"],
        "locked": row["locked"],
        "last_login_at": row["last_login_at"],
        "role_changed_at": row["role_changed_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


async def read_user(unit: Unit, user_id: UUID) -> dict[str, Any]:
    """Any account, for an admin (the route admits no one else)."""
    row = await read_record(unit, USERS, user_id, ALL, action="user.read")
    return user_answer(row)


async def read_me(unit: Unit, principal: Principal) -> dict[str, Any]:
    own = Bound("r.id = :me", {"me": principal.user_id})
    row = await read_record(unit, USERS, principal.user_id, own, action="user.read")
    return user_answer(row)


async def list_users(
    unit: Unit,
    *,
    role: Role | None,
    firm_id: UUID | None,
    disabled: bool | None,
    name: str | None = None,
    law_society_number: str | None = None,
    updated_since: datetime | None = None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows, next_cursor = await read_page(
        unit,
        USERS,
        ALL,
        action="user.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            role=("r.role = :v", role.value if role else None),
            firm_id=("r.firm_id = :v", firm_id),
            disabled=("(r.disabled_at IS NOT NULL) = CAST(:v AS boolean)", disabled),
            name=("r.full_name ILIKE :v", contains(name)),
            law_society_number=("r.username = :v", law_society_number),
            updated_since=(UPDATED_SINCE, updated_since),
        ),
        filters={
            "role": role,
            "firm_id": firm_id,
            "disabled": disabled,
            "name": name,
            "law_society_number": law_society_number,
            "updated_since": updated_since,
        },
    )
    return page_of([user_answer(r) for r in rows], next_cursor)


async def update_user(
    unit: Unit, principal: Principal, user_id: UUID, body: UserUpdate, if_match: str | None
) -> UserRead:
    user = await _load(unit, user_id, for_update=True)
    require_if_match(if_match, user.version)
    changes = body.model_dump(exclude_unset=True)
    nulls = [f for f in ("role", "scopes") if f in changes and changes[f] is None]
    if nulls:  # left out means unchanged; null would break the NOT NULL columns
        raise InvalidInput(
            errors=[FieldError(f, "null", "Leave it out; it cannot be null.") for f in nulls]
        )
    before = _snapshot(user)
    role = Role(changes.get("role") or user.role)
    if user.id == principal.user_id and role is not Role.admin:
        raise Conflict(
            errors=[FieldError("role", "own_role", "Admins cannot remove their own admin role.")]
        )
    firm_id = changes.get("firm_id", user.firm_id)
    errors = await _check_firm(unit, role, firm_id)
    scopes = changes.get("scopes", user.scopes)
    if scopes and role is not Role.integration:
        errors.append(FieldError("scopes", "not_allowed", "Only integrations have scopes."))
    if errors:
        raise InvalidInput(errors=errors)
    for field, value in changes.items():
        setattr(user, field, value.value if isinstance(value, Role) else value)
    if role.value != before["role"]:
        user.role_changed_at = func.now()
    await unit.db.flush()
    await unit.db.refresh(user)
    after = _snapshot(user)
    if after["role"] != before["role"]:
        unit.audit.record_change(
            "user.role_change",
            resource_type="user",
            resource_id=user.id,
            subjects=[user.id],
            before={"role": before["role"]},
            after={"role": after["role"]},
        )
    unit.audit.record_change(
        "user.update",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        before=before,
        after=after,
    )
    if any(before[k] != after[k] for k in RIGHTS_FIELDS):
        # Rights travel in the session token: changing them ends the user's sessions, so that
        # a lost right is gone at once and a new one takes effect at the next login.
        ended = await credentials.end_sessions(unit.db, user.id, "rights_changed")
        unit.audit.record(
            "user.sessions_end",
            resource_type="user",
            resource_id=user.id,
            subjects=[user.id],
            details={"ended": ended},
        )
    return await _changed(unit, user)


async def disable_user(unit: Unit, principal: Principal, user_id: UUID) -> UserRead:
    """Disable an account (staff leaving, a compromised login); every session ends at once."""
    user = await _load(unit, user_id, for_update=True)
    if user.id == principal.user_id:
        raise Conflict("Admins cannot disable themselves.")
    if user.disabled_at is None:
        user.disabled_at = func.now()
        await unit.db.flush()
        await unit.db.refresh(user)
    ended = await credentials.end_sessions(unit.db, user.id, "disabled")
    unit.audit.record(
        "user.disable",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        details={"sessions_ended": ended},
    )
    return await _changed(unit, user)


async def enable_user(unit: Unit, user_id: UUID) -> UserRead:
    user = await _load(unit, user_id, for_update=True)
    if user.disabled_at is not None:
        user.disabled_at = None
        await unit.db.flush()
        await unit.db.refresh(user)
    unit.audit.record("user.enable", resource_type="user", resource_id=user.id, subjects=[user.id])
    return await _changed(unit, user)


async def unlock_user(unit: Unit, user_id: UUID) -> UserRead:
    user = await _load(unit, user_id, for_update=True)
    before = {"failed_login_count": user.failed_login_count, "locked_until": user.locked_until}
    user.failed_login_count = 0
    user.locked_until = None
    await unit.db.flush()
    await unit.db.refresh(user)
    unit.audit.record(
        "user.unlock",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        details={"before": before},
    )
    return await _changed(unit, user)


async def access_review(unit: Unit) -> AccessReview:
    """Who holds which role: the yearly review of access by job function."""
    users = await repo.all_users_by_role(unit.db)
    now = await repo.database_now(unit.db)
    by_role: dict[Role, list[AccessReviewUser]] = {role: [] for role in Role}
    for u in users:
        by_role[Role(u.role)].append(
            AccessReviewUser(
                id=u.id,
                username=u.username,
                full_name=u.full_name,
                firm_id=u.firm_id,
                disabled=u.disabled_at is not None,
                last_login_at=u.last_login_at,
                role_changed_at=u.role_changed_at,
            )
        )
    unit.audit.record(
        "user.access_review",
        resource_type="user",
        resource_ids=[u.id for u in users],
        details={"count": len(users)},
    )
    return AccessReview(
        generated_at=now,
        roles=[AccessReviewRole(role=r, users=by_role[r]) for r in Role],
    )
