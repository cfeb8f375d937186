"""Lockout, uniform failures, concurrent attempts, rate limits, password policy and reset."""

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text

from app.auth.passwords import is_common, password_problems
from app.auth.rules import AttemptOutcome, LockoutState, apply_attempt
from tests.clock import travel
from tests.conftest import client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_user, user_token


async def _attempt(client, username, password):
    return await client.post("/auth/token", data={"username": username, "password": password})


async def _user_row(app, user_id):
    async with app.state.database.engine.connect() as conn:
        row = await conn.execute(
            text("SELECT failed_login_count, locked_until FROM app_user WHERE id = :id"),
            {"id": user_id},
        )
        return row.one()


async def test_lockout_at_threshold_then_unlock_by_admin(app_factory):
    app = app_factory(lockout_threshold=3, lockout_duration_seconds=600)
    async with client_for(app) as client:
        user = await make_user(app)
        for _ in range(2):
            assert (await _attempt(client, user["username"], "wrong")).status_code == 401
        assert (await _user_row(app, user["id"])).locked_until is None
        assert (await _attempt(client, user["username"], "wrong")).status_code == 401
        assert (await _user_row(app, user["id"])).locked_until is not None
        # locked: even the right password is refused, with the same answer
        locked = await _attempt(client, user["username"], PASSWORD)
        assert (
            locked.status_code == 401 and locked.json()["type"] == "/problems/invalid-credentials"
        )
        assert len(await audit_events(app, action="auth.lockout")) == 1

        _, admin = await user_token(app, client, role="admin")
        unlocked = await client.post(f"/users/{user['id']}/unlock", headers=bearer(admin))
        assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
        await login(client, user["username"])
        assert len(await audit_events(app, action="user.unlock")) == 1


async def test_lock_expires_and_the_count_starts_afresh(app_factory):
    app = app_factory(lockout_threshold=2, lockout_duration_seconds=1)
    async with client_for(app) as client:
        user = await make_user(app)
        for _ in range(2):
            await _attempt(client, user["username"], "wrong")
        assert (await _attempt(client, user["username"], PASSWORD)).status_code == 401
        await travel(app, 1.2)
        assert (await _attempt(client, user["username"], "wrong")).status_code == 401
        row = await _user_row(app, user["id"])
        assert row.failed_login_count == 1 and row.locked_until is None
        await login(client, user["username"])


async def test_a_success_resets_the_count(app_factory):
    app = app_factory(lockout_threshold=3)
    async with client_for(app) as client:
        user = await make_user(app)
        for _ in range(2):
            await _attempt(client, user["username"], "wrong")
        await login(client, user["username"])
        for _ in range(2):
            await _attempt(client, user["username"], "wrong")
        await login(client, user["username"])
        assert (await _user_row(app, user["id"])).failed_login_count == 0


async def test_failures_all_look_the_same(app_factory):
    app = app_factory(lockout_threshold=2)
    async with client_for(app) as client:
        user = await make_user(app)
        locked = await make_user(app)
        disabled = await make_user(app)
        for _ in range(2):
            await _attempt(client, locked["username"], "wrong")
        async with app.state.database.engine.begin() as conn:
            await conn.execute(
                text("UPDATE app_user SET disabled_at = now() WHERE id = :id"),
                {"id": disabled["id"]},
            )
        answers = [
            await _attempt(client, "NOBODY1", PASSWORD),
            await _attempt(client, user["username"], "wrong password entirely"),
            await _attempt(client, locked["username"], PASSWORD),
            await _attempt(client, disabled["username"], PASSWORD),
        ]
        shapes = set()
        for answer in answers:
            body = answer.json()
            body.pop("request_id")
            shapes.add(
                (answer.status_code, answer.headers["www-authenticate"], repr(sorted(body.items())))
            )
        assert len(shapes) == 1, shapes
        reasons = [e["details"]["reason"] for e in await audit_events(app, action="auth.login")]
        assert {"unknown_user", "bad_credentials", "locked", "disabled"} <= set(reasons)


async def test_unknown_user_costs_as_much_as_a_wrong_password(app, client):
    user = await make_user(app)
    samples: dict[str, list[float]] = {"NOSUCHUSER": [], user["username"]: []}
    # Interleaved, and the fastest of each compared: other work on the machine only ever adds
    # time, so the minimum is each attempt's own cost (skipping the hash would be ~50x cheaper).
    for _ in range(7):
        for username, taken in samples.items():
            started = time.perf_counter()
            await _attempt(client, username, "definitely not it")
            taken.append(time.perf_counter() - started)
    unknown, known = (min(taken) for taken in samples.values())
    assert 0.5 < unknown / known < 2, (unknown, known)


