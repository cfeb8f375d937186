"""Migrations: upgrade from empty, models match (alembic check), downgrade, upgrade again."""

import asyncio
import secrets

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from app.core.db import async_url
from app.core.migrations import alembic_config


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(_plain(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_upgrade_check_downgrade_upgrade(server_url):
    name = f"lpl_migrations_{secrets.token_hex(3)}"
    admin = _plain(server_url)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    url = async_url(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        assert {"app_user", "audit_event", "audit_seal", "auth_session", "quote"} <= asyncio.run(
            _tables(url)
        )
        command.check(config)  # raises when the models and the migrations disagree
        command.downgrade(config, "base")
        assert asyncio.run(_tables(url)) == {"alembic_version"}
        command.upgrade(config, "head")
        command.check(config)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
