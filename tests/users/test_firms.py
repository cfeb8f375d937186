"""Firms: created by admins, listed by staff, read by staff and the firm's own people; anyone
else gets the same 404 as for a firm that does not exist, and the refusal is audited."""

import uuid

from sqlalchemy import text

from tests.conftest import client_for
from tests.factories import audit_events, bearer, make_firm, make_user, user_token

PROBLEM = "application/problem+json"
STAFF = ("customer_service", "underwriter", "claims", "finance", "auditor", "admin")


async def test_admins_create_firms_and_nobody_else_does(app, client):
    _, admin = await user_token(app, client, role="admin")
    created = await client.post(
        "/firms", json={"name": "Smith LLP", "firm_number": "F-100"}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    firm = created.json()
    assert firm["name"] == "Smith LLP" and firm["firm_number"] == "F-100"
    uuid.UUID(firm["id"])
    [event] = await audit_events(app, action="firm.create")
    assert event["resource_id"] == firm["id"]
    assert event["details"]["after"] == {"name": "Smith LLP", "firm_number": "F-100"}

    duplicate = await client.post(
        "/firms", json={"name": "Other", "firm_number": "F-100"}, headers=bearer(admin)
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in duplicate.json()["errors"]] == ["firm_number"]
    invalid = await client.post(
        "/firms", json={"name": "", "firm_number": "has spaces"}, headers=bearer(admin)
    )
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {"name", "firm_number"}

    for role in ("lawyer", "underwriter", "auditor"):
        _, token = await user_token(app, client, role=role)
        refused = await client.post(
            "/firms", json={"name": "Sneaky LLP", "firm_number": "F-999"}, headers=bearer(token)
        )
        assert refused.status_code == 403, role
        assert refused.headers["content-type"].startswith(PROBLEM)
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM firm")) == 1


async def test_staff_and_the_firms_own_people_read_it_others_get_404(app, client):
    firm = await make_firm(app, name="Smith LLP")
    other_firm = await make_firm(app, name="Jones LLP")
    url = f"/firms/{firm}"

    readers = [await user_token(app, client, role=role) for role in STAFF]
    readers.append(await user_token(app, client, role="lawyer", firm_id=firm))
    readers.append(await user_token(app, client, role="firm_admin", firm_id=firm))
    member_integration = await make_user(app, role="integration", firm_id=firm)
    response = await client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": member_integration["username"],
            "client_secret": member_integration["password"],
        },
    )
    readers.append((member_integration, response.json()["access_token"]))
    for user, token in readers:
        read = await client.get(url, headers=bearer(token))
        assert read.status_code == 200, (user["role"], read.text)
        assert read.json()["name"] == "Smith LLP"
    reads = await audit_events(app, action="firm.read", outcome="success")
    assert len(reads) == len(readers)
    assert {e["resource_id"] for e in reads} == {str(firm)}

    missing = await client.get(f"/firms/{uuid.uuid4()}", headers=bearer(readers[0][1]))
    assert missing.status_code == 404

    outsiders = [
        await user_token(app, client, role="lawyer"),  # no firm
        await user_token(app, client, role="lawyer", firm_id=other_firm),
        await user_token(app, client, role="firm_admin", firm_id=other_firm),
    ]
    nowhere = f"/firms/{uuid.uuid4()}"
    for user, token in outsiders:
        hidden = await client.get(url, headers=bearer(token))
        assert hidden.status_code == 404, (user["role"], hidden.text)
        assert hidden.headers["content-type"].startswith(PROBLEM)
        absent = await client.get(nowhere, headers=bearer(token))
        # the same answer as for a firm that does not exist: nothing says it exists
        same = ("type", "title", "status", "detail")
        assert {k: hidden.json()[k] for k in same} == {k: absent.json()[k] for k in same}
        assert "Smith" not in hidden.text

        [denied] = await audit_events(
            app, outcome="denied", actor_id=user["id"], resource_id=str(firm)
        )
        assert denied["action"] == "firm.read"
        assert denied["resource_type"] == "firm"
        assert denied["actor_role"] == user["role"]
        assert denied["details"] == {"status": 404, "problem": "not-found"}
        assert denied["request_id"] == hidden.headers["x-request-id"]
    # no read was recorded for the refused requests
    assert len(await audit_events(app, action="firm.read", outcome="success")) == len(readers)


async def test_firm_list_is_for_staff_paged_and_audited(app, client):
    numbers = [f"F-{i:03d}" for i in range(5)]
    for number in reversed(numbers):
        await make_firm(app, firm_number=number)
    auditor, token = await user_token(app, client, role="auditor")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/firms", params=params, headers=bearer(token))
        assert page.status_code == 200, page.text
        seen += [f["firm_number"] for f in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers
    lists = await audit_events(app, action="firm.list", actor_id=auditor["id"])
    assert [len(e["resource_ids"]) for e in lists] == [2, 2, 1]

    for role in ("lawyer", "firm_admin"):
        firm = await make_firm(app) if role == "firm_admin" else None
        _, outsider = await user_token(app, client, role=role, firm_id=firm)
        refused = await client.get("/firms", headers=bearer(outsider))
        assert refused.status_code == 403, role
    async with client_for(app) as anonymous:
        assert (await anonymous.get("/firms")).status_code == 401
