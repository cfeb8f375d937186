"""Policies and mid-term changes through HTTP: each adjustment to the cent."""

from tests.applications.test_api import _start, form_json
from tests.factories import audit_events, bearer, user_token


async def _policy(app, client, **sections):
    _, token = await user_token(app, client)
    me = bearer(token)
    draft, _ = await _start(client, me, form=form_json(**sections))
    assert (await client.post(f"/applications/{draft['id']}/submit", headers=me)).status_code == 200
    _, underwriter = await user_token(app, client, role="underwriter")
    approved = await client.post(
        f"/applications/{draft['id']}/decision",
        json={"decision": "approve"},
        headers=bearer(underwriter),
    )
    assert approved.status_code == 200, approved.text
    return approved.json()["policy"]["id"], me, bearer(underwriter)


async def _staff(app, client):
    _, token = await user_token(app, client, role="customer_service")
    return bearer(token)


async def _add_real_estate_on_20_june(client, policy_id, staff):
    added = await client.post(
        f"/policies/{policy_id}/changes",
        json={
            "kind": "add_real_estate",
            "requested_date": "2025-06-01",
            "received_on": "2025-06-20",
        },
        headers=staff,
    )
    assert added.status_code == 201, added.text
    return added


async def test_real_estate_added_then_removed(app, client):
    policy_id, me, underwriter = await _policy(app, client)
    staff = await _staff(app, client)
    url = f"/policies/{policy_id}/changes"
    # received 20 June, requested for 1 June: takes effect 20 June (never backdated);
    # 195 days: 100 * 195 / 365 = 53.42; tax 4.2736
    added = await _add_real_estate_on_20_june(client, policy_id, staff)
    body = added.json()
    assert body["effective_date"] == "2025-06-20"
    assert (body["premium_adjustment"], body["tax_adjustment"], body["total_adjustment"]) == (
        "53.42",
        "4.27",
        "57.69",
    )
    policy = (await client.get(f"/policies/{policy_id}", headers=me)).json()
    assert policy["real_estate_status"] == "pending_due_diligence"
    # 3250 + 53.42; tax 260 + 4.27
    assert (policy["premium"], policy["tax"], policy["total"]) == ("3303.42", "264.27", "3567.69")

    cleared = await client.post(
        f"/policies/{policy_id}/real-estate-review",
        json={"outcome": "cleared"},
        headers=underwriter,
    )
    assert cleared.json()["real_estate_status"] == "in_force"

    # removed from 1 Oct: kept 103 days (20 Jun - 30 Sep) = 28.22 of 53.42 paid: the year's one
    # pro-rated adjustment is used, so nothing is returned
    removed = await client.post(
        url,
        json={
            "kind": "remove_real_estate",
            "requested_date": "2025-10-01",
            "received_on": "2025-09-15",
        },
        headers=staff,
    )
    assert removed.status_code == 201
    assert removed.json()["total_adjustment"] == "0.00" and removed.json()["pro_rated"] is False

    # added again in November: the full annual fee
    again = await client.post(
        url, json={"kind": "add_real_estate", "received_on": "2025-11-03"}, headers=staff
    )
    assert (again.json()["premium_adjustment"], again.json()["total_adjustment"]) == (
        "100.00",
        "108.00",
    )
    changes = (await client.get(url, headers=me)).json()
    assert [c["kind"] for c in changes] == [
        "add_real_estate",
        "remove_real_estate",
        "add_real_estate",
    ]
    assert len(await audit_events(app, action="policy.change")) == 3


async def test_removing_real_estate_taken_at_inception(app, client):
    policy_id, me, _ = await _policy(app, client, c={"real_estate": True})
    staff = await _staff(app, client)
    # kept 181 days (1 Jan - 30 Jun) = 49.59 of 100.00: 50.41 and its tax 4.03 returned
    removed = await client.post(
        f"/policies/{policy_id}/changes",
        json={"kind": "remove_real_estate", "received_on": "2025-07-01"},
        headers=staff,
    )
    assert removed.status_code == 201, removed.text
    assert (removed.json()["premium_adjustment"], removed.json()["total_adjustment"]) == (
        "-50.41",
        "-54.44",
    )
    policy = (await client.get(f"/policies/{policy_id}", headers=me)).json()
    # 3350.00 - 50.41; tax 268.00 - 4.03
    assert (policy["premium"], policy["tax"], policy["total"]) == ("3299.59", "263.97", "3563.56")


