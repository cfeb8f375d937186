"""User administration through HTTP: who may do it, creating each kind of user, listing,
If-Match on changes, role changes, disable/enable/unlock, the access review, /users/me."""

import asyncio
import uuid

from sqlalchemy import text

from app.users.schemas import UserRead
from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    audit_events,
    bearer,
    login,
    make_firm,
    make_user,
    user_token,
    version_of,
)

STRONG = "a long and uncommon passphrase"
ALL_ROLES = (
    "lawyer",
    "firm_admin",
    "integration",
    "customer_service",
    "underwriter",
    "claims",
    "finance",
    "auditor",
    "admin",
)
NON_ADMIN_ROLES = tuple(r for r in ALL_ROLES if r != "admin")
PROBLEM = "application/problem+json"


async def _admin(app, client):
    admin, token = await user_token(app, client, role="admin")
    return admin, bearer(token)


async def _token_for(app, client, role, firm_id=None):
    """A logged-in user of any role (integrations log in with client credentials)."""
    if role in ("firm_admin", "integration") and firm_id is None:
        firm_id = await make_firm(app)
    user = await make_user(app, role=role, firm_id=firm_id)
    if role == "integration":
        response = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": user["username"],
                "client_secret": user["password"],
            },
        )
        assert response.status_code == 200, response.text
        return user, response.json()["access_token"]
    return user, await login(client, user["username"])


async def _create(client, headers, **body):
    return await client.post("/users", json=body, headers=headers)


def _fields(response):
    return [e["field"] for e in response.json().get("errors", [])]


def _is_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status and body["type"].startswith("/problems/")
    assert {"title", "detail"} <= set(body)


# --- who may administer users -------------------------------------------------------------


async def test_every_non_admin_role_gets_403_on_every_admin_endpoint(app, client):
    target = await make_user(app)
    url = f"/users/{target['id']}"
    for role in NON_ADMIN_ROLES:
        _, token = await _token_for(app, client, role)
        headers = bearer(token)
        calls = [
            client.post(
                "/users",
                json={"username": "X12345", "role": "lawyer", "password": STRONG},
                headers=headers,
            ),
            client.get("/users", headers=headers),
            client.get(url, headers=headers),
            client.patch(url, json={"full_name": "x"}, headers={**headers, "If-Match": '"1"'}),
            client.post(f"{url}/disable", headers=headers),
            client.post(f"{url}/enable", headers=headers),
            client.post(f"{url}/unlock", headers=headers),
        ]
        for response in [await c for c in calls]:
            _is_problem(response, 403)
            assert response.json()["type"] == "/problems/forbidden", role
    # nothing happened: no user X12345, the target untouched
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM app_user WHERE username='X12345'")) == 0
        row = (
            await conn.execute(
                text("SELECT full_name, disabled_at, version FROM app_user WHERE id = :id"),
                {"id": target["id"]},
            )
        ).one()
    assert tuple(row) == (None, None, 1)
    denied = await audit_events(app, outcome="denied")
    assert len(denied) == 7 * len(NON_ADMIN_ROLES)
    assert {e["details"]["status"] for e in denied} == {403}


async def test_without_a_token_admin_endpoints_answer_401(app, client):
    async with client_for(app) as anonymous:
        response = await anonymous.get("/users")
    _is_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


# --- creating users -----------------------------------------------------------------------


async def test_admin_creates_a_user_of_each_role(app, client):
    _, admin = await _admin(app, client)
    firm = await make_firm(app)
    for i, role in enumerate(ALL_ROLES):
        body = {"username": f"U{i}-{role}", "role": role}
        if role in ("lawyer", "firm_admin", "integration"):
            body["firm_id"] = str(firm)
        if role != "integration":
            body["password"] = STRONG
        response = await _create(client, admin, **body)
        assert response.status_code == 201, (role, response.text)
        created = response.json()
        assert created["role"] == role and created["username"] == body["username"]
        assert created["firm_id"] == body.get("firm_id")
        assert created["disabled"] is False and created["locked"] is False
        assert version_of(response.headers["etag"]) == 1 and created["version"] == 1
        assert response.headers["location"] == f"/users/{created['id']}"
        assert response.headers["cache-control"] == "no-store"
        assert "password" not in created and "password_hash" not in created
        if role == "integration":
            assert created["client_secret"]
        else:
            assert created["client_secret"] is None
            await login(client, body["username"], STRONG)
    creates = await audit_events(app, action="user.create")
    assert len(creates) == len(ALL_ROLES)
    assert [e["details"]["after"]["role"] for e in creates] == list(ALL_ROLES)


