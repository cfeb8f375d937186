"""Queries for sessions, login state and reset tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import AuthSession, OutboxEmail, PasswordResetToken
from app.auth.rules import LockoutState
from app.users.models import AppUser


@dataclass(frozen=True)
class SessionOwner:
    username: str
    role: str
    firm_id: UUID | None
    scopes: list[str]


async def touch_session(
    db: AsyncSession, *, session_id: UUID, user_id: UUID, idle: timedelta
) -> SessionOwner | None:
    """Slide a live session's idle clock and return its user, in one statement.
    None when the session has ended (idle, absolute limit, revoked, user disabled)."""
    stmt = (
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.last_seen_at > func.now() - idle,
            AuthSession.absolute_expires_at > func.now(),
            AppUser.id == AuthSession.user_id,
            AppUser.disabled_at.is_(None),
        )
        .values(last_seen_at=func.now())
        .returning(AppUser.username, AppUser.role, AppUser.firm_id, AppUser.scopes)
        .execution_options(synchronize_session=False)
    )
    row = (await db.execute(stmt)).first()
    return SessionOwner(row[0], row[1], row[2], list(row[3] or [])) if row else None


async def session_is_revoked(db: AsyncSession, session_id: UUID) -> bool:
    """Why a session failed to slide: revoked (or unknown) rather than timed out."""
    row = (
        await db.execute(
            select(AuthSession.revoked_at, AppUser.disabled_at)
            .join(AppUser, AppUser.id == AuthSession.user_id)
            .where(AuthSession.id == session_id)
        )
    ).first()
    return row is None or row[0] is not None or row[1] is not None


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
