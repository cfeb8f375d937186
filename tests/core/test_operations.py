"""Operations through HTTP: health, readiness, metrics, security headers, request ids, CORS,
problem+json for every kind of error, settings that refuse unsafe production values, and
JSON logs that carry the request id and never a password."""

import contextlib
import io
import json
import logging
import re
from contextlib import contextmanager

import pytest
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from pydantic import ValidationError
from sqlalchemy import text

from app.core.config import Settings
from app.core.logging import JsonFormatter, JsonLinesHandler, _sole_json_handler
from app.core.migrations import alembic_config
from tests.conftest import client_for, make_settings
from tests.factories import PASSWORD, bearer, make_user, user_token

PROBLEM = "application/problem+json"
DOWN = "postgresql://postgres@127.0.0.1:1/x"


def _problem(response, status, slug=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail", "request_id"} <= set(body)
    assert body["status"] == status and body["request_id"] == response.headers["x-request-id"]
    if slug:
        assert body["type"] == f"/problems/{slug}"
    for leak in ("Traceback", 'File "', "SELECT ", "INSERT ", "sqlalchemy", "asyncpg"):
        assert leak not in response.text
    return body


# --- health, readiness, metrics -----------------------------------------------------------


async def test_healthz_answers_ok(app, client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_reports_the_migration_head(app, client):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with app.state.database.engine.connect() as conn:
        at = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    assert at == head
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": "ok",
        "migration": head,
        "rate_limits": "ok",
    }


async def test_readyz_is_503_when_the_database_is_unreachable(app_factory):
    app = app_factory(database_url=DOWN)
    async with client_for(app) as client:
        response = await client.get("/readyz")
        alive = await client.get("/healthz")
    _problem(response, 503, "service-unavailable")
    assert "127.0.0.1" not in response.text and ":1/" not in response.text
    assert alive.status_code == 200  # the process itself is fine


async def test_readyz_is_503_when_the_database_is_behind_the_code(app, client):
    app.state.migration_head = "f00dfeedbeef"  # as if the code had a migration not yet applied
    _problem(await client.get("/readyz"), 503, "service-unavailable")


async def test_api_requests_answer_503_when_the_database_is_unreachable(app_factory):
    app = app_factory(database_url=DOWN)
    async with client_for(app) as client:
        login = await client.post("/auth/token", data={"username": "a", "password": "b"})
        refused = await client.get("/users/me", headers=bearer("not.a.token"))
    for response in (login, refused):
        _problem(response, 503, "service-unavailable")
        assert "127.0.0.1" not in response.text and "refused" not in response.text.lower()
        assert response.headers["retry-after"].isdigit()


def _counter(metrics_text, route, status):
    pattern = (
        r'^http_requests_total\{[^}]*method="GET"[^}]*route="'
        + re.escape(route)
        + r'"[^}]*status="'
        + status
        + r'"[^}]*\} ([0-9.e+]+)$'
    )
    found = re.search(pattern, metrics_text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_metrics_are_prometheus_text_counting_requests(app, client):
    before = _counter((await client.get("/metrics")).text, "/healthz", "200")
    for _ in range(3):
        await client.get("/healthz")
    await client.get("/users/me")  # 401
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE http_requests_total counter" in metrics.text
    assert "http_request_duration_seconds_bucket" in metrics.text
    assert _counter(metrics.text, "/healthz", "200") == before + 3
    assert _counter(metrics.text, "/users/me", "401") >= 1
    # routes are labelled by their template, never by the raw path (bounded label values)
    await client.get("/users/00000000-0000-0000-0000-000000000000")
    again = (await client.get("/metrics")).text
    assert 'route="/users/{user_id}"' in again
    assert "00000000-0000-0000-0000-000000000000" not in again


async def test_metrics_count_each_request_once_however_many_apps_were_made(app_factory):
    """The request metrics are registered once a process (when app.core.middleware is first
    imported): a second app adds to the same series, each printed once."""
    first, second = app_factory(), app_factory()
    async with client_for(first) as one, client_for(second) as two:
        before = _counter((await one.get("/metrics")).text, "/healthz", "200")
        await one.get("/healthz")
        await two.get("/healthz")
        text = (await two.get("/metrics")).text
    assert _counter(text, "/healthz", "200") == before + 2
    assert text.count("# TYPE http_requests_total counter") == 1
    assert text.count("# TYPE http_request_duration_seconds histogram") == 1
    series = 'http_requests_total{method="GET",route="/healthz",status="200"} '
    assert text.count(series) == 1


# --- headers ------------------------------------------------------------------------------


async def test_security_headers_on_api_answers(app, client):
    _, token = await user_token(app, client)
    answers = [
        await client.get("/healthz"),
        await client.get("/users/me", headers=bearer(token)),
        await client.get("/users/me"),
        await client.get("/nowhere"),
        await client.post("/auth/token", data={"username": "x", "password": "y"}),
    ]
    for response in answers:
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        hsts = headers["strict-transport-security"]
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "server" not in headers or "uvicorn" not in headers["server"].lower()


async def test_the_request_id_is_always_made_by_the_server(app, client):
    # two requests sending the same id still get one each: an id names one request only
    first = await client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    again = await client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    ids = {first.headers["x-request-id"], again.headers["x-request-id"]}
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    made = []
    for bad in (None, "short", "x" * 65, "has spaces in it", "semi;colon-1234", "../../etc/x"):
        headers = {} if bad is None else {"X-Request-ID": bad}
        response = await client.get("/healthz", headers=headers)
        rid = response.headers["x-request-id"]
        assert rid != bad and re.fullmatch(r"[0-9a-f]{32}", rid), (bad, rid)
        made.append(rid)
    assert len(set(made)) == len(made)
    # the id also names the request in a problem body
    problem = await client.get("/nowhere", headers={"X-Request-ID": "trace-5678efgh"})
    assert problem.json()["request_id"] == problem.headers["x-request-id"]


async def test_cors_allows_only_the_configured_origins(app_factory):
    app = app_factory(cors_origins="https://portal.example, https://staff.example")
    preflight = {
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, if-match",
    }
    async with client_for(app) as client:
        for origin in ("https://portal.example", "https://staff.example"):
            allowed = await client.options("/users/me", headers={"Origin": origin, **preflight})
            assert allowed.status_code == 200
            assert allowed.headers["access-control-allow-origin"] == origin
            assert allowed.headers["access-control-allow-credentials"] == "true"
            assert "PATCH" in allowed.headers["access-control-allow-methods"]
            assert "if-match" in allowed.headers["access-control-allow-headers"].lower()
        for origin in ("https://evil.example", "https://portal.example.evil.example", "null"):
            refused = await client.options("/users/me", headers={"Origin": origin, **preflight})
            assert "access-control-allow-origin" not in refused.headers, origin
        simple = await client.get("/healthz", headers={"Origin": "https://portal.example"})
        assert simple.headers["access-control-allow-origin"] == "https://portal.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    default = app_factory()  # no CORS_ORIGINS: no origin is allowed
    async with client_for(default) as client:
        response = await client.options(
            "/users/me", headers={"Origin": "https://portal.example", **preflight}
        )
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "own",
    [[], [(b"vary", b"Accept")], [(b"vary", b"Accept"), (b"x-a", b"1"), (b"vary", b"Cookie")]],
)
async def test_an_answer_without_origin_varies_as_cors_would_say(own):
    """The middleware skips CORS for a request without an Origin and adds its `Vary: Origin`
    itself: the same headers as Starlette's CORSMiddleware gives."""
    from starlette.middleware.cors import CORSMiddleware

    from app.core.middleware import _add_vary_origin

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": list(own)})

    sent = []

    async def send(message):
        sent.append(message)

    cors = CORSMiddleware(inner, allow_origins=["https://portal.example"], allow_credentials=True)
    await cors({"type": "http", "method": "GET", "headers": []}, None, send)
    ours = list(own)
    _add_vary_origin(ours, {name.lower() for name, _ in ours})
    assert ours == [tuple(h) for h in sent[0]["headers"]]


async def test_answers_say_vary_origin(client):
    response = await client.get("/healthz")
    assert response.headers.get_list("vary") == ["Origin"]


# --- problem+json -------------------------------------------------------------------------


async def test_unknown_route_and_wrong_method_are_problems(app, client):
    missing = await client.get("/nowhere")
    body = _problem(missing, 404, "not-found")
    assert body["instance"] == "/nowhere"
    wrong_method = await client.delete("/healthz")
    _problem(wrong_method, 405, "method-not-allowed")
    assert "GET" in wrong_method.headers["allow"]


async def test_validation_errors_name_each_field(app, client):
    _, admin = await user_token(app, client, role="admin")
    headers = bearer(admin)
    missing = await client.post("/users", json={"role": "lawyer"}, headers=headers)
    body = _problem(missing, 422, "invalid-input")
    assert {"field": "username", "code": "missing", "message": "Field required"} in body["errors"]
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
    several = await client.post(
        "/users",
        json={"username": "", "role": "wizard", "email": "not-an-email", "surprise": 1},
        headers=headers,
    )
    fields = {e["field"] for e in _problem(several, 422, "invalid-input")["errors"]}
    assert fields == {"username", "role", "email", "surprise"}
    not_json = await client.post(
        "/users", content=b"{broken", headers={**headers, "content-type": "application/json"}
    )
    _problem(not_json, 422, "invalid-input")
    bad_query = await client.get("/users", params={"limit": "many"}, headers=headers)
    assert [e["field"] for e in _problem(bad_query, 422)["errors"]] == ["limit"]
    bad_path = await client.get("/users/not-a-uuid", headers=headers)
    assert [e["field"] for e in _problem(bad_path, 422)["errors"]] == ["user_id"]


def _failing_app(app_factory, message: str):
    """An app with a route `/boom` that fails unexpectedly with `message`."""
    app = app_factory()
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError(message)

    app.include_router(router)
    return app


async def test_an_unexpected_exception_is_a_bare_500(app_factory):
    app = _failing_app(app_factory, "SELECT card_number FROM secrets WHERE id = 1")
    with _captured_logs() as stream:
        async with client_for(app) as client:
            response = await client.get("/boom", headers={"X-Request-ID": "boom-request-1"})
    body = _problem(response, 500, "internal-error")
    ours = response.headers["x-request-id"]
    assert body["request_id"] == ours and ours in body["detail"]
    assert "card_number" not in response.text and "RuntimeError" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    # the operators get the details, under the same request id
    [logged] = [e for e in _json_lines(stream) if e.get("message") == "unhandled error"]
    assert logged["request_id"] == ours and logged["client_request_id"] == "boom-request-1"
    assert "card_number" in logged["error"]


# --- settings -----------------------------------------------------------------------------


def test_production_refuses_known_default_or_missing_keys():
    base = {
        "app_env": "production",
        "database_url": "postgresql://db.internal/lpl",
        "payment_data_key": "k1:" + "A" * 43 + "=",
        "processor_webhook_secret": "whsec-test-0123456789abcdef",
    }
    for key in ("changeme", "CHANGEME", " secret ", "", "short-but-random-9f3k"):
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, secret_key=key, **base)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, **base)  # missing
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(_env_file=None, app_env="production", secret_key="k9" * 20)
    strong_key = "Zq3-vN8pLr2xKw7tYb5mHs1cJd6gFa4e"
    for missing in ("payment_data_key", "processor_webhook_secret"):
        without = {k: v for k, v in base.items() if k != missing}
        with pytest.raises(ValidationError, match=missing.upper()):
            Settings(_env_file=None, secret_key=strong_key, **without)
    strong = Settings(_env_file=None, secret_key=strong_key, **base)
    assert strong.app_env == "production" and strong.signing_key.startswith("Zq3")
    # outside production a missing key is generated, not refused
    assert Settings(_env_file=None, app_env="test", database_url="postgresql://x/y").app_env


