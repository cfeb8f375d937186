"""Sessions over HTTP: idle and absolute expiry decided by the server's row, logout, disable,
password change, the session cookie and the CSRF header for cookie-authenticated changes."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.clock import travel
from tests.conftest import client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_user, user_token

XRW = {"X-Requested-With": "XMLHttpRequest"}


async def me(client: httpx.AsyncClient, token: str | None = None, **kw: Any) -> httpx.Response:
    headers = bearer(token) if token else {}
    return await client.get("/users/me", headers={**headers, **kw.pop("headers", {})}, **kw)


async def assert_ended(response: httpx.Response, slug: str) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].split(";")[0] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == 401
    assert "Traceback" not in response.text
    return body


async def sql(app: Any, statement: str, **params: Any) -> Any:
    async with app.state.database.engine.begin() as conn:
        return await conn.execute(text(statement), params)


async def live_sessions(app: Any, user_id: Any) -> int:
    result = await sql(
        app,
        "SELECT count(*) FROM auth_session WHERE user_id = :u AND revoked_at IS NULL",
        u=user_id,
    )
    return int(result.scalar_one())


def cookie_attributes(set_cookie: str) -> tuple[str, str, set[str]]:
    first, *rest = [part.strip() for part in set_cookie.split(";")]
    name, _, value = first.partition("=")
    return name, value, {a.lower() for a in rest}


# --- idle and absolute expiry ---


async def test_activity_slides_the_idle_clock_beyond_the_timeout(app_factory):
    app = app_factory(session_idle_timeout_seconds=2)
    async with client_for(app) as client:
        user = await make_user(app)
        response = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        assert response.json()["expires_in"] == 2
        token = response.json()["access_token"]
        elapsed = 0.0
        while elapsed < 3.2:  # well past the 2 s idle timeout in all
            await travel(app, 0.6)
            elapsed += 0.6
            assert (await me(client, token)).status_code == 200
        assert elapsed > 3


async def test_idle_beyond_the_timeout_ends_the_session(app_factory):
    app = app_factory(session_idle_timeout_seconds=1)
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        assert (await me(client, token)).status_code == 200
        await travel(app, 1.4)
        body = await assert_ended(await me(client, token), "session-expired")
        assert "inactivity" in body["detail"]
        # it stays ended: the refused request did not revive it
        await assert_ended(await me(client, token), "session-expired")
        # an expired session is a refusal in the audit trail
        refusals = await audit_events(app, action="user.read", outcome="denied")
        assert [e["details"]["problem"] for e in refusals] == ["session-expired"] * 2


async def test_a_refused_request_of_a_live_session_still_slides_it(app_factory):
    # a 404 for a record that is not there is still an authenticated request
    app = app_factory(session_idle_timeout_seconds=2)
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        for _ in range(3):
            await travel(app, 0.8)
            missing = await client.get(
                "/quotes/00000000-0000-0000-0000-000000000000", headers=bearer(token)
            )
            assert missing.status_code == 404
        assert (await me(client, token)).status_code == 200


async def test_absolute_limit_ends_even_an_active_session(app_factory):
    app = app_factory(session_idle_timeout_seconds=2, session_absolute_timeout_seconds=3)
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        elapsed = 0.0
        codes = []
        while elapsed < 4.2:
            await travel(app, 0.5)
            elapsed += 0.5
            response = await me(client, token)
            codes.append((round(elapsed, 1), response.status_code))
            if response.status_code == 401:
                await assert_ended(response, "session-expired")
        # alive past the idle timeout (activity), dead after the absolute limit (activity or not)
        assert all(code == 200 for t, code in codes if t < 1.9), codes
        assert all(code == 401 for t, code in codes if t > 3.1), codes
        assert codes[-1][1] == 401


async def test_the_server_row_decides_idle_expiry_not_the_token(app, client):
    user, token = await user_token(app, client)
    assert (await me(client, token)).status_code == 200
    # the token is still far from its own exp; the row says idle for more than an hour
    await sql(
        app,
        "UPDATE auth_session SET last_seen_at = now() - interval '3601 seconds' WHERE user_id = :u",
        u=user["id"],
    )
    await assert_ended(await me(client, token), "session-expired")
    async with client_for(app) as copy:  # a copy of the token fares no better
        await assert_ended(await me(copy, token), "session-expired")


async def test_the_server_row_decides_absolute_expiry_not_the_token(app, client):
    user, token = await user_token(app, client)
    await sql(
        app,
        "UPDATE auth_session SET absolute_expires_at = now() - interval '1 second' "
        "WHERE user_id = :u",
        u=user["id"],
    )
    await assert_ended(await me(client, token), "session-expired")


async def test_a_copied_token_stops_working_when_its_session_ends(app, client):
    _, token = await user_token(app, client)
    async with client_for(app) as thief:
        assert (await me(thief, token)).status_code == 200  # a copy works while the session does
        assert (await client.post("/auth/logout", headers=bearer(token))).status_code == 204
        await assert_ended(await me(thief, token), "session-revoked")
        assert (await thief.post("/auth/logout", headers=bearer(token))).status_code == 401


async def test_a_copied_token_stops_working_after_idle_expiry(app_factory):
    app = app_factory(session_idle_timeout_seconds=1)
    async with client_for(app) as client, client_for(app) as copy:
        _, token = await user_token(app, client)
        await travel(app, 1.4)
        await assert_ended(await me(copy, token), "session-expired")


async def test_an_ended_session_is_refused_on_every_kind_of_route(app_factory):
    # /users/me reads through the ORM, GET /quotes/{id} slides and reads in one statement,
    # GET /quotes lists, POST /auth/password changes: an ended session gets none of them
    app = app_factory(session_idle_timeout_seconds=1)
    async with client_for(app) as client:
        _, expired = await user_token(app, client)
        _, revoked = await user_token(app, client)
        missing = "/quotes/00000000-0000-0000-0000-000000000000"
        assert (await client.get(missing, headers=bearer(revoked))).status_code == 404  # alive
        assert (await client.post("/auth/logout", headers=bearer(revoked))).status_code == 204
        await travel(app, 1.3)
        change = {"current_password": PASSWORD, "new_password": "never gets to be set at all"}
        for token, slug in ((expired, "session-expired"), (revoked, "session-revoked")):
            for response in (
                await me(client, token),
                await client.get(missing, headers=bearer(token)),
                await client.get("/quotes", headers=bearer(token)),
                await client.post("/auth/password", json=change, headers=bearer(token)),
            ):
                await assert_ended(response, slug)
        assert not await audit_events(app, action="quote.list", outcome="success")
        assert not await audit_events(app, action="auth.password_change", outcome="success")


# --- logout ---


async def test_logout_revokes_the_token_and_deletes_the_cookie(app, client):
    user = await make_user(app)
    response = await client.post(
        "/auth/token", data={"username": user["username"], "password": PASSWORD}
    )
    token = response.json()["access_token"]
    cookie_name = app.state.settings.session_cookie_name
    assert client.cookies.get(cookie_name) == token

    out = await client.post("/auth/logout", headers=bearer(token))
    assert out.status_code == 204 and out.content == b""
    name, value, attributes = cookie_attributes(out.headers["set-cookie"])
    assert name == cookie_name and value in ("", '""')
    assert "max-age=0" in attributes or any(
        a.startswith("expires=") and "1970" in a for a in attributes
    )
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= attributes
    assert cookie_name not in client.cookies  # the client's jar forgot it

    body = await assert_ended(await me(client, token), "session-revoked")
    assert "ended" in body["detail"]
    await assert_ended(await client.post("/auth/logout", headers=bearer(token)), "session-revoked")
    [event] = await audit_events(app, action="auth.logout", outcome="success")
    assert event["actor_id"] == user["id"]
    assert await live_sessions(app, user["id"]) == 0


async def test_logout_ends_only_its_own_session(app, client):
    user = await make_user(app)
    first, second = [await login(client, user["username"]) for _ in range(2)]
    assert (await client.post("/auth/logout", headers=bearer(first))).status_code == 204
    await assert_ended(await me(client, first), "session-revoked")
    assert (await me(client, second)).status_code == 200


# --- disable and password change ---


async def test_disable_ends_all_the_users_sessions_at_once(app_factory):
    app = app_factory()
    async with client_for(app) as client, client_for(app) as browser:
        user = await make_user(app)
        _, bystander_token = await user_token(app, client)
        tokens = [await login(client, user["username"]) for _ in range(3)]
        await browser.post("/auth/token", data={"username": user["username"], "password": PASSWORD})
        assert (await browser.get("/users/me")).status_code == 200  # by cookie
        assert await live_sessions(app, user["id"]) == 4

        _, admin = await user_token(app, client, role="admin")
        disabled = await client.post(f"/users/{user['id']}/disable", headers=bearer(admin))
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True

        for token in tokens:
            await assert_ended(await me(client, token), "session-revoked")
        await assert_ended(await browser.get("/users/me"), "session-revoked")
        assert await live_sessions(app, user["id"]) == 0
        [event] = await audit_events(app, action="user.disable")
        assert event["details"]["sessions_ended"] == 4
        assert (await me(client, bystander_token)).status_code == 200  # others unaffected

        # enabling again does not revive the old sessions; a new login is needed
        enabled = await client.post(f"/users/{user['id']}/enable", headers=bearer(admin))
        assert enabled.status_code == 200
        await assert_ended(await me(client, tokens[0]), "session-revoked")
        assert (await me(client, await login(client, user["username"]))).status_code == 200


async def test_password_change_ends_the_other_sessions_and_keeps_this_one(app_factory):
    app = app_factory()
    async with client_for(app) as client, client_for(app) as browser:
        user = await make_user(app)
        current = await login(client, user["username"])
        others = [await login(client, user["username"]) for _ in range(2)]
        await browser.post("/auth/token", data={"username": user["username"], "password": PASSWORD})
        new = "a brand new passphrase, quite long"
        changed = await client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=bearer(current),
        )
        assert changed.status_code == 200, changed.text
        assert changed.json() == {"other_sessions_ended": 3}
        assert (await me(client, current)).status_code == 200
        for token in others:
            await assert_ended(await me(client, token), "session-revoked")
        await assert_ended(await browser.get("/users/me"), "session-revoked")
        assert await live_sessions(app, user["id"]) == 1

        old = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        assert old.status_code == 401
        await login(client, user["username"], new)
        [event] = await audit_events(app, action="auth.password_change", outcome="success")
        assert event["details"] == {"other_sessions_ended": 3}
        assert PASSWORD not in str(event["details"]) and new not in str(event["details"])


async def test_password_change_with_no_other_sessions_reports_zero(app, client):
    _, token = await user_token(app, client)
    changed = await client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "only one session was open here"},
        headers=bearer(token),
    )
    assert changed.status_code == 200 and changed.json() == {"other_sessions_ended": 0}


# --- the session cookie and CSRF ---


async def test_token_response_sets_a_strict_secure_session_cookie(app, client):
    user = await make_user(app)
    response = await client.post(
        "/auth/token", data={"username": user["username"], "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    name, value, attributes = cookie_attributes(cookies[0])
    assert name == app.state.settings.session_cookie_name == "__Host-lpl_session"
    assert value == body["access_token"]
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
    assert not any(a.startswith(("expires", "max-age", "domain")) for a in attributes), attributes


async def test_failed_login_sets_no_cookie(app, client):
    user = await make_user(app)
    response = await client.post(
        "/auth/token", data={"username": user["username"], "password": "not the password at all"}
    )
    assert response.status_code == 401 and "set-cookie" not in response.headers


async def test_the_cookie_alone_authenticates_a_read(app):
    async with client_for(app) as browser:
        user = await make_user(app)
        await browser.post("/auth/token", data={"username": user["username"], "password": PASSWORD})
        response = await browser.get("/users/me")  # no Authorization header
        assert response.status_code == 200 and response.json()["username"] == user["username"]
    async with client_for(app) as stranger:
        await assert_ended(await stranger.get("/users/me"), "not-authenticated")


async def test_cookie_logout_needs_x_requested_with(app):
    async with client_for(app) as browser:
        user = await make_user(app)
        await browser.post("/auth/token", data={"username": user["username"], "password": PASSWORD})

        refused = await browser.post("/auth/logout")
        assert refused.status_code == 403
        assert refused.headers["content-type"].split(";")[0] == "application/problem+json"
        assert refused.json()["type"] == "/problems/csrf-header-missing"
        assert "set-cookie" not in refused.headers
        assert (await browser.get("/users/me")).status_code == 200  # nothing ended
        assert await live_sessions(app, user["id"]) == 1

        done = await browser.post("/auth/logout", headers=XRW)
        assert done.status_code == 204
        assert await live_sessions(app, user["id"]) == 0
        await assert_ended(await browser.get("/users/me"), "not-authenticated")  # cookie gone


async def test_cookie_password_change_needs_x_requested_with(app):
    async with client_for(app) as browser:
        user = await make_user(app)
        await browser.post("/auth/token", data={"username": user["username"], "password": PASSWORD})
        change = {"current_password": PASSWORD, "new_password": "a passphrase set from the spa"}

        refused = await browser.post("/auth/password", json=change)
        assert refused.status_code == 403
        assert refused.json()["type"] == "/problems/csrf-header-missing"
        # the password did not change
        async with client_for(app) as other:
            await login(other, user["username"], PASSWORD)

        allowed = await browser.post("/auth/password", json=change, headers=XRW)
        assert allowed.status_code == 200, allowed.text
        assert allowed.json() == {"other_sessions_ended": 1}  # the login just above
        assert (await browser.get("/users/me")).status_code == 200


async def test_bearer_changes_need_no_csrf_header(app, client):
    user = await make_user(app)
    async with client_for(app) as api_client:  # no cookie jar in play: bearer only
        token = await login(api_client, user["username"])
        api_client.cookies.clear()
        change = {"current_password": PASSWORD, "new_password": "changed by a bearer caller"}
        changed = await api_client.post("/auth/password", json=change, headers=bearer(token))
        assert changed.status_code == 200, changed.text
        assert (await api_client.post("/auth/logout", headers=bearer(token))).status_code == 204