async def test_refused_due_diligence_returns_the_fee(app, client):
    policy_id, me, underwriter = await _policy(app, client, c={"real_estate": True})
    refused = await client.post(
        f"/policies/{policy_id}/real-estate-review",
        json={"outcome": "refused"},
        headers=underwriter,
    )
    assert refused.status_code == 200
    body = refused.json()
    assert body["real_estate_status"] == "not_taken"
    assert (body["premium"], body["tax"], body["total"]) == ("3250.00", "260.00", "3510.00")
    lawyer_try = await client.post(
        f"/policies/{policy_id}/real-estate-review", json={"outcome": "cleared"}, headers=me
    )
    assert lawyer_try.status_code in (403, 409)


async def test_losing_part_time_rerates_from_inception(app, client):
    policy_id, me, _ = await _policy(
        app,
        client,
        a={"hours_last_fiscal_year": 600, "billing_code": "AV8"},
        c={"part_time": True, "practice_options_declaration_signed": True},
    )
    policy = (await client.get(f"/policies/{policy_id}", headers=me)).json()
    assert (policy["premium"], policy["total"]) == ("1625.00", "1755.00")
    lost = await client.post(
        f"/policies/{policy_id}/changes", json={"kind": "lose_part_time"}, headers=me
    )
    assert lost.status_code == 201, lost.text
    body = lost.json()
    assert body["effective_date"] == "2025-01-01"
    assert (body["premium_adjustment"], body["tax_adjustment"], body["total_adjustment"]) == (
        "1625.00",
        "130.00",
        "1755.00",
    )
    policy = (await client.get(f"/policies/{policy_id}", headers=me)).json()
    assert (policy["premium"], policy["total"], policy["part_time"]) == (
        "3250.00",
        "3510.00",
        False,
    )
    twice = await client.post(
        f"/policies/{policy_id}/changes", json={"kind": "lose_part_time"}, headers=me
    )
    assert twice.status_code == 409


async def test_lawyers_cannot_backdate_receipt_and_others_see_nothing(app, client):
    policy_id, me, _ = await _policy(app, client)
    backdated = await client.post(
        f"/policies/{policy_id}/changes",
        json={"kind": "add_real_estate", "received_on": "2025-02-01"},
        headers=me,
    )
    assert backdated.status_code == 422
    assert backdated.json()["errors"][0]["field"] == "received_on"
    _, stranger = await user_token(app, client)
    assert (await client.get(f"/policies/{policy_id}", headers=bearer(stranger))).status_code == 404
    _, finance = await user_token(app, client, role="finance")
    assert (await client.get(f"/policies/{policy_id}", headers=bearer(finance))).status_code == 200
    mine = (await client.get("/policies", headers=me)).json()
    assert [p["id"] for p in mine["items"]] == [policy_id]


async def test_a_policy_read_back_is_byte_for_byte_what_its_last_change_answered(app, client):
    """Reads answer the stored row (app/core/responses.py), changes the validated model."""
    policy_id, me, underwriter = await _policy(app, client)
    await _add_real_estate_on_20_june(client, policy_id, await _staff(app, client))
    reviewed = await client.post(
        f"/policies/{policy_id}/real-estate-review",
        json={"outcome": "cleared"},
        headers=underwriter,
    )
    assert reviewed.status_code == 200, reviewed.text
    read = await client.get(f"/policies/{policy_id}", headers=me)
    assert read.content == reviewed.content
    listed = await client.get("/policies?limit=50", headers=me)
    assert listed.content == b'{"items":[' + reviewed.content + b'],"next_cursor":null}'
