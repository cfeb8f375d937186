"""Tokens, sessions, cookies and CSRF, through HTTP against PostgreSQL."""

import base64
import json
import time
import uuid

from jose import jwt

from tests.clock import travel
from tests.conftest import TEST_SECRET, client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_user, user_token


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(user, **overrides):
    now = int(time.time())
    claims = {
        "iss": "lpl-portal",
        "aud": "lpl-portal-api",
        "sub": str(user["id"]),
        "sid": str(uuid.uuid4()),
        "preferred_username": user["username"],
        "role": user["role"],
        "firm": None,
        "scope": "",
        "token_use": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return claims


async def _expect_refused(client, token, slug="invalid-token"):
    response = await client.get("/users/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == 401
    assert "Traceback" not in response.text
    return body


async def test_forged_tokens_are_refused(app, client):
    _, token = await user_token(app, client)
    real = jwt.get_unverified_claims(token)
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200

    none_alg = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(real)}."
    await _expect_refused(client, none_alg)
    await _expect_refused(client, jwt.encode(real, TEST_SECRET, algorithm="HS512"))
    await _expect_refused(client, jwt.encode(real, "not-the-key-" * 4, algorithm="HS256"))
    rs_header = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(real)}.{token.split('.')[2]}"
    await _expect_refused(client, rs_header)
    await _expect_refused(client, jwt.encode({**real, "aud": "another-api"}, TEST_SECRET))
    await _expect_refused(client, jwt.encode({**real, "iss": "someone-else"}, TEST_SECRET))
    await _expect_refused(client, jwt.encode({**real, "token_use": "refresh"}, TEST_SECRET))
    await _expect_refused(client, jwt.encode({**real, "role": "admin"}, "wrong" * 10))
    await _expect_refused(client, "not.a.token")
    expired = jwt.encode({**real, "exp": int(time.time()) - 10}, TEST_SECRET)
    await _expect_refused(client, expired, slug="session-expired")


async def test_a_validly_signed_token_for_a_session_that_never_existed_is_refused(app, client):
    user = await make_user(app)
    forged = jwt.encode(_claims(user), TEST_SECRET, algorithm="HS256")
    await _expect_refused(client, forged, slug="session-revoked")


async def test_token_claiming_more_rights_than_the_user_has_is_refused(app, client):
    _, token = await user_token(app, client)
    real = jwt.get_unverified_claims(token)
    escalated = jwt.encode({**real, "role": "admin"}, TEST_SECRET, algorithm="HS256")
    await _expect_refused(client, escalated, slug="session-revoked")
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200


async def test_idle_session_ends_and_activity_keeps_it_alive(app_factory):
    app = app_factory(session_idle_timeout_seconds=2)
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        for _ in range(4):  # 3 s of activity in all, longer than the idle timeout
            await travel(app, 0.75)
            assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
        await travel(app, 2.3)
        body = await _expect_refused(client, token, slug="session-expired")
        assert "inactivity" in body["detail"]


async def test_absolute_limit_ends_even_an_active_session(app_factory):
    # (the token's own exp is whole seconds, so the limit may come up to a second early)
    app = app_factory(session_idle_timeout_seconds=2, session_absolute_timeout_seconds=4)
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        for _ in range(3):
            await travel(app, 0.9)
            assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
        await travel(app, 1.6)
        await _expect_refused(client, token, slug="session-expired")


async def test_logout_ends_the_session_and_deletes_the_cookie(app, client):
    _, token = await user_token(app, client)
    response = await client.post("/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert "__Host-lpl_session=" in cookie and ("Max-Age=0" in cookie or "expires=" in cookie)
    await _expect_refused(client, token, slug="session-revoked")
    assert len(await audit_events(app, action="auth.logout")) == 1


async def test_copied_token_dies_with_its_session(app, client):
    _, token = await user_token(app, client)
    async with client_for(app) as other_device:
        assert (await other_device.get("/users/me", headers=bearer(token))).status_code == 200
        await client.post("/auth/logout", headers=bearer(token))
        response = await other_device.get("/users/me", headers=bearer(token))
        assert response.status_code == 401


async def test_disable_ends_every_session_at_once(app, client):
    user = await make_user(app)
    tokens = [await login(client, user["username"]) for _ in range(3)]
    _, admin = await user_token(app, client, role="admin")
    response = await client.post(f"/users/{user['id']}/disable", headers=bearer(admin))
    assert response.status_code == 200 and response.json()["disabled"] is True
    for token in tokens:
        await _expect_refused(client, token, slug="session-revoked")
    failed = await client.post(
        "/auth/token", data={"username": user["username"], "password": PASSWORD}
    )
    assert failed.status_code == 401
    [event] = await audit_events(app, action="user.disable")
    assert event["details"]["sessions_ended"] == 3


async def test_password_change_ends_the_other_sessions_only(app, client):
    user = await make_user(app)
    current = await login(client, user["username"])
    others = [await login(client, user["username"]) for _ in range(2)]
    new = "a brand new passphrase, quite long"
    response = await client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=bearer(current),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"other_sessions_ended": 2}
    assert (await client.get("/users/me", headers=bearer(current))).status_code == 200
    for token in others:
        await _expect_refused(client, token, slug="session-revoked")
    await login(client, user["username"], new)


