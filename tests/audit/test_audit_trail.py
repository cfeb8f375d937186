"""What the audit trail records, through HTTP: reads, lists, changes, logins, logout, lockout,
unlock, role changes and refusals, each with who, what, when and from where; no secrets; no data
without its event; and GET /audit-events itself."""

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.core.audit_trail import AuditTrail
from app.core.pagination import encode_cursor
from tests.conftest import client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_firm, make_user, user_token

STRONG = "a long and uncommon passphrase"
UA = "PortalSPA/2.1 (audit test)"
EVENT_FIELDS = {
    "client_request_id",
    "subject_ids",
    "resource_ids",
    "seq",
    "id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "request_id",
    "client_ip",
    "user_agent",
    "details",
}
WORKED_EXAMPLE = {"program_year": 2025, "effective_date": "2025-01-01", "payment_plan": "quarterly"}


def _rid(n: int) -> dict[str, str]:
    return {"X-Request-ID": f"audit-test-{n:04d}-{uuid.uuid4().hex[:8]}", "User-Agent": UA}


def _assert_context(event, response, *, before, after):
    """The request's own facts on its event."""
    assert event["request_id"] == response.headers["x-request-id"]
    assert event["client_ip"] == "127.0.0.1"
    assert event["user_agent"] == UA
    assert before - timedelta(seconds=1) <= event["occurred_at"] <= after + timedelta(seconds=1)
    assert event["occurred_at"].tzinfo is not None


async def _one(app, **where):
    events = await audit_events(app, **where)
    assert len(events) == 1, events
    return events[0]


async def test_a_read_is_an_event_with_actor_resource_time_request_and_client(app, client):
    admin, token = await user_token(app, client, role="admin")
    lawyer = await make_user(app)
    before = datetime.now(UTC)
    response = await client.get(f"/users/{lawyer['id']}", headers={**bearer(token), **_rid(1)})
    after = datetime.now(UTC)
    assert response.status_code == 200
    event = await _one(app, action="user.read")
    assert event["actor_id"] == admin["id"]
    assert event["actor_role"] == "admin" and event["actor_label"] == admin["username"]
    assert event["resource_type"] == "user" and event["resource_id"] == str(lawyer["id"])
    assert event["outcome"] == "success"
    assert event["request_id"] == response.headers["x-request-id"]  # ours, one per request
    assert event["client_request_id"].startswith("audit-test-0001-")  # the client's, beside it
    _assert_context(event, response, before=before, after=after)


async def test_a_list_records_the_ids_it_returned(app, client):
    _, token = await user_token(app, client, role="admin")
    firm = await make_firm(app)
    for _ in range(3):
        await make_user(app, firm_id=firm)
    await make_user(app, role="finance")
    response = await client.get(
        "/users", params={"role": "lawyer", "limit": 2}, headers={**bearer(token), **_rid(2)}
    )
    returned = [u["id"] for u in response.json()["items"]]
    assert len(returned) == 2
    event = await _one(app, action="user.list")
    assert event["resource_ids"] == returned
    assert event["details"]["filters"]["role"] == "lawyer"
    assert event["resource_type"] == "user" and event["resource_id"] is None
    assert event["request_id"] == response.headers["x-request-id"]