async def test_concurrent_failures_are_counted_exactly(app_factory):
    app = app_factory(lockout_threshold=100)
    async with client_for(app) as client:
        user = await make_user(app)
        answers = await asyncio.gather(
            *(_attempt(client, user["username"], "x") for _ in range(12))
        )
        assert {a.status_code for a in answers} == {401}
        assert (await _user_row(app, user["id"])).failed_login_count == 12


async def test_concurrent_failures_lock_exactly_once(app_factory):
    app = app_factory(lockout_threshold=5)
    async with client_for(app) as client:
        user = await make_user(app)
        await asyncio.gather(*(_attempt(client, user["username"], "x") for _ in range(12)))
        row = await _user_row(app, user["id"])
        assert row.locked_until is not None and row.failed_login_count == 5
        assert len(await audit_events(app, action="auth.lockout")) == 1
        failures = await audit_events(app, action="auth.login", outcome="failure")
        assert len(failures) == 12
        assert sum(e["details"]["reason"] == "locked" for e in failures) == 7


async def test_every_attempt_is_an_audit_event_with_its_request(app, client):
    user = await make_user(app)
    bad = await _attempt(client, user["username"], "wrong")
    good = await _attempt(client, user["username"], PASSWORD)
    unknown = await _attempt(client, "GHOST42", "whatever it is")
    events = await audit_events(app, action="auth.login")
    assert [e["outcome"] for e in events] == ["failure", "success", "failure"]
    for event, answer in zip(events, (bad, good, unknown), strict=True):
        assert event["request_id"] == answer.headers["x-request-id"]
        assert event["client_ip"] == "127.0.0.1"
        assert event["user_agent"].startswith("python-httpx")
    assert events[0]["actor_id"] == user["id"]
    assert events[2]["actor_id"] is None and events[2]["actor_label"] == "GHOST42"
    recorded = repr([e["details"] for e in events])
    assert "wrong" not in recorded and PASSWORD not in recorded and "whatever" not in recorded


async def test_token_endpoint_is_rate_limited_per_client(app_factory):
    app = app_factory(auth_rate_limit=3)
    async with client_for(app) as client:
        for _ in range(3):
            assert (await _attempt(client, "SOMEONE", "wrong")).status_code == 401
        limited = await _attempt(client, "SOMEONE", "wrong")
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(limited.headers["retry-after"]) <= 60
        reasons = [e["details"].get("reason") for e in await audit_events(app, action="auth.login")]
        assert reasons.count("rate_limited") == 1


async def test_rate_limit_is_shared_through_redis(app_factory):
    url = "redis://127.0.0.1:6379/15"
    probe = aioredis.Redis.from_url(url)
    try:
        await probe.flushdb()
    except (OSError, aioredis.ConnectionError):
        pytest.skip("no Redis on 127.0.0.1:6379")
    finally:
        await probe.aclose()
    first = app_factory(auth_rate_limit=4, rate_limit_storage=url)
    second = app_factory(auth_rate_limit=4, rate_limit_storage=url)
    async with client_for(first) as a, client_for(second) as b:
        codes = [(await _attempt(c, "SOMEONE", "x")).status_code for c in (a, b, a, b, a)]
    assert codes == [401, 401, 401, 401, 429]


