"""/claims-notices through HTTP: filing, drafts, need to know, the claims file and the
deductible called, sublimits, and the audit trail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.claims_notices.support import MATTER, claims_staff, key, paper_notice
from tests.factories import (
    audit_events,
    bearer,
    login,
    make_firm,
    make_user,
    user_token,
    version_of,
)
from tests.policies.test_api import _policy


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


async def _file(client, headers, **fields):
    response = await client.post(
        "/claims-notices", json={**MATTER, **fields}, headers={**headers, **key()}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _lawyer_id(client, headers):
    return (await client.get("/users/me", headers=headers)).json()["id"]


async def test_a_lawyer_files_a_notice_and_reads_it_back(app, client):
    lawyer, token = await user_token(app, client)
    me = bearer(token)
    response = await client.post("/claims-notices", json=MATTER, headers={**me, **key()})
    assert response.status_code == 201, response.text
    notice = response.json()
    assert response.headers["location"] == f"/claims-notices/{notice['id']}"
    assert notice["status"] == "submitted" and notice["channel"] == "portal"
    assert notice["received_on"] == _today()
    assert notice["lawyer_id"] == str(lawyer["id"]) and notice["filed_by_id"] == str(lawyer["id"])
    assert notice["potential_damages"] == "180000.00"
    assert [e["date"] for e in notice["chronology"]] == ["2024-11-02", "2025-04-20", "2025-05-01"]
    assert notice["reference"] is None  # until the claims unit acknowledges it
    assert notice["deductible"] is None  # no policy in force on the day received
    again = await client.get(f"/claims-notices/{notice['id']}", headers=me)
    assert again.status_code == 200 and again.json() == notice
    assert version_of(again.headers["etag"]) == notice["version"]
    created = await audit_events(app, action="claims_notice.create")
    assert [e["resource_id"] for e in created] == [notice["id"]]
    assert created[0]["subject_ids"] == [lawyer["id"]]
    read = await audit_events(app, action="claims_notice.read", resource_id=notice["id"])
    assert len(read) == 1 and read[0]["actor_id"] == lawyer["id"]


async def test_bad_input_names_the_field_and_saves_nothing(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    cases = [
        ({k: v for k, v in MATTER.items() if k != "kind"}, "kind"),
        ({k: v for k, v in MATTER.items() if k != "awareness_date"}, "awareness_date"),
        ({**MATTER, "awareness_date": tomorrow}, "awareness_date"),
        ({**MATTER, "potential_damages": "-1.00"}, "potential_damages"),
        ({**MATTER, "potential_damages": "10.001"}, "potential_damages"),
        ({**MATTER, "kind": "grievance"}, "kind"),
        (
            {
                **MATTER,
                "chronology": [
                    {"date": "2025-04-20", "event": "Expired"},
                    {"date": "2024-11-02", "event": "Retained"},
                ],
            },
            "chronology.1.date",
        ),
        ({**MATTER, "received_on": "2025-05-02"}, "received_on"),  # the insurer dates it
        ({**MATTER, "channel": "paper"}, "channel"),
    ]
    for body, field in cases:
        response = await client.post("/claims-notices", json=body, headers={**me, **key()})
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.text)
    # staff must name the lawyer
    staff = await claims_staff(app, client)
    body = {**MATTER, "channel": "paper", "received_on": "2025-05-02"}
    nameless = await client.post("/claims-notices", json=body, headers={**staff, **key()})
    assert nameless.status_code == 422
    assert [e["field"] for e in nameless.json()["errors"]] == ["lawyer_id"]
    assert (await client.get("/claims-notices", headers=me)).json()["items"] == []
    assert await audit_events(app, action="claims_notice.create") == []


async def test_idempotency_key_replays_refuses_and_is_required(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    missing = await client.post("/claims-notices", json=MATTER, headers=me)
    assert missing.status_code == 400
    assert missing.json()["type"].endswith("/idempotency-key-missing")
    attempt = key()
    first = await client.post("/claims-notices", json=MATTER, headers={**me, **attempt})
    assert first.status_code == 201
    # the same body, keys in another order: the same request
    reordered = dict(reversed(list(MATTER.items())))
    retry = await client.post("/claims-notices", json=reordered, headers={**me, **attempt})
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    other = await client.post(
        "/claims-notices", json={**MATTER, "kind": "circumstance"}, headers={**me, **attempt}
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    # keys belong to their caller: another lawyer's same key is another attempt
    _, other_token = await user_token(app, client)
    theirs = await client.post(
        "/claims-notices", json=MATTER, headers={**bearer(other_token), **attempt}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert len((await client.get("/claims-notices", headers=me)).json()["items"]) == 1
    replays = await audit_events(app, action="claims_notice.create", resource_id=first.json()["id"])
    assert [e["details"].get("idempotent_replay", False) for e in replays] == [False, True]


async def test_a_failed_attempt_keeps_nothing_and_its_retry_runs_again(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    attempt = key()
    bad = await client.post(
        "/claims-notices",
        json={**MATTER, "awareness_date": "2999-01-01"},
        headers={**me, **attempt},
    )
    assert bad.status_code == 422
    # a failed request stored no answer: the same key with the corrected body runs
    good = await client.post("/claims-notices", json=MATTER, headers={**me, **attempt})
    assert good.status_code == 201


async def test_drafts_change_with_if_match_and_are_checked_on_submission(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    draft = await client.post(
        "/claims-notices",
        json={"draft": True, "client_name": "Northwind"},
        headers={**me, **key()},
    )
    assert draft.status_code == 201, draft.text
    body = draft.json()
    assert body["status"] == "draft" and body["received_on"] is None
    url = f"/claims-notices/{body['id']}"
    early = await client.post(f"{url}/submit", headers=me)
    assert early.status_code == 422
    assert {e["field"] for e in early.json()["errors"]} == {
        "kind",
        "awareness_date",
        "matter_description",
    }
    change = {k: v for k, v in MATTER.items() if k != "client_name"}
    assert (await client.patch(url, json=change, headers=me)).status_code == 428
    etag = draft.headers["etag"]
    changed = await client.patch(url, json=change, headers={**me, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["client_name"] == "Northwind"  # what the change left out stays
    stale = await client.patch(url, json={"claimant": "X"}, headers={**me, "If-Match": etag})
    assert stale.status_code == 412
    submitted = await client.post(f"{url}/submit", headers=me)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["received_on"] == _today()
    again = await client.post(f"{url}/submit", headers=me)
    assert again.status_code == 409
    # once filed, the matter is the insurer's
    late = await client.patch(
        url, json={"claimant": "Y"}, headers={**me, "If-Match": submitted.headers["etag"]}
    )
    assert late.status_code == 409


async def test_need_to_know(app, client):
    firm = await make_firm(app)
    lawyer = await make_user(app, firm_id=firm)
    _, admin_token = await user_token(app, client, role="firm_admin", firm_id=firm)
    admin = bearer(admin_token)
    filed_by_admin = await _file(client, admin, lawyer_id=str(lawyer["id"]))
    assert filed_by_admin["lawyer_id"] == str(lawyer["id"])
    lawyer_headers = bearer(await login(client, lawyer["username"], lawyer["password"]))
    own = await _file(client, lawyer_headers)
    url = f"/claims-notices/{filed_by_admin['id']}"
    # the lawyer reads both; the firm admin only what it filed
    assert (await client.get(url, headers=lawyer_headers)).status_code == 200
    assert (await client.get(url, headers=admin)).status_code == 200
    assert (await client.get(f"/claims-notices/{own['id']}", headers=admin)).status_code == 404
    listed = (await client.get("/claims-notices", headers=admin)).json()["items"]
    assert [n["id"] for n in listed] == [filed_by_admin["id"]]
    # claims staff read all; the others get 404 for a notice and 403 for the list
    staff = await claims_staff(app, client)
    assert (await client.get(url, headers=staff)).status_code == 200
    for role in ("underwriter", "customer_service", "finance", "auditor", "admin"):
        _, token = await user_token(app, client, role=role)
        assert (await client.get(url, headers=bearer(token))).status_code == 404, role
        assert (await client.get("/claims-notices", headers=bearer(token))).status_code == 403
    _, stranger = await user_token(app, client)
    assert (await client.get(url, headers=bearer(stranger))).status_code == 404
    other_firm = await make_firm(app)
    _, other_admin = await user_token(app, client, role="firm_admin", firm_id=other_firm)
    assert (await client.get(url, headers=bearer(other_admin))).status_code == 404
    # a firm admin files only for a lawyer of its firm
    outsider = await make_user(app)
    refused = await client.post(
        "/claims-notices",
        json={**MATTER, "lawyer_id": str(outsider["id"])},
        headers={**admin, **key()},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "lawyer_id"
    # the underwriter sees the history, never the matter
    _, uw = await user_token(app, client, role="underwriter")
    history = await client.get(
        "/claims-notices/history", params={"lawyer_id": str(lawyer["id"])}, headers=bearer(uw)
    )
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert {i["notice_id"] for i in items} == {own["id"], filed_by_admin["id"]}
    assert set(items[0]) == {"notice_id", "kind", "received_on", "status", "paid"}
    assert "Northwind" not in history.text
    denied = await client.get(
        "/claims-notices/history", params={"lawyer_id": str(lawyer["id"])}, headers=admin
    )
    assert denied.status_code == 403


async def test_an_integration_needs_the_claims_scope(app, client):
    firm = await make_firm(app)
    lawyer = await make_user(app, firm_id=firm)
    body = {**MATTER, "lawyer_id": str(lawyer["id"])}
    for scopes, status in ((["quotes:write"], 403), (["claims:read", "claims:write"], 201)):
        integration = await make_user(app, role="integration", firm_id=firm, scopes=scopes)
        token = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": integration["username"],
                "client_secret": integration["password"],
            },
        )
        assert token.status_code == 200, token.text
        headers = bearer(token.json()["access_token"])
        response = await client.post("/claims-notices", json=body, headers={**headers, **key()})
        assert response.status_code == status, response.text


async def test_the_claims_file_and_the_deductible_called(app, client):
    policy_id, me, _ = await _policy(app, client)  # 5,000 combined (the standard), 2025
    lawyer_id = await _lawyer_id(client, me)
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, "2025-06-02", awareness_date="2025-05-20")
    assert notice["policy_id"] == policy_id
    assert notice["deductible"] == {
        "option": "5000_combined",
        "amount": "5000.00",
        "basis": "combined",
        "adjustments": [],
    }
    url = f"/claims-notices/{notice['id']}"
    # the file is worked once acknowledged; the lawyer sees the reference
    early = await client.post(
        f"{url}/costs",
        json={"kind": "defence", "amount": "100.00", "occurred_on": "2025-06-03"},
        headers=staff,
    )
    assert early.status_code == 409
    ack = await client.post(f"{url}/acknowledge", headers=staff)
    assert ack.status_code == 200, ack.text
    reference = ack.json()["reference"]
    assert reference.startswith(f"CN-{datetime.now(UTC).year}-")
    assert (await client.get(url, headers=me)).json()["reference"] == reference
    assert (await client.post(f"{url}/acknowledge", headers=staff)).status_code == 409
    # only the claims unit works the file
    lawyer_try = await client.post(f"{url}/acknowledge", headers=me)
    assert lawyer_try.status_code == 403

    counsel = await make_user(app, role="claims")
    assigned = await client.post(
        f"{url}/counsel", json={"counsel_id": str(counsel["id"])}, headers=staff
    )
    assert assigned.status_code == 200 and assigned.json()["counsel_id"] == str(counsel["id"])
    not_counsel = await client.post(f"{url}/counsel", json={"counsel_id": lawyer_id}, headers=staff)
    assert not_counsel.status_code == 422

    async def cost(kind, amount, on):
        answer = await client.post(
            f"{url}/costs", json={"kind": kind, "amount": amount, "occurred_on": on}, headers=staff
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def milestone(name, on):
        return await client.post(
            f"{url}/milestones", json={"milestone": name, "occurred_on": on}, headers=staff
        )

    body = await cost("investigation", "1000.00", "2025-06-10")
    assert body["calls"] == []  # nothing is called before the defence
    body = (await milestone("defence_filed", "2025-07-01")).json()
    # 50 % of 5,000 is 2,500, limited to the 1,000 incurred
    assert [(c["due_on"], c["amount"], c["trigger"]) for c in body["calls"]] == [
        ("2025-07-01", "1000.00", "defence_filed")
    ]
    body = await cost("defence", "3000.00", "2025-07-15")
    # costs 4,000 now: the first half is called up to 2,500
    assert [c["amount"] for c in body["calls"]] == ["1000.00", "1500.00"]
    assert body["calls"][-1]["trigger"] == "cost"
    out_of_order = await milestone("payment_due", "2025-06-15")
    assert out_of_order.status_code == 422
    assert "occurred_on" in [e["field"] for e in out_of_order.json()["errors"]]
    body = (await milestone("discoveries_begun", "2025-09-01")).json()
    assert [c["amount"] for c in body["calls"]] == ["1000.00", "1500.00", "1500.00"]
    assert body["called_total"] == "4000.00" and body["costs_total"] == "4000.00"
    body = await cost("indemnity", "20000.00", "2025-10-01")
    assert body["called_total"] == "5000.00"  # the whole deductible, never more
    body = (await milestone("payment_due", "2025-10-02")).json()
    assert body["called_total"] == "5000.00"
    closed = await milestone("closed", "2025-10-30")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    late = await client.post(
        f"{url}/costs",
        json={"kind": "defence", "amount": "10.00", "occurred_on": "2025-11-01"},
        headers=staff,
    )
    assert late.status_code == 422
    assert [(e["field"], e["code"]) for e in late.json()["errors"]] == [("kind", "file_closed")]
    # the lawyer sees the calls owed
    mine = (await client.get(url, headers=me)).json()
    assert mine["called_total"] == "5000.00" and len(mine["file"]) == 7
    events = await audit_events(app, resource_id=notice["id"], outcome="success")
    actions = {e["action"] for e in events}
    assert {
        "claims_notice.create",
        "claims_notice.acknowledge",
        "claims_notice.assign",
        "claims_notice.cost",
        "claims_notice.milestone",
        "claims_notice.read",
    } <= actions


async def test_facts_raise_the_deductible_and_the_difference_is_called(app, client):
    _, me, _ = await _policy(app, client)
    lawyer_id = await _lawyer_id(client, me)
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, "2025-03-03")
    url = f"/claims-notices/{notice['id']}"
    await client.post(f"{url}/acknowledge", headers=staff)
    await client.post(
        f"{url}/costs",
        json={"kind": "defence", "amount": "12000.00", "occurred_on": "2025-04-01"},
        headers=staff,
    )
    early = await client.post(
        f"{url}/milestones",
        json={"milestone": "discoveries_begun", "occurred_on": "2025-04-02"},
        headers=staff,
    )
    assert early.status_code == 422  # discoveries before a defence
    defence = await client.post(
        f"{url}/milestones",
        json={"milestone": "defence_filed", "occurred_on": "2025-04-02"},
        headers=staff,
    )
    assert defence.json()["called_total"] == "2500.00"
    # a conflict of interest doubles it: 10,000, half of it now owed
    changed = await client.patch(
        url,
        json={"facts": {"conflict_of_interest": True}},
        headers={**staff, "If-Match": defence.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["deductible"]["amount"] == "10000.00"
    assert body["deductible"]["adjustments"] == ["conflict_of_interest"]
    assert [(c["amount"], c["trigger"]) for c in body["calls"]] == [
        ("2500.00", "defence_filed"),
        ("2500.00", "deductible_changed"),
    ]
    # the lawyer may not change the facts of a filed notice
    refused = await client.patch(
        url,
        json={"facts": {"conflict_of_interest": False}},
        headers={**me, "If-Match": changed.headers["etag"]},
    )
    assert refused.status_code == 409


async def test_an_indemnity_only_deductible_waits_for_a_payment(app, client):
    _, me, _ = await _policy(app, client, c={"deductible": "2500_indemnity"})
    lawyer_id = await _lawyer_id(client, me)
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, "2025-03-03")
    url = f"/claims-notices/{notice['id']}"
    await client.post(f"{url}/acknowledge", headers=staff)
    for payload in (
        {"kind": "defence", "amount": "9000.00", "occurred_on": "2025-03-10"},
        {"milestone": "defence_filed", "occurred_on": "2025-03-20"},
        {"milestone": "discoveries_begun", "occurred_on": "2025-05-20"},
        {"kind": "indemnity", "amount": "1800.00", "occurred_on": "2025-06-01"},
    ):
        path = "milestones" if "milestone" in payload else "costs"
        body = (await client.post(f"{url}/{path}", json=payload, headers=staff)).json()
        assert body["calls"] == [], payload
    body = (
        await client.post(
            f"{url}/milestones",
            json={"milestone": "payment_due", "occurred_on": "2025-06-02"},
            headers=staff,
        )
    ).json()
    assert [(c["amount"], c["due_on"]) for c in body["calls"]] == [("1800.00", "2025-06-02")]


async def test_settled_before_a_defence_calls_against_the_indemnity_only(app, client):
    _, me, _ = await _policy(app, client)
    lawyer_id = await _lawyer_id(client, me)
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, "2025-03-03")
    url = f"/claims-notices/{notice['id']}"
    await client.post(f"{url}/acknowledge", headers=staff)
    for payload in (
        {"kind": "investigation", "amount": "900.00", "occurred_on": "2025-03-10"},
        {"kind": "repair", "amount": "1200.00", "occurred_on": "2025-03-11"},
        {"kind": "indemnity", "amount": "2000.00", "occurred_on": "2025-03-12"},
        {"milestone": "settled_before_defence", "occurred_on": "2025-03-12"},
    ):
        path = "milestones" if "milestone" in payload else "costs"
        response = await client.post(f"{url}/{path}", json=payload, headers=staff)
        assert response.status_code == 200, response.text
    assert response.json()["called_total"] == "3200.00"
    defence = await client.post(
        f"{url}/milestones",
        json={"milestone": "defence_filed", "occurred_on": "2025-03-20"},
        headers=staff,
    )
    assert defence.status_code == 422  # no defence after a settlement before one


async def test_sublimits_on_the_answer(app, client):
    _, token = await user_token(app, client)
    steps = ["written_instructions", "no_revised_instructions_warning", "changes_confirmed"]
    facts = {"social_engineering": True, "social_engineering_steps": steps, "cybercrime": True}
    notice = await _file(client, bearer(token), facts=facts)
    assert [(s["code"], s["per_claim"]) for s in notice["sublimits"]] == [
        ("social_engineering", "250000.00"),
        ("cybercrime", "250000.00"),
    ]
    all_steps = [*steps, "verification_phone_number", "changes_kept_in_writing"]
    careful = await _file(
        client,
        bearer(token),
        facts={"social_engineering": True, "social_engineering_steps": all_steps},
    )
    assert careful["sublimits"] == []
    innocent = await _file(client, bearer(token), facts={"innocent_party": True})
    assert [(s["code"], s["per_claim"]) for s in innocent["sublimits"]] == [
        ("innocent_party", "250000.00")
    ]


async def test_claims_staff_lists_with_filters(app, client):
    lawyers = [await make_user(app) for _ in range(3)]
    staff = await claims_staff(app, client)
    notices = [
        await paper_notice(client, staff, lawyers[0]["id"], "2025-01-10"),
        await paper_notice(client, staff, lawyers[1]["id"], "2025-02-10", kind="circumstance"),
        await paper_notice(client, staff, lawyers[2]["id"], "2025-03-10"),
    ]
    await client.post(f"/claims-notices/{notices[2]['id']}/acknowledge", headers=staff)

    async def ids(**params):
        response = await client.get("/claims-notices", params=params, headers=staff)
        assert response.status_code == 200, response.text
        return {n["id"] for n in response.json()["items"]}

    everything = {n["id"] for n in notices}
    assert await ids() == everything
    assert await ids(kind="circumstance") == {notices[1]["id"]}
    assert await ids(status="acknowledged") == {notices[2]["id"]}
    assert await ids(lawyer_id=str(lawyers[0]["id"])) == {notices[0]["id"]}
    assert await ids(received_from="2025-02-01", received_to="2025-02-28") == {notices[1]["id"]}
    page = (await client.get("/claims-notices", params={"limit": 2}, headers=staff)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await client.get(
        "/claims-notices", params={"limit": 2, "cursor": page["next_cursor"]}, headers=staff
    )
    assert {n["id"] for n in page["items"] + rest.json()["items"]} == everything
    bad = await client.get("/claims-notices", params={"status": "lost"}, headers=staff)
    assert bad.status_code == 422


async def test_concurrent_retries_of_one_attempt_make_one_notice(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    attempt = key()
    answers = await asyncio.gather(
        *(client.post("/claims-notices", json=MATTER, headers={**me, **attempt}) for _ in range(8))
    )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and statuses.count(201) >= 1, statuses
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # every 201 is the one notice, first answer or its replay
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["type"].endswith("/idempotency-key-in-flight")
    listed = (await client.get("/claims-notices", headers=me)).json()["items"]
    assert [n["id"] for n in listed] == list(created)
    # once the first has finished, a retry is its replay
    retry = await client.post("/claims-notices", json=MATTER, headers={**me, **attempt})
    assert retry.status_code == 201 and retry.json()["id"] in created


async def test_an_expired_key_starts_afresh(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    attempt = key()
    first = await client.post("/claims-notices", json=MATTER, headers={**me, **attempt})
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE idempotent_answer SET expires_at = now() - interval '1 second'")
        )
    later = await client.post("/claims-notices", json=MATTER, headers={**me, **attempt})
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in later.headers


async def test_a_notice_read_back_is_byte_for_byte_what_its_last_change_answered(app, client):
    """Reads answer the stored row as data (app/core/responses.py), changes the validated
    model: a notice with sublimits, then acknowledged, costs (cents included), milestones and the
    calls they make, a changed fact that changes the deductible, counsel, a closing."""
    _, me, _ = await _policy(app, client)
    lawyer_id = await _lawyer_id(client, me)
    staff = await claims_staff(app, client)
    steps = ["written_instructions", "changes_confirmed"]
    created = await client.post(  # entered from paper, received while the policy is in force
        "/claims-notices",
        json={
            **MATTER,
            "lawyer_id": lawyer_id,
            "channel": "paper",
            "received_on": "2025-06-02",
            "potential_damages": "12500.5",
            "facts": {"social_engineering": True, "social_engineering_steps": steps},
        },
        headers={**staff, **key()},
    )
    url = created.headers["location"]

    async def read_back(answer):
        assert answer.status_code in (200, 201), answer.text
        read = await client.get(url, headers=staff)
        assert read.content == answer.content
        assert read.headers["etag"] == answer.headers["etag"]
        listed = await client.get(f"/claims-notices?lawyer_id={lawyer_id}", headers=staff)
        assert listed.content == b'{"items":[' + answer.content + b'],"next_cursor":null}'
        return read.json()

    body = await read_back(created)
    assert body["potential_damages"] == "12500.50" and body["sublimits"]
    await read_back(await client.post(f"{url}/acknowledge", headers=staff))
    counsel = await make_user(app, role="claims")
    await read_back(
        await client.post(f"{url}/counsel", json={"counsel_id": str(counsel["id"])}, headers=staff)
    )
    for path, entry in (
        ("costs", {"kind": "investigation", "amount": "1000.10", "occurred_on": "2025-06-10"}),
        ("milestones", {"milestone": "defence_filed", "occurred_on": "2025-07-01"}),
        ("costs", {"kind": "defence", "amount": "3000", "occurred_on": "2025-07-15"}),
    ):
        body = await read_back(await client.post(f"{url}/{path}", json=entry, headers=staff))
    assert [c["amount"] for c in body["calls"]] == ["1000.10", "1499.90"]
    assert body["file"][0]["amount"] == "1000.10" and body["costs_total"] == "4000.10"
    changed = await client.patch(
        url,
        json={"facts": {"conflict_of_interest": True}},
        headers={**staff, "If-Match": (await client.get(url, headers=staff)).headers["etag"]},
    )
    body = await read_back(changed)
    assert body["deductible"]["adjustments"] == ["conflict_of_interest"]
    for milestone, on in (("payment_due", "2025-10-02"), ("closed", "2025-10-30")):
        body = await read_back(
            await client.post(
                f"{url}/milestones", json={"milestone": milestone, "occurred_on": on}, headers=staff
            )
        )
    assert body["status"] == "closed"