async def test_changes_carry_before_and_after_values(app, client):
    admin, token = await user_token(app, client, role="admin")
    headers = {**bearer(token), "User-Agent": UA}
    before_time = datetime.now(UTC)
    created = await client.post(
        "/users",
        json={
            "username": "CHG1",
            "role": "lawyer",
            "email": "chg1@firm.example",
            "password": STRONG,
        },
        headers=headers,
    )
    user_id = created.json()["id"]
    changed = await client.patch(
        f"/users/{user_id}",
        json={"email": "new@firm.example", "full_name": "C. Hange", "role": "underwriter"},
        headers={**headers, "If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    after_time = datetime.now(UTC)

    create = await _one(app, action="user.create")
    assert create["resource_id"] == user_id and create["actor_id"] == admin["id"]
    assert create["details"]["before"]["username"] is None
    assert create["details"]["after"]["username"] == "CHG1"
    assert create["details"]["after"]["email"] == "chg1@firm.example"
    _assert_context(create, created, before=before_time, after=after_time)

    update = await _one(app, action="user.update")
    assert update["details"]["before"] == {
        "email": "chg1@firm.example",
        "full_name": None,
        "role": "lawyer",
    }
    assert update["details"]["after"] == {
        "email": "new@firm.example",
        "full_name": "C. Hange",
        "role": "underwriter",
    }
    _assert_context(update, changed, before=before_time, after=after_time)
    role_change = await _one(app, action="user.role_change")
    assert role_change["details"] == {
        "before": {"role": "lawyer"},
        "after": {"role": "underwriter"},
    }
    assert role_change["request_id"] == update["request_id"]
    assert role_change["actor_id"] == admin["id"] and role_change["actor_role"] == "admin"


async def test_logins_logout_lockout_and_unlock_are_events(app_factory):
    app = app_factory(lockout_threshold=2)
    user = await make_user(app)
    admin = await make_user(app, role="admin")
    async with client_for(app, headers={"User-Agent": UA}) as client:
        ok = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        token = ok.json()["access_token"]
        logout = await client.post("/auth/logout", headers=bearer(token))
        assert logout.status_code == 204
        unknown = await client.post(
            "/auth/token", data={"username": "NOBODY99", "password": "whatever it is, here"}
        )
        wrong = [
            await client.post(
                "/auth/token", data={"username": user["username"], "password": f"wrong guess {i}"}
            )
            for i in range(2)
        ]
        assert [r.status_code for r in (unknown, *wrong)] == [401, 401, 401]
        admin_token = await login(client, admin["username"])
        unlocked = await client.post(f"/users/{user['id']}/unlock", headers=bearer(admin_token))
        assert unlocked.status_code == 200

    logins = await audit_events(app, action="auth.login")
    by_request = {e["request_id"]: e for e in logins}
    success = by_request[ok.headers["x-request-id"]]
    assert success["outcome"] == "success" and success["actor_id"] == user["id"]
    assert success["actor_role"] == "lawyer" and success["resource_type"] == "session"
    assert success["user_agent"] == UA and success["client_ip"] == "127.0.0.1"
    session_id = success["resource_id"]
    failed_unknown = by_request[unknown.headers["x-request-id"]]
    assert failed_unknown["outcome"] == "failure" and failed_unknown["actor_id"] is None
    assert failed_unknown["details"]["reason"] == "unknown_user"
    for attempt in wrong:
        failed = by_request[attempt.headers["x-request-id"]]
        assert failed["outcome"] == "failure" and failed["actor_id"] == user["id"]
        assert failed["resource_type"] == "user" and failed["resource_id"] == str(user["id"])
    assert [by_request[a.headers["x-request-id"]]["details"]["reason"] for a in wrong] == [
        "bad_credentials",
        "locked_now",
    ]
    assert [by_request[a.headers["x-request-id"]]["details"]["failed_count"] for a in wrong] == [
        1,
        2,
    ]

    out = await _one(app, action="auth.logout")
    assert out["resource_type"] == "session" and out["resource_id"] == session_id
    assert out["actor_id"] == user["id"] and out["request_id"] == logout.headers["x-request-id"]
    lockout = await _one(app, action="auth.lockout")
    assert lockout["resource_id"] == str(user["id"]) and lockout["details"]["failed_count"] == 2
    assert lockout["request_id"] == wrong[1].headers["x-request-id"]
    unlock = await _one(app, action="user.unlock")
    assert unlock["actor_id"] == admin["id"] and unlock["resource_id"] == str(user["id"])
    assert unlock["details"]["before"]["failed_login_count"] == 2
    assert unlock["request_id"] == unlocked.headers["x-request-id"]


async def test_refusals_401_403_404_are_denied_events(app, client):
    lawyer, token = await user_token(app, client)
    other_firm = await make_firm(app)
    async with client_for(app) as anonymous:
        no_token = await anonymous.get("/users/me", headers=_rid(3))
        bad_token = await anonymous.get(  # another route: each is its first refusal
            "/quotes", headers={"Authorization": "Bearer not.a.jwt", **_rid(4)}
        )
    forbidden = await client.get("/audit-events", headers={**bearer(token), **_rid(5)})
    not_yours = await client.get(f"/firms/{other_firm}", headers={**bearer(token), **_rid(6)})
    nothing = await client.get(f"/firms/{uuid.uuid4()}", headers={**bearer(token), **_rid(7)})
    statuses = [r.status_code for r in (no_token, bad_token, forbidden, not_yours, nothing)]
    assert statuses == [401, 401, 403, 404, 404]

    denied = {e["request_id"]: e for e in await audit_events(app, outcome="denied")}
    assert len(denied) == 5
    for response, action, actor in (
        (no_token, "user.read", None),
        (bad_token, "quote.list", None),
        (forbidden, "audit_event.list", lawyer["id"]),
        (not_yours, "firm.read", lawyer["id"]),
    ):
        event = denied[response.headers["x-request-id"]]
        assert event["action"] == action
        assert event["actor_id"] == actor
        assert event["details"]["status"] == response.status_code
        assert event["details"]["problem"] == response.json()["type"].removeprefix("/problems/")
        assert event["client_ip"] == "127.0.0.1" and event["user_agent"] == UA
        assert event["occurred_at"].tzinfo is not None
    assert denied[forbidden.headers["x-request-id"]]["actor_role"] == "lawyer"
    hidden = denied[not_yours.headers["x-request-id"]]
    assert hidden["resource_type"] == "firm" and hidden["resource_id"] == str(other_firm)
    # the refused read left no read event behind
    assert await audit_events(app, action="firm.read", outcome="success") == []


async def test_no_secret_ever_reaches_the_trail(app_factory):
    app = app_factory(lockout_threshold=2)
    firm = await make_firm(app)
    secrets_seen: list[str] = []
    async with client_for(app) as client:
        _, admin_token = await user_token(app, client, role="admin")
        admin = bearer(admin_token)
        integration = await client.post(
            "/users",
            json={"username": "PMS1", "role": "integration", "firm_id": str(firm)},
            headers=admin,
        )
        client_secret = integration.json()["client_secret"]
        pms = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "PMS1",
                "client_secret": client_secret,
            },
        )
        secrets_seen += [client_secret, pms.json()["access_token"]]
        person = await client.post(
            "/users",
            json={
                "username": "L1234B",
                "role": "lawyer",
                "email": "l1234b@firm.example",
                "password": "the lawyer's own passphrase",
            },
            headers=admin,
        )
        assert person.status_code == 201
        secrets_seen.append("the lawyer's own passphrase")
        lawyer_token = await login(client, "L1234B", "the lawyer's own passphrase")
        secrets_seen.append(lawyer_token)
        changed = await client.post(
            "/auth/password",
            json={
                "current_password": "the lawyer's own passphrase",
                "new_password": "a second quite private phrase",
            },
            headers=bearer(lawyer_token),
        )
        assert changed.status_code == 200, changed.text
        secrets_seen.append("a second quite private phrase")
        for guess in ("typo in my secret phrase", "another wrong secret phrase"):
            await client.post("/auth/token", data={"username": "L1234B", "password": guess})
            secrets_seen.append(guess)
        await client.post(
            "/users",
            json={"username": "setup1", "role": "claims", "email": "s@insurer.example"},
            headers=admin,
        )
        await client.post("/auth/password-reset", json={"username": "L1234B"})
        await client.get("/users/me", headers={"Cookie": f"__Host-lpl_session={lawyer_token}"})

    async with app.state.database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT row_to_json(e)::text FROM audit_event e"))).all()
        hashes = (await conn.execute(text("SELECT password_hash FROM app_user"))).scalars().all()
        mail = (await conn.execute(text("SELECT body FROM outbox_email"))).scalars().all()
        digests = (
            (await conn.execute(text("SELECT token_digest FROM password_reset_token")))
            .scalars()
            .all()
        )
    codes = [body.strip().splitlines()[-1].strip() for body in mail]
    assert len(codes) == 2  # the set-up code and the reset code
    secrets_seen += [h for h in hashes if h] + codes + list(digests)
    everything = "\n".join(r[0] for r in rows)
    assert len(rows) > 10
    for secret in secrets_seen:
        assert secret not in everything, secret[:12]
    # and nothing that looks like an argon2 hash or a JWT
    assert "$argon2" not in everything and "eyJ" not in everything
    for row in rows:
        details = json.loads(row[0])["details"]
        for key in _all_keys(details):
            if any(m in key.lower() for m in ("password", "secret", "hash")):
                assert _value_at(details, key) == "[redacted]", key


