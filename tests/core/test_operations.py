"""Health, readiness, metrics, headers, CORS, request ids, problem+json and settings."""

import io
import json
import logging

import pytest
from fastapi import APIRouter
from pydantic import ValidationError

from app.core.config import Settings
from app.core.logging import JsonFormatter
from tests.conftest import client_for, make_settings
from tests.factories import PASSWORD, bearer, make_user, user_token


async def test_health_readiness_and_metrics(app, client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["migration"] == app.state.migration_head
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text
    assert 'route="/healthz"' in metrics.text


async def test_readiness_fails_when_the_database_is_down(app_factory):
    app = app_factory(database_url="postgresql://postgres@127.0.0.1:1/nothing")
    async with client_for(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "127.0.0.1" not in response.text and "Traceback" not in response.text


async def test_security_headers_on_every_answer(app, client):
    for path in ("/healthz", "/users/me", "/nowhere"):
        response = await client.get(path)
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        assert "max-age" in headers["strict-transport-security"]
        assert "default-src 'none'" in headers["content-security-policy"]


async def test_request_ids_are_echoed_or_made(app, client):
    echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    assert echoed.headers["x-request-id"] == "trace-1234abcd"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces\n"})
    assert (
        made.headers["x-request-id"] != "bad id with spaces"
        and len(made.headers["x-request-id"]) == 32
    )


async def test_cors_allows_only_configured_origins(app_factory):
    app = app_factory(cors_origins="https://portal.example, https://staff.example")
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    async with client_for(app) as client:
        allowed = await client.options(
            "/quotes", headers={"Origin": "https://portal.example", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        other = await client.options(
            "/quotes", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers


async def test_problem_details_for_framework_errors(app, client):
    missing = await client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found"
    wrong_method = await client.delete("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("application/problem+json")
    _, admin = await user_token(app, client, role="admin")
    invalid = await client.post("/users", json={"role": "lawyer"}, headers=bearer(admin))
    assert invalid.status_code == 422
    assert {"field": "username", "code": "missing", "message": "Field required"} in invalid.json()[
        "errors"
    ]
    not_json = await client.post(
        "/users", content=b"{broken", headers={**bearer(admin), "content-type": "application/json"}
    )
    assert not_json.status_code == 422


async def test_unexpected_errors_answer_500_without_details(app_factory):
    app = app_factory()
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM somewhere")

    app.include_router(router)
    async with client_for(app) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "/problems/internal-error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_production_refuses_unsafe_settings():
    base = {"app_env": "production", "database_url": "postgresql://db/lpl"}
    for key in (None, "changeme", "secret", "short-key"):
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, secret_key=key, **base)
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(_env_file=None, app_env="production", secret_key="k" * 40)
    assert Settings(_env_file=None, secret_key="r4nd0m-" * 8, **base).app_env == "production"


def test_development_keeps_a_generated_key(tmp_path):
    settings = make_settings("postgresql://x/y", secret_key=None, data_dir=tmp_path)
    key = settings.signing_key
    assert len(key) >= 40 and (tmp_path / "secret_key").read_text() == key
    again = make_settings("postgresql://x/y", secret_key=None, data_dir=tmp_path)
    assert again.signing_key == key


async def test_logs_are_json_with_request_ids_and_no_secrets(app, client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger("app.access").setLevel(logging.INFO)
    try:
        user = await make_user(app)
        response = await client.post(
            "/auth/token", data={"username": user["username"], "password": PASSWORD}
        )
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [entry for entry in lines if entry.get("route") == "/auth/token"]
    assert access and access[0]["request_id"] == response.headers["x-request-id"]
    assert PASSWORD not in stream.getvalue() and user["username"] not in stream.getvalue()
    assert response.json()["access_token"] not in stream.getvalue()