def test_lockout_rule_table():
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    lock = timedelta(minutes=30)
    fresh = LockoutState(0, None)
    state, outcome = apply_attempt(fresh, credentials_ok=False, now=now, threshold=3, lock_for=lock)
    assert (state, outcome) == (LockoutState(1, None), AttemptOutcome.bad_credentials)
    state, outcome = apply_attempt(
        LockoutState(2, None), credentials_ok=False, now=now, threshold=3, lock_for=lock
    )
    assert outcome is AttemptOutcome.locked_now and state.locked_until == now + lock
    locked = LockoutState(3, now + lock)
    assert apply_attempt(locked, credentials_ok=True, now=now, threshold=3, lock_for=lock) == (
        locked,
        AttemptOutcome.locked,
    )
    expired = LockoutState(3, now - timedelta(seconds=1))
    assert apply_attempt(expired, credentials_ok=False, now=now, threshold=3, lock_for=lock) == (
        LockoutState(1, None),
        AttemptOutcome.bad_credentials,
    )
    assert apply_attempt(
        LockoutState(2, None), credentials_ok=True, now=now, threshold=3, lock_for=lock
    ) == (LockoutState(0, None), AttemptOutcome.success)


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("short one", {"too_short"}),
        ("x" * 129, {"too_long"}),
        ("passwordpassword", {"common_password"}),
        ("123456789012345", {"common_password"}),
        ("qwertyuiopasdfghjkl", {"common_password"}),
        ("aaaaaaaaaaaaaaaaaaa", {"common_password"}),
        ("my name is 98765A and I like it", {"contains_username"}),
        ("correct horse battery staple", set()),
        ("Très long mot de passe à retenir", set()),
    ],
)
def test_password_policy(password, codes):
    found = {p.code for p in password_problems(password, username="98765A")}
    assert found == codes


def test_common_list_is_bundled_and_case_blind():
    assert is_common("PasswordPassword")
    assert not is_common("an unusual phrase about herons")


async def test_weak_new_password_is_refused_naming_the_field(app, client):
    user = await make_user(app)
    token = await login(client, user["username"])
    response = await client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "passwordpassword"},
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "new_password",
            "code": "common_password",
            "message": "This password is too common or has appeared in breaches.",
        }
    ]


async def test_passwords_are_compared_exactly_as_typed(app, client):
    user = await make_user(app, password="Ünïcode passphrase with spaces")
    await login(client, user["username"], "Ünïcode passphrase with spaces")
    assert (
        await _attempt(client, user["username"], "ünïcode passphrase with spaces")
    ).status_code == 401
    assert (
        await _attempt(client, user["username"], "Ünïcode passphrase with spaces ")
    ).status_code == 401


async def test_wrong_current_password_counts_towards_lockout(app_factory):
    app = app_factory(lockout_threshold=2)
    async with client_for(app) as client:
        user = await make_user(app)
        token = await login(client, user["username"])
        body = {"current_password": "guess", "new_password": "something long and new"}
        first = await client.post("/auth/password", json=body, headers=bearer(token))
        assert first.status_code == 422 and first.json()["errors"][0]["field"] == "current_password"
        await client.post("/auth/password", json=body, headers=bearer(token))
        assert (await _user_row(app, user["id"])).locked_until is not None
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 401


async def test_password_reset_by_emailed_code(app, client):
    user = await make_user(app, email="lawyer@example.com")
    tokens = [await login(client, user["username"]) for _ in range(2)]
    for name in (user["username"], "NOBODY9"):
        answer = await client.post("/auth/password-reset", json={"username": name})
        assert answer.status_code == 202
    async with app.state.database.engine.connect() as conn:
        mails = (await conn.execute(text("SELECT to_address, body FROM outbox_email"))).all()
    assert len(mails) == 1 and mails[0].to_address == "lawyer@example.com"
    code = mails[0].body.split("\n\n")[1].strip()

    wrong = await client.post(
        "/auth/password-reset/confirm", json={"token": "nope", "new_password": "x" * 20}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "token"
    new = "a passphrase chosen after reset"
    done = await client.post(
        "/auth/password-reset/confirm", json={"token": code, "new_password": new}
    )
    assert done.status_code == 204
    for token in tokens:
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 401
    await login(client, user["username"], new)
    again = await client.post(
        "/auth/password-reset/confirm",
        json={"token": code, "new_password": "yet another passphrase"},
    )
    assert again.status_code == 422
    async with app.state.database.engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT count(*) FROM password_reset_token WHERE token_digest = :c"), {"c": code}
        )
    assert stored == 0  # only a digest of the code is kept


async def test_password_reset_is_rate_limited_per_client(app_factory):
    app = app_factory(auth_rate_limit=2)
    async with client_for(app) as client:
        codes = [
            (await client.post("/auth/password-reset", json={"username": "ANYONE"})).status_code
            for _ in range(3)
        ]
        assert codes == [202, 202, 429]
        guess = await client.post(
            "/auth/password-reset/confirm", json={"token": "guess", "new_password": "x" * 20}
        )
        assert guess.status_code == 429
        # the login limit is a bucket of its own
        assert (await _attempt(client, "ANYONE", "wrong")).status_code == 401