def _all_keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _all_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _all_keys(v)


def _value_at(value, key):
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for v in value.values():
            found = _value_at(v, key)
            if found is not None:
                return found
    return None


async def _boom(*args, **kwargs):
    raise RuntimeError(
        'INSERT INTO audit_event failed: relation "audit_event" could not extend file'
    )


@contextlib.asynccontextmanager
async def _audit_inserts_fail(app):
    engine = app.state.database.engine
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION lpl_test_no_events() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'relation audit_event could not extend file'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER lpl_test_no_events BEFORE INSERT ON audit_event "
                "FOR EACH ROW EXECUTE FUNCTION lpl_test_no_events()"
            )
        )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER lpl_test_no_events ON audit_event"))
            await conn.execute(text("DROP FUNCTION lpl_test_no_events()"))


def _assert_bare_500(response, leaked=()):
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/internal-error" and body["status"] == 500
    assert body["request_id"] == response.headers["x-request-id"]
    for word in ("Traceback", "INSERT", "audit_event", "RuntimeError", *leaked):
        assert word not in response.text


async def test_a_read_whose_event_cannot_be_written_returns_no_data(app, client, monkeypatch):
    admin, token = await user_token(app, client, role="admin")
    lawyer = await make_user(app, email="private@firm.example")
    async with app.state.database.engine.connect() as conn:
        seen_before = await conn.scalar(
            text("SELECT last_seen_at FROM auth_session WHERE user_id = :u"), {"u": admin["id"]}
        )
    async with _audit_inserts_fail(app):  # the database itself refuses to write an event
        response = await client.get(f"/users/{lawyer['id']}", headers=bearer(token))
        _assert_bare_500(response, leaked=(lawyer["username"], "private@firm.example"))
        listed = await client.get("/users", headers=bearer(token))
        _assert_bare_500(listed, leaked=(lawyer["username"],))

    assert await audit_events(app, action="user.read") == []
    assert await audit_events(app, action="user.list") == []
    async with app.state.database.engine.connect() as conn:
        seen_after = await conn.scalar(
            text("SELECT last_seen_at FROM auth_session WHERE user_id = :u"), {"u": admin["id"]}
        )
    assert seen_after == seen_before  # not even the session's slide was committed
    # and with the trail working again, the same read succeeds and is recorded
    assert (await client.get(f"/users/{lawyer['id']}", headers=bearer(token))).status_code == 200
    assert len(await audit_events(app, action="user.read")) == 1