async def test_firm_roles_need_an_existing_firm(app, client):
    _, admin = await _admin(app, client)
    for role in ("firm_admin", "integration"):
        body = {"username": f"NOFIRM-{role}", "role": role}
        if role == "firm_admin":
            body["password"] = STRONG
        missing = await _create(client, admin, **body)
        _is_problem(missing, 422)
        assert "firm_id" in _fields(missing), role
        unknown = await _create(client, admin, **body, firm_id=str(uuid.uuid4()))
        _is_problem(unknown, 422)
        assert "firm_id" in _fields(unknown), role
    staff_in_firm = await _create(
        client,
        admin,
        username="UW-FIRM",
        role="underwriter",
        password=STRONG,
        firm_id=str(await make_firm(app)),
    )
    _is_problem(staff_in_firm, 422)
    assert _fields(staff_in_firm) == ["firm_id"]
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM app_user")) == 1  # the admin


async def test_usernames_are_unique_whatever_their_case(app, client):
    _, admin = await _admin(app, client)
    first = await _create(client, admin, username="Smith.J", role="claims", password=STRONG)
    assert first.status_code == 201
    for spelling in ("smith.j", "SMITH.J", "Smith.J"):
        again = await _create(client, admin, username=spelling, role="finance", password=STRONG)
        _is_problem(again, 409)
        assert _fields(again) == ["username"]
    await make_user(app, username="98765A")
    clash = await _create(client, admin, username="98765a", role="lawyer", password=STRONG)
    _is_problem(clash, 409)


async def test_concurrent_creation_of_one_username_makes_one_user(app, client):
    _, admin = await _admin(app, client)
    bodies = [
        {"username": "Twin-1", "role": "claims", "password": STRONG},
        {"username": "TWIN-1", "role": "finance", "password": STRONG},
    ]
    responses = await asyncio.gather(*(_create(client, admin, **b) for b in bodies))
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    _is_problem(loser, 409)
    assert _fields(loser) == ["username"]


async def test_weak_passwords_are_refused_naming_password(app, client):
    _, admin = await _admin(app, client)
    for weak in ("too short", "password12345678", "abcdefghijklmnopq", "my name is W-USER ok ok"):
        response = await _create(client, admin, username="W-USER", role="lawyer", password=weak)
        _is_problem(response, 422)
        assert _fields(response) == ["password"], (weak, response.text)
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM app_user")) == 1


async def test_an_integration_gets_a_one_time_secret_and_logs_in_with_it(app, client):
    _, admin = await _admin(app, client)
    firm = await make_firm(app)
    created = await _create(
        client,
        admin,
        username="PMS-7",
        role="integration",
        firm_id=str(firm),
        scopes=["quotes:write", "quotes:read"],
    )
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    assert secret and len(secret) >= 32
    assert created.json()["scopes"] == ["quotes:read", "quotes:write"]
    user_id = created.json()["id"]
    # shown once: never again in a read or a list
    read = await client.get(f"/users/{user_id}", headers=admin)
    assert "client_secret" not in read.json() and secret not in read.text
    listed = await client.get("/users", params={"role": "integration"}, headers=admin)
    assert secret not in listed.text
    async with app.state.database.engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT password_hash FROM app_user WHERE id = :id"), {"id": user_id}
        )
    assert stored and secret not in stored

    token = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": "PMS-7", "client_secret": secret},
    )
    assert token.status_code == 200, token.text
    me = await client.get("/users/me", headers=bearer(token.json()["access_token"]))
    assert me.json()["role"] == "integration" and me.json()["firm_id"] == str(firm)
    wrong = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": "PMS-7", "client_secret": "x" * 40},
    )
    assert wrong.status_code == 401
    # an integration never gets a password of the admin's choosing
    with_password = await _create(
        client,
        admin,
        username="PMS-8",
        role="integration",
        firm_id=str(firm),
        password=STRONG,
    )
    _is_problem(with_password, 422)
    assert _fields(with_password) == ["password"]
    person_with_scopes = await _create(
        client, admin, username="L-SCOPES", role="lawyer", password=STRONG, scopes=["quotes:read"]
    )
    _is_problem(person_with_scopes, 422)
    assert _fields(person_with_scopes) == ["scopes"]


