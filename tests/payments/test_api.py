"""Payments through HTTP: authorizations (masked in answers, encrypted at rest, the 10-day rule),
the account opened on first use, one-off payments with Idempotency-Key, money received by
cheque, and the processor's signed callbacks."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from app.payments.processor import SIGNATURE_HEADER, ChargeResult, SimulatedProcessor, sign
from tests.factories import audit_events, bearer, user_token
from tests.policies.test_api import _policy

ACCOUNT = "000123456789"  # ends 6789: the simulator accepts it


def pad(policy_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "policy_id": policy_id,
        "method": "pad",
        "plan": "quarterly",
        "payor_name": "Ada Lawyer",
        "institution_number": "001",
        "transit_number": "12345",
        "account_number": ACCOUNT,
        "signed_on": "2024-11-20",
        **changes,
    }


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def setup(
    app: Any, client: Any, **sections: Any
) -> tuple[str, dict[str, str], dict[str, str]]:
    """A quarterly 2025 policy (4 x 438.75... by the worked form), its lawyer and finance."""
    policy_id, me, _ = await _policy(app, client, **sections)
    _, finance = await user_token(app, client, role="finance")
    return policy_id, me, bearer(finance)


async def deliver(app: Any, client: Any) -> list[Any]:
    """Deliver the simulator's queued callbacks to POST /payments/processor-events."""
    simulator = SimulatedProcessor(app.state.database.engine)
    answers = []
    pending = await simulator.pending_callbacks()
    for _, body in pending:
        raw = body.encode()
        secret = app.state.settings.webhook_secret
        answers.append(
            await client.post(
                "/payments/processor-events",
                content=raw,
                headers={SIGNATURE_HEADER: sign(secret, raw), "Content-Type": "application/json"},
            )
        )
    await simulator.mark_delivered([i for i, _ in pending])
    return answers


async def scalar(app: Any, sql: str, **params: Any) -> Any:
    async with app.state.database.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def test_authorization_is_masked_in_answers_and_encrypted_at_rest(app, client):
    policy_id, me, _ = await setup(app, client)
    created = await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["account_number"] == "\u2022\u2022\u2022\u20226789"
    assert ACCOUNT not in created.text and body["status"] == "active"
    again = await client.get(f"/payments/authorizations/{body['id']}", headers=me)
    assert again.status_code == 200 and ACCOUNT not in again.text
    listed = await client.get(
        "/payments/authorizations", params={"policy_id": policy_id}, headers=me
    )
    assert [a["id"] for a in listed.json()["items"]] == [body["id"]]
    # nowhere in the database: every text column of every table searched for the digits
    async with app.state.database.engine.connect() as conn:
        columns = (
            await conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND data_type IN"
                    " ('text', 'character varying', 'jsonb', 'bytea')"
                )
            )
        ).all()
        for table, column in columns:
            found = await conn.execute(
                text(f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE :digits LIMIT 1'),  # noqa: S608
                {"digits": f"%{ACCOUNT}%"},
            )
            assert found.first() is None, f"{table}.{column} holds the account number"
        token = (
            await conn.execute(text("SELECT account_number_token FROM payment_authorization"))
        ).scalar()
    assert token.startswith("v1.")


async def test_opening_the_account_and_recording_an_authorization_are_audit_events(app, client):
    policy_id, me, finance = await setup(app, client)
    created = await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    assert created.status_code == 201
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    async with app.state.database.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT action, resource_id, subject_ids::text[] AS subjects, details"
                    " FROM audit_event WHERE action IN"
                    " ('payment_account.open', 'payment_authorization.create') ORDER BY action"
                )
            )
        ).all()
    assert [(r.action, r.resource_id, r.subjects) for r in rows] == [
        ("payment_account.open", policy_id, [lawyer_id]),
        ("payment_authorization.create", created.json()["id"], [lawyer_id]),
    ]
    assert len(rows[0].details["after"]["instalments"]) == 4
    # reading it again, or a second authorization, opens nothing again
    await client.get(f"/payments/accounts/{policy_id}", headers=finance)
    await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    opened = "SELECT count(*) FROM audit_event WHERE action = 'payment_account.open'"
    assert await scalar(app, opened) == 1
    recorded = "SELECT count(*) FROM audit_event WHERE action = 'payment_authorization.create'"
    assert await scalar(app, recorded) == 2


