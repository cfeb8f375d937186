"""Benchmark: a collection run over 30,000 due instalments with the built-in simulator, then a
second run the same day (which must charge nothing).

    python bench/collection.py                 # 30,000 policies, one instalment due each
    python bench/collection.py --policies 5000 --batch 500

Migrates a fresh database (lpl_bench_collection on BENCH_SERVER_URL, default the local server),
makes one quarterly 2025 policy through the service's own HTTP API (a lawyer's application,
submitted and approved), then copies it in SQL into N policies of N lawyers, each issued in
December 2024 with its account opened (4 instalments, the ledger's charges) and a pre-authorized
debit on file (its account number encrypted as the service does). The run, on 15 January 2025,
finds one instalment due on each policy: N charges. Prints the wall time, the charges, and the
process's peak memory before and after the run (bounded memory: the run streams the policies in
batches).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import APPLICATION_FORM  # noqa: E402

from app.__main__ import run_collection  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.db import async_url  # noqa: E402
from app.core.migrations import upgrade_to_head  # noqa: E402
from app.core.security import hash_password_sync  # noqa: E402
from app.main import create_app  # noqa: E402
from app.payments import account_crypto  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "lpl_bench_collection"
SECRET = "bench-secret-" + "c" * 40
DATA_KEY = "b1:" + "QmVuY2ggcGF5bWVudCBkYXRhIGtleSwgMzIgYnl0ZXM="
PASSWORD = "benchmark passphrase for one lawyer"
AS_OF = date(2025, 1, 15)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fresh_database(server: str) -> str:
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
    return f"{server}/{DATABASE}"


async def template_policy(app: Any) -> str:
    """One approved application's policy, made through the API."""
    async with app.state.database.engine.begin() as conn:
        for role, name in (("lawyer", "98765A"), ("underwriter", "UW1")):
            await conn.exec_driver_sql(
                "INSERT INTO app_user (id, username, role, scopes, password_hash, version)"
                " VALUES ($1, $2, $3, '{}', $4, 1)",
                (uuid.uuid4(), name, role, hash_password_sync(PASSWORD)),
            )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:

        async def token(username: str) -> dict[str, str]:
            answer = await client.post(
                "/auth/token", data={"username": username, "password": PASSWORD}
            )
            client.cookies.clear()
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        me, underwriter = await token("98765A"), await token("UW1")
        body = {"program_year": 2025, "form": APPLICATION_FORM}
        draft = (await client.post("/applications", json=body, headers=me)).json()
        submitted = await client.post(f"/applications/{draft['id']}/submit", headers=me)
        assert submitted.status_code == 200, submitted.text
        approved = await client.post(
            f"/applications/{draft['id']}/decision",
            json={"decision": "approve"},
            headers=underwriter,
        )
        assert approved.status_code == 200, approved.text
        return str(approved.json()["policy"]["id"])


async def clone(conn: asyncpg.Connection, table: str, source: str, values: dict[str, str]) -> None:
    """INSERT INTO table SELECT the template's row with `values` (SQL over the map `m`) swapped
    in, one row per line of the map."""
    columns = [
        r["column_name"]
        for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1"
            " ORDER BY ordinal_position",
            table,
        )
    ]
    select = ", ".join(values.get(c, f"t.{c}") for c in columns)
    await conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM m, {source}"
    )


