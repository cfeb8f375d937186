"""Access tokens over HTTP: forgeries of every kind are refused with 401 problem+json, and the
grants (a person's password, an integration's client credentials) do not cross over."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from jose import jwt

from app.core import tokens
from tests.conftest import TEST_SECRET, client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_firm, make_user

ATTACKER_KEY = "the-attackers-own-key-" * 2
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def b64url(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def sign(claims: dict[str, Any], *, key: str = TEST_SECRET, algorithm: str = tokens.ALGORITHM):
    return jwt.encode(claims, key, algorithm=algorithm)


def with_header(token: str, header: dict[str, Any], signature: str | None = None) -> str:
    """The token's payload under another header (and its own signature, unless given)."""
    _, payload, original = token.split(".")
    return f"{b64url(header)}.{payload}.{original if signature is None else signature}"


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/users/me", headers=bearer(token))


async def assert_refused(
    client: httpx.AsyncClient, token: str, slug: str = "invalid-token"
) -> dict[str, Any]:
    response = await me(client, token)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].split(";")[0] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == 401
    assert set(body) <= PROBLEM_KEYS, body
    assert body["request_id"] == response.headers["x-request-id"]
    for leak in ("Traceback", 'File "', "jose", "JWTError", "Signature verification"):
        assert leak not in response.text
    return body


@pytest.fixture
async def session(app: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    """A logged-in lawyer: the real token and its claims (a live session's `sid`, so that a
    forgery built from them would get in if the token checks let it through)."""
    user = await make_user(app)
    token = await login(client, user["username"])
    claims = jwt.get_unverified_claims(token)
    assert (await me(client, token)).status_code == 200
    return {"user": user, "token": token, "claims": claims}


async def test_the_issued_token_has_the_pinned_algorithm_and_claims(app, client, session):
    settings = app.state.settings
    header = jwt.get_unverified_header(session["token"])
    claims = session["claims"]
    assert header["alg"] == tokens.ALGORITHM == "HS256"
    assert claims["token_use"] == tokens.TOKEN_USE
    assert claims["aud"] == settings.jwt_audience and claims["iss"] == settings.jwt_issuer
    assert claims["sub"] == str(session["user"]["id"])
    assert claims["exp"] > claims["iat"]
    # the control for every test below: the same claims, signed as the server signs, get in
    resigned = sign(claims)
    assert (await me(client, resigned)).status_code == 200


def _none_token(claims: dict[str, Any], alg: str = "none") -> str:
    return f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url(claims)}."


def _flip_first(signature: str) -> str:
    # the first character carries six whole bits of the MAC (the last one only four)
    return ("B" if signature[0] == "A" else "A") + signature[1:]


def _now() -> int:
    return int(time.time())