async def test_a_person_without_password_gets_a_set_up_code_by_email(app, client):
    _, admin = await _admin(app, client)
    no_email = await _create(client, admin, username="jdoe", role="claims")
    _is_problem(no_email, 422)
    assert _fields(no_email) == ["email"]

    created = await _create(
        client, admin, username="jdoe", role="claims", email="jdoe@insurer.example"
    )
    assert created.status_code == 201, created.text
    assert created.json()["client_secret"] is None
    async with app.state.database.engine.connect() as conn:
        mail = (
            await conn.execute(text("SELECT to_address, template, body FROM outbox_email"))
        ).one()
    assert mail.to_address == "jdoe@insurer.example" and mail.template == "account_setup"
    code = mail.body.strip().splitlines()[-1].strip()
    assert len(code) >= 32
    # no password yet: nothing logs in
    refused = await client.post("/auth/token", data={"username": "jdoe", "password": STRONG})
    assert refused.status_code == 401
    # the code sets the password, once
    setup = await client.post(
        "/auth/password-reset/confirm", json={"token": code, "new_password": STRONG}
    )
    assert setup.status_code == 204, setup.text
    await login(client, "jdoe", STRONG)
    reused = await client.post(
        "/auth/password-reset/confirm", json={"token": code, "new_password": STRONG + " again"}
    )
    assert reused.status_code == 422


# --- listing ------------------------------------------------------------------------------