async def test_a_change_or_login_whose_event_cannot_be_written_is_not_committed(
    app, client, monkeypatch
):
    _, token = await user_token(app, client, role="admin")
    lawyer = await make_user(app)
    monkeypatch.setattr(AuditTrail, "flush", _boom)
    patch = await client.patch(
        f"/users/{lawyer['id']}",
        json={"full_name": "Never Saved", "role": "auditor"},
        headers={**bearer(token), "If-Match": '"1"'},
    )
    _assert_bare_500(patch)
    created = await client.post(
        "/users",
        json={"username": "GHOST1", "role": "claims", "email": "ghost@insurer.example"},
        headers=bearer(token),
    )
    _assert_bare_500(created)
    logged_in = await client.post(
        "/auth/token", data={"username": lawyer["username"], "password": PASSWORD}
    )
    _assert_bare_500(logged_in)
    assert "access_token" not in logged_in.text and "set-cookie" not in logged_in.headers
    failed = await client.post(
        "/auth/token", data={"username": lawyer["username"], "password": "wrong and wrong again"}
    )
    assert failed.status_code == 500
    monkeypatch.undo()

    async with app.state.database.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT full_name, role, version, failed_login_count, last_login_at "
                    "FROM app_user WHERE id = :id"
                ),
                {"id": lawyer["id"]},
            )
        ).one()
        ghosts = await conn.scalar(text("SELECT count(*) FROM app_user WHERE username='GHOST1'"))
        mails = await conn.scalar(text("SELECT count(*) FROM outbox_email"))
        sessions = await conn.scalar(
            text("SELECT count(*) FROM auth_session WHERE user_id = :id"), {"id": lawyer["id"]}
        )
    assert tuple(row) == (None, "lawyer", 1, 0, None)
    assert (ghosts, mails, sessions) == (0, 0, 0)


