"""What other domains may do to a user's credentials and sessions (the published interface of
auth; user administration uses it instead of auth's repository)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository as repo
from app.auth.passwords import password_problems
from app.core.security import digest_token, new_secret

__all__ = ["end_sessions", "password_problems", "send_one_time_code"]


async def end_sessions(db: AsyncSession, user_id: UUID, reason: str) -> int:
    """End every live session of the user (disabled, rights changed); how many ended."""
    return await repo.revoke_user_sessions(db, user_id, reason)


async def send_one_time_code(
    db: AsyncSession,
    *,
    user_id: UUID,
    email: str,
    ttl: timedelta,
    subject: str,
    body: str,
    template: str,
) -> None:
    """Mail a one-time code that sets the user's password; `body` names it `{code}`."""
    code = new_secret()
    await repo.add_reset_token(db, user_id=user_id, digest=digest_token(code), ttl=ttl)
    await repo.queue_email(
        db, to=email, subject=subject, body=body.replace("{code}", code), template=template
    )