async def test_list_filters_by_role_firm_and_disabled(app, client):
    admin, headers = await _admin(app, client)
    firm_a, firm_b = await make_firm(app), await make_firm(app)
    in_a = [await make_user(app, firm_id=firm_a) for _ in range(3)]
    in_b = [await make_user(app, firm_id=firm_b) for _ in range(2)]
    firm_admin = await make_user(app, role="firm_admin", firm_id=firm_a)
    finance = await make_user(app, role="finance")
    gone = await client.post(f"/users/{in_a[0]['id']}/disable", headers=headers)
    assert gone.status_code == 200

    async def ids(**params):
        response = await client.get("/users", params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["next_cursor"] is None
        return {u["id"] for u in response.json()["items"]}

    def as_ids(*users):
        return {str(u["id"]) for u in users}

    assert await ids() == as_ids(admin, *in_a, *in_b, firm_admin, finance)
    assert await ids(role="lawyer") == as_ids(*in_a, *in_b)
    assert await ids(role="finance") == as_ids(finance)
    assert await ids(firm_id=str(firm_a)) == as_ids(*in_a, firm_admin)
    assert await ids(firm_id=str(firm_a), role="lawyer") == as_ids(*in_a)
    assert await ids(disabled="true") == as_ids(in_a[0])
    assert await ids(disabled="false", firm_id=str(firm_a)) == as_ids(*in_a[1:], firm_admin)
    bad_role = await client.get("/users", params={"role": "wizard"}, headers=headers)
    _is_problem(bad_role, 422)
    assert _fields(bad_role) == ["role"]


async def test_list_pages_with_a_cursor_without_gaps_or_duplicates(app, client):
    admin, headers = await _admin(app, client)
    made = [await make_user(app) for _ in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/users", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 3
        seen += [u["id"] for u in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3  # 8 users, 3 a page
    assert len(seen) == len(set(seen)) == 8
    assert set(seen) == {str(u["id"]) for u in [admin, *made]}
    bad = await client.get("/users", params={"cursor": "not-a-cursor"}, headers=headers)
    _is_problem(bad, 422)
    assert _fields(bad) == ["cursor"]
    for limit in (0, 201):
        out_of_range = await client.get("/users", params={"limit": limit}, headers=headers)
        _is_problem(out_of_range, 422)
        assert _fields(out_of_range) == ["limit"]
    lists = await audit_events(app, action="user.list")
    assert [len(e["resource_ids"]) for e in lists] == [3, 3, 2]
    assert [i for e in lists for i in e["resource_ids"]] == seen


# --- reading and changing -----------------------------------------------------------------


async def test_read_has_an_etag_and_patch_needs_if_match(app, client):
    _, admin = await _admin(app, client)
    user = await make_user(app)
    url = f"/users/{user['id']}"
    read = await client.get(url, headers=admin)
    assert read.status_code == 200 and read.json()["username"] == user["username"]
    etag = read.headers["etag"]
    assert version_of(etag) == 1

    missing = await client.patch(url, json={"full_name": "A. Lawyer"}, headers=admin)
    _is_problem(missing, 428)
    stale = await client.patch(
        url, json={"full_name": "A. Lawyer"}, headers={**admin, "If-Match": '"7"'}
    )
    _is_problem(stale, 412)
    assert (await client.get(url, headers=admin)).json()["full_name"] is None

    changed = await client.patch(
        url,
        json={"full_name": "A. Lawyer", "email": "a@firm.example"},
        headers={**admin, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["full_name"] == "A. Lawyer"
    new_etag = changed.headers["etag"]
    assert new_etag != etag and version_of(new_etag) == changed.json()["version"]
    # the old ETag is now stale; the new one works, compared strongly (a weak form never matches)
    again = await client.patch(url, json={"full_name": "B"}, headers={**admin, "If-Match": etag})
    _is_problem(again, 412)
    weak = await client.patch(
        url, json={"full_name": "B. Lawyer"}, headers={**admin, "If-Match": f"W/{new_etag}"}
    )
    _is_problem(weak, 412)
    strong = await client.patch(
        url, json={"full_name": "B. Lawyer"}, headers={**admin, "If-Match": new_etag}
    )
    assert strong.status_code == 200 and strong.json()["full_name"] == "B. Lawyer"
    assert (await client.get(url, headers=admin)).json()["full_name"] == "B. Lawyer"

    [update, _] = await audit_events(app, action="user.update")
    assert update["details"]["before"] == {"full_name": None, "email": None}
    assert update["details"]["after"] == {"full_name": "A. Lawyer", "email": "a@firm.example"}

    nobody = await client.get(f"/users/{uuid.uuid4()}", headers=admin)
    _is_problem(nobody, 404)
    nobody_patch = await client.patch(
        f"/users/{uuid.uuid4()}", json={"full_name": "x"}, headers={**admin, "If-Match": '"1"'}
    )
    _is_problem(nobody_patch, 404)


async def test_patch_refuses_invalid_changes_by_field(app, client):
    _, admin = await _admin(app, client)
    user = await make_user(app)
    url = f"/users/{user['id']}"
    headers = {**admin, "If-Match": '"1"'}
    cases = [
        ({"role": "firm_admin"}, "firm_id"),  # a firm role without a firm
        ({"firm_id": str(uuid.uuid4())}, "firm_id"),
        ({"scopes": ["quotes:read"]}, "scopes"),
        ({"role": "wizard"}, "role"),
        ({"role": None}, "role"),
        ({"scopes": None}, "scopes"),
        ({"username": "renamed"}, "username"),
    ]
    for body, field in cases:
        response = await client.patch(url, json=body, headers=headers)
        _is_problem(response, 422)
        assert field in _fields(response), (body, response.text)
    after = await client.get(url, headers=admin)
    assert after.json()["role"] == "lawyer" and version_of(after.headers["etag"]) == 1


async def test_role_change_takes_effect_at_the_users_next_request(app, client):
    admin, headers = await _admin(app, client)
    user = await make_user(app)
    token = await login(client, user["username"])
    assert (await client.get("/audit-events", headers=bearer(token))).status_code == 403
    url = f"/users/{user['id']}"
    promoted = await client.patch(
        url, json={"role": "auditor"}, headers={**headers, "If-Match": '"1"'}
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "auditor" and promoted.json()["role_changed_at"]

    # Rights travel in the token, so a change of rights ends the user's sessions (the design
    # in app/users/service.py): the very next request with the old token acts with no role at
    # all (401), and the next login carries the new role. The old role never outlives the change.
    same_token = await client.get("/audit-events", headers=bearer(token))
    _is_problem(same_token, 401)
    assert same_token.json()["type"] == "/problems/session-revoked"
    fresh = bearer(await login(client, user["username"]))
    assert (await client.get("/audit-events", headers=fresh)).status_code == 200

    # and back: the auditor's right is gone at the very next request
    demoted = await client.patch(
        url, json={"role": "lawyer"}, headers={**headers, "If-Match": '"2"'}
    )
    assert demoted.status_code == 200, demoted.text
    _is_problem(await client.get("/audit-events", headers=fresh), 401)

    changes = await audit_events(app, action="user.role_change")
    assert [(e["details"]["before"], e["details"]["after"]) for e in changes] == [
        ({"role": "lawyer"}, {"role": "auditor"}),
        ({"role": "auditor"}, {"role": "lawyer"}),
    ]
    for event in changes:
        assert event["actor_id"] == admin["id"] and event["actor_role"] == "admin"
        assert event["resource_type"] == "user" and event["resource_id"] == str(user["id"])
        assert event["outcome"] == "success"
    ended = await audit_events(app, action="user.sessions_end")
    assert [e["details"]["ended"] for e in ended] == [1, 1]


async def test_an_admin_cannot_remove_their_own_admin_role_or_disable_themselves(app, client):
    admin, headers = await _admin(app, client)
    url = f"/users/{admin['id']}"
    demote = await client.patch(
        url, json={"role": "auditor"}, headers={**headers, "If-Match": '"1"'}
    )
    _is_problem(demote, 409)
    assert _fields(demote) == ["role"]
    disable = await client.post(f"{url}/disable", headers=headers)
    _is_problem(disable, 409)
    me = await client.get("/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["role"] == "admin" and me.json()["disabled"] is False
    # an admin may still change their own details
    renamed = await client.patch(
        url, json={"full_name": "Root"}, headers={**headers, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200 and renamed.json()["role"] == "admin"


async def test_disable_ends_sessions_and_enable_lets_the_user_back(app, client):
    _, headers = await _admin(app, client)
    user = await make_user(app)
    token = await login(client, user["username"])
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    url = f"/users/{user['id']}"

    disabled = await client.post(f"{url}/disable", headers=headers)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    refused = await client.get("/users/me", headers=bearer(token))
    _is_problem(refused, 401)
    assert refused.json()["type"] == "/problems/session-revoked"
    login_refused = await client.post(
        "/auth/token", data={"username": user["username"], "password": PASSWORD}
    )
    _is_problem(login_refused, 401)
    [event] = await audit_events(app, action="user.disable")
    assert event["details"] == {"sessions_ended": 1} and event["resource_id"] == str(user["id"])

    enabled = await client.post(f"{url}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 401  # still ended
    fresh = await login(client, user["username"])
    assert (await client.get("/users/me", headers=bearer(fresh))).status_code == 200
    assert len(await audit_events(app, action="user.enable")) == 1
    _is_problem(await client.post(f"/users/{uuid.uuid4()}/disable", headers=headers), 404)
    _is_problem(await client.post(f"/users/{uuid.uuid4()}/enable", headers=headers), 404)


async def test_unlock_lets_a_locked_out_user_log_in_again(app_factory):
    app = app_factory(lockout_threshold=3)
    async with client_for(app) as client:
        _, headers = await _admin(app, client)
        user = await make_user(app)
        for _ in range(3):
            wrong = await client.post(
                "/auth/token", data={"username": user["username"], "password": "not it at all!!"}
            )
            assert wrong.status_code == 401
        read = await client.get(f"/users/{user['id']}", headers=headers)
        assert read.json()["locked"] is True
        locked = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        assert locked.status_code == 401
        unlocked = await client.post(f"/users/{user['id']}/unlock", headers=headers)
        assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
        await login(client, user["username"])
        _is_problem(await client.post(f"/users/{uuid.uuid4()}/unlock", headers=headers), 404)
    [event] = await audit_events(app, action="user.unlock", outcome="success")
    assert event["details"]["before"]["failed_login_count"] == 3
    assert event["details"]["before"]["locked_until"] is not None


# --- the access review and one's own account ----------------------------------------------


async def test_access_review_lists_every_role_with_its_users(app, client):
    admin, headers = await _admin(app, client)
    firm = await make_firm(app)
    uw = await make_user(app, role="underwriter", username="UW1")
    fa = await make_user(app, role="firm_admin", firm_id=firm, username="FA1")
    lawyers = [await make_user(app, username=f"L{i}") for i in range(2)]
    await client.post(f"/users/{lawyers[1]['id']}/disable", headers=headers)

    review = await client.get("/users/access-review", headers=headers)
    assert review.status_code == 200, review.text
    body = review.json()
    assert body["generated_at"]
    roles = {r["role"]: r["users"] for r in body["roles"]}
    assert set(roles) == set(ALL_ROLES)
    names = {role: [u["username"] for u in users] for role, users in roles.items()}
    assert names["underwriter"] == ["UW1"] and names["firm_admin"] == ["FA1"]
    assert sorted(names["lawyer"]) == ["L0", "L1"]
    assert names["admin"] == [admin["username"]]
    assert names["claims"] == [] and names["integration"] == []
    by_name = {u["username"]: u for users in roles.values() for u in users}
    assert by_name["L1"]["disabled"] is True and by_name["L0"]["disabled"] is False
    assert by_name["FA1"]["firm_id"] == str(firm) and by_name["UW1"]["id"] == str(uw["id"])
    assert by_name["FA1"]["id"] == str(fa["id"])

    _, auditor = await _token_for(app, client, "auditor")
    assert (await client.get("/users/access-review", headers=bearer(auditor))).status_code == 200
    for role in NON_ADMIN_ROLES:
        if role == "auditor":
            continue
        _, token = await _token_for(app, client, role)
        _is_problem(await client.get("/users/access-review", headers=bearer(token)), 403)
    reviews = await audit_events(app, action="user.access_review", outcome="success")
    assert len(reviews) == 2
    assert str(uw["id"]) in reviews[0]["resource_ids"]


async def test_every_role_reads_its_own_account(app, client):
    firm = await make_firm(app)
    for role in ALL_ROLES:
        user, token = await _token_for(app, client, role, firm_id=firm)
        me = await client.get("/users/me", headers=bearer(token))
        assert me.status_code == 200, (role, me.text)
        assert me.json()["id"] == str(user["id"]) and me.json()["role"] == role
        assert version_of(me.headers["etag"]) == 1
        assert "password_hash" not in me.json()
        [event] = await audit_events(app, action="user.read", actor_id=user["id"])
        assert event["resource_id"] == str(user["id"]) and event["actor_role"] == role


async def test_an_account_read_back_is_byte_for_byte_what_its_last_change_answered(app, client):
    """Reads answer the stored row (app/core/responses.py), changes the validated model: the
    admin's read, the list and the lawyer's own /users/me answer exactly the change's bytes,
    scopes and a lock included."""
    _, admin = await _admin(app, client)
    user = await make_user(app)
    url = f"/users/{user['id']}"
    read = await client.get(url, headers=admin)
    changed = await client.patch(
        url,
        json={"full_name": "Zoë O'Brien-Łukasz", "email": "zoe@firm.example"},
        headers={**admin, "If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    again = (await client.get(url, headers=admin)).content
    assert again == changed.content, (again, changed.content)
    listed = (await client.get("/users?limit=200", headers=admin)).content
    assert changed.content in listed
    own = await login(client, user["username"], user["password"])  # moves last_login_at
    me = (await client.get("/users/me", headers=bearer(own))).content
    assert me == (await client.get(url, headers=admin)).content != changed.content
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE app_user SET locked_until = now() + interval '1 hour' WHERE id = :id"),
            {"id": user["id"]},
        )
    locked = await client.get(url, headers=admin)
    assert locked.json()["locked"] is True
    unlocked = await client.post(f"{url}/unlock", headers=admin)
    assert unlocked.status_code == 200, unlocked.text
    assert (await client.get(url, headers=admin)).content == unlocked.content
    # answered as data (app/core/responses.py): byte for byte what its model writes of it
    for answer in (locked, unlocked, changed):
        model = UserRead.model_validate(answer.json())
        assert answer.content == model.model_dump_json().encode()
