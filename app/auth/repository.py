"""Queries for sessions, login state and reset tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AppUser
from app.auth.models import AuthSession, OutboxEmail, PasswordResetToken
from app.auth.rules import LockoutState
from app.core.tokens import AccessClaims

# Slide a live session's idle clock, RETURNING its id; no row when the session has ended (idle,
# absolute limit, revoked) or its user no longer matches the token (disabled, or role, firm or
# scopes changed). Written out once: it runs on every authenticated request, alone or as the
# CTE of the statement that writes the request's audit events.
TOUCH_SESSION_SQL = """\
UPDATE auth_session SET last_seen_at = now()
FROM app_user u
WHERE auth_session.id = :session_id AND auth_session.user_id = :session_user_id
  AND auth_session.revoked_at IS NULL
  AND auth_session.last_seen_at > now() - CAST(:session_idle AS interval)
  AND auth_session.absolute_expires_at > now()
  AND u.id = auth_session.user_id AND u.disabled_at IS NULL AND u.role = :session_role
  AND u.firm_id IS NOT DISTINCT FROM CAST(:session_firm_id AS uuid)
  AND u.scopes = CAST(:session_scopes AS varchar[])
RETURNING auth_session.id"""


def touch_params(claims: AccessClaims, idle: timedelta) -> dict[str, Any]:
    """The parameters of TOUCH_SESSION_SQL."""
    return {
        "session_id": claims.session_id,
        "session_user_id": claims.user_id,
        "session_idle": idle,
        "session_role": claims.role,
        "session_firm_id": claims.firm_id,
        "session_scopes": sorted(claims.scopes),
    }


async def session_is_revoked(db: AsyncSession, session_id: UUID, idle: timedelta) -> bool:
    """Why a session failed to slide: True when it was ended (logout, disable, rights changed:
    anything but running out of time) or never existed; False when it timed out."""
    stmt = select(
        AuthSession.revoked_at.is_not(None)
        | (
            (AuthSession.last_seen_at > func.now() - idle)
            & (AuthSession.absolute_expires_at > func.now())
        )
    ).where(AuthSession.id == session_id)
    row = (await db.execute(stmt)).first()
    return row is None or bool(row[0])


async def create_session(
    db: AsyncSession,
    *,
    user_id: UUID,
    grant_type: str,
    absolute: timedelta,
    client_ip: str | None,
    user_agent: str | None,
) -> AuthSession:
    session = AuthSession(
        user_id=user_id,
        grant_type=grant_type,
        absolute_expires_at=func.now() + absolute,
        client_ip=client_ip,
        user_agent=(user_agent or "")[:512] or None,
    )
    db.add(session)
    await db.flush()
    await db.refresh(session, ["created_at", "absolute_expires_at"])
    return session


async def revoke_session(db: AsyncSession, session_id: UUID, reason: str) -> None:
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def revoke_user_sessions(
    db: AsyncSession, user_id: UUID, reason: str, *, keep: UUID | None = None
) -> int:
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    result = await db.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def find_user_by_username(db: AsyncSession, username: str) -> AppUser | None:
    stmt = select(AppUser).where(func.lower(AppUser.username) == username.strip().lower())
    return (await db.execute(stmt)).scalar_one_or_none()


async def lock_login_state(db: AsyncSession, user_id: UUID) -> tuple[LockoutState, datetime, bool]:
    """The account's failure count and lock, row-locked until commit so that concurrent
    attempts are counted one after another; with the database's clock and the disabled flag."""
    row = (
        await db.execute(
            select(
                AppUser.failed_login_count,
                AppUser.locked_until,
                func.now(),
                AppUser.disabled_at.is_not(None),
            )
            .where(AppUser.id == user_id)
            .with_for_update()
        )
    ).one()
    return LockoutState(row[0], row[1]), row[2], bool(row[3])


async def save_login_state(
    db: AsyncSession, user_id: UUID, state: LockoutState, *, logged_in: bool
) -> None:
    values: dict[str, object] = {
        "failed_login_count": state.failed_count,
        "locked_until": state.locked_until,
    }
    if logged_in:
        values["last_login_at"] = func.now()
    await db.execute(
        update(AppUser)
        .where(AppUser.id == user_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def add_reset_token(
    db: AsyncSession, *, user_id: UUID, digest: str, ttl: timedelta
) -> PasswordResetToken:
    token = PasswordResetToken(user_id=user_id, token_digest=digest, expires_at=func.now() + ttl)
    db.add(token)
    await db.flush()
    return token


async def take_reset_token(db: AsyncSession, digest: str) -> PasswordResetToken | None:
    """Mark a live reset token used and return it (None if unknown, used or expired)."""
    stmt = (
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_digest == digest,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(PasswordResetToken)
        .execution_options(synchronize_session=False)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def queue_email(db: AsyncSession, *, to: str, subject: str, body: str, template: str) -> None:
    db.add(OutboxEmail(to_address=to, subject=subject, body=body, template=template))
    await db.flush()
