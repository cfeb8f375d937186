"""The outbox other domains write notices to (mail waiting to be sent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.repository import queue_email

__all__ = ["queue_notice"]


async def queue_notice(
    db: AsyncSession, *, to: str, subject: str, body: str, template: str
) -> None:
    """A notice to `to`, kept in the outbox until a mail server sends it."""
    await queue_email(db, to=to, subject=subject, body=body, template=template)