async def test_a_database_refusing_the_audit_insert_stops_the_audited_read(app, client):
    """The one-statement read path (GET /quotes/{id}): the event's INSERT fails in the database."""
    _, token = await user_token(app, client)
    quote = await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(token))
    assert quote.status_code == 201, quote.text
    url = f"/quotes/{quote.json()['id']}"
    engine = app.state.database.engine
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'no space left for audit_event'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_event "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
            )
        )
    try:
        refused = await client.get(url, headers=bearer(token))
        listed = await client.get("/users/me", headers=bearer(token))
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER test_refuse_audit ON audit_event"))
            await conn.execute(text("DROP FUNCTION test_refuse_audit()"))
    _assert_bare_500(refused, leaked=("premium", "1755.00", "no space left"))
    _assert_bare_500(listed, leaked=("no space left",))
    assert await audit_events(app, action="quote.read") == []
    assert (await client.get(url, headers=bearer(token))).status_code == 200
    assert len(await audit_events(app, action="quote.read")) == 1


async def test_audit_events_is_for_auditors_and_admins_only(app, client):
    for role in ("auditor", "admin"):
        _, token = await user_token(app, client, role=role)
        assert (await client.get("/audit-events", headers=bearer(token))).status_code == 200
    firm = await make_firm(app)
    for role in (
        "lawyer",
        "firm_admin",
        "customer_service",
        "underwriter",
        "claims",
        "finance",
    ):
        _, token = await user_token(app, client, role=role, firm_id=firm)
        refused = await client.get("/audit-events", headers=bearer(token))
        assert refused.status_code == 403, role
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "items" not in refused.json()
    async with client_for(app) as anonymous:
        assert (await anonymous.get("/audit-events")).status_code == 401