async def test_authorization_errors_name_each_field(app, client):
    policy_id, me, _ = await setup(app, client)
    cheque = await client.post(
        "/payments/authorizations",
        json={
            **pad(policy_id, method="cheque"),
            "institution_number": None,
            "transit_number": None,
            "account_number": None,
        },
        headers=me,
    )
    assert cheque.status_code == 422
    assert {(e["field"], e["code"]) for e in cheque.json()["errors"]} == {
        ("method", "cheque_lump_sum_only")
    }
    bad = await client.post(
        "/payments/authorizations",
        json=pad(
            policy_id,
            institution_number="01",
            transit_number="1234x",
            account_number="12",
            payor_is_lawyer=False,
        ),
        headers=me,
    )
    assert bad.status_code == 422
    assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
        ("institution_number", "wrong_length"),
        ("transit_number", "not_digits"),
        ("account_number", "wrong_length"),
        ("third_party_consent", "required"),
    }
    assert (await scalar(app, "SELECT count(*) FROM payment_authorization")) == 0


async def test_ten_day_rule_at_nine_and_ten_days(app, client):
    policy_id, _, finance = await setup(app, client)
    ten = await client.post(
        "/payments/authorizations", json=pad(policy_id, received_on="2025-04-05"), headers=finance
    )
    assert ten.status_code == 201, ten.text
    assert ten.json()["applies_from"] == "2025-04-15"
    assert "2025-04-15" in ten.json()["applies_from_note"]
    nine = await client.post(
        "/payments/authorizations", json=pad(policy_id, received_on="2025-04-06"), headers=finance
    )
    assert nine.json()["applies_from"] == "2025-07-15"
    first = await client.get(f"/payments/authorizations/{ten.json()['id']}", headers=finance)
    assert first.json()["status"] == "superseded"


async def test_a_change_to_one_signed_on_the_application_form_needs_thirty_days(app, client):
    policy_id, _, finance = await setup(app, client)
    on_form = pad(policy_id, received_on="2025-01-02", on_application_form=True)
    assert (
        await client.post("/payments/authorizations", json=on_form, headers=finance)
    ).status_code == 201
    change = await client.post(
        "/payments/authorizations", json=pad(policy_id, received_on="2025-03-20"), headers=finance
    )
    # 26 days before 15 April: not the 30 the form's authorization asks for
    assert change.json()["applies_from"] == "2025-07-15"
    assert "30 days" in change.json()["applies_from_note"]


async def test_a_change_to_the_form_authorization_at_twenty_nine_and_thirty_days(app, client):
    """RULES.md §5 Decision: exactly 30 days counts, 29 do not; the form's own authorization
    (not a change) is under the 10-day rule."""
    policy_id, _, finance = await setup(app, client)
    on_form = pad(policy_id, received_on="2025-04-05", on_application_form=True)
    first = await client.post("/payments/authorizations", json=on_form, headers=finance)
    assert first.json()["applies_from"] == "2025-04-15"  # itself: 10 days
    thirty = await client.post(
        "/payments/authorizations", json=pad(policy_id, received_on="2025-06-15"), headers=finance
    )
    assert thirty.status_code == 201, thirty.text
    assert thirty.json()["applies_from"] == "2025-07-15"  # 15 June to 15 July: 30 days
    assert "at least 30 days" in thirty.json()["applies_from_note"]
    # the authorization now on file is not on the form: the next change needs 10 days again
    ten = await client.post(
        "/payments/authorizations", json=pad(policy_id, received_on="2025-07-05"), headers=finance
    )
    assert ten.json()["applies_from"] == "2025-07-15"


async def test_a_change_to_the_form_authorization_twenty_nine_days_before(app, client):
    policy_id, _, finance = await setup(app, client)
    on_form = pad(policy_id, received_on="2025-04-05", on_application_form=True)
    assert (
        await client.post("/payments/authorizations", json=on_form, headers=finance)
    ).status_code == 201
    late = await client.post(
        "/payments/authorizations", json=pad(policy_id, received_on="2025-06-16"), headers=finance
    )
    assert late.json()["applies_from"] == "2025-10-15"  # 29 days before 15 July: not enough
    assert "at least 30 days" in late.json()["applies_from_note"]


