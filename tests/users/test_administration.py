"""User administration: create, change roles with If-Match, disable, unlock, access review."""

from sqlalchemy import text

from tests.factories import (
    audit_events,
    bearer,
    login,
    make_firm,
    make_user,
    user_token,
    version_of,
)

STRONG = "a long and uncommon passphrase"


async def _admin(app, client):
    admin, token = await user_token(app, client, role="admin")
    return admin, bearer(token)


async def test_only_admins_administer_users(app, client):
    for role in ("lawyer", "firm_admin", "customer_service", "underwriter", "auditor"):
        firm = await make_firm(app) if role == "firm_admin" else None
        _, token = await user_token(app, client, role=role, firm_id=firm)
        response = await client.post(
            "/users", json={"username": "X12345", "role": "lawyer"}, headers=bearer(token)
        )
        assert response.status_code == 403, role
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/users", headers=bearer(token))).status_code == 403


async def test_create_users_of_each_kind(app, client):
    _, admin = await _admin(app, client)
    firm = await make_firm(app)
    lawyer = await client.post(
        "/users",
        json={"username": "98765A", "role": "lawyer", "firm_id": str(firm), "password": STRONG},
        headers=admin,
    )
    assert lawyer.status_code == 201, lawyer.text
    assert version_of(lawyer.headers["etag"]) == 1 and lawyer.headers["location"].endswith(
        lawyer.json()["id"]
    )
    await login(client, "98765a", STRONG)  # usernames are case-blind

    integration = await client.post(
        "/users",
        json={
            "username": "PMS-7",
            "role": "integration",
            "firm_id": str(firm),
            "scopes": ["quotes:write"],
        },
        headers=admin,
    )
    assert integration.status_code == 201
    secret = integration.json()["client_secret"]
    ok = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": "PMS-7", "client_secret": secret},
    )
    assert ok.status_code == 200

    staff = await client.post(
        "/users",
        json={"username": "jdoe", "role": "claims", "email": "jdoe@insurer.example"},
        headers=admin,
    )
    assert staff.status_code == 201 and staff.json()["client_secret"] is None
    async with app.state.database.engine.connect() as conn:
        mail = (await conn.execute(text("SELECT to_address, template FROM outbox_email"))).one()
    assert tuple(mail) == ("jdoe@insurer.example", "account_setup")


