"""Stateless processes: a second server process honours the first one's sessions and lockouts."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import TEST_SECRET, client_for
from tests.factories import PASSWORD, bearer, login, make_user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def second_worker(database_url):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUDIT_SEAL_INTERVAL_SECONDS": "0",
        "LOCKOUT_THRESHOLD": "3",
        "AUTH_RATE_LIMIT": "1000",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "no server")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


async def test_sessions_are_shared_between_processes(app, client, second_worker):
    user = await make_user(app)
    token = await login(client, user["username"])
    async with httpx.AsyncClient(base_url=second_worker) as other:
        me = await other.get("/users/me", headers=bearer(token))
        assert me.status_code == 200 and me.json()["username"] == user["username"]
        assert (await other.post("/auth/logout", headers=bearer(token))).status_code == 204
    refused = await client.get("/users/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["type"] == "/problems/session-revoked"


async def test_lockouts_are_shared_between_processes(app_factory, second_worker):
    app = app_factory(lockout_threshold=3)
    user = await make_user(app)
    async with httpx.AsyncClient(base_url=second_worker) as other:
        for _ in range(3):
            failed = await other.post(
                "/auth/token", data={"username": user["username"], "password": "wrong"}
            )
            assert failed.status_code == 401
    async with client_for(app) as client:
        locked = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
    assert locked.status_code == 401
