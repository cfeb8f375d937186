"""A live server for the hostile tests that call the service as a client does: `python -m app
serve` in a process of its own, on a database of its own, with one user per role logged in.

Started once per pytest process, the first time a test asks for `live_server`, and stopped at the
end of the run; the tests that use it share the xdist group "fuzz", so one worker starts it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.accounts.roles import INTEGRATION_SCOPES
from app.core.migrations import upgrade_to_head
from tests.applications.test_api import form_json
from tests.conftest import _TURNS, TEST_SECRET, _admin
from tests.factories import PASSWORD

# The callers: no one, and one user of each of these roles (a person, or an integration of the
# firm with every scope there is).
ROLES = ("anonymous", "lawyer", "firm_admin", "integration", "underwriter", "auditor", "admin")
WORKED_EXAMPLE = {"program_year": 2025, "effective_date": "2025-01-01", "payment_plan": "quarterly"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    log: IO[bytes]
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # ids of records that exist, by the path parameter that names them
    known: dict[str, list[str]] = field(default_factory=dict)
    cases: int = 0  # requests the fuzz tests made of it

    def login(self, role: str) -> str:
        """A new session (a bearer token) for the role's user."""
        response = httpx.post(f"{self.base_url}/auth/token", data=self.credentials[role])
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def headers(self, role: str, token: str | None = None) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {token or self.tokens[role]}"}

    def server_log(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def _start(env: dict[str, str], log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"the server did not start:\n{log.read().decode()[-3000:]}")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _seed(server: LiveServer, env: dict[str, str]) -> None:
    """An admin made at the console (`python -m app users create`), then through the API: a
    firm, a user of each role, a quote, a draft application and a policy."""
    admin = f"fuzz-admin-{secrets.token_hex(3)}"
    command = [sys.executable, "-m", "app", "users", "create", "--password-stdin"]
    made = subprocess.run(
        [*command, "--username", admin, "--role", "admin"],
        env=env,
        input=f"{PASSWORD}\n".encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr.decode()
    server.credentials["admin"] = {"username": admin, "password": PASSWORD}
    server.tokens["admin"] = server.login("admin")

    with httpx.Client(base_url=server.base_url, headers=server.headers("admin")) as api:
        firm = _created(
            api.post("/firms", json={"name": "Fuzz LLP", "firm_number": secrets.token_hex(4)})
        )
        target = None
        for role in (*ROLES[1:-1], "target"):
            body: dict[str, Any] = {
                "username": f"fuzz-{role}-{secrets.token_hex(3)}".replace("_", "-"),
                "role": "lawyer" if role == "target" else role,
            }
            if role in ("lawyer", "firm_admin", "integration", "target"):
                body["firm_id"] = firm["id"]
            if role == "integration":
                body["scopes"] = sorted(INTEGRATION_SCOPES)
            else:
                body["password"] = PASSWORD
            user = _created(api.post("/users", json=body))
            if role == "target":
                target = user  # a user the admin may disable, change and unlock: no one's session
            elif role == "integration":
                server.credentials[role] = {
                    "grant_type": "client_credentials",
                    "client_id": user["username"],
                    "client_secret": user["client_secret"],
                }
            else:
                server.credentials[role] = {"username": user["username"], "password": PASSWORD}
        assert target is not None
    for role in ROLES[1:-1]:
        server.tokens[role] = server.login(role)

    with httpx.Client(base_url=server.base_url, headers=server.headers("lawyer")) as lawyer:
        quote = _created(lawyer.post("/quotes", json=WORKED_EXAMPLE))
        draft = _created(
            lawyer.post(
                "/applications", json={"program_year": 2026, "form": {"a": {"name": "Ada Lawyer"}}}
            )
        )
        complete = _created(
            lawyer.post("/applications", json={"program_year": 2025, "form": form_json()})
        )
        _created(lawyer.post(f"/applications/{complete['id']}/submit"))
    decided = _created(
        httpx.post(
            f"{server.base_url}/applications/{complete['id']}/decision",
            json={"decision": "approve", "note": "seeded for the fuzz run"},
            headers=server.headers("underwriter"),
        )
    )
    server.known = {
        "application_id": [draft["id"], complete["id"]],
        "quote_id": [quote["id"]],
        "policy_id": [decided["policy"]["id"]],
        "user_id": [target["id"]],
        "firm_id": [firm["id"]],
    }


@pytest.fixture(scope="session")
def live_server(server_url: str) -> Iterator[LiveServer]:
    """The service as a client sees it: its own process on a fresh database, seeded."""
    name = f"lpl_fuzz_{os.getpid()}_{secrets.token_hex(3)}"
    database_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://"),
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUDIT_SEAL_INTERVAL_SECONDS": "0",
        # thousands of requests from one address, many of them wrong passwords on purpose
        "AUTH_RATE_LIMIT": "1000000",
        "ANONYMOUS_RATE_LIMIT": "1000000",
        "LOCKOUT_THRESHOLD": "1000000",
        # No write of the server's own between requests: the counted anonymous refusals are
        # written when the window closes (here: at shutdown, in a turn), and the sealer is off.
        # A write in flight while another worker runs a serial test would change what a seal takes.
        "ANONYMOUS_WINDOW_SECONDS": "86400",
        "LOG_LEVEL": "WARNING",
    }
    for unset in ("AUDIT_KEY", "METRICS_TOKEN", "TRUSTED_PROXIES"):
        env.pop(unset, None)
    # the writes of setting up: not while another worker runs a serial (server-wide) test
    with _TURNS.hold(exclusive=False):
        asyncio.run(
            _admin(
                server_url,
                f'CREATE DATABASE "{name}"',
                f'ALTER DATABASE "{name}" SET synchronous_commit = off',
            )
        )
    try:
        with tempfile.TemporaryFile() as log:
            with _TURNS.hold(exclusive=False):
                upgrade_to_head(database_url)
                proc, base = _start(env, log)
                try:
                    _wait_ready(proc, base, log)
                    server = LiveServer(base_url=base, database_url=database_url, log=log)
                    _seed(server, env)
                except BaseException:
                    _stop(proc)
                    raise
            try:
                yield server
            finally:
                with _TURNS.hold(exclusive=False):  # it writes the counted refusals as it stops
                    _stop(proc)
                # seen with `-s` (the terminal summary below counts them in any run)
                print(f"\nfuzz: {server.cases} cases sent to the live server")
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The number of cases the fuzz tests generated, summed over their reports (each test
    records its own: `fuzz_cases`), so it is counted on the controller of a parallel run too.
    That controller loads this file only when it is given tests under tests/hostile (`pytest
    tests/hostile/test_fuzz.py`); in a one-process run (`-n 0`) it always does."""
    reports = [
        report
        for key in ("passed", "failed", "xfailed", "xpassed")
        for report in terminalreporter.stats.get(key, [])
        if getattr(report, "when", None) == "call"
    ]
    counts = [
        value
        for report in reports
        for name, value in getattr(report, "user_properties", [])
        if name == "fuzz_cases"
    ]
    if counts:
        terminalreporter.write_sep(
            "-", f"fuzz: {sum(counts)} cases generated over {len(counts)} operation x role runs"
        )