async def seed(url: str, policy_id: str, n: int) -> None:
    keys = account_crypto.parse_keys(DATA_KEY)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE m AS SELECT g, gen_random_uuid() AS uid,"
                " gen_random_uuid() AS qid, gen_random_uuid() AS aid, gen_random_uuid() AS pid,"
                " gen_random_uuid() AS zid FROM generate_series(1, $1) AS g",
                n,
            )
            p = await conn.fetchrow("SELECT * FROM policy WHERE id = $1", uuid.UUID(policy_id))
            await clone(
                conn,
                "app_user",
                f"app_user AS t WHERE t.id = '{p['lawyer_id']}'",
                {"id": "m.uid", "username": "'B' || m.g"},
            )
            await clone(
                conn,
                "quote",
                f"quote AS t WHERE t.id = '{p['quote_id']}'",
                {"id": "m.qid", "owner_id": "m.uid", "created_by_id": "m.uid"},
            )
            await clone(
                conn,
                "application",
                f"application AS t WHERE t.id = '{p['application_id']}'",
                {
                    "id": "m.aid",
                    "owner_id": "m.uid",
                    "created_by_id": "m.uid",
                    "submitted_by_id": "m.uid",
                    "quote_id": "m.qid",
                },
            )
            await clone(
                conn,
                "policy",
                f"policy AS t WHERE t.id = '{policy_id}'",
                {
                    "id": "m.pid",
                    "application_id": "m.aid",
                    "lawyer_id": "m.uid",
                    "quote_id": "m.qid",
                    "issued_at": "'2024-12-01T12:00:00Z'",
                },
            )
            await conn.execute(
                "INSERT INTO payment_account (policy_id, lawyer_id, status)"
                " SELECT m.pid, m.uid, 'current' FROM m"
            )
            await conn.execute(
                "INSERT INTO receivable (id, origin, policy_id, lawyer_id, kind, due_on,"
                " scheduled_on, amount, status)"
                " SELECT gen_random_uuid(), 'instalment:' || m.pid || ':' || i.n, m.pid, m.uid,"
                " 'instalment', i.due::date, i.due::date, i.amount::numeric, 'due'"
                " FROM m, policy AS t JOIN quote AS q ON q.id = t.quote_id,"
                " jsonb_array_elements(q.instalments) WITH ORDINALITY AS e(v, n),"
                " LATERAL (SELECT e.n, e.v->>'due_date' AS due, e.v->>'amount' AS amount) AS i"
                " WHERE t.id = $1",
                uuid.UUID(policy_id),
            )
            await conn.execute(
                "INSERT INTO ledger_entry (id, policy_id, lawyer_id, kind, amount, receivable_id)"
                " SELECT gen_random_uuid(), r.policy_id, r.lawyer_id, 'charge', r.amount, r.id"
                " FROM receivable AS r"
            )
            rows = await conn.fetch("SELECT zid, pid, uid FROM m ORDER BY g")
            records = []
            for zid, pid, uid in rows:
                token = account_crypto.encrypt(
                    keys, "000123456789", context=f"payment_authorization:{zid}".encode()
                )
                records.append(
                    (
                        zid,
                        pid,
                        uid,
                        "pad",
                        "quarterly",
                        "Bench Lawyer",
                        True,
                        False,
                        "001",
                        "12345",
                        token,
                        "6789",
                        date(2024, 11, 20),
                        False,
                        date(2024, 12, 1),
                        date(2025, 1, 15),
                        10,
                        "active",
                        uid,
                    )
                )
            await conn.copy_records_to_table(
                "payment_authorization",
                records=records,
                columns=[
                    "id",
                    "policy_id",
                    "lawyer_id",
                    "method",
                    "plan",
                    "payor_name",
                    "payor_is_lawyer",
                    "third_party_consent",
                    "institution_number",
                    "transit_number",
                    "account_number_token",
                    "account_last4",
                    "signed_on",
                    "on_application_form",
                    "received_on",
                    "applies_from",
                    "notice_days",
                    "status",
                    "created_by_id",
                ],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def bench(url: str, n: int, batch: int) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        app_env="test",
        database_url=url,
        secret_key=SECRET,
        payment_data_key=DATA_KEY,
        audit_seal_interval_seconds=0,
        log_level="WARNING",
    )
    app = create_app(settings)
    started = time.perf_counter()
    policy_id = await template_policy(app)
    await seed(url, policy_id, n)
    print(
        f"seeded {n} policies ({n} instalments due on {AS_OF}) in "
        f"{time.perf_counter() - started:.1f} s; peak memory {peak_rss_mib():.0f} MiB"
    )
    for label in ("first run", "second run, same day"):
        started = time.perf_counter()
        summary = await run_collection(settings, app.state.database, as_of=AS_OF, batch=batch)
        took = time.perf_counter() - started
        async with app.state.database.engine.connect() as conn:
            charges = (
                await conn.exec_driver_sql("SELECT count(*) FROM processor_sim_charge")
            ).scalar()
        print(
            f"{label}: {took:.1f} s, {summary.attempts} attempts, {summary.succeeded} succeeded,"
            f" {summary.collected:.2f} CAD; {charges} charges in all at the simulator;"
            f" peak memory {peak_rss_mib():.0f} MiB"
        )
    await app.state.database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--server", default=SERVER)
    args = parser.parse_args()
    url = asyncio.run(fresh_database(args.server))
    upgrade_to_head(async_url(url))
    asyncio.run(bench(url, args.policies, args.batch))


if __name__ == "__main__":
    main()
