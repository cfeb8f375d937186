"""Passwords over HTTP: the policy on change (15-128 characters, not common, not the username),
passphrases compared exactly as typed, and reset by a one-time code from the e-mail outbox."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_user, user_token

USERNAME = "98765A"
WRONG = "not my current password"


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def change(
    client: httpx.AsyncClient, token: str, new: str, current: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


async def outbox(app: Any) -> list[Any]:
    async with app.state.database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT to_address, subject, body, template FROM outbox_email ORDER BY created_at")
        )
        return list(rows)


def code_in(body: str) -> str:
    # the mail's one-time code: the long URL-safe token on a line of its own
    [code] = re.findall(r"^\s*([A-Za-z0-9_-]{32,})\s*$", body, flags=re.MULTILINE)
    return code


@pytest.fixture
async def lawyer(app: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    user = await make_user(app, username=USERNAME, email="lawyer@example.com")
    user["token"] = await login(client, USERNAME)
    return user


# --- the policy, on POST /auth/password ---


@pytest.mark.parametrize(
    ("new_password", "code"),
    [
        ("fourteen chars", "too_short"),  # 14
        ("short", "too_short"),
        ("x" * 100 + " and then some more words past 128" + "y" * 10, "too_long"),
        ("a" * 129, "too_long"),
        ("passwordpassword", "common_password"),
        ("123456789012345", "common_password"),
        ("qwertyuiopasdfgh", "common_password"),
        ("PasswordPassword", "common_password"),
        ("password1234567", "common_password"),
        ("iloveyou iloveyou iloveyou", "common_password"),
        ("my bar number is 98765A, remember", "contains_username"),
        ("my bar number is 98765a, remember", "contains_username"),
    ],
)
async def test_a_new_password_breaking_the_policy_is_refused(
    app, client, lawyer, new_password, code
):
    response = await change(client, lawyer["token"], new_password)
    body = assert_problem(response, 422)
    assert body["type"] == "/problems/invalid-input"
    assert {(e["field"], e["code"]) for e in body["errors"]} == {("new_password", code)}
    assert all(e["message"] for e in body["errors"])
    # nothing changed: the old password still logs in, the new one does not
    assert (await attempt(client, USERNAME, new_password)).status_code == 401
    await login(client, USERNAME, PASSWORD)


async def test_several_broken_rules_are_all_named(client, lawyer):
    response = await change(client, lawyer["token"], "98765A")
    codes = {(e["field"], e["code"]) for e in assert_problem(response, 422)["errors"]}
    assert codes == {("new_password", "too_short"), ("new_password", "contains_username")}


@pytest.mark.parametrize("length", [15, 128])
async def test_the_length_limits_are_inclusive(client, lawyer, length):
    words = "heron marsh tide lantern "
    new = (words * 10)[: length - 1] + "!"
    assert len(new) == length
    assert (await change(client, lawyer["token"], new)).status_code == 200
    await login(client, USERNAME, new)


async def test_the_current_password_must_be_right(app, client, lawyer):
    response = await change(client, lawyer["token"], "a fine new passphrase", current=WRONG)
    body = assert_problem(response, 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("current_password", "incorrect")]
    await login(client, USERNAME, PASSWORD)
    async with app.state.database.engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT failed_login_count FROM app_user WHERE id = :id"), {"id": lawyer["id"]}
        )
    assert count == 0  # the successful login after it reset the count it added


async def test_the_new_password_must_differ(client, lawyer):
    response = await change(client, lawyer["token"], PASSWORD)
    body = assert_problem(response, 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("new_password", "unchanged")]


PASSPHRASES = [
    "Très long mot de passe à retenir",
    "Ünïcode passphrase with  two spaces",
    "日本語のパスフレーズはとても長いです",
    "🦉 owls 🦉 hoot at midnight 🌙",
    "  leading and trailing spaces  ",
]


@pytest.mark.parametrize("passphrase", PASSPHRASES)
async def test_passphrases_work_and_are_compared_exactly_as_typed(client, lawyer, passphrase):
    changed = await change(client, lawyer["token"], passphrase)
    assert changed.status_code == 200, changed.text
    await login(client, USERNAME, passphrase)
    variants = {
        passphrase.swapcase(),
        passphrase.upper(),
        passphrase.strip(),
        passphrase + " ",
        " ".join(passphrase.split()),
    } - {passphrase}
    assert variants
    for variant in variants:
        assert (await attempt(client, USERNAME, variant)).status_code == 401, variant
    assert (await attempt(client, USERNAME, PASSWORD)).status_code == 401  # the old one is gone


async def test_a_user_created_with_a_non_ascii_password_logs_in_exactly(app, client):
    user = await make_user(app, password="Ünïcode passphrase with spaces")
    await login(client, user["username"], "Ünïcode passphrase with spaces")
    for near in ("ünïcode passphrase with spaces", "Unicode passphrase with spaces"):
        assert (await attempt(client, user["username"], near)).status_code == 401


# --- reset by e-mailed one-time code ---


async def test_reset_request_answers_202_alike_for_known_and_unknown(app, client, lawyer):
    known = await client.post("/auth/password-reset", json={"username": USERNAME})
    unknown = await client.post("/auth/password-reset", json={"username": "NOBODY-404"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.headers["content-type"] == unknown.headers["content-type"]
    mails = await outbox(app)
    assert len(mails) == 1
    [mail] = mails
    assert mail.to_address == "lawyer@example.com" and mail.template == "password_reset"
    assert len(code_in(mail.body)) >= 32
    events = await audit_events(app, action="auth.password_reset_request")
    assert [e["outcome"] for e in events] == ["success", "failure"]
    assert code_in(mail.body) not in str([e["details"] for e in events])


async def test_reset_request_without_an_email_address_sends_nothing(app, client):
    user = await make_user(app)  # no e-mail
    response = await client.post("/auth/password-reset", json={"username": user["username"]})
    assert response.status_code == 202
    assert await outbox(app) == []


async def test_reset_by_code_sets_the_password_and_ends_every_session(app_factory):
    app = app_factory(lockout_threshold=3)
    async with client_for(app) as client:
        await make_user(app, username=USERNAME, email="lawyer@example.com")
        tokens = [await login(client, USERNAME) for _ in range(2)]
        for _ in range(3):  # locked out; the reset lifts the lock
            await attempt(client, USERNAME, WRONG)
        assert (await attempt(client, USERNAME, PASSWORD)).status_code == 401
        assert (await client.post("/auth/password-reset", json={"username": USERNAME})).is_success
        [mail] = await outbox(app)
        code = code_in(mail.body)

        new = "a passphrase chosen after the reset"
        done = await client.post(
            "/auth/password-reset/confirm", json={"token": code, "new_password": new}
        )
        assert done.status_code == 204 and done.content == b""
        for token in tokens:
            ended = await client.get("/users/me", headers=bearer(token))
            assert ended.status_code == 401
            assert ended.json()["type"] == "/problems/session-revoked"
        assert (await attempt(client, USERNAME, PASSWORD)).status_code == 401
        await login(client, USERNAME, new)
        [event] = await audit_events(app, action="auth.password_reset")
        assert event["details"] == {"sessions_ended": 2}

        # one time only
        again = await client.post(
            "/auth/password-reset/confirm",
            json={"token": code, "new_password": "yet another long passphrase"},
        )
        body = assert_problem(again, 422)
        assert [e["field"] for e in body["errors"]] == ["token"]
        await login(client, USERNAME, new)


async def test_a_wrong_reset_code_is_refused_naming_the_token(app, client, lawyer):
    await client.post("/auth/password-reset", json={"username": USERNAME})
    for guess in ("nope", "x" * 43):
        response = await client.post(
            "/auth/password-reset/confirm",
            json={"token": guess, "new_password": "a perfectly good passphrase"},
        )
        body = assert_problem(response, 422)
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("token", "invalid")]
    await login(client, USERNAME, PASSWORD)  # nothing changed


async def test_a_reset_with_a_weak_password_keeps_the_code_usable(app, client, lawyer):
    await client.post("/auth/password-reset", json={"username": USERNAME})
    [mail] = await outbox(app)
    code = code_in(mail.body)
    weak = await client.post(
        "/auth/password-reset/confirm", json={"token": code, "new_password": "passwordpassword"}
    )
    body = assert_problem(weak, 422)
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("new_password", "common_password")
    }
    good = await client.post(
        "/auth/password-reset/confirm",
        json={"token": code, "new_password": "the second try is a good one"},
    )
    assert good.status_code == 204
    await login(client, USERNAME, "the second try is a good one")


async def test_a_reset_code_is_stored_only_as_a_digest(app, client, lawyer):
    await client.post("/auth/password-reset", json={"username": USERNAME})
    [mail] = await outbox(app)
    code = code_in(mail.body)
    async with app.state.database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT token_digest FROM password_reset_token"))).all()
    assert len(rows) == 1 and rows[0].token_digest != code and code not in rows[0].token_digest


async def test_a_reset_code_of_one_user_cannot_be_replayed_after_use_by_anyone(app, client):
    first = await make_user(app, email="a@example.com")
    second = await make_user(app, email="b@example.com")
    for user in (first, second):
        await client.post("/auth/password-reset", json={"username": user["username"]})
    mails = {m.to_address: code_in(m.body) for m in await outbox(app)}
    assert len(set(mails.values())) == 2  # a fresh code each
    response = await client.post(
        "/auth/password-reset/confirm",
        json={"token": mails["b@example.com"], "new_password": "only the second user changes"},
    )
    assert response.status_code == 204
    await login(client, first["username"], PASSWORD)
    await login(client, second["username"], "only the second user changes")


async def test_admin_cannot_create_a_user_with_a_weak_password(app, client):
    _, admin = await user_token(app, client, role="admin")
    response = await client.post(
        "/users",
        json={"username": "12345B", "role": "lawyer", "password": "short"},
        headers=bearer(admin),
    )
    body = assert_problem(response, 422)
    assert ("password", "too_short") in {(e["field"], e["code"]) for e in body["errors"]}
