"""Queries for users."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AppUser


async def get_user(db: AsyncSession, user_id: UUID, *, for_update: bool = False) -> AppUser | None:
    stmt = select(AppUser).where(AppUser.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def username_taken(db: AsyncSession, username: str) -> bool:
    stmt = select(AppUser.id).where(func.lower(AppUser.username) == username.lower())
    return (await db.execute(stmt)).first() is not None


async def all_users_by_role(db: AsyncSession) -> list[AppUser]:
    stmt = select(AppUser).order_by(AppUser.role, func.lower(AppUser.username))
    return list((await db.execute(stmt)).scalars())


async def database_now(db: AsyncSession) -> datetime:
    now: datetime = (await db.execute(select(func.now()))).scalar_one()
    return now
