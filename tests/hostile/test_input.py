"""Hostile input: what PostgreSQL or the domain cannot hold is a 4xx naming the field, never a
500; bodies are bounded before they are read whole."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.conftest import client_for
from tests.factories import bearer, make_user, user_token

PROBLEM = "application/problem+json"


def _invalid(response, *fields):
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    named = [e["field"] for e in response.json().get("errors", [])]
    for field in fields:
        assert field in named, (field, named)
    return response.json()


def _cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def test_nul_in_a_login_is_refused_naming_the_field(client):
    response = await client.post("/auth/token", data={"username": "a\x00b", "password": "x" * 16})
    _invalid(response, "username")


async def test_control_characters_in_json_name_the_field(app, client):
    _, token = await user_token(app, client)
    body = {"program_year": 2025, "effective_date": "2025-01-01", "deductible": "nil\u0000"}
    _invalid(await client.post("/quotes", json=body, headers=bearer(token)), "deductible")
    draft = {"program_year": 2025, "form": {"a": {"name": "Jane\u0007 Doe"}}}
    _invalid(await client.post("/applications", json=draft, headers=bearer(token)), "form.a.name")
    # tab, line feed and carriage return are ordinary text
    ok = {"program_year": 2025, "form": {"a": {"name": "Jane\tDoe"}}}
    assert (await client.post("/applications", json=ok, headers=bearer(token))).status_code == 201


async def test_nul_in_a_query_parameter_is_refused(app, client):
    _, token = await user_token(app, client)
    response = await client.get("/quotes?lawyer_id=%00", headers=bearer(token))
    _invalid(response, "lawyer_id")


@pytest.mark.parametrize(
    "query",
    ["program_year=2147483648", "program_year=-1", "limit=100000", "limit=0"],
)
async def test_integers_outside_what_a_column_holds_are_refused(app, client, query):
    _, token = await user_token(app, client)
    response = await client.get(f"/applications?{query}", headers=bearer(token))
    _invalid(response, query.split("=")[0])


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        _cursor({"a": 1}),
        _cursor([1, 2]),
        _cursor(["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
        _cursor(["9999-12-31T23:59:59-14:00", str(uuid.uuid4())]),
        _cursor(["2025-01-01T00:00:00", str(uuid.uuid4())]),  # no offset
        _cursor(["2025-01-01T00:00:00+00:00", "not-a-uuid"]),
        _cursor(["2025-01-01T00:00:00+00:00", str(uuid.uuid4()), "extra"]),
    ],
)
async def test_a_tampered_cursor_is_invalid_input(app, client, cursor):
    _, token = await user_token(app, client)
    for path in ("/quotes", "/applications", "/policies"):
        response = await client.get(path, params={"cursor": cursor}, headers=bearer(token))
        _invalid(response, "cursor")


@pytest.mark.parametrize(
    "cursor", [_cursor(["1"]), _cursor([0]), _cursor([2**63]), _cursor([1.5]), _cursor([True])]
)
async def test_a_tampered_audit_cursor_is_invalid_input(app, client, cursor):
    _, token = await user_token(app, client, role="auditor")
    response = await client.get("/audit-events", params={"cursor": cursor}, headers=bearer(token))
    _invalid(response, "cursor")


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2025-01-01T00:00:00"]
)
async def test_audit_times_outside_the_calendar_we_keep_are_refused(app, client, since):
    _, token = await user_token(app, client, role="auditor")
    response = await client.get("/audit-events", params={"since": since}, headers=bearer(token))
    _invalid(response, "since")


async def test_a_body_over_the_limit_is_refused_before_it_is_read(app_factory):
    app = app_factory(max_body_bytes=1024)
    async with client_for(app) as client:
        declared = await client.post(
            "/quotes",
            content=b"[" + b"1," * 2000 + b"1]",
            headers={"Content-Type": "application/json"},
        )
        assert declared.status_code == 413 and declared.headers["content-type"].startswith(PROBLEM)

        async def chunks():  # no Content-Length: counted as it arrives
            for _ in range(100):
                yield b"x" * 100

        streamed = await client.post(
            "/quotes", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        small = await client.post("/auth/token", data={"username": "nobody", "password": "x" * 20})
        assert small.status_code == 401


async def test_if_match_uses_the_strong_comparison(app, client):
    _, token = await user_token(app, client)
    draft = await client.post("/applications", json={"program_year": 2025}, headers=bearer(token))
    etag = draft.headers["etag"]
    url = f"/applications/{draft.json()['id']}"
    change = {"form": {"a": {"name": "Jane Doe"}}}
    weak = await client.patch(url, json=change, headers={**bearer(token), "If-Match": f"W/{etag}"})
    assert weak.status_code == 412
    strong = await client.patch(url, json=change, headers={**bearer(token), "If-Match": etag})
    assert strong.status_code == 200, strong.text


async def test_metrics_need_their_token_when_one_is_set(app_factory):
    app = app_factory(metrics_token="m" * 32)
    async with client_for(app) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=bearer("wrong"))).status_code == 401
        assert (await client.get("/metrics", headers=bearer("m" * 32))).status_code == 200


async def test_redis_down_falls_back_to_per_process_limits(app_factory):
    app = app_factory(rate_limit_storage="redis://127.0.0.1:1/0", auth_rate_limit=3)
    user = await make_user(app)
    async with client_for(app) as client:
        answers = [
            (
                await client.post(
                    "/auth/token", data={"username": user["username"], "password": user["password"]}
                )
            ).status_code
            for _ in range(4)
        ]
        assert answers == [200, 200, 200, 429]  # still limited, in this process's memory
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["rate_limits"] == "degraded"


async def test_a_database_that_cannot_be_reached_answers_503(app_factory):
    app = app_factory(database_url="postgresql://postgres@127.0.0.1:1/nothing")
    async with client_for(app) as client:
        response = await client.post(
            "/auth/token", data={"username": "someone", "password": "x" * 20}
        )
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] and "Traceback" not in response.text
        assert (await client.get("/readyz")).status_code == 503


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(app, client):
    _, token = await user_token(app, client)
    draft = {"program_year": 2025, "form": {"a": {"name": "C:\\u0000 folder"}}}
    raw = json.dumps(draft)
    assert "\\\\u0000" in raw  # the body holds a backslash followed by the text u0000
    response = await client.post(
        "/applications",
        content=raw,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["form"]["a"]["name"] == "C:\\u0000 folder"
