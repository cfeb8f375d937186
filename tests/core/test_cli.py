"""`python -m app users create`: the operator's way to make accounts, run as a real process."""

import asyncio
import os
import subprocess
import sys
import uuid

from sqlalchemy import text

from tests.conftest import TEST_SECRET
from tests.factories import audit_events, bearer, login, make_firm

PASSPHRASE = "a passphrase typed at the console"


def _run(database_url, *args, stdin=""):
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://"),
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
    }
    env.pop("AUDIT_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _cli(database_url, *args, stdin=""):
    return await asyncio.to_thread(_run, database_url, *args, stdin=stdin)


async def _count_users(app, username):
    async with app.state.database.engine.connect() as conn:
        return await conn.scalar(
            text("SELECT count(*) FROM app_user WHERE lower(username) = lower(:u)"),
            {"u": username},
        )


async def test_users_create_reads_the_password_from_stdin_and_prints_the_id(
    app, client, database_url
):
    firm = await make_firm(app)
    done = await _cli(
        database_url,
        "users",
        "create",
        "--username",
        "55555B",
        "--role",
        "lawyer",
        "--email",
        "l55555b@firm.example",
        "--firm-id",
        str(firm),
        "--password-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    user_id = uuid.UUID(line.strip())
    assert PASSPHRASE not in done.stdout + done.stderr

    token = await login(client, "55555B", PASSPHRASE)
    me = (await client.get("/users/me", headers=bearer(token))).json()
    assert me["id"] == str(user_id) and me["role"] == "lawyer"
    assert me["firm_id"] == str(firm) and me["email"] == "l55555b@firm.example"
    [event] = await audit_events(app, action="user.create")
    assert event["resource_id"] == str(user_id)
    assert event["actor_role"] == "operator" and event["actor_label"].startswith("console:")
    assert event["request_id"].startswith("cli-")


async def test_users_create_refuses_bad_input_with_a_message(app, database_url):
    firm = await make_firm(app)
    create = ("users", "create", "--password-stdin")
    weak, unknown_role, no_firm, bad_firm = await asyncio.gather(
        _cli(database_url, *create, "--username", "W1", "--role", "lawyer", stdin="short\n"),
        _cli(
            database_url, *create, "--username", "W2", "--role", "wizard", stdin=PASSPHRASE + "\n"
        ),
        _cli(
            database_url,
            *create,
            "--username",
            "W3",
            "--role",
            "firm_admin",
            stdin=PASSPHRASE + "\n",
        ),
        _cli(
            database_url,
            *create,
            "--username",
            "W4",
            "--role",
            "lawyer",
            "--firm-id",
            str(uuid.uuid4()),
            stdin=PASSPHRASE + "\n",
        ),
    )
    assert weak.returncode != 0 and "password" in weak.stderr.lower()
    assert "15" in weak.stderr  # says what is needed
    assert unknown_role.returncode != 0 and "role" in unknown_role.stderr.lower()
    assert no_firm.returncode != 0 and "firm_id" in no_firm.stderr
    assert bad_firm.returncode != 0 and "firm_id" in bad_firm.stderr
    for done in (weak, unknown_role, no_firm, bad_firm):
        assert done.stdout.strip() == "" and "Traceback" not in done.stderr
    for name in ("W1", "W2", "W3", "W4"):
        assert await _count_users(app, name) == 0
    assert firm  # the firm exists; only the unknown one was refused


async def test_users_create_refuses_a_taken_username(app, database_url):
    args = ("users", "create", "--role", "claims", "--password-stdin")
    first = await _cli(database_url, *args, "--username", "Dup.User", stdin=PASSPHRASE + "\n")
    assert first.returncode == 0, first.stderr
    second = await _cli(database_url, *args, "--username", "DUP.USER", stdin=PASSPHRASE + "\n")
    assert second.returncode != 0 and "taken" in second.stderr
    assert await _count_users(app, "dup.user") == 1
