"""Login defences over HTTP: lockout and unlock, uniform failures (body and time), exact
counting under concurrency, the audit trail of every attempt, and the rate limit."""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text

from tests.clock import travel
from tests.conftest import client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_user, user_token

WRONG = "certainly not the password"


async def attempt(
    client: httpx.AsyncClient, username: str, password: str, **kw: Any
) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password}, **kw)


async def login_state(app: Any, user_id: Any) -> Any:
    async with app.state.database.engine.connect() as conn:
        row = await conn.execute(
            text(
                "SELECT failed_login_count, locked_until, "
                "EXTRACT(EPOCH FROM locked_until - now()) AS locked_for FROM app_user WHERE id = :id"
            ),
            {"id": user_id},
        )
        return row.one()


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        response = await attempt(client, username, WRONG)
        assert response.status_code == 401, response.text


def comparable(response: httpx.Response) -> tuple[int, str, str, str]:
    body = response.json()
    body.pop("request_id")
    return (
        response.status_code,
        response.headers.get("www-authenticate", ""),
        response.headers["content-type"],
        json.dumps(body, sort_keys=True),
    )


# --- lockout ---


async def test_threshold_consecutive_failures_lock_the_account(app_factory):
    app = app_factory(lockout_threshold=3, lockout_duration_seconds=1800)
    async with client_for(app) as client:
        user = await make_user(app)
        await fail(client, user["username"], 2)
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 2 and state.locked_until is None

        await fail(client, user["username"], 1)
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 3
        assert 1790 < state.locked_for <= 1800  # LOCKOUT_DURATION_SECONDS from now

        # while locked, the right password answers exactly as a wrong one did
        wrong = await attempt(client, user["username"], WRONG)
        right = await attempt(client, user["username"], PASSWORD)
        assert right.status_code == 401 and "set-cookie" not in right.headers
        assert comparable(right) == comparable(wrong)
        assert right.json()["type"] == "/problems/invalid-credentials"
        # attempts while locked are not counted and do not extend the lock
        after = await login_state(app, user["id"])
        assert after.failed_login_count == 3 and after.locked_until == state.locked_until
        assert len(await audit_events(app, action="auth.lockout")) == 1


async def test_lock_ends_after_the_duration_and_the_count_starts_afresh(app_factory):
    app = app_factory(lockout_threshold=3, lockout_duration_seconds=2)
    async with client_for(app) as client:
        user = await make_user(app)
        await fail(client, user["username"], 3)
        assert 0 < (await login_state(app, user["id"])).locked_for <= 2
        assert (await attempt(client, user["username"], PASSWORD)).status_code == 401
        await travel(app, 1.0)
        assert (await attempt(client, user["username"], PASSWORD)).status_code == 401  # not yet
        await travel(app, 1.3)
        # the lock has passed: a failure counts from one again, it does not re-lock at once
        await fail(client, user["username"], 1)
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 1 and state.locked_until is None
        await fail(client, user["username"], 1)
        assert (await login_state(app, user["id"])).locked_until is None
        token = await login(client, user["username"])
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 0 and state.locked_until is None


async def test_after_the_lock_the_right_password_logs_in(app_factory):
    app = app_factory(lockout_threshold=2, lockout_duration_seconds=1)
    async with client_for(app) as client:
        user = await make_user(app)
        await fail(client, user["username"], 2)
        assert (await attempt(client, user["username"], PASSWORD)).status_code == 401
        await travel(app, 1.3)
        await login(client, user["username"])
        assert (await login_state(app, user["id"])).failed_login_count == 0


async def test_admin_unlock_lets_the_user_in_at_once(app_factory):
    app = app_factory(lockout_threshold=2, lockout_duration_seconds=1800)
    async with client_for(app) as client:
        user = await make_user(app)
        await fail(client, user["username"], 2)
        assert (await attempt(client, user["username"], PASSWORD)).status_code == 401

        _, admin = await user_token(app, client, role="admin")
        read = await client.get(f"/users/{user['id']}", headers=bearer(admin))
        assert read.json()["locked"] is True
        unlocked = await client.post(f"/users/{user['id']}/unlock", headers=bearer(admin))
        assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 0 and state.locked_until is None
        await login(client, user["username"])
        [event] = await audit_events(app, action="user.unlock")
        assert event["details"]["before"]["failed_login_count"] == 2


async def test_only_an_admin_may_unlock(app_factory):
    app = app_factory(lockout_threshold=2)
    async with client_for(app) as client:
        user = await make_user(app)
        await fail(client, user["username"], 2)
        _, lawyer = await user_token(app, client)
        refused = await client.post(f"/users/{user['id']}/unlock", headers=bearer(lawyer))
        assert refused.status_code == 403
        assert (await login_state(app, user["id"])).locked_until is not None