async def test_account_opens_once_with_past_instalments_due_at_once(app, client):
    policy_id, me, _ = await setup(app, client)
    answers = await asyncio.gather(
        *(client.get(f"/payments/accounts/{policy_id}", headers=me) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [200] * 4
    account = answers[0].json()
    assert [r["scheduled_on"] for r in account["receivables"]] == [
        "2025-01-15",
        "2025-04-15",
        "2025-07-15",
        "2025-10-15",
    ]
    # issued after every date of its schedule: all fall due at once
    assert len({r["due_on"] for r in account["receivables"]}) == 1
    total = sum(Decimal(r["amount"]) for r in account["receivables"])
    assert account["balance"] == account["owed"] == account["due_now"] == f"{total:.2f}"
    assert account["payment_status"] == "current"
    assert (await scalar(app, "SELECT count(*) FROM receivable")) == 4
    assert (await scalar(app, "SELECT count(*) FROM ledger_entry WHERE kind = 'charge'")) == 4


async def test_reading_an_account_writes_only_when_something_is_waiting(app, client):
    """The first read opens the account (its own event); later reads write nothing but their
    read event; a mid-term change made since is brought in by the next read."""
    policy_id, me, _ = await setup(app, client)
    url = f"/payments/accounts/{policy_id}"
    first = await client.get(url, headers=me)
    assert first.status_code == 200, first.text
    rows = "SELECT (SELECT count(*) FROM receivable) + (SELECT count(*) FROM ledger_entry)"
    written = await scalar(app, rows)
    again = await client.get(url, headers=me)
    assert again.json() == first.json()
    assert await scalar(app, rows) == written
    opened = await audit_events(app, action="payment_account.open", resource_id=policy_id)
    reads = await audit_events(app, action="payment_account.read", resource_id=policy_id)
    assert (len(opened), len(reads)) == (1, 2)
    _, cs = await user_token(app, client, role="customer_service")
    change = await client.post(
        f"/policies/{policy_id}/changes",
        json={"kind": "add_real_estate", "received_on": "2025-06-20"},
        headers=bearer(cs),
    )
    assert change.status_code == 201, change.text
    # Read first by staff, whose read names the lawyer only once read (two steps), then by
    # the lawyer (one statement): the change is brought in by the first.
    by_staff = await client.get(url, headers=bearer(cs))
    assert by_staff.status_code == 200, by_staff.text
    after = (await client.get(url, headers=me)).json()
    assert after == by_staff.json()
    kinds = [r["kind"] for r in after["receivables"]]
    assert kinds.count("adjustment") == 1 and len(kinds) == len(first.json()["receivables"]) + 1
    assert Decimal(after["owed"]) > Decimal(first.json()["owed"])
    # A read that found the change waiting was held back: one read event a request.
    reads = await audit_events(app, action="payment_account.read", resource_id=policy_id)
    assert [e["actor_role"] for e in reads][-2:] == ["customer_service", "lawyer"]
    assert len(reads) == 4


async def test_payment_replays_refuses_another_body_and_writes_the_ledger(app, client):
    policy_id, me, _ = await setup(app, client)
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    first = account["receivables"][0]
    body = {"receivable_id": first["id"], "amount": first["amount"], "token": "tok_success"}
    attempt = key()
    missing = await client.post("/payments", json=body, headers=me)
    assert missing.status_code == 400
    paid = await client.post("/payments", json=body, headers={**me, **attempt})
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "succeeded" and paid.json()["amount"] == first["amount"]
    replay = await client.post("/payments", json=body, headers={**me, **attempt})
    assert replay.status_code == 201 and replay.json() == paid.json()
    assert replay.headers["idempotent-replayed"] == "true"
    other = await client.post(
        "/payments", json={**body, "amount": "1.00"}, headers={**me, **attempt}
    )
    assert other.status_code == 422
    assert (await scalar(app, "SELECT count(*) FROM processor_sim_charge")) == 1
    after = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    assert after["receivables"][0]["status"] == "paid"
    assert after["received"] == first["amount"]
    assert Decimal(after["balance"]) == Decimal(account["balance"]) - Decimal(first["amount"])
    # the settlement callback arrives, once; a replay of it changes nothing
    delivered = await deliver(app, client)
    assert [d.json()["applied"] for d in delivered] == [True]
    settled = await scalar(app, "SELECT settled_at IS NOT NULL FROM collection_attempt")
    assert settled is True


async def test_declined_payment_is_recorded_and_moves_no_money(app, client):
    policy_id, me, _ = await setup(app, client)
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    first = account["receivables"][0]
    body = {"receivable_id": first["id"], "amount": first["amount"], "token": "tok_declined"}
    declined = await client.post("/payments", json=body, headers={**me, **key()})
    assert declined.status_code == 201
    assert (declined.json()["status"], declined.json()["failure_reason"]) == ("failed", "declined")
    after = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    assert after["balance"] == account["balance"] and after["receivables"][0]["status"] == "failed"
    assert [e["kind"] for e in after["ledger"]][-1] == "failed_payment"


async def test_payment_in_flight_answers_409(app, client):
    policy_id, me, _ = await setup(app, client)
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    first = account["receivables"][0]
    started, release = asyncio.Event(), asyncio.Event()
    simulator = SimulatedProcessor(app.state.database.engine)

    class Slow:
        async def charge(
            self, idempotency_key: str, amount: Decimal, instrument: str
        ) -> ChargeResult:
            started.set()
            await release.wait()
            return await simulator.charge(idempotency_key, amount, instrument)

    app.state.payment_processor = Slow()
    body = {"receivable_id": first["id"], "amount": first["amount"], "token": "tok_success"}
    attempt = {**me, **key()}
    first_try = asyncio.create_task(client.post("/payments", json=body, headers=attempt))
    await started.wait()
    retry = await client.post("/payments", json=body, headers=attempt)
    assert retry.status_code == 409 and retry.headers["retry-after"] == "1"
    release.set()
    assert (await first_try).status_code == 201
    assert (await scalar(app, "SELECT count(*) FROM processor_sim_charge")) == 1


async def test_payment_amounts_refused(app, client):
    policy_id, me, _ = await setup(app, client)
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    owed = Decimal(account["due_now"])
    for amount, code_field in (
        ("0", "amount"),
        ("-5.00", "amount"),
        ("10.001", "amount"),
        (f"{owed + Decimal('0.01'):.2f}", "amount"),
    ):
        body = {"policy_id": policy_id, "amount": amount, "token": "tok_success"}
        refused = await client.post("/payments", json=body, headers={**me, **key()})
        assert refused.status_code == 422, (amount, refused.text)
        assert code_field in {e["field"] for e in refused.json()["errors"]}, refused.text
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("amount", "more_than_owed")
    ]
    usd = {"policy_id": policy_id, "amount": "10.00", "currency": "USD", "token": "tok_success"}
    refused = await client.post("/payments", json=usd, headers={**me, **key()})
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("currency", "cad_only")]
    assert (await scalar(app, "SELECT count(*) FROM processor_sim_charge")) == 0
    # the overdue balance, by the authorization on file
    await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    whole = {"policy_id": policy_id, "amount": f"{owed:.2f}"}
    paid = await client.post("/payments", json=whole, headers={**me, **key()})
    assert paid.status_code == 201 and paid.json()["source"] == "authorization"
    after = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    assert after["balance"] == "0.00" and {r["status"] for r in after["receivables"]} == {"paid"}


