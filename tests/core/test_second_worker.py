"""Stateless processes: a real second server process (`python -m app serve`) on the same
database honours the sessions, logouts, lockouts and disables of the in-process app, and the
audit events both write form one verifiable trail."""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from app.audit import service as audit_service
from tests.conftest import TEST_SECRET, client_for
from tests.factories import PASSWORD, audit_events, bearer, login, make_user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def worker(database_url: str) -> Iterator[str]:
    """The base URL of a second server process, started once for this module."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://"),
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUDIT_SEAL_INTERVAL_SECONDS": "0",
        "LOCKOUT_THRESHOLD": "3",
        "AUTH_RATE_LIMIT": "1000",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("AUDIT_KEY", None)
    # the server's output goes to a file, not a pipe: a chatty server never blocks on it
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode()[-3000:]
                    pytest.fail(f"the second server did not start:\n{output}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def test_the_second_process_is_ready_at_the_same_migration(app, client, worker):
    async with httpx.AsyncClient(base_url=worker) as other:
        ready = await other.get("/readyz")
    assert ready.json()["migration"] == (await client.get("/readyz")).json()["migration"]


async def test_a_token_from_one_process_works_in_the_other_and_logout_ends_it_in_both(
    app, client, worker
):
    user = await make_user(app)
    token = await login(client, user["username"])
    async with httpx.AsyncClient(base_url=worker) as other:
        me = await other.get("/users/me", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(user["id"])
        [read] = await audit_events(app, action="user.read")
        assert read["request_id"] == me.headers["x-request-id"]
        assert read["actor_id"] == user["id"]

        logout = await other.post("/auth/logout", headers=bearer(token))
        assert logout.status_code == 204
        again = await other.get("/users/me", headers=bearer(token))
        assert again.status_code == 401
    refused = await client.get("/users/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/session-revoked"

    # and the other way round: a session opened by the second process works here
    async with httpx.AsyncClient(base_url=worker) as other:
        opened = await other.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
    assert opened.status_code == 200
    here = await client.get("/users/me", headers=bearer(opened.json()["access_token"]))
    assert here.status_code == 200


async def test_a_lockout_reached_in_one_process_holds_in_the_other(app_factory, worker):
    app = app_factory(lockout_threshold=3)
    user = await make_user(app)
    admin = await make_user(app, role="admin")
    async with httpx.AsyncClient(base_url=worker) as other:
        for _ in range(3):
            failed = await other.post(
                "/auth/token", data={"username": user["username"], "password": "not the one, no"}
            )
            assert failed.status_code == 401
        still_locked = await other.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        assert still_locked.status_code == 401
    async with client_for(app) as client:
        locked = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        assert locked.status_code == 401
        assert locked.json() == {**failed.json(), "request_id": locked.json()["request_id"]}
        async with app.state.database.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT failed_login_count, locked_until FROM app_user WHERE id = :id"),
                    {"id": user["id"]},
                )
            ).one()
        assert row.failed_login_count == 3 and row.locked_until is not None
        assert len(await audit_events(app, action="auth.lockout")) == 1

        admin_token = await login(client, admin["username"])
        unlocked = await client.post(f"/users/{user['id']}/unlock", headers=bearer(admin_token))
        assert unlocked.status_code == 200
    async with httpx.AsyncClient(base_url=worker) as other:
        after = await other.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
    assert after.status_code == 200


async def test_disabling_in_one_process_ends_sessions_in_the_other(app, client, worker):
    user = await make_user(app)
    admin = await make_user(app, role="admin")
    admin_token = await login(client, admin["username"])
    async with httpx.AsyncClient(base_url=worker) as other:
        opened = await other.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
        token = opened.json()["access_token"]
        assert (await other.get("/users/me", headers=bearer(token))).status_code == 200
        disabled = await client.post(f"/users/{user['id']}/disable", headers=bearer(admin_token))
        assert disabled.status_code == 200
        refused = await other.get("/users/me", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["type"] == "/problems/session-revoked"


async def test_both_processes_write_one_verifiable_trail(app, client, worker):
    user = await make_user(app)
    token = await login(client, user["username"])
    async with httpx.AsyncClient(base_url=worker) as other:
        for _ in range(3):
            assert (await other.get("/users/me", headers=bearer(token))).status_code == 200
            assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    engine, key = app.state.database.engine, app.state.audit_key
    deadline = time.monotonic() + 15
    while True:  # other databases' transactions on a shared server may hold a seal back
        await audit_service.seal(engine, key)
        async with engine.connect() as conn:
            sealed = await conn.scalar(text("SELECT coalesce(sum(event_count), 0) FROM audit_seal"))
        if sealed == 7 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert sealed == 7
    assert await audit_service.verify(engine, key) == (7, [])