def test_settings_come_from_the_contracts_environment_variables(monkeypatch, tmp_path):
    env = {
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://db.internal/lpl",
        "SECRET_KEY": "Zq3-vN8pLr2xKw7tYb5mHs1cJd6gFa4e",
        "SESSION_IDLE_TIMEOUT_SECONDS": "600",
        "SESSION_ABSOLUTE_TIMEOUT_SECONDS": "7200",
        "LOCKOUT_THRESHOLD": "7",
        "LOCKOUT_DURATION_SECONDS": "900",
        "CORS_ORIGINS": "https://a.example,https://b.example",
        "RATE_LIMIT_STORAGE": "redis://cache:6379/0",
        "PAYMENT_DATA_KEY": "k1:" + "A" * 43 + "=",
        "PROCESSOR_WEBHOOK_SECRET": "whsec-test-0123456789abcdef",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    s = Settings()
    assert (s.session_idle_timeout_seconds, s.session_absolute_timeout_seconds) == (600, 7200)
    assert (s.lockout_threshold, s.lockout_duration_seconds) == (7, 900)
    assert s.cors_origin_list == ["https://a.example", "https://b.example"]
    assert s.rate_limit_storage == "redis://cache:6379/0"
    assert s.database_url == env["DATABASE_URL"] and s.secret_key == env["SECRET_KEY"]
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()


def test_development_keeps_its_generated_key(tmp_path):
    settings = make_settings("postgresql://x/y", secret_key=None, data_dir=tmp_path)
    key = settings.signing_key
    assert len(key) >= 40 and (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    again = make_settings("postgresql://x/y", secret_key=None, data_dir=tmp_path)
    assert again.signing_key == key


# --- logs ---------------------------------------------------------------------------------


@contextmanager
def _captured_logs():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root, access = logging.getLogger(), logging.getLogger("app.access")
    old_level = access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(old_level)


def _json_lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_logs_are_json_lines_with_request_ids_and_never_a_password(app, client):
    user = await make_user(app)
    with _captured_logs() as stream:
        ok = await client.post(
            "/auth/token",
            data={"username": user["username"], "password": PASSWORD},
            headers={"X-Request-ID": "login-ok-0001"},
        )
        failed = await client.post(
            "/auth/token",
            data={"username": user["username"], "password": "my-mistyped-secret-phrase"},
            headers={"X-Request-ID": "login-bad-0001"},
        )
        token = ok.json()["access_token"]
        await client.get("/users/me", headers={**bearer(token), "X-Request-ID": "me-request-0001"})
    assert (ok.status_code, failed.status_code) == (200, 401)
    raw = stream.getvalue()
    lines = _json_lines(stream)  # every line is JSON
    by_request = {e.get("client_request_id"): e for e in lines if e.get("route")}
    for rid, route, status in (
        ("login-ok-0001", "/auth/token", 200),
        ("login-bad-0001", "/auth/token", 401),
        ("me-request-0001", "/users/me", 200),
    ):
        entry = by_request[rid]
        assert entry["route"] == route and entry["status"] == status
        assert entry["level"] == "info" and entry["time"] and "duration_ms" in entry
    for secret in (PASSWORD, "my-mistyped-secret-phrase", token, user["username"]):
        assert secret not in raw


@contextlib.contextmanager
def _json_handler_alone():
    """configure_logging's JSON lines handler alone on the root, writing to a string, and the
    access log at INFO; the logging configuration restored after."""
    stream = io.StringIO()
    root, access = logging.getLogger(), logging.getLogger("app.access")
    saved = root.handlers[:], access.level
    handler = JsonLinesHandler(stream)
    root.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    try:
        yield stream, handler
    finally:
        root.handlers[:] = saved[0]
        access.setLevel(saved[1])


async def test_access_lines_written_directly_are_the_lines_of_their_records(app, client):
    """configure_logging's JSON handler alone on the root writes the access log's line without
    a LogRecord; with anything else configured (here a filter) the record goes through logging.
    Both lines carry the same fields and values, bar the time, duration and ids."""
    with _json_handler_alone() as (stream, handler):
        assert _sole_json_handler() is handler
        await client.get("/users/me", headers={"X-Request-ID": "direct-line-0001"})
        handler.addFilter(lambda record: True)
        assert _sole_json_handler() is None
        await client.get("/users/me", headers={"X-Request-ID": "record-line-0001"})
        handler.filters.clear()
        access_handler = logging.NullHandler()  # a handler of its own: the record's way
        logging.getLogger("app.access").addHandler(access_handler)
        try:
            assert _sole_json_handler() is None
        finally:
            logging.getLogger("app.access").removeHandler(access_handler)
    lines = {e["client_request_id"]: e for e in _json_lines(stream) if e.get("route")}
    direct, recorded = lines["direct-line-0001"], lines["record-line-0001"]
    assert direct.keys() == recorded.keys() >= {"time", "level", "logger", "message", "status"}
    varying = {"time", "duration_ms", "request_id", "client_request_id"}
    assert (
        {k: v for k, v in direct.items() if k not in varying}
        == {k: v for k, v in recorded.items() if k not in varying}
        == {
            "level": "info",
            "logger": "app.access",
            "message": "request",
            "method": "GET",
            "route": "/users/me",
            "status": 401,
        }
    )
    assert direct["request_id"] != recorded["request_id"]


async def test_an_error_logged_after_requests_is_written_after_their_buffered_lines(app_factory):
    """The access log's lines wait in the JSON handler's buffer (app/core/logging.py); a record
    logged after them, here the middleware's unhandled error, still comes after them."""
    app = _failing_app(app_factory, "boom")
    with _json_handler_alone() as (stream, handler):
        async with client_for(app) as client:
            await client.get("/healthz", headers={"X-Request-ID": "before-boom-0001"})
            await client.get("/boom", headers={"X-Request-ID": "the-boom-0001"})
            written_at_the_error = _json_lines(stream)
        handler.flush()
    assert _requests_and_errors(_json_lines(stream)) == [
        ("request", "before-boom-0001"),
        ("unhandled error", "the-boom-0001"),
        ("request", "the-boom-0001"),
    ]
    # the error written at once, the line buffered before it first
    assert _requests_and_errors(written_at_the_error)[:2] == [
        ("request", "before-boom-0001"),
        ("unhandled error", "the-boom-0001"),
    ]


def _requests_and_errors(lines):
    return [
        (e["message"], e["client_request_id"])
        for e in lines
        if e["message"] in ("request", "unhandled error")
    ]