async def test_a_success_resets_the_count(app_factory):
    app = app_factory(lockout_threshold=3)
    async with client_for(app) as client:
        user = await make_user(app)
        await fail(client, user["username"], 2)
        assert (await login_state(app, user["id"])).failed_login_count == 2
        await login(client, user["username"])
        assert (await login_state(app, user["id"])).failed_login_count == 0
        await fail(client, user["username"], 2)
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 2 and state.locked_until is None
        await login(client, user["username"])  # 4 failures in all, never 3 in a row


async def test_another_users_failures_do_not_count(app_factory):
    app = app_factory(lockout_threshold=2)
    async with client_for(app) as client:
        victim, other = await make_user(app), await make_user(app)
        await fail(client, other["username"], 3)
        await login(client, victim["username"])
        assert (await login_state(app, victim["id"])).failed_login_count == 0


# --- uniform failures ---


async def test_every_kind_of_failure_answers_the_same(app_factory):
    app = app_factory(lockout_threshold=2, lockout_duration_seconds=1800)
    async with client_for(app) as client:
        wrong_pw, locked, disabled = [await make_user(app) for _ in range(3)]
        await fail(client, locked["username"], 2)
        _, admin = await user_token(app, client, role="admin")
        response = await client.post(f"/users/{disabled['id']}/disable", headers=bearer(admin))
        assert response.status_code == 200

        answers = {
            "unknown user": await attempt(client, "NO-SUCH-USER-1", PASSWORD),
            "wrong password": await attempt(client, wrong_pw["username"], WRONG),
            "locked": await attempt(client, locked["username"], PASSWORD),
            "disabled": await attempt(client, disabled["username"], PASSWORD),
        }
        shapes = {name: comparable(a) for name, a in answers.items()}
        assert len(set(shapes.values())) == 1, shapes
        status, www_authenticate, content_type, body = shapes["unknown user"]
        assert status == 401 and www_authenticate == "Bearer"
        assert content_type == "application/problem+json"
        assert json.loads(body) == {
            "type": "/problems/invalid-credentials",
            "title": "Invalid credentials",
            "status": 401,
            "detail": "The username or password is incorrect, or the account cannot log in now.",
            "instance": "/auth/token",
        }
        ids = {a.json()["request_id"] for a in answers.values()}
        assert len(ids) == 4  # the only part that differs
        for answer in answers.values():
            assert "set-cookie" not in answer.headers

        reasons = {
            e["details"]["reason"]
            for e in await audit_events(app, action="auth.login", outcome="failure")
        }
        assert reasons == {"unknown_user", "bad_credentials", "locked_now", "locked", "disabled"}


async def test_unknown_user_takes_about_as_long_as_a_wrong_password(app_factory):
    app = app_factory(lockout_threshold=1000)
    async with client_for(app) as client:
        user = await make_user(app)
        await attempt(client, user["username"], WRONG)  # warm up both paths
        await attempt(client, "NOBODY-WARMUP", WRONG)
        unknown: list[float] = []
        known: list[float] = []
        for i in range(7):  # interleaved, so that drift hits both alike
            for name, samples in ((f"NOBODY-{i}", unknown), (user["username"], known)):
                started = time.perf_counter()
                response = await attempt(client, name, WRONG)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 401
        ratio = statistics.median(unknown) / statistics.median(known)
        assert 0.5 < ratio < 2, (unknown, known)
        # and both include the password hashing (argon2id): neither is a quick lookup
        assert min(unknown) > 0.005


# --- concurrency ---


async def test_concurrent_failures_are_counted_exactly(app_factory):
    app = app_factory(lockout_threshold=100)
    async with client_for(app) as client:
        user = await make_user(app)
        answers = await asyncio.gather(
            *(attempt(client, user["username"], WRONG) for _ in range(12))
        )
        assert [a.status_code for a in answers] == [401] * 12
        state = await login_state(app, user["id"])
        assert state.failed_login_count == 12 and state.locked_until is None
        counts = sorted(
            e["details"]["failed_count"]
            for e in await audit_events(app, action="auth.login", outcome="failure")
        )
        assert counts == list(range(1, 13))  # each attempt saw the one before it


async def test_concurrent_failures_past_the_threshold_lock_exactly_once(app_factory):
    app = app_factory(lockout_threshold=5, lockout_duration_seconds=1800)
    async with client_for(app) as client:
        user = await make_user(app)
        answers = await asyncio.gather(
            *(attempt(client, user["username"], WRONG) for _ in range(12))
        )
        assert {comparable(a) for a in answers} == {comparable(answers[0])}
        state = await login_state(app, user["id"])
        assert state.locked_until is not None and state.failed_login_count == 5
        lockouts = await audit_events(app, action="auth.lockout")
        assert len(lockouts) == 1
        assert lockouts[0]["actor_id"] == user["id"]
        reasons = [
            e["details"]["reason"]
            for e in await audit_events(app, action="auth.login", outcome="failure")
        ]
        assert len(reasons) == 12
        assert reasons.count("locked_now") == 1 and reasons.count("locked") == 7
        assert reasons.count("bad_credentials") == 4
        assert (await attempt(client, user["username"], PASSWORD)).status_code == 401


# --- the audit trail of every attempt ---