async def test_finance_records_a_cheque(app, client):
    policy_id, me, finance = await setup(app, client)
    body = {
        "policy_id": policy_id,
        "amount": "100.00",
        "payor_name": "Smith LLP",
        "reference": "1001",
    }
    assert (await client.post("/payments/received", json=body, headers=me)).status_code == 403
    received = await client.post("/payments/received", json=body, headers=finance)
    assert received.status_code == 201, received.text
    assert received.json()["source"] == "cheque"
    # the same rule as POST /payments (rules.check_payment): never more than owed, CAD only
    owed = Decimal(
        (await client.get(f"/payments/accounts/{policy_id}", headers=finance)).json()["balance"]
    )
    for change, expected in (
        ({"amount": f"{owed + Decimal('0.01'):.2f}"}, [("amount", "more_than_owed")]),
        ({"currency": "USD"}, [("currency", "cad_only")]),
    ):
        refused = await client.post("/payments/received", json={**body, **change}, headers=finance)
        assert refused.status_code == 422
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == expected
    assert (await scalar(app, "SELECT count(*) FROM collection_attempt")) == 1
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=finance)).json()
    assert account["received"] == "100.00"
    assert account["ledger"][-1]["payor"] == "Smith LLP"


async def test_processor_callbacks_need_a_good_signature_a_fresh_time_and_apply_once(app, client):
    secret = app.state.settings.webhook_secret
    raw = json.dumps(
        {"id": "evt_1", "type": "charge.succeeded", "data": {"idempotency_key": "none"}}
    ).encode()
    url = "/payments/processor-events"
    plain = {"Content-Type": "application/json"}
    bad = await client.post(
        url, content=raw, headers={**plain, SIGNATURE_HEADER: sign("wrong", raw)}
    )
    assert bad.status_code == 401
    unsigned = await client.post(url, content=raw, headers=plain)
    assert unsigned.status_code == 401
    old = sign(secret, raw, int(time.time()) - 301)
    stale = await client.post(url, content=raw, headers={**plain, SIGNATURE_HEADER: old})
    assert stale.status_code == 400
    tampered = await client.post(
        url, content=raw + b" ", headers={**plain, SIGNATURE_HEADER: sign(secret, raw)}
    )
    assert tampered.status_code == 401
    good = await client.post(
        url, content=raw, headers={**plain, SIGNATURE_HEADER: sign(secret, raw)}
    )
    assert good.status_code == 200 and good.json() == {"event_id": "evt_1", "applied": True}
    again = await client.post(
        url, content=raw, headers={**plain, SIGNATURE_HEADER: sign(secret, raw)}
    )
    assert again.status_code == 200 and again.json()["applied"] is False
    assert (await scalar(app, "SELECT count(*) FROM processor_event")) == 1


