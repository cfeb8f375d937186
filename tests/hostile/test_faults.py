"""Faults against real processes: a throwaway PostgreSQL cluster (initdb in a temporary folder,
its own port) restarted and crashed under a load of concurrent writes to a real server process
(`python -m app serve`), and a throwaway Redis killed and started again under logins.

What must hold: no answer is a 500 (a write answers 201, or 503 with Retry-After while the
database is away, or the connection fails); every acknowledged write is a row afterwards with
exactly one `quote.create` audit event (and no quote exists without its event); the service
recovers by itself once PostgreSQL is back (/readyz 200, writes 201) and once Redis is back
(/readyz says the rate limits are shared again). Counts are printed (see them with -rP).

A 503 does not mean that nothing was written: a COMMIT that PostgreSQL made durable just before
it crashed can lose its answer with the connection. Such rows are counted, not refused (they
have their audit event like any other).

Everything started here is stopped, and every temporary folder removed, in `finally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import TEST_SECRET

# One group, one worker: the module's cluster and service are made once. (With pytest 9.2 and
# pytest-xdist 3.8, loadgroup ignores groups, pytest-xdist issue #1386: each worker that gets a
# test then makes its own cluster; no test depends on another's.)
pytestmark = pytest.mark.xdist_group("faults")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAWYER = "fault-lawyer"
PASSWORD = "faults: correct horse battery staple 7311"
QUOTE = {"program_year": 2025, "effective_date": "2025-01-01"}
CLIENTS = 6  # concurrent writers
RECOVERY_SECONDS = 5.0  # /readyz 200 and writes 201 again within this of PostgreSQL being back

# The counts of the module (printed by each test, cumulative).
TALLY: Counter[str] = Counter()
ACKNOWLEDGED: list[str] = []  # the ids of every quote answered 201


def _pg_bin() -> Path:
    candidates = [os.environ.get("LPL_PG_BIN"), "/usr/lib/postgresql/15/bin"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) found")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class Cluster:
    """A PostgreSQL cluster of its own in `folder`, listening on 127.0.0.1:`port` only.

    initdb refuses to run as root: then every PostgreSQL command runs as the `postgres` user
    (the folder is given to it)."""

    def __init__(self, folder: Path) -> None:
        self.bin = _pg_bin()
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = _free_port()
        self.as_owner: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a `postgres` user to run initdb as")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            self.as_owner = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/lpl"

    def _run(self, command: str, *args: str, timeout: float = 60) -> None:
        # output to a file, not a pipe: a postmaster started by pg_ctl must not hold our pipe
        with tempfile.TemporaryFile() as out:
            result = subprocess.run(
                [str(self.bin / command), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                timeout=timeout,
                check=False,
                **self.as_owner,
            )
            if result.returncode != 0:
                out.seek(0)
                raise RuntimeError(
                    f"{command} {' '.join(args)} failed ({result.returncode}):\n"
                    f"{out.read().decode(errors='replace')[-2000:]}\n{_tail(self.log)}"
                )

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "restart", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        try:
            if self.running():
                try:
                    self.stop("immediate")
                except (RuntimeError, subprocess.TimeoutExpired):
                    # the postmaster this cluster started, by the id in its pid file
                    pid = int((self.data / "postmaster.pid").read_text().split()[0])
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGQUIT)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _service_env(cluster: Cluster, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUDIT_SEAL_INTERVAL_SECONDS": "0",
        "AUTH_RATE_LIMIT": "100000",
        "RATE_LIMIT_STORAGE": "memory://",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("AUDIT_KEY", None)
    return env


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"python -m app {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result.stdout


@dataclass
class Service:
    """`python -m app serve` as a process of its own; its output goes to a file."""

    env: dict[str, str]
    folder: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / f"service-{self.port}.log"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(self.port), "--workers", "1"],
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the service did not start:\n{_tail(self.log)}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def errors_logged(self) -> list[str]:
        """Lines of the service's log that speak of an error of ours (a 500)."""
        return [
            line
            for line in _tail(self.log, 1_000_000).splitlines()
            if "database error" in line or "Traceback" in line or "Exception in ASGI" in line
        ]


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL, migrated to head, with one lawyer."""
    folder = Path(tempfile.mkdtemp(prefix="lpl-faults-pg-"))
    made: Cluster | None = None
    try:
        made = Cluster(folder)
        made.init()
        made.start()
        made._run("createdb", "-h", "127.0.0.1", "-p", str(made.port), "-U", "postgres", "lpl")
        env = _service_env(made)
        _cli(env, "migrate")
        _cli(
            env,
            *("users", "create", "--username", LAWYER, "--role", "lawyer", "--password-stdin"),
            stdin=PASSWORD + "\n",
        )
        yield made
    finally:
        if made is not None:
            made.destroy()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cluster(pg_cluster: Cluster) -> Iterator[Cluster]:
    """The module's cluster, running when a test starts and again after it: a test that fails
    with PostgreSQL stopped does not fail the next ones too."""
    if not pg_cluster.running():
        pg_cluster.start()
    yield pg_cluster
    if not pg_cluster.running():
        pg_cluster.start()


@pytest.fixture(scope="module")
def service(pg_cluster: Cluster) -> Iterator[Service]:
    """The service on the throwaway cluster, rate limits in memory."""
    folder = Path(tempfile.mkdtemp(prefix="lpl-faults-svc-"))
    made = Service(_service_env(pg_cluster), folder)
    try:
        made.start()
        yield made
    finally:
        made.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def _login(client: httpx.AsyncClient, username: str = LAWYER) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": PASSWORD})


async def _token(base: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await _login(client)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class Answer:
    started: float
    status: int | None  # None: the connection failed (no answer)
    error: str | None = None
    retry_after: str | None = None
    problem: str | None = None
    quote_id: str | None = None


async def _post_quote(client: httpx.AsyncClient, headers: dict[str, str]) -> Answer:
    started = time.monotonic()
    TALLY["writes attempted"] += 1
    try:
        response = await client.post("/quotes", json=QUOTE, headers=headers)
    except httpx.TransportError as exc:
        return Answer(started, None, error=type(exc).__name__)
    answer = Answer(started, response.status_code, retry_after=response.headers.get("retry-after"))
    if response.status_code == 201:
        answer.quote_id = response.json()["id"]
        ACKNOWLEDGED.append(answer.quote_id)
        TALLY["writes acknowledged"] += 1
    elif response.headers.get("content-type", "").startswith("application/problem+json"):
        answer.problem = response.json().get("type")
    return answer


def _unexpected(answers: list[Answer]) -> list[Answer]:
    """Answers other than 201, or 503 with Retry-After, or a failed connection."""
    return [
        a
        for a in answers
        if not (
            a.status == 201
            or a.status is None
            or (a.status == 503 and a.retry_after and a.problem == "/problems/service-unavailable")
        )
    ]


async def _ready_after(base: str, since: float, limit: float) -> float | None:
    """Seconds from `since` until /readyz answers 200 (None if not within `limit`)."""
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() - since < limit:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return time.monotonic() - since
            await asyncio.sleep(0.05)
    return None


async def _check_acknowledged(cluster: Cluster, ids: list[str]) -> dict[str, Any]:
    """Every acknowledged quote is a row with exactly one quote.create event; every quote row
    has exactly one such event (none committed without it)."""
    conn = await asyncpg.connect(cluster.url, timeout=10)
    try:
        rows = {str(r["id"]) for r in await conn.fetch("SELECT id FROM quote")}
        events = {
            r["resource_id"]: r["n"]
            for r in await conn.fetch(
                "SELECT resource_id, count(*) AS n FROM audit_event "
                "WHERE action = 'quote.create' AND outcome = 'success' GROUP BY resource_id"
            )
        }
    finally:
        await conn.close()
    TALLY["writes checked after the faults"] = len(set(ids))
    # a commit whose answer was lost with the connection: a 503 the client may retry
    TALLY["writes committed but not acknowledged"] = len(rows - set(ACKNOWLEDGED))
    return {
        "missing rows": sorted(set(ids) - rows),
        "acknowledged without exactly one event": sorted(
            i for i in set(ids) if events.get(i, 0) != 1
        ),
        "rows without exactly one event": sorted(r for r in rows if events.get(r, 0) != 1),
        "events without a row": sorted(set(events) - rows),
        "rows committed but not acknowledged": len(rows - set(ACKNOWLEDGED)),
    }


def _report(title: str, **details: Any) -> None:
    print(f"\n[{title}] " + ", ".join(f"{k}: {v}" for k, v in details.items()))
    print("[faults tally] " + ", ".join(f"{k}: {v}" for k, v in sorted(TALLY.items())))


async def test_postgres_restarted_and_crashed_under_load_loses_no_acknowledged_write(
    cluster: Cluster, service: Service
) -> None:
    headers = await _token(service.base)
    answers: list[Answer] = []
    stop = asyncio.Event()
    back_at: list[float] = []  # when PostgreSQL answered again after each fault

    async def writer() -> None:
        async with httpx.AsyncClient(base_url=service.base, timeout=15) as client:
            while not stop.is_set():
                answer = await _post_quote(client, headers)
                answers.append(answer)
                if answer.status != 201:
                    await asyncio.sleep(0.05)  # as a client told to retry would, only sooner

    async def faults() -> float | None:
        try:
            await asyncio.sleep(1.5)
            await asyncio.to_thread(cluster.restart, "fast")  # a clean restart
            TALLY["faults injected"] += 1
            back_at.append(time.monotonic())
            await asyncio.sleep(1.5)
            await asyncio.to_thread(cluster.stop, "immediate")  # a crash: recovery at start
            TALLY["faults injected"] += 1
            await asyncio.sleep(2.0)
            await asyncio.to_thread(cluster.start)
            back_at.append(time.monotonic())
            ready = await _ready_after(service.base, back_at[-1], RECOVERY_SECONDS)
            await asyncio.sleep(1.5)  # and writes go on for a while after
            return ready
        finally:
            stop.set()

    started = time.monotonic()
    results = await asyncio.gather(
        faults(), *(writer() for _ in range(CLIENTS)), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    ready_after = results[0]
    assert service.alive(), f"the service died:\n{_tail(service.log)}"

    by_status = Counter(a.status if a.status is not None else a.error for a in answers)
    after_crash = [a for a in answers if back_at and a.started >= back_at[-1]]
    first_success = min((a.started for a in after_crash if a.status == 201), default=None)

    # after the faults, new writes succeed without restarting the service
    fresh: list[Answer] = []
    async with httpx.AsyncClient(base_url=service.base, timeout=15) as client:
        for _ in range(5):
            fresh.append(await _post_quote(client, headers))
    check = await _check_acknowledged(cluster, ACKNOWLEDGED)
    _report(
        "postgres restart and crash under load",
        seconds=round(time.monotonic() - started, 1),
        answers=dict(by_status),
        ready_after_crash_s=None if ready_after is None else round(ready_after, 2),
        first_201_after_crash_s=(
            None if first_success is None else round(first_success - back_at[-1], 2)
        ),
        **{k: (v if isinstance(v, int) else len(v)) for k, v in check.items()},
    )

    assert by_status[201] > 0 and by_status[503] > 0, by_status  # the faults were felt
    assert not _unexpected(answers + fresh), _unexpected(answers + fresh)[:5]
    assert not service.errors_logged(), service.errors_logged()[:5]
    assert ready_after is not None, "/readyz did not answer 200 again after the crash"
    assert first_success is not None and first_success - back_at[-1] < RECOVERY_SECONDS
    assert [a.status for a in fresh] == [201] * 5, fresh
    assert check["missing rows"] == []
    assert check["acknowledged without exactly one event"] == []
    assert check["rows without exactly one event"] == []
    assert check["events without a row"] == []


async def test_a_longer_outage_answers_503_and_the_service_recovers_by_itself(
    cluster: Cluster, service: Service
) -> None:
    headers = await _token(service.base)
    async with httpx.AsyncClient(base_url=service.base, timeout=15) as client:
        made = await _post_quote(client, headers)
        assert made.status == 201, made
        reads = (f"/quotes/{made.quote_id}", "/users/me", "/quotes")

        await asyncio.to_thread(cluster.stop, "fast")
        TALLY["faults injected"] += 1
        down_at = time.monotonic()
        during: list[tuple[str, int, str | None]] = []
        writes: list[Answer] = []
        try:
            while time.monotonic() - down_at < 3.0:
                ready = await client.get("/readyz")
                during.append(("GET /readyz", ready.status_code, None))
                for path in reads:
                    read = await client.get(path, headers=headers)
                    during.append(
                        (f"GET {path}", read.status_code, read.headers.get("retry-after"))
                    )
                writes.append(await _post_quote(client, headers))
                login = await _login(client)
                during.append(
                    ("POST /auth/token", login.status_code, login.headers.get("retry-after"))
                )
                await asyncio.sleep(0.2)
        finally:
            await asyncio.to_thread(cluster.start)
        back_at = time.monotonic()
        ready_after = await _ready_after(service.base, back_at, RECOVERY_SECONDS)
        again = [(await client.get(path, headers=headers)).status_code for path in reads]
        fresh = [await _post_quote(client, headers) for _ in range(3)]

    check = await _check_acknowledged(cluster, ACKNOWLEDGED)
    # and the audit trail the faults cut into is whole: every event's MAC, the chain of seals
    verified = await asyncio.to_thread(_cli, _service_env(cluster), "audit", "verify", "--seal")
    _report(
        "postgres stopped for 3 s",
        audit=verified.strip(),
        answers_during=dict(Counter(f"{what} {status}" for what, status, _ in during)),
        writes_during=dict(Counter(a.status for a in writes)),
        ready_after_s=None if ready_after is None else round(ready_after, 2),
        reads_after=again,
        **{k: (v if isinstance(v, int) else len(v)) for k, v in check.items()},
    )

    assert service.alive(), f"the service died:\n{_tail(service.log)}"
    assert {status for what, status, _ in during if what == "GET /readyz"} == {503}
    others_during = [
        (what, status, retry) for what, status, retry in during if what != "GET /readyz"
    ]
    assert all(status == 503 and retry for _, status, retry in others_during), others_during
    assert {a.status for a in writes} == {503} and not _unexpected(writes), writes
    assert ready_after is not None, "/readyz did not answer 200 again after the outage"
    assert again == [200, 200, 200]
    assert [a.status for a in fresh] == [201] * 3, fresh
    assert not service.errors_logged(), service.errors_logged()[:5]
    assert check["missing rows"] == []
    assert check["acknowledged without exactly one event"] == []
    assert check["rows without exactly one event"] == []
    assert verified.startswith("audit trail intact"), verified


class Redis:
    """A throwaway redis-server on `port`: no persistence, its folder its own."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not on PATH")
        with (self.folder / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                    *("--appendonly", "no", "--dir", str(self.folder)),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while self.ping() != b"+PONG\r\n":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{_tail(self.folder / 'redis.log')}")
            time.sleep(0.05)

    def ping(self, command: bytes = b"PING\r\n") -> bytes:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(command)
                return s.recv(4096)
        except OSError:
            return b""

    def ratelimit_keys(self) -> bytes:
        return self.ping(b"KEYS lpl:ratelimit:*\r\n")

    def freeze(self, frozen: bool) -> None:
        """SIGSTOP: connections are accepted and never answered; SIGCONT: it goes on."""
        assert self.proc is not None and self.proc.poll() is None
        self.proc.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # (a stopped process dies of SIGKILL as well)
            self.proc.wait(5)
        self.proc = None


async def test_with_redis_killed_logins_go_on_and_readyz_says_degraded_until_it_is_back(
    cluster: Cluster,
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lpl-faults-redis-"))
    redis = Redis(folder, _free_port())
    service = Service(
        _service_env(cluster, RATE_LIMIT_STORAGE=f"redis://127.0.0.1:{redis.port}/0"), folder
    )
    logins: list[tuple[str, int]] = []
    slowest: Counter[str] = Counter()  # the slowest login of each phase, in ms

    async def logins_and_readiness(client: httpx.AsyncClient, phase: str) -> str:
        for username, expected in ((LAWYER, 200), ("no-such-lawyer", 401), (LAWYER, 200)):
            started = time.monotonic()
            response = await _login(client, username)
            elapsed = int((time.monotonic() - started) * 1000)
            slowest[phase] = max(slowest[phase], elapsed)
            TALLY["logins attempted"] += 1
            logins.append((phase, response.status_code))
            assert response.status_code == expected, (phase, response.status_code, response.text)
            assert elapsed < 3000, (phase, elapsed)  # Redis away costs at most its timeouts
        ready = await client.get("/readyz")
        assert ready.status_code == 200, (phase, ready.text)
        return str(ready.json()["rate_limits"])

    try:
        redis.start()
        service.start()
        async with httpx.AsyncClient(base_url=service.base, timeout=10) as client:
            assert await logins_and_readiness(client, "redis up") == "ok"
            assert b"lpl:ratelimit:" in redis.ratelimit_keys()  # the counts are in Redis indeed

            redis.kill()
            TALLY["faults injected"] += 1
            assert await logins_and_readiness(client, "redis killed") == "degraded"
            assert await logins_and_readiness(client, "redis still away") == "degraded"

            redis.start()  # the same port, empty
            assert await logins_and_readiness(client, "redis back") == "ok"
            assert b"lpl:ratelimit:" in redis.ratelimit_keys()

            # a Redis that hangs rather than refuses: the client's timeouts end each wait
            redis.freeze(True)
            TALLY["faults injected"] += 1
            assert await logins_and_readiness(client, "redis frozen") == "degraded"
            redis.freeze(False)
            assert await logins_and_readiness(client, "redis thawed") == "ok"
            assert await logins_and_readiness(client, "redis thawed, again") == "ok"
        assert service.alive()
        assert not service.errors_logged(), service.errors_logged()[:5]
    finally:
        _report(
            "redis killed, restarted, frozen and thawed",
            logins=dict(Counter(logins)),
            slowest_login_ms=dict(slowest),
        )
        service.stop()
        redis.kill()
        shutil.rmtree(folder, ignore_errors=True)
