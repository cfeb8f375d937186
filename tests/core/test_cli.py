"""python -m app users create: the operator's way to make the first accounts."""

import os
import subprocess
import sys
import uuid

from tests.conftest import TEST_SECRET
from tests.factories import audit_events, login


def _run(database_url, *args, stdin=""):
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_users_create_reads_the_password_from_stdin(app, client, database_url):
    done = _run(
        database_url,
        "users",
        "create",
        "--username",
        "55555B",
        "--role",
        "lawyer",
        "--password-stdin",
        stdin="a passphrase typed at the console\n",
    )
    assert done.returncode == 0, done.stderr
    user_id = uuid.UUID(done.stdout.strip())
    await login(client, "55555B", "a passphrase typed at the console")
    [event] = await audit_events(app, action="user.create")
    assert event["resource_id"] == str(user_id) and event["actor_label"].startswith("console:")


async def test_users_create_refuses_bad_input(app, database_url):
    weak = _run(
        database_url,
        "users",
        "create",
        "--username",
        "W1",
        "--role",
        "lawyer",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode != 0 and "password" in weak.stderr
    unknown = _run(
        database_url,
        "users",
        "create",
        "--username",
        "W2",
        "--role",
        "wizard",
        "--password-stdin",
        stdin="a perfectly fine passphrase\n",
    )
    assert unknown.returncode != 0 and "role" in unknown.stderr