async def test_need_to_know(app, client):
    policy_id, me, finance = await setup(app, client)
    created = (
        await client.post("/payments/authorizations", json=pad(policy_id), headers=me)
    ).json()
    someone, other = await user_token(app, client)
    _, service_desk = await user_token(app, client, role="customer_service")
    _, underwriter = await user_token(app, client, role="underwriter")
    for path in (f"/payments/authorizations/{created['id']}", f"/payments/accounts/{policy_id}"):
        assert (await client.get(path, headers=bearer(other))).status_code == 404
        assert (await client.get(path, headers=bearer(service_desk))).status_code == 200
        assert (await client.get(path, headers=bearer(underwriter))).status_code == 403
        assert (await client.get(path, headers=finance)).status_code == 200
    # another lawyer's read of the account: one refusal recorded, never a read (the read that
    # found nothing was held back)
    tried = await audit_events(app, resource_id=policy_id, actor_id=someone["id"])
    assert [(e["action"], e["outcome"]) for e in tried] == [("payment_account.read", "denied")]
    stranger = await client.post(
        "/payments/authorizations", json=pad(policy_id), headers=bearer(other)
    )
    assert stranger.status_code == 404
    desk = await client.post(
        "/payments/authorizations", json=pad(policy_id), headers=bearer(service_desk)
    )
    assert desk.status_code == 403
    assert (await client.get("/payments/delinquent", headers=me)).status_code == 403
    assert (await client.get("/payments/delinquent", headers=finance)).status_code == 200