async def test_audit_events_filters_and_pages_newest_first_and_is_itself_audited(app, client):
    lawyer, lawyer_token = await user_token(app, client)
    other, other_token = await user_token(app, client)
    for _ in range(3):
        await client.get("/users/me", headers=bearer(lawyer_token))
    await asyncio.sleep(0.01)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await client.get("/users/me", headers=bearer(other_token))
    await client.get("/audit-events", headers=bearer(other_token))  # 403: a denied event
    auditor, auditor_token = await user_token(app, client, role="auditor")
    auditor_headers = bearer(auditor_token)

    async def query(**params):
        response = await client.get("/audit-events", params=params, headers=auditor_headers)
        assert response.status_code == 200, response.text
        return response.json()

    def ids_of(page):
        return [e["id"] for e in page["items"]]

    # pages, newest first, no gaps and no duplicates
    walked, cursor, pages = [], None, []
    while True:
        page = await query(limit=3, **({"cursor": cursor} if cursor else {}))
        pages.append(page)
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    seqs = [e["seq"] for e in walked]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    async with app.state.database.engine.connect() as conn:
        # everything written before the first page was read: the later list events are newer
        total = await conn.scalar(
            text("SELECT count(*) FROM audit_event WHERE action <> 'audit_event.list'")
        )
    assert len([e for e in walked if e["action"] != "audit_event.list"]) == total
    assert set(walked[0]) == EVENT_FIELDS

    by_actor = await query(actor_id=str(lawyer["id"]))
    assert {e["actor_id"] for e in by_actor["items"]} == {str(lawyer["id"])}
    assert len(by_actor["items"]) == 4  # the login and three reads
    reads = await query(action="user.read")
    assert len(reads["items"]) == 4 and {e["action"] for e in reads["items"]} == {"user.read"}
    about_other = await query(resource_type="user", resource_id=str(other["id"]))
    assert [e["action"] for e in about_other["items"]] == ["user.read"]
    sessions = await query(resource_type="session")
    assert {e["action"] for e in sessions["items"]} == {"auth.login"}
    denied = await query(outcome="denied")
    assert [e["action"] for e in denied["items"]] == ["audit_event.list"]
    assert denied["items"][0]["actor_id"] == str(other["id"])
    since = await query(since=middle.isoformat(), action="user.read")
    assert [e["actor_id"] for e in since["items"]] == [str(other["id"])]
    until = await query(until=middle.isoformat(), action="user.read")
    assert {e["actor_id"] for e in until["items"]} == {str(lawyer["id"])}
    assert len(until["items"]) == 3
    window = await query(since=middle.isoformat(), until=middle.isoformat())
    assert window["items"] == []

    for bad in ({"outcome": "maybe"}, {"since": "yesterday"}, {"actor_id": "me"}):
        response = await client.get("/audit-events", params=bad, headers=auditor_headers)
        assert response.status_code == 422, bad
        assert [e["field"] for e in response.json()["errors"]] == list(bad)

    # reading the trail is itself recorded, with the ids it returned
    lists = await audit_events(app, action="audit_event.list", actor_id=auditor["id"])
    assert len(lists) == len(pages) + 8
    for event, page in zip(lists, pages, strict=False):
        assert event["resource_ids"] == ids_of(page)
        assert event["resource_type"] == "audit_event" and event["actor_role"] == "auditor"
    assert lists[len(pages)]["details"]["filters"] == {"actor_id": str(lawyer["id"])}


async def test_a_forged_cursor_is_invalid_input_not_a_crash(app, client):
    _, token = await user_token(app, client, role="auditor")
    forged = [["x"], [{"a": 1}], [None], [10**30], [-5]]
    for cursor in ["not-a-cursor", encode_cursor({"a": 1}), *map(encode_cursor, forged)]:
        response = await client.get(
            "/audit-events", params={"cursor": cursor}, headers=bearer(token)
        )
        assert response.status_code == 422, (cursor, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


async def test_a_refusal_names_the_resource_it_was_for(app, client):
    """An auditor asking "who tried to reach user X?" finds the refused attempts too."""
    lawyer, token = await user_token(app, client)
    target = await make_user(app, role="finance")
    url = f"/users/{target['id']}"
    forbidden = await client.get(url, headers=bearer(token))
    async with client_for(app) as anonymous:
        anonymous_try = await anonymous.post(f"{url}/disable")
    assert (forbidden.status_code, anonymous_try.status_code) == (403, 401)
    _, auditor = await user_token(app, client, role="auditor")
    found = await client.get(
        "/audit-events",
        params={"resource_type": "user", "resource_id": str(target["id"])},
        headers=bearer(auditor),
    )
    events = {e["request_id"]: e for e in found.json()["items"]}
    assert set(events) == {
        forbidden.headers["x-request-id"],
        anonymous_try.headers["x-request-id"],
    }
    assert events[forbidden.headers["x-request-id"]]["action"] == "user.read"
    assert events[forbidden.headers["x-request-id"]]["actor_id"] == str(lawyer["id"])
    assert events[anonymous_try.headers["x-request-id"]]["action"] == ("user.disable")
    assert {e["outcome"] for e in events.values()} == {"denied"}