async def test_create_refuses_bad_input_by_field(app, client):
    _, admin = await _admin(app, client)
    cases = [
        ({"username": "FA1", "role": "firm_admin", "password": STRONG}, "firm_id", 422),
        (
            {
                "username": "L1",
                "role": "lawyer",
                "firm_id": "00000000-0000-0000-0000-000000000000",
                "password": STRONG,
            },
            "firm_id",
            422,
        ),
        ({"username": "L2", "role": "lawyer", "password": "too short"}, "password", 422),
        ({"username": "L3", "role": "lawyer"}, "email", 422),
        ({"username": "L4", "role": "wizard", "password": STRONG}, "role", 422),
        (
            {"username": "L5", "role": "lawyer", "password": STRONG, "scopes": ["quotes:read"]},
            "scopes",
            422,
        ),
    ]
    for body, field, status in cases:
        response = await client.post("/users", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    await client.post(
        "/users", json={"username": "Taken1", "role": "lawyer", "password": STRONG}, headers=admin
    )
    duplicate = await client.post(
        "/users", json={"username": "TAKEN1", "role": "lawyer", "password": STRONG}, headers=admin
    )
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "username"


async def test_list_filters_and_pages(app, client):
    _, admin = await _admin(app, client)
    firm = await make_firm(app)
    for _ in range(5):
        await make_user(app, firm_id=firm)
    await make_user(app, role="finance")
    seen, cursor = [], None
    while True:
        params = {"role": "lawyer", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/users", params=params, headers=admin)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and len({u["id"] for u in seen}) == 5
    assert {u["role"] for u in seen} == {"lawyer"}
    by_firm = (await client.get("/users", params={"firm_id": str(firm)}, headers=admin)).json()
    assert len(by_firm["items"]) == 5
    bad = await client.get("/users", params={"cursor": "not-a-cursor"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_patch_needs_a_current_etag(app, client):
    _, admin = await _admin(app, client)
    user = await make_user(app)
    url = f"/users/{user['id']}"
    read = await client.get(url, headers=admin)
    etag = read.headers["etag"]
    missing = await client.patch(url, json={"full_name": "A. Lawyer"}, headers=admin)
    assert missing.status_code == 428
    changed = await client.patch(
        url, json={"full_name": "A. Lawyer"}, headers={**admin, "If-Match": etag}
    )
    assert changed.status_code == 200 and changed.json()["full_name"] == "A. Lawyer"
    assert changed.headers["etag"] != etag
    stale = await client.patch(
        url, json={"full_name": "B. Lawyer"}, headers={**admin, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert (await client.get(url, headers=admin)).json()["full_name"] == "A. Lawyer"


async def test_role_change_is_audited_and_ends_the_users_sessions(app, client):
    admin, admin_headers = await _admin(app, client)
    user = await make_user(app)
    token = await login(client, user["username"])
    url = f"/users/{user['id']}"
    etag = (await client.get(url, headers=admin_headers)).headers["etag"]
    response = await client.patch(
        url, json={"role": "auditor"}, headers={**admin_headers, "If-Match": etag}
    )
    assert response.status_code == 200 and response.json()["role"] == "auditor"
    assert response.json()["role_changed_at"] is not None
    # the old token carried the old rights: it ends; the next login carries the new ones
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 401
    fresh = await login(client, user["username"])
    assert (await client.get("/audit-events", headers=bearer(fresh))).status_code == 200
    [event] = await audit_events(app, action="user.role_change")
    assert event["details"] == {"before": {"role": "lawyer"}, "after": {"role": "auditor"}}
    assert event["actor_id"] == admin["id"]


async def test_admins_cannot_lock_themselves_out(app, client):
    admin, headers = await _admin(app, client)
    url = f"/users/{admin['id']}"
    etag = (await client.get(url, headers=headers)).headers["etag"]
    demote = await client.patch(url, json={"role": "lawyer"}, headers={**headers, "If-Match": etag})
    assert demote.status_code == 409
    assert (await client.post(f"{url}/disable", headers=headers)).status_code == 409


async def test_disable_and_enable(app, client):
    _, headers = await _admin(app, client)
    user = await make_user(app)
    disabled = await client.post(f"/users/{user['id']}/disable", headers=headers)
    assert disabled.json()["disabled"] is True
    refused = await client.post(
        "/auth/token", data={"username": user["username"], "password": user["password"]}
    )
    assert refused.status_code == 401
    enabled = await client.post(f"/users/{user['id']}/enable", headers=headers)
    assert enabled.json()["disabled"] is False
    await login(client, user["username"])
    missing = await client.post(
        "/users/00000000-0000-0000-0000-000000000000/disable", headers=headers
    )
    assert missing.status_code == 404


async def test_access_review_lists_every_role(app, client):
    _, headers = await _admin(app, client)
    firm = await make_firm(app)
    await make_user(app, role="underwriter", username="UW1")
    await make_user(app, role="firm_admin", firm_id=firm, username="FA1")
    review = await client.get("/users/access-review", headers=headers)
    assert review.status_code == 200
    roles = {r["role"]: [u["username"] for u in r["users"]] for r in review.json()["roles"]}
    assert set(roles) == {
        "lawyer",
        "firm_admin",
        "integration",
        "customer_service",
        "underwriter",
        "claims",
        "finance",
        "auditor",
        "admin",
    }
    assert roles["underwriter"] == ["UW1"] and roles["firm_admin"] == ["FA1"]
    _, auditor = await user_token(app, client, role="auditor")
    assert (await client.get("/users/access-review", headers=bearer(auditor))).status_code == 200
    _, lawyer = await user_token(app, client)
    assert (await client.get("/users/access-review", headers=bearer(lawyer))).status_code == 403
    assert len(await audit_events(app, action="user.access_review", outcome="success")) == 2


async def test_firms_are_visible_to_staff_and_their_own_people(app, client):
    _, headers = await _admin(app, client)
    created = await client.post(
        "/firms", json={"name": "Smith LLP", "firm_number": "F-100"}, headers=headers
    )
    assert created.status_code == 201
    firm_id = created.json()["id"]
    again = await client.post(
        "/firms", json={"name": "Other", "firm_number": "F-100"}, headers=headers
    )
    assert again.status_code == 409
    _, member = await user_token(app, client, firm_id=firm_id)
    _, outsider = await user_token(app, client)
    _, staff = await user_token(app, client, role="customer_service")
    assert (await client.get(f"/firms/{firm_id}", headers=bearer(member))).status_code == 200
    assert (await client.get(f"/firms/{firm_id}", headers=bearer(staff))).status_code == 200
    assert (await client.get(f"/firms/{firm_id}", headers=bearer(outsider))).status_code == 404
    assert (await client.get("/firms", headers=bearer(outsider))).status_code == 403
    listed = (await client.get("/firms", headers=bearer(staff))).json()
    assert [f["firm_number"] for f in listed["items"]] == ["F-100"]
