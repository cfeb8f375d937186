"""Refunds (RULES.md §3, §5; issue 13 point 7): money received beyond what is owed, once the
unpaid instalments are settled, goes back to the original payors through the processor, each at
most what it paid; finance may record the lawyer's and the payor's written request to pay
someone else; every refund is in the ledger and the ledger still reconciles with the processor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.payments.processor import SimulatedProcessor
from app.payments.schemas import AccountRead
from tests.exemptions.test_api import _paper_exemption
from tests.factories import bearer, user_token
from tests.payments.test_api import key, pad, scalar, setup
from tests.payments.test_collection import collect

EXEMPTION_REFUND = Decimal("1769.43")  # the exemption of 1 July on a 3,510.00 policy


async def exempt(app: Any, client: Any, me: dict[str, str]) -> None:
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    _, cs = await user_token(app, client, role="customer_service")
    answer = await _paper_exemption(client, bearer(cs), lawyer_id, "2025-07-01")
    assert answer.json()["refund"]["total"] == f"{EXEMPTION_REFUND}"


async def account(client: Any, policy_id: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = await client.get(f"/payments/accounts/{policy_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    # answered as data (app/core/responses.py): byte for byte what its model writes of it
    assert answer.content == AccountRead.model_validate(answer.json()).model_dump_json().encode()
    return answer.json()


async def reconcile(app: Any) -> list[str]:
    from app.__main__ import run_reconcile

    return await run_reconcile(app.state.settings, app.state.database)


async def test_two_payors_are_refunded_each_at_most_what_they_paid(app, client):
    policy_id, me, finance = await setup(app, client)  # 3,510.00: 4 x 877.50
    await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    by_debit = {"policy_id": policy_id, "amount": "1755.00"}  # the authorization: Ada Lawyer
    paid = await client.post("/payments", json=by_debit, headers={**me, **key()})
    assert (paid.status_code, paid.json()["status"]) == (201, "succeeded"), paid.text
    by_card = {"policy_id": policy_id, "amount": "1755.00", "token": "tok_success"}
    paid = await client.post("/payments", json=by_card, headers={**me, **key()})
    assert paid.json()["status"] == "succeeded"
    await exempt(app, client, me)

    settled = await account(client, policy_id, me)
    # nothing was unpaid: all of it goes back, the later payor's money first, never more than
    # that payor paid (1,755.00), the rest to the first payor
    assert sorted((f["payor"], f["amount"], f["status"]) for f in settled["refunds"]) == [
        ("Ada Lawyer", "14.43", "pending"),
        ("the card holder (token payment)", "1755.00", "pending"),
    ]
    assert settled["balance"] == f"{-EXEMPTION_REFUND:.2f}"  # a credit until paid out
    assert await scalar(app, "SELECT count(*) FROM processor_sim_refund") == 0

    run = await collect(app, "2025-07-20")
    assert (run.refunds_paid, run.refunds_failed, run.refunded) == (2, 0, EXEMPTION_REFUND)
    after = await account(client, policy_id, finance)
    assert {f["status"] for f in after["refunds"]} == {"succeeded"}
    assert after["balance"] == "0.00"
    refunds = [e for e in after["ledger"] if e["kind"] == "refund"]
    assert sorted((e["payor"], e["amount"]) for e in refunds) == [
        ("Ada Lawyer", "14.43"),
        ("the card holder (token payment)", "1755.00"),
    ]
    assert all(e["processor_reference"] for e in refunds)
    # the processor refunded each charge at most its amount, once
    assert await scalar(
        app,
        "SELECT bool_and(r.amount <= c.amount) FROM processor_sim_refund AS r"
        " JOIN processor_sim_charge AS c ON c.reference = r.charge_reference",
    )
    again = await collect(app, "2025-07-21")
    assert (again.refunds_paid, again.refunded) == (0, Decimal("0.00"))
    assert await scalar(app, "SELECT count(*) FROM processor_sim_refund") == 2
    assert await reconcile(app) == []
    audited = "SELECT count(*) FROM audit_event WHERE action = 'payment.refund'"
    assert await scalar(app, audited) == 1


async def test_unpaid_instalments_are_settled_first_and_only_the_rest_refunded(app, client):
    policy_id, me, _ = await setup(app, client)
    card = {"policy_id": policy_id, "amount": "2632.50", "token": "tok_success"}  # 3 of 4
    assert (await client.post("/payments", json=card, headers={**me, **key()})).status_code == 201
    await exempt(app, client, me)
    settled = await account(client, policy_id, me)
    # 877.50 of the 1,769.43 cancels the unpaid October instalment; 891.93 goes back
    instalments = [r for r in settled["receivables"] if r["kind"] == "instalment"]
    assert [r["status"] for r in instalments] == ["paid", "paid", "paid", "cancelled"]
    assert [f["amount"] for f in settled["refunds"]] == ["891.93"]
    await collect(app, "2025-07-20")
    after = await account(client, policy_id, me)
    assert after["balance"] == "0.00" and after["refunds"][0]["status"] == "succeeded"
    assert after["received"] == "1740.57"  # 2,632.50 less 891.93


async def test_a_written_request_sends_a_cheque_payors_refund_to_another_payee(app, client):
    policy_id, me, finance = await setup(app, client)
    cheque = {"policy_id": policy_id, "amount": "3510.00", "payor_name": "Smith LLP"}
    assert (
        await client.post("/payments/received", json=cheque, headers=finance)
    ).status_code == 201
    await exempt(app, client, me)
    # money received by cheque: the processor has no charge to refund it against, and no one
    # was named: held
    held = await collect(app, "2025-07-20")
    assert (held.refunds_held, held.refunds_paid) == (1, 0)
    assert (await account(client, policy_id, me))["refunds"][0]["status"] == "pending"

    request = {
        "policy_id": policy_id,
        "original_payor": "Smith LLP",
        "payee_name": "Ada Lawyer",
        "payee_token": "tok_success",
        "lawyer_signed_on": "2025-07-02",
        "payor_signed_on": "2025-07-03",
    }
    url = "/payments/refund-payees"
    assert (await client.post(url, json=request, headers=me)).status_code == 403
    for change, expected in (
        ({"original_payor": "Jones LLP"}, ("original_payor", "not_a_payor")),
        ({"payee_name": "Smith LLP"}, ("payee_name", "same_as_payor")),
        ({"payee_token": "4111111111111111"}, ("body", "card-number-refused")),
        ({"payee_token": "acct_1"}, ("payee_token", "not_a_token")),
        ({"payor_signed_on": "2999-01-01"}, ("payor_signed_on", "in_future")),
    ):
        refused = await client.post(url, json={**request, **change}, headers=finance)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        found = [(e["field"], e["code"]) for e in problem.get("errors", [])]
        assert expected in found or problem["type"].endswith(expected[1]), problem
    assert await scalar(app, "SELECT count(*) FROM refund_payee_request") == 0
    recorded = await client.post(url, json=request, headers=finance)
    assert recorded.status_code == 201, recorded.text
    assert "payee_token" not in recorded.json()

    paid = await collect(app, "2025-07-21")
    assert (paid.refunds_paid, paid.refunds_held) == (1, 0)
    after = await account(client, policy_id, finance)
    [refund] = after["refunds"]
    assert (refund["payor"], refund["payee"], refund["amount"], refund["status"]) == (
        "Smith LLP",
        "Ada Lawyer",
        f"{EXEMPTION_REFUND}",
        "succeeded",
    )
    assert after["balance"] == "0.00"
    [entry] = [e for e in after["ledger"] if e["kind"] == "refund"]
    assert "written request" in entry["note"]
    assert await reconcile(app) == []


async def test_a_refund_the_processor_refuses_stays_a_credit(app, client):
    policy_id, me, finance = await setup(app, client)
    cheque = {"policy_id": policy_id, "amount": "3510.00", "payor_name": "Smith LLP"}
    await client.post("/payments/received", json=cheque, headers=finance)
    await exempt(app, client, me)
    request = {
        "policy_id": policy_id,
        "original_payor": "Smith LLP",
        "payee_name": "Ada Lawyer",
        "payee_token": "tok_account_closed",
        "lawyer_signed_on": "2025-07-02",
        "payor_signed_on": "2025-07-02",
    }
    assert (
        await client.post("/payments/refund-payees", json=request, headers=finance)
    ).status_code == 201
    run = await collect(app, "2025-07-20")
    assert (run.refunds_paid, run.refunds_failed) == (0, 1)
    after = await account(client, policy_id, finance)
    assert (after["refunds"][0]["status"], after["refunds"][0]["failure_reason"]) == (
        "failed",
        "account_closed",
    )
    assert after["balance"] == f"{-EXEMPTION_REFUND:.2f}"  # still owed back
    assert not [e for e in after["ledger"] if e["kind"] == "refund"]
    assert await reconcile(app) == []


async def test_the_simulator_never_refunds_a_charge_beyond_its_amount(app):
    simulator = SimulatedProcessor(app.state.database.engine)
    charged = await simulator.charge("k-charge", Decimal("100.00"), "tok_success")
    assert charged.accepted and charged.reference
    first = await simulator.refund("k-r1", Decimal("60.00"), charged.reference)
    assert first.accepted
    assert await simulator.refund("k-r1", Decimal("60.00"), charged.reference) == first
    beyond = await simulator.refund("k-r2", Decimal("40.01"), charged.reference)
    assert (beyond.accepted, beyond.reason) == (False, "exceeds_charge")
    rest = await simulator.refund("k-r3", Decimal("40.00"), charged.reference)
    assert rest.accepted
    unknown = await simulator.refund("k-r4", Decimal("1.00"), "sim_nothing")
    assert unknown.reason == "no_such_charge"


async def test_the_reconcile_command_exits_non_zero_on_a_difference(app, client, database_url):
    import os
    import sys

    from tests.payments.test_collection import _cli
    from tests.payments.test_collection import execute as sql

    policy_id, me, _ = await setup(app, client)
    card = {"policy_id": policy_id, "amount": "877.50", "token": "tok_success"}
    assert (await client.post("/payments", json=card, headers={**me, **key()})).status_code == 201
    settings = app.state.settings
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": settings.signing_key,
        "PAYMENT_DATA_KEY": settings.payment_data_keys,
        "APP_ENV": "test",
    }
    command = [sys.executable, "-m", "app", "payments", "reconcile"]
    agreed = _cli(command, env)
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "0 differences" in agreed.stdout
    # a charge the processor took that the ledger does not know
    await sql(
        app,
        "INSERT INTO processor_sim_charge (idempotency_key, amount, accepted, reference)"
        " VALUES ('k-stray', 10.00, true, 'sim_stray')",
    )
    differs = _cli(command, env)
    assert differs.returncode == 1
    assert "charge k-stray: at the processor, not in the ledger" in differs.stdout