async def test_an_exemption_refund_cancels_unpaid_instalments_latest_first(app, client):
    from tests.exemptions.test_api import _paper_exemption

    policy_id, me, finance = await setup(app, client)  # 3,510.00: 4 x 877.50
    cheque = {"policy_id": policy_id, "amount": "877.50", "payor_name": "Ada Lawyer"}
    assert (
        await client.post("/payments/received", json=cheque, headers=finance)
    ).status_code == 201
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    _, cs = await user_token(app, client, role="customer_service")
    exempt = await _paper_exemption(client, bearer(cs), lawyer_id, "2025-07-01")
    assert exempt.json()["refund"]["total"] == "1769.43"
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    assert [
        (r["status"], r["unpaid"]) for r in account["receivables"] if r["kind"] == "instalment"
    ] == [
        ("paid", "0.00"),
        ("due", "863.07"),  # 877.50 less the 14.43 left of the refund
        ("cancelled", "0.00"),
        ("cancelled", "0.00"),
    ]
    assert account["balance"] == "863.07" and account["due_now"] == "863.07"
    again = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    assert again["ledger"] == account["ledger"]  # brought in once


async def test_a_deductible_call_is_owed_by_the_lawyer_and_paid_one_off(app, client):
    from tests.claims_notices.support import claims_staff, paper_notice

    policy_id, me, _ = await setup(app, client)  # 5,000 combined deductible, 2025
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    opened = await client.get(f"/payments/accounts/{policy_id}", headers=me)
    assert opened.status_code == 200 and opened.json()["deductible_calls"] == []
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, "2025-06-02")
    url = f"/claims-notices/{notice['id']}"
    assert (await client.post(f"{url}/acknowledge", headers=staff)).status_code == 200
    cost = {"kind": "investigation", "amount": "1000.00", "occurred_on": "2025-06-10"}
    assert (await client.post(f"{url}/costs", json=cost, headers=staff)).status_code == 200
    defence = {"milestone": "defence_filed", "occurred_on": "2025-07-01"}
    called = await client.post(f"{url}/milestones", json=defence, headers=staff)
    assert [c["amount"] for c in called.json()["calls"]] == ["1000.00"]
    account = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    [call] = account["deductible_calls"]
    assert (call["kind"], call["due_on"], call["unpaid"]) == (
        "deductible_call",
        "2025-07-01",
        "1000.00",
    )
    assert account["deductible_balance"] == "1000.00"
    assert all(r["kind"] == "instalment" for r in account["receivables"])  # the policy's own
    # The lawyer's one statement found the call waiting: held back (not recorded), brought
    # in, read again: one read event a request.
    reads = await audit_events(app, action="payment_account.read", resource_id=policy_id)
    assert len(reads) == 2
    too_much = {"receivable_id": call["id"], "amount": "1000.01", "token": "tok_success"}
    assert (
        await client.post("/payments", json=too_much, headers={**me, **key()})
    ).status_code == 422
    body = {"receivable_id": call["id"], "amount": "1000.00", "token": "tok_success"}
    paid = await client.post("/payments", json=body, headers={**me, **key()})
    assert paid.status_code == 201, paid.text
    assert (paid.json()["policy_id"], paid.json()["status"]) == (None, "succeeded")
    after = (await client.get(f"/payments/accounts/{policy_id}", headers=me)).json()
    assert after["deductible_calls"][0]["status"] == "paid"
    assert after["deductible_balance"] == "0.00" and after["balance"] == account["balance"]


async def test_an_authorization_read_back_is_byte_for_byte_what_creating_it_answered(app, client):
    """Reads answer the stored row (app/core/responses.py), creation the validated model: a
    debit with its masked account, then a card authorization, by id and in the list."""
    policy_id, me, finance = await setup(app, client)
    card = {
        "policy_id": policy_id,
        "method": "card",
        "plan": "quarterly",
        "payor_name": "Ada Lawyer",
        "card_token": "tok_visa_4242",
        "signed_on": "2024-12-01",
    }
    ids = []
    for body in (pad(policy_id), card):
        created = await client.post("/payments/authorizations", json=body, headers=me)
        assert created.status_code == 201, created.text
        read = await client.get(created.headers["location"], headers=me)
        assert read.content == created.content
        ids.append(created.json()["id"])
    listed = await client.get("/payments/authorizations?limit=50", headers=finance)
    assert [item["id"] for item in listed.json()["items"]] == ids[::-1]
    for id_ in ids:
        current = await client.get(f"/payments/authorizations/{id_}", headers=me)
        assert current.content in listed.content