async def test_session_cookie_is_a_strict_secure_session_cookie(app, client):
    user = await make_user(app)
    response = await client.post(
        "/auth/token", data={"username": user["username"], "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    cookie = response.headers["set-cookie"]
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert attributes[0].startswith("__host-lpl_session=")
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= set(attributes)
    assert not any(a.startswith(("expires", "max-age")) for a in attributes)
    assert response.headers["cache-control"] == "no-store"


async def test_cookie_authenticates_reads_and_changes_need_x_requested_with(app, client):
    user = await make_user(app)
    await client.post("/auth/token", data={"username": user["username"], "password": PASSWORD})
    assert client.cookies.get("__Host-lpl_session")
    me = await client.get("/users/me")
    assert me.status_code == 200 and me.json()["username"] == user["username"]

    change = {"current_password": PASSWORD, "new_password": "another long passphrase here"}
    refused = await client.post("/auth/password", json=change)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/csrf-header-missing"
    assert (await client.get("/users/me")).status_code == 200  # nothing changed, still in

    allowed = await client.post("/auth/password", json=change, headers={"X-Requested-With": "spa"})
    assert allowed.status_code == 200, allowed.text


async def test_an_ended_sessions_cookie_is_cleared_with_the_401(app_factory):
    app = app_factory(session_idle_timeout_seconds=2)
    async with client_for(app) as browser:
        user = await make_user(app)
        await browser.post("/auth/token", data={"username": user["username"], "password": PASSWORD})
        assert (await browser.get("/users/me")).status_code == 200
        await travel(app, 2.5)
        ended = await browser.get("/users/me")
        assert ended.status_code == 401
        assert ended.json()["type"] == "/problems/session-expired"
        cookie = ended.headers["set-cookie"]
        assert cookie.startswith("__Host-lpl_session=") and "Max-Age=0" in cookie
        assert not browser.cookies.get("__Host-lpl_session")
        # a wrong password at the login form is no reason to clear anything
        failed = await browser.post(
            "/auth/token", data={"username": user["username"], "password": "not it at all"}
        )
        assert failed.status_code == 401 and "set-cookie" not in failed.headers


async def test_bearer_changes_need_no_csrf_header(app, client):
    _, token = await user_token(app, client)
    async with client_for(app) as fresh:  # no cookie jar: bearer only
        assert (await fresh.post("/auth/logout", headers=bearer(token))).status_code == 204


async def test_client_credentials_for_integrations_only(app, client):
    from tests.factories import make_firm

    firm = await make_firm(app)
    integration = await make_user(app, role="integration", firm_id=firm, scopes=["quotes:read"])
    person = await make_user(app)
    ok = await client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": integration["username"],
            "client_secret": integration["password"],
        },
    )
    assert ok.status_code == 200 and "set-cookie" not in ok.headers
    as_person = await client.post(
        "/auth/token", data={"username": integration["username"], "password": PASSWORD}
    )
    assert as_person.status_code == 401
    person_as_client = await client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": person["username"],
            "client_secret": PASSWORD,
        },
    )
    assert person_as_client.status_code == 401
    assert as_person.json()["detail"] == person_as_client.json()["detail"]


async def test_a_login_posted_from_another_sites_page_is_refused(app, client):
    """Login CSRF: another site's form would log the victim's browser into its account."""
    from tests.factories import make_user

    user = await make_user(app)
    form = {"username": user["username"], "password": user["password"]}
    forged = await client.post("/auth/token", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    own = await client.post("/auth/token", data=form, headers={"Origin": "https://testserver"})
    assert own.status_code == 200 and "set-cookie" in own.headers
    plain = await client.post("/auth/token", data=form)  # an integration, curl: no Origin
    assert plain.status_code == 200


def test_a_wildcard_cors_origin_is_refused():
    import pytest
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        Settings(cors_origins="https://spa.example, *")
