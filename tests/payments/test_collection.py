"""Collection runs, through the command line's own code (and once as `python -m app payments
collect`): each receivable charged exactly once across a run killed midway and its rerun, or two
runs at once; nothing the second time the same day; three failed instalment dates make the
account delinquent, the whole balance due and notices in the outbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from app.__main__ import run_collection
from app.payments.processor import ChargeResult, SimulatedProcessor
from tests.factories import bearer, user_token
from tests.payments.test_api import pad, scalar, setup


async def execute(app: Any, sql: str, **params: Any) -> None:
    async with app.state.database.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def issued_early(app: Any, client: Any, account: str, **sections: Any) -> tuple[str, Any]:
    """A quarterly 2025 policy issued in December 2024 (its instalments fall due on their own
    dates), with a debit authorization from `account` on file since then."""
    policy_id, _, finance = await setup(app, client, **sections)
    await execute(
        app, "UPDATE policy SET issued_at = '2024-12-01T12:00:00Z' WHERE id = :id", id=policy_id
    )
    body = pad(policy_id, account_number=account, received_on="2024-12-01")
    created = await client.post("/payments/authorizations", json=body, headers=finance)
    assert created.status_code == 201, created.text
    return policy_id, finance


async def collect(app: Any, on: str, processor: Any = None) -> Any:
    return await run_collection(
        app.state.settings, app.state.database, as_of=date.fromisoformat(on), processor=processor
    )


class CrashAfter:
    """The simulator, but the run dies after `n` charges (as a killed process would)."""

    def __init__(self, app: Any, n: int) -> None:
        self.inner = SimulatedProcessor(app.state.database.engine)
        self.left = n

    async def charge(self, key: str, amount: Decimal, instrument: str) -> ChargeResult:
        if self.left == 0:
            raise RuntimeError("killed")
        self.left -= 1
        return await self.inner.charge(key, amount, instrument)


async def charges_per_receivable(app: Any) -> dict[str, int]:
    async with app.state.database.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT r.id, count(c.idempotency_key) FROM receivable AS r"
                " JOIN collection_attempt AS a ON r.id = ANY(a.receivable_ids)"
                " JOIN processor_sim_charge AS c ON c.idempotency_key = a.idempotency_key"
                " GROUP BY r.id"
            )
        )
        return {str(r[0]): r[1] for r in rows}


async def test_a_run_killed_midway_and_run_again_charges_each_receivable_once(app, client):
    policies = [(await issued_early(app, client, "0001234560"))[0] for _ in range(5)]
    with pytest.raises(RuntimeError, match="killed"):
        await collect(app, "2025-01-15", CrashAfter(app, 2))
    # the two charges in flight when it died may or may not have reached the processor
    assert await scalar(app, "SELECT count(*) FROM processor_sim_charge") <= 2
    assert (
        await scalar(app, "SELECT count(*) FROM collection_attempt WHERE status = 'pending'") == 5
    )
    summary = await collect(app, "2025-01-15")
    assert (summary.resumed, summary.succeeded, summary.failed) == (5, 5, 0)
    counts = await charges_per_receivable(app)
    assert len(counts) == 5 and set(counts.values()) == {1}
    paid = await scalar(app, "SELECT count(*) FROM ledger_entry WHERE kind = 'payment'")
    assert paid == 5  # one instalment each, paid once
    again = await collect(app, "2025-01-15")
    assert (again.attempts, again.resumed, again.succeeded) == (0, 0, 0)
    assert await scalar(app, "SELECT count(*) FROM processor_sim_charge") == 5
    # the settlement callbacks were delivered and applied once each
    assert await scalar(app, "SELECT count(*) FROM processor_event") == 5
    assert (
        await scalar(app, "SELECT count(*) FROM collection_attempt WHERE settled_at IS NULL") == 0
    )
    assert len(policies) == 5


async def test_the_charges_of_a_finished_batch_are_recorded_when_a_later_batch_dies(app, client):
    """A batch's results are recorded while the next batch is charged: when that one dies,
    the charges already answered are still recorded (paid, in the ledger), not left pending."""
    for _ in range(4):
        await issued_early(app, client, "0001234560")
    with pytest.raises(RuntimeError, match="killed"):
        await run_collection(
            app.state.settings,
            app.state.database,
            as_of=date(2025, 1, 15),
            processor=CrashAfter(app, 2),
            batch=2,
        )
    assert await scalar(app, "SELECT count(*) FROM ledger_entry WHERE kind = 'payment'") == 2
    assert (
        await scalar(app, "SELECT count(*) FROM collection_attempt WHERE status = 'succeeded'") == 2
    )
    assert (
        await scalar(app, "SELECT count(*) FROM collection_attempt WHERE status = 'pending'") == 2
    )
    summary = await collect(app, "2025-01-15")
    assert (summary.resumed, summary.succeeded) == (2, 2)
    assert set((await charges_per_receivable(app)).values()) == {1}


async def test_two_runs_at_once_charge_each_receivable_once(app, client):
    for _ in range(4):
        await issued_early(app, client, "0001234560")
    first, second = await asyncio.gather(collect(app, "2025-04-15"), collect(app, "2025-04-15"))
    assert first.succeeded + second.succeeded == 4
    counts = await charges_per_receivable(app)
    assert set(counts.values()) == {1}
    # the January and April instalments of each, collected together in one charge
    assert await scalar(app, "SELECT count(*) FROM processor_sim_charge") == 4
    assert len(counts) == 8


async def test_three_failed_dates_make_the_whole_balance_due(app, client):
    policy_id, finance = await issued_early(app, client, "0001230002")  # insufficient funds
    await execute(
        app,
        "UPDATE app_user SET email = 'ada@example.com' WHERE id ="
        " (SELECT lawyer_id FROM policy WHERE id = :id)",
        id=policy_id,
    )
    url = f"/payments/accounts/{policy_id}"
    january = await collect(app, "2025-01-15")
    assert (january.attempts, january.failed, january.delinquent) == (1, 1, 0)
    account = (await client.get(url, headers=finance)).json()
    assert account["receivables"][0]["status"] == "failed"
    assert account["payment_status"] == "current"
    april = await collect(app, "2025-04-15")
    assert (april.failed, april.delinquent) == (1, 0)
    amounts = await scalar(
        app, "SELECT string_agg(amount::text, ',' ORDER BY attempted_on) FROM collection_attempt"
    )
    first, both = (Decimal(a) for a in amounts.split(","))
    assert both > first  # the failed January instalment asked for again with April's
    july = await collect(app, "2025-07-15")
    assert (july.failed, july.delinquent) == (1, 1)
    account = (await client.get(url, headers=finance)).json()
    assert account["payment_status"] == "delinquent"
    assert {r["due_on"] for r in account["receivables"]} <= {
        "2025-01-15",
        "2025-04-15",
        "2025-07-15",
    }
    assert account["receivables"][-1]["due_on"] == "2025-07-15"  # October's, due now
    assert account["balance"] == f"{sum(Decimal(r['amount']) for r in account['receivables']):.2f}"
    # the lawyer and the payor are told
    notices = await scalar(
        app,
        "SELECT string_agg(to_address, ',') FROM outbox_email WHERE template = 'payment_delinquent'",
    )
    assert notices == "ada@example.com"
    # attempts stop
    october = await collect(app, "2025-10-15")
    assert (october.attempts, october.failed) == (0, 0)
    listed = (await client.get("/payments/delinquent", headers=finance)).json()["items"]
    assert [a["policy_id"] for a in listed] == [policy_id]
    assert listed[0]["balance"] == account["balance"]


async def test_payor_and_lawyer_both_get_the_notice(app, client):
    policy_id, me, finance = await setup(app, client)
    await execute(
        app, "UPDATE policy SET issued_at = '2024-12-01T12:00:00Z' WHERE id = :id", id=policy_id
    )
    await execute(
        app,
        "UPDATE app_user SET email = 'ada@example.com' WHERE id ="
        " (SELECT lawyer_id FROM policy WHERE id = :id)",
        id=policy_id,
    )
    body = pad(
        policy_id,
        account_number="0001230003",
        received_on="2024-12-01",
        payor_is_lawyer=False,
        third_party_consent=True,
        payor_name="Spouse Lawyer",
        payor_email="payor@example.com",
    )
    assert (
        await client.post("/payments/authorizations", json=body, headers=finance)
    ).status_code == 201
    for on in ("2025-01-15", "2025-04-15", "2025-07-15"):
        await collect(app, on)
    async with app.state.database.engine.connect() as conn:
        to = (
            (
                await conn.execute(
                    text(
                        "SELECT to_address FROM outbox_email WHERE template = 'payment_delinquent'"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(to) == ["ada@example.com", "payor@example.com"]
    assert me


def _cli(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def test_the_collect_command(app, client, database_url):
    policy_id, _ = await issued_early(app, client, "0001234560")
    settings = app.state.settings
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": settings.signing_key,
        "PAYMENT_DATA_KEY": settings.payment_data_keys,
        "APP_ENV": "test",
    }
    command = [sys.executable, "-m", "app", "payments", "collect", "--as-of", "2025-01-15"]
    first = _cli(command, env)
    assert first.returncode == 0, first.stderr
    assert "1 new attempts" in first.stdout and "1 succeeded" in first.stdout
    second = _cli(command, env)
    assert "0 new attempts" in second.stdout and "0.00 CAD collected" in second.stdout
    assert await scalar(app, "SELECT count(*) FROM processor_sim_charge") == 1
    assert policy_id


async def test_rotate_key_command_reencrypts_every_account(app, client, database_url):
    policy_id, me, _ = await setup(app, client)
    created = (
        await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    ).json()
    before = await scalar(app, "SELECT account_number_token FROM payment_authorization")
    settings = app.state.settings
    new = "k2:" + "B" * 43 + "="
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": settings.signing_key,
        "PAYMENT_DATA_KEY": f"{new},{settings.payment_data_keys}",
        "APP_ENV": "test",
    }
    done = _cli([sys.executable, "-m", "app", "payments", "rotate-key"], env)
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 account numbers" in done.stdout
    after = await scalar(app, "SELECT account_number_token FROM payment_authorization")
    assert after != before and after.startswith("v1.k2.")
    audited = await scalar(
        app, "SELECT count(*) FROM audit_event WHERE action = 'payment_authorization.rotate_key'"
    )
    assert audited == 1
    assert created["account_number"].endswith("6789")
    assert bearer and user_token