FORGERIES: dict[str, Callable[[str, dict[str, Any]], str]] = {
    "alg-none": lambda _t, c: _none_token(c),
    "alg-None": lambda _t, c: _none_token(c, "None"),
    "alg-NONE": lambda _t, c: _none_token(c, "NONE"),
    "alg-none-with-the-real-signature": lambda t, c: with_header(t, {"alg": "none"}),
    "alg-missing": lambda t, c: with_header(t, {"typ": "JWT"}),
    "hs512-right-key": lambda _t, c: sign(c, algorithm="HS512"),
    "hs384-right-key": lambda _t, c: sign(c, algorithm="HS384"),
    "rs256-header-real-signature": lambda t, c: with_header(t, {"alg": "RS256", "typ": "JWT"}),
    "rs256-header-no-signature": lambda t, c: with_header(t, {"alg": "RS256"}, signature=""),
    "es256-header": lambda t, c: with_header(t, {"alg": "ES256", "typ": "JWT"}),
    "wrong-key": lambda _t, c: sign(c, key="not-the-server-key-" * 3),
    "embedded-jwk-with-attackers-key": lambda _t, c: jwt.encode(
        c,
        ATTACKER_KEY,
        algorithm="HS256",
        headers={"jwk": {"kty": "oct", "k": b64url(ATTACKER_KEY.encode())}, "kid": "attacker"},
    ),
    "empty-key": lambda _t, c: sign(c, key=""),
    "wrong-audience": lambda _t, c: sign({**c, "aud": "another-api"}),
    "audience-missing": lambda _t, c: sign({k: v for k, v in c.items() if k != "aud"}),
    "wrong-issuer": lambda _t, c: sign({**c, "iss": "someone-else"}),
    "issuer-missing": lambda _t, c: sign({k: v for k, v in c.items() if k != "iss"}),
    "token-use-missing": lambda _t, c: sign({k: v for k, v in c.items() if k != "token_use"}),
    "token-use-refresh": lambda _t, c: sign({**c, "token_use": "refresh"}),
    "token-use-id": lambda _t, c: sign({**c, "token_use": "id"}),
    "exp-missing": lambda _t, c: sign({k: v for k, v in c.items() if k != "exp"}),
    "not-yet-valid": lambda _t, c: sign({**c, "nbf": _now() + 3600}),
    "sub-not-a-uuid": lambda _t, c: sign({**c, "sub": "admin"}),
    "sid-missing": lambda _t, c: sign({k: v for k, v in c.items() if k != "sid"}),
    "unknown-role": lambda _t, c: sign({**c, "role": "superuser"}),
    "payload-tampered": lambda t, c: (
        f"{t.split('.')[0]}.{b64url({**c, 'role': 'admin'})}.{t.split('.')[2]}"
    ),
    "signature-flipped": lambda t, c: t.rsplit(".", 1)[0] + "." + _flip_first(t.split(".")[2]),
    "signature-stripped": lambda t, c: t.rsplit(".", 1)[0] + ".",
    "truncated": lambda t, c: t[: len(t) // 2],
    "two-parts": lambda t, c: ".".join(t.split(".")[:2]),
    "garbage": lambda _t, c: "garbage",
    "dots": lambda _t, c: "...",
    "junk-parts": lambda _t, c: "a.b.c",
    "header-not-json": lambda t, c: f"{b64url(b'not json')}.{t.split('.', 1)[1]}",
    "binary": lambda _t, c: b64url(bytes(range(64))),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_token_is_refused(client, session, forge):
    forged = forge(session["token"], session["claims"])
    assert forged != session["token"]
    await assert_refused(client, forged)
    # the forgery ended nothing: the real token still works
    assert (await me(client, session["token"])).status_code == 200


async def test_expired_token_signed_correctly_is_refused_as_expired(client, session):
    past = _now() - 30
    expired = sign({**session["claims"], "iat": past - 60, "nbf": past - 60, "exp": past})
    body = await assert_refused(client, expired, slug="session-expired")
    assert "log in again" in body["detail"]


async def test_validly_signed_token_for_a_session_that_never_existed(client, session):
    claims = {**session["claims"], "sid": str(uuid.uuid4())}
    await assert_refused(client, sign(claims), slug="session-revoked")


async def test_validly_signed_token_for_another_users_session(app, client, session):
    other = await make_user(app)
    claims = {**session["claims"], "sub": str(other["id"]), "preferred_username": other["username"]}
    await assert_refused(client, sign(claims), slug="session-revoked")


async def test_validly_signed_token_claiming_more_rights_is_refused(client, session):
    await assert_refused(client, sign({**session["claims"], "role": "admin"}), "session-revoked")


async def test_forged_token_in_the_cookie_is_refused_too(app, session):
    name = app.state.settings.session_cookie_name
    async with client_for(app) as browser:
        forged = {"Cookie": f"{name}={_none_token(session['claims'])}"}
        response = await browser.get("/users/me", headers=forged)
        assert response.status_code == 401
        assert response.json()["type"] == "/problems/invalid-token"
        real = {"Cookie": f"{name}={session['token']}"}
        assert (await browser.get("/users/me", headers=real)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc", "bearer-token abc"],
)
async def test_missing_or_other_scheme_credentials_answer_401(client, authorization):
    response = await client.get("/users/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/not-authenticated"


async def test_refused_tokens_are_audited_as_refusals(app, client, session):
    await assert_refused(client, _none_token(session["claims"]))
    refusals = await audit_events(app, action="user.read", outcome="denied")
    assert len(refusals) == 1
    assert refusals[0]["details"] == {"status": 401, "problem": "invalid-token"}


# --- grants: people log in with a password, integrations with client credentials ---


def client_credentials(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def test_integration_gets_a_token_by_client_credentials_without_a_cookie(app, client):
    firm = await make_firm(app)
    integration = await make_user(app, role="integration", firm_id=firm, scopes=["quotes:read"])
    response = await client.post(
        "/auth/token", data=client_credentials(integration["username"], integration["password"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    assert "set-cookie" not in response.headers
    assert not client.cookies
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["role"] == "integration" and claims["firm"] == str(firm)
    assert claims["scope"] == "quotes:read"
    mine = await client.get("/users/me", headers=bearer(body["access_token"]))
    assert mine.status_code == 200 and mine.json()["username"] == integration["username"]
    [event] = await audit_events(app, action="auth.login", outcome="success")
    assert event["details"] == {"grant_type": "client_credentials"}


async def test_grants_do_not_cross_over_and_fail_alike(app, client):
    firm = await make_firm(app)
    integration = await make_user(app, role="integration", firm_id=firm)
    person = await make_user(app)
    integration_by_password = await client.post(
        "/auth/token", data={"username": integration["username"], "password": PASSWORD}
    )
    person_by_client_credentials = await client.post(
        "/auth/token", data=client_credentials(person["username"], PASSWORD)
    )
    wrong_secret = await client.post(
        "/auth/token", data=client_credentials(integration["username"], "not the secret at all")
    )
    unknown_client = await client.post(
        "/auth/token", data=client_credentials("NO-SUCH-CLIENT", PASSWORD)
    )
    answers = [integration_by_password, person_by_client_credentials, wrong_secret, unknown_client]
    shapes = set()
    for answer in answers:
        assert answer.status_code == 401
        assert "set-cookie" not in answer.headers
        body = answer.json()
        body.pop("request_id")
        shapes.add((answer.headers["www-authenticate"], json.dumps(body, sort_keys=True)))
    assert len(shapes) == 1, shapes
    assert json.loads(shapes.pop()[1])["type"] == "/problems/invalid-credentials"
    # each still logs in by its own grant
    await login(client, person["username"])
    ok = await client.post(
        "/auth/token", data=client_credentials(integration["username"], integration["password"])
    )
    assert ok.status_code == 200


async def test_unsupported_grant_and_missing_fields(client):
    other = await client.post("/auth/token", data={"grant_type": "implicit", "username": "X"})
    assert other.status_code == 400
    assert other.json()["type"] == "/problems/unsupported-grant-type"
    missing = await client.post("/auth/token", data={"grant_type": "client_credentials"})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"client_id", "client_secret"}
