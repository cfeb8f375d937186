"""An authorization also covers amounts still owed for earlier policy periods (RULES.md §5; the
Premium Payment Authorization form, section 4: "any outstanding premiums and other payments owing
for prior policy periods"): a collection run takes the lawyer's overdue receivables of earlier
periods under the latest authorization on file, premium and deductible calls alike, each once;
a deductible call of the current period is not a premium the form authorizes, so it is paid one
off (POST /payments), not debited by a run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.claims_notices.support import claims_staff, paper_notice
from tests.payments.test_api import pad, scalar, setup
from tests.payments.test_collection import charges_per_receivable, collect, execute, issued_early
from tests.payments.test_refunds import account


async def earlier_policy(app: Any, client: Any, current_id: str) -> str:
    """A 2024 policy of the same lawyer as `current_id`'s, issued in 2024 and never paid (its
    account opened, its instalments dated 2024), with no authorization of its own."""
    earlier_id, _, finance = await setup(app, client)
    await execute(
        app,
        "UPDATE policy SET lawyer_id = (SELECT lawyer_id FROM policy WHERE id = :current),"
        " program_year = 2024, effective_date = '2024-01-01', issued_at = '2024-01-01T12:00:00Z'"
        " WHERE id = :id",
        current=current_id,
        id=earlier_id,
    )
    await account(client, earlier_id, finance)  # opened
    await execute(
        app,
        "UPDATE receivable SET due_on = due_on - 365, scheduled_on = scheduled_on - 365"
        " WHERE policy_id = :id",
        id=earlier_id,
    )
    return earlier_id


async def deductible_call(
    app: Any, client: Any, lawyer_id: str, received_on: str, defence_on: str
) -> None:
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, received_on)
    url = f"/claims-notices/{notice['id']}"
    assert (await client.post(f"{url}/acknowledge", headers=staff)).status_code == 200
    cost = {"kind": "investigation", "amount": "1000.00", "occurred_on": received_on}
    assert (await client.post(f"{url}/costs", json=cost, headers=staff)).status_code == 200
    defence = {"milestone": "defence_filed", "occurred_on": defence_on}
    called = await client.post(f"{url}/milestones", json=defence, headers=staff)
    assert [c["amount"] for c in called.json()["calls"]] == ["1000.00"], called.text


async def test_a_run_collects_earlier_periods_under_the_authorization_on_file(app, client):
    current_id, finance = await issued_early(app, client, "0001234560")
    earlier_id = await earlier_policy(app, client, current_id)
    lawyer_id = await scalar(
        app, "SELECT lawyer_id::text FROM policy WHERE id = :id", id=current_id
    )
    await deductible_call(app, client, lawyer_id, "2024-06-03", "2024-07-02")  # the 2024 policy
    await deductible_call(app, client, lawyer_id, "2025-01-06", "2025-01-08")  # the 2025 one

    run = await collect(app, "2025-01-15")
    assert run.calls_brought_in == 2
    # the 2025 January instalment; the 2024 policy's whole arrears; the 2024 deductible call
    assert (run.attempts, run.arrears, run.succeeded, run.failed) == (3, 2, 3, 0)
    assert run.collected == Decimal("877.50") + Decimal("3510.00") + Decimal("1000.00")
    earlier = await account(client, earlier_id, finance)
    assert earlier["balance"] == "0.00"
    assert {r["status"] for r in earlier["receivables"]} == {"paid"}
    assert {e["payor"] for e in earlier["ledger"] if e["kind"] == "payment"} == {"Ada Lawyer"}
    current = await account(client, current_id, finance)
    assert [r["status"] for r in current["receivables"]] == ["paid", "due", "due", "due"]
    calls = {c["due_on"]: c["status"] for c in current["deductible_calls"]}
    assert calls == {"2024-07-02": "paid", "2025-01-08": "due"}  # the current one: one-off
    assert current["deductible_balance"] == "1000.00"
    # each receivable charged once; nothing more the same day
    assert set((await charges_per_receivable(app)).values()) == {1}
    again = await collect(app, "2025-01-15")
    assert (again.attempts, again.resumed, again.succeeded) == (0, 0, 0)
    assert await scalar(app, "SELECT count(*) FROM processor_sim_charge") == 3
    # arrears do not count as the current policy's strikes, nor its payments
    assert current["payment_status"] == "current"


async def test_a_killed_run_resumes_arrears_once(app, client):
    from tests.payments.test_collection import CrashAfter

    current_id, finance = await issued_early(app, client, "0001234560")
    earlier_id = await earlier_policy(app, client, current_id)
    import pytest

    with pytest.raises(RuntimeError, match="killed"):
        await collect(app, "2025-01-15", CrashAfter(app, 0))
    assert (
        await scalar(app, "SELECT count(*) FROM collection_attempt WHERE status = 'pending'") == 2
    )
    resumed = await collect(app, "2025-01-15")
    assert (resumed.resumed, resumed.succeeded) == (2, 2)
    assert set((await charges_per_receivable(app)).values()) == {1}
    assert (await account(client, earlier_id, finance))["balance"] == "0.00"


async def test_an_earlier_period_with_its_own_authorization_is_left_to_it(app, client):
    current_id, finance = await issued_early(app, client, "0001234560")
    earlier_id = await earlier_policy(app, client, current_id)
    own = pad(
        earlier_id, account_number="0009990001", received_on="2024-01-02", signed_on="2024-01-01"
    )
    assert (
        await client.post("/payments/authorizations", json=own, headers=finance)
    ).status_code == 201
    run = await collect(app, "2025-01-15")
    # each policy under its own authorization: the 2024 one's debit is declined (account 0001)
    assert (run.arrears, run.succeeded, run.failed) == (0, 1, 1)
    earlier = await account(client, earlier_id, finance)
    assert {r["status"] for r in earlier["receivables"]} == {"failed"}
