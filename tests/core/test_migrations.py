"""Migrations in a fresh database on the same server: upgrade from empty to head, the models
match the migrations (alembic check), downgrade to base leaves nothing behind, upgrade again."""

import asyncio
import secrets
from collections.abc import Iterator

import asyncpg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from app.core.db import async_url
from app.core.migrations import alembic_config
from app.models import Base

AUDIT_TRIGGERS = {
    "audit_event_stamp_xid",
    "audit_event_append_only",
    "audit_event_no_truncate",
    "audit_seal_append_only",
    "audit_seal_no_truncate",
}


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(url: str, sql: str) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(_plain(url))
        try:
            return await conn.fetch(sql)
        finally:
            await conn.close()

    return asyncio.run(go())


def _schema(url: str) -> dict[str, set[str]]:
    """What the public schema holds: tables, functions, user triggers, sequences."""
    return {
        "tables": {
            r[0] for r in _run(url, "SELECT tablename FROM pg_tables WHERE schemaname='public'")
        },
        "functions": {
            r[0]
            for r in _run(
                url,
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'",
            )
        },
        "triggers": {
            r[0] for r in _run(url, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        },
        "sequences": {
            r[0]
            for r in _run(url, "SELECT sequencename FROM pg_sequences WHERE schemaname='public'")
        },
    }


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"lpl_migrations_{secrets.token_hex(4)}"
    _run(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield async_url(
            make_url(server_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        _run(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_check_downgrade_and_upgrade_again(fresh_database):
    url = fresh_database
    config = alembic_config(url)
    head = ScriptDirectory.from_config(config).get_current_head()
    assert _schema(url)["tables"] == set()

    command.upgrade(config, "head")
    schema = _schema(url)
    assert schema["tables"] == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert schema["triggers"] >= AUDIT_TRIGGERS
    assert {"audit_refuse_change", "audit_stamp_xid"} <= schema["functions"]
    assert [r[0] for r in _run(url, "SELECT version_num FROM alembic_version")] == [head]
    command.check(config)  # raises when the models and the migrations disagree
    command.upgrade(config, "head")  # a second upgrade is a no-op

    command.downgrade(config, "base")
    after = _schema(url)
    assert after["tables"] == {"alembic_version"}
    assert after["triggers"] == set() and after["functions"] == set()
    assert after["sequences"] == set()
    assert _run(url, "SELECT version_num FROM alembic_version") == []

    command.upgrade(config, "head")
    assert _schema(url) == schema
    command.check(config)


def test_every_revision_downgrades_and_upgrades_one_step(fresh_database):
    url = fresh_database
    config = alembic_config(url)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions("base", "heads"))
    assert len(revisions) >= 1
    assert sum(1 for r in revisions if r.down_revision is None) == 1  # one base, one line
    command.upgrade(config, "head")
    full = _schema(url)
    for _ in revisions:
        command.downgrade(config, "-1")
    assert _schema(url)["tables"] == {"alembic_version"}
    for _ in revisions:
        command.upgrade(config, "+1")
    assert _schema(url) == full
    command.check(config)


def test_check_fails_when_the_database_is_behind(fresh_database):
    config = alembic_config(fresh_database)
    command.upgrade(config, "head")
    command.downgrade(config, "-1")
    with pytest.raises(CommandError):
        command.check(config)


def test_three_replicas_migrating_at_once_all_succeed_once(fresh_database):
    """Every replica of a fresh deployment may run `migrate`: one upgrades, the others wait for
    the migration lock and find the schema at head."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": fresh_database, "LOG_LEVEL": "WARNING"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outcomes = [
        (run.wait(timeout=120), run.stderr.read().decode() if run.stderr else "") for run in runs
    ]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert [r[0] for r in _run(fresh_database, "SELECT version_num FROM alembic_version")] == [head]
