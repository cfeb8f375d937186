"""The SPA example (examples/spa/) in headless Chromium against the service as it runs.

The service is `python -m app serve` in processes of its own, on a database of its own made on
the local PostgreSQL server for this run (dropped afterwards), migrated with `python -m app
migrate`, with a lawyer made by `python -m app users create`. The page is served by a static
server on other ports of the same host, so it is another origin but the same site (a
`SameSite=Strict` cookie is sent; CORS decides what the page may read):

- the API: http://127.0.0.1:<p1>, with CORS_ORIGINS naming the page's origin only;
- the page: http://127.0.0.1:<p2>/index.html?api=http://127.0.0.1:<p1>;
- the same page from an origin the API does not allow: http://127.0.0.1:<p3>.

Chromium and its driver are Debian's (/usr/bin/chromium, /usr/bin/chromedriver; `make
test-browser` installs them), named to Selenium so that it never looks for a driver of its own.
Screenshots go to artifacts/browser/ (git-ignored), for a person to see what the browser saw.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy.engine import make_url

from tests.conftest import TEST_SECRET, _admin, _server_url
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SPA = ROOT / "examples" / "spa"
SCREENSHOTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# ---- the database -----------------------------------------------------------------------


@dataclass
class Database:
    url: str  # postgresql:// (what DATABASE_URL takes)
    username: str  # a lawyer, made at the console
    password: str


def _env(database_url: str, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUDIT_SEAL_INTERVAL_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    for unset in ("AUDIT_KEY", "METRICS_TOKEN", "TRUSTED_PROXIES", "CORS_ORIGINS"):
        if unset not in overrides:
            env.pop(unset, None)
    return env


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=tempfile.gettempdir(),  # no stray .env of the working tree
        input=stdin.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"python -m app {' '.join(args)}:\n{done.stderr.decode()}"
    return done.stdout.decode()


@pytest.fixture(scope="session")
def database() -> Iterator[Database]:
    """A fresh database for this run, migrated, with one lawyer; dropped afterwards."""
    server, embedded = _server_url()
    name = f"lpl_browser_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        env = _env(url)
        _cli(env, "migrate")
        username = f"spa-lawyer-{secrets.token_hex(3)}"
        _cli(
            env,
            *("users", "create", "--username", username, "--role", "lawyer", "--password-stdin"),
            stdin=f"{PASSWORD}\n",
        )
        yield Database(url=url, username=username, password=PASSWORD)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if embedded is not None:
            embedded.cleanup()


# ---- the page's two origins ---------------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    origin: str
    server: ThreadingHTTPServer

    def page(self, api: str) -> str:
        return f"{self.origin}/index.html?api={api}"


def _serve_spa() -> Site:
    port = _free_port()
    server = ThreadingHTTPServer((HOST, port), functools.partial(_Quiet, directory=str(SPA)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Site(origin=f"http://{HOST}:{port}", server=server)


@pytest.fixture(scope="session")
def spa() -> Iterator[Site]:
    """examples/spa/ from the origin the API allows."""
    site = _serve_spa()
    yield site
    site.server.shutdown()


@pytest.fixture(scope="session")
def other_origin() -> Iterator[Site]:
    """The same page from an origin the API does not allow (same host, another port)."""
    site = _serve_spa()
    yield site
    site.server.shutdown()


# ---- the service --------------------------------------------------------------------------


@dataclass
class Api:
    base: str
    proc: subprocess.Popen[bytes]
    log: IO[bytes]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def _start_api(database: Database, **settings: str) -> Api:
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open while the service runs; Api.stop)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", HOST, "--port", str(port)],
        env=_env(database.url, **settings),
        cwd=tempfile.gettempdir(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = Api(base=f"http://{HOST}:{port}", proc=proc, log=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{api.base}/readyz", timeout=1).status_code == 200:
                return api
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            api.stop()
            log.seek(0)
            pytest.fail(f"the service did not start:\n{log.read().decode()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def start_api(database: Database) -> Iterator[Callable[..., Api]]:
    """`start_api(CORS_ORIGINS=..., SESSION_IDLE_TIMEOUT_SECONDS=...)`: a service process on the
    run's database, stopped at the end of the run."""
    started: list[Api] = []

    def start(**settings: str) -> Api:
        api = _start_api(database, **settings)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture(scope="session")
def api(start_api: Callable[..., Api], spa: Site) -> Api:
    """The service, allowing the page's origin and no other."""
    return start_api(CORS_ORIGINS=spa.origin)


# ---- the browser --------------------------------------------------------------------------


def _options(profile: Path) -> Options:
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--window-size=1100,900",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--password-store=basic",
    ):
        options.add_argument(argument)
    # DevTools' network events, to see the CORS preflights the page's calls cause
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return options


class Browser:
    """Headless Chromium on a profile folder of its own, which outlives a restart."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.driver: WebDriver | None = None

    def start(self) -> WebDriver:
        for path in (CHROMIUM, CHROMEDRIVER):
            if not Path(path).is_file():
                pytest.fail(f"{path} is missing: run `make test-browser`, which installs it")
        self.driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER), options=_options(self.profile)
        )
        self.driver.set_script_timeout(15)
        return self.driver

    def restart(self) -> WebDriver:
        """Close the browser (it writes its profile as it ends) and open it on the same one."""
        self.quit()
        return self.start()

    def quit(self) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Browser]:
    """A browser of the test's own (its own cookies); a failed test leaves a screenshot."""
    browser = Browser(tmp_path / "profile")
    browser.start()
    yield browser
    report = getattr(request.node, "rep_call", None)
    if browser.driver is not None and report is not None and report.failed:
        screenshot(browser.driver, f"FAILED-{request.node.name}")
    browser.quit()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = 10) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