async def test_every_login_attempt_is_an_audit_event(app_factory):
    app = app_factory(lockout_threshold=2)
    async with client_for(app, headers={"User-Agent": "LawFirmBrowser/7.1"}) as client:
        user = await make_user(app)
        sent = []
        for username, password in (
            (user["username"], PASSWORD),
            (user["username"], WRONG),
            ("GHOST-98765Z", "whatever it was"),
            (user["username"], WRONG),
        ):
            request_id = f"req-{secrets.token_hex(8)}"
            response = await attempt(
                client, username, password, headers={"X-Request-ID": request_id}
            )
            assert response.headers["x-request-id"] != request_id  # ours, not the client's
            sent.append((response.headers["x-request-id"], response.status_code))
        assert [code for _, code in sent] == [200, 401, 401, 401]

        logins = await audit_events(app, action="auth.login")
        assert [(e["request_id"], e["outcome"]) for e in logins] == [
            (sent[0][0], "success"),
            (sent[1][0], "failure"),
            (sent[2][0], "failure"),
            (sent[3][0], "failure"),
        ]
        success, wrong, unknown, locking = logins
        assert success["resource_type"] == "session" and success["actor_id"] == user["id"]
        assert success["actor_label"] == user["username"] and success["actor_role"] == "lawyer"
        assert wrong["details"]["reason"] == "bad_credentials"
        assert wrong["details"]["failed_count"] == 1 and wrong["resource_id"] == str(user["id"])
        assert unknown["details"]["reason"] == "unknown_user"
        assert unknown["actor_id"] is None and unknown["actor_label"] == "GHOST-98765Z"
        assert locking["details"]["reason"] == "locked_now"
        [lockout] = await audit_events(app, action="auth.lockout")
        assert lockout["request_id"] == sent[3][0] and lockout["resource_id"] == str(user["id"])

        for event in [*logins, lockout]:
            assert event["client_ip"] == "127.0.0.1"
            assert event["user_agent"] == "LawFirmBrowser/7.1"
            assert event["occurred_at"] is not None
        recorded = json.dumps([e["details"] for e in logins], default=str)
        assert PASSWORD not in recorded and WRONG not in recorded and "whatever" not in recorded


# --- rate limit on POST /auth/token ---


def client_at(app: Any, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


async def test_token_requests_are_rate_limited_per_client(app_factory):
    app = app_factory(auth_rate_limit=3, auth_rate_window_seconds=3600)
    user = await make_user(app)
    async with client_at(app, "203.0.113.7") as client, client_at(app, "203.0.113.8") as other:
        codes = [(await attempt(client, user["username"], WRONG)).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        limited = await attempt(client, user["username"], PASSWORD)  # even the right password
        assert limited.status_code == 429
        assert limited.headers["content-type"].split(";")[0] == "application/problem+json"
        retry_after = limited.headers["retry-after"]
        assert retry_after.isdigit() and 0 < int(retry_after) <= 3600
        body = limited.json()
        assert body["type"] == "/problems/rate-limited" and body["status"] == 429
        assert "set-cookie" not in limited.headers
        # another client is not affected
        assert (await attempt(other, user["username"], PASSWORD)).status_code == 200
    # the refused attempt did not count towards the lockout, but it is an audit event
    assert (await login_state(app, user["id"])).failed_login_count == 0
    limited_events = [
        e
        for e in await audit_events(app, action="auth.login")
        if e["details"].get("reason") == "rate_limited"
    ]
    assert len(limited_events) == 1 and limited_events[0]["client_ip"] == "203.0.113.7"


async def test_rate_limit_is_shared_by_workers_through_redis(app_factory):
    url = "redis://127.0.0.1:6379/15"
    probe = aioredis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        await probe.ping()
    except (OSError, aioredis.RedisError):
        await probe.aclose()
        pytest.skip("no Redis on 127.0.0.1:6379")
    # a client address of its own, so that neither earlier runs nor other tests share the count
    ip = f"198.51.100.{secrets.randbelow(250) + 1}"
    pattern = f"lpl:ratelimit:auth-token:{ip}:*"
    try:
        await probe.delete(*[k async for k in probe.scan_iter(pattern)] or ["-"])
        first = app_factory(
            auth_rate_limit=3, auth_rate_window_seconds=3600, rate_limit_storage=url
        )
        second = app_factory(
            auth_rate_limit=3, auth_rate_window_seconds=3600, rate_limit_storage=url
        )
        async with client_at(first, ip) as a, client_at(second, ip) as b:
            codes = [(await attempt(c, "SOMEONE", WRONG)).status_code for c in (a, b, a)]
            assert codes == [401, 401, 401]
            for worker in (b, a):  # each worker alone has seen fewer than 3
                limited = await attempt(worker, "SOMEONE", WRONG)
                assert limited.status_code == 429
                assert int(limited.headers["retry-after"]) > 0
    finally:
        keys = [k async for k in probe.scan_iter(pattern)]
        if keys:
            await probe.delete(*keys)
        await probe.aclose()
