"""`updated_since` on every list whose records change: a record created or changed at or after
the time is listed, one left alone since is not, whoever wrote the change (the ORM, a bulk
update, a claims file's new entry); a timestamp without its offset is a 422 naming the
parameter (issue: the client contract). Through HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from tests.applications.test_api import _start
from tests.claims_notices.support import claims_staff, paper_notice
from tests.exemptions.test_api import _draft
from tests.factories import bearer, login, make_user, user_token
from tests.payments.test_api import pad
from tests.policies.test_api import _policy


async def _now(app):
    """The database's clock: what stamps a change."""
    async with app.state.database.engine.connect() as conn:
        return (await conn.execute(text("SELECT now()"))).scalar_one()


async def _since(client, url, headers, at, **params):
    response = await client.get(
        url, params={"updated_since": at.isoformat(), **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_applications_and_exemptions_changed_since(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    changed, etag = await _start(client, me, form={"a": {"name": "Ada"}})
    _, other = await user_token(app, client)
    untouched, _ = await _start(client, bearer(other), form={"a": {"name": "Bob"}})
    exemption, exemption_etag = await _draft(client, me, form={"reason": "a"})
    left, _ = await _draft(client, bearer(other), form={"reason": "a"})
    at = await _now(app)

    patched = await client.patch(
        f"/applications/{changed['id']}",
        json={"form": {"a": {"fax": "416-555-0199"}}},
        headers={**me, "If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["updated_at"] > changed["updated_at"]
    patched = await client.patch(
        f"/exemptions/{exemption['id']}",
        json={"form": {"telephone": "416-555-0100"}},
        headers={**me, "If-Match": exemption_etag},
    )
    assert patched.status_code == 200, patched.text

    _, uw = await user_token(app, client, role="underwriter")
    staff = bearer(uw)
    assert await _since(client, "/applications", staff, at) == {changed["id"]}
    assert await _since(client, "/exemptions", staff, at) == {exemption["id"]}
    # the other filters and need to know still apply
    assert await _since(client, "/applications", staff, at, status="submitted") == set()
    assert await _since(client, "/applications", bearer(other), at) == set()
    # nothing changed since; a record created since is listed
    later = await _now(app)
    assert await _since(client, "/applications", staff, later) == set()
    assert await _since(client, "/exemptions", staff, later) == set()
    before = _before(untouched)
    assert await _since(client, "/applications", staff, before) == {changed["id"], untouched["id"]}
    assert left["id"] in await _since(client, "/exemptions", staff, before)


def _before(record):
    """A second before the record was created."""
    return datetime.fromisoformat(record["created_at"]) - timedelta(seconds=1)


async def test_policies_and_payment_authorizations_changed_since(app, client):
    changed, me, underwriter = await _policy(app, client)
    untouched, other, _ = await _policy(app, client)
    first = await client.post("/payments/authorizations", json=pad(changed), headers=me)
    kept = await client.post("/payments/authorizations", json=pad(untouched), headers=other)
    assert first.status_code == kept.status_code == 201
    at = await _now(app)

    _, cs = await user_token(app, client, role="customer_service")
    staff = bearer(cs)
    added = await client.post(
        f"/policies/{changed}/changes",
        json={"kind": "add_real_estate", "received_on": "2025-06-20"},
        headers=staff,
    )
    assert added.status_code == 201, added.text
    # a new authorization supersedes the first: both changed
    second = await client.post("/payments/authorizations", json=pad(changed), headers=me)
    assert second.status_code == 201, second.text

    assert await _since(client, "/policies", staff, at) == {changed}
    # the policy is shown with its application: the application changed too
    policy = (await client.get(f"/policies/{changed}", headers=staff)).json()
    assert await _since(client, "/applications", underwriter, at) == {policy["application_id"]}
    assert await _since(client, "/payments/authorizations", staff, at) == {
        first.json()["id"],
        second.json()["id"],
    }
    superseded = await client.get(f"/payments/authorizations/{first.json()['id']}", headers=staff)
    assert superseded.json()["status"] == "superseded"
    assert superseded.json()["updated_at"] > first.json()["updated_at"]


async def test_a_claims_file_entry_changes_its_notice(app, client):
    lawyer = await make_user(app)
    staff = await claims_staff(app, client)
    worked = await paper_notice(client, staff, lawyer["id"], "2025-06-02")
    left = await paper_notice(client, staff, lawyer["id"], "2025-06-03")
    for notice in (worked, left):
        ack = await client.post(f"/claims-notices/{notice['id']}/acknowledge", headers=staff)
        assert ack.status_code == 200, ack.text
    at = await _now(app)
    cost = await client.post(
        f"/claims-notices/{worked['id']}/costs",
        json={"kind": "investigation", "amount": "250.00", "occurred_on": "2025-06-10"},
        headers=staff,
    )
    assert cost.status_code == 200, cost.text
    assert await _since(client, "/claims-notices", staff, at) == {worked["id"]}
    assert cost.json()["updated_at"] >= at.isoformat().replace("+00:00", "Z")


async def test_users_changed_since_by_the_admin_or_by_logging_in(app, client):
    _, admin_token = await user_token(app, client, role="admin")
    admin = bearer(admin_token)
    renamed = await make_user(app, username="40404D")
    logs_in = await make_user(app, username="50505E")
    await make_user(app, username="60606F")
    at = await _now(app)
    read = await client.get(f"/users/{renamed['id']}", headers=admin)
    changed = await client.patch(
        f"/users/{renamed['id']}",
        json={"full_name": "Dee Renamed"},
        headers={**admin, "If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    await login(client, "50505E")  # its last login is part of the account as read
    found = await _since(client, "/users", admin, at, role="lawyer")
    assert found == {str(renamed["id"]), str(logs_in["id"])}


@pytest.mark.parametrize(
    "value",
    ["2026-11-25T09:30:00", "2026-11-25", "1764063000", "yesterday", "2026-11-25T09:30:00+0100"],
)
async def test_a_time_without_its_offset_is_refused_naming_the_parameter(app, client, value):
    _, token = await user_token(app, client, role="underwriter")
    for url in ("/applications", "/policies", "/exemptions"):
        response = await client.get(url, params={"updated_since": value}, headers=bearer(token))
        assert response.status_code == 422, (url, value, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        [error] = response.json()["errors"]
        assert error["field"] == "updated_since"
        assert error["code"] == "rfc3339_with_offset"


async def test_an_offset_other_than_utc_is_taken_as_given(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    draft, _ = await _start(client, me)
    east = _before(draft).astimezone(timezone(timedelta(hours=5)))
    assert await _since(client, "/applications", me, east) == {draft["id"]}
    assert await _since(client, "/applications", me, east + timedelta(seconds=5)) == set()
