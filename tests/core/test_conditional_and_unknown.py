"""Reads that clients can make cheap and filters they cannot misspell: If-None-Match answers
304 with the record's ETag (the read still recorded), and a query parameter an operation does
not take is a 422 naming it (a misspelt filter never returns everything)."""

from __future__ import annotations

from tests.claims_notices.support import MATTER, key
from tests.factories import audit_events, bearer, user_token


async def test_if_none_match_answers_304(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    created = await client.post("/claims-notices", json=MATTER, headers={**me, **key()})
    url, etag = f"/claims-notices/{created.json()['id']}", created.headers["etag"]
    same = await client.get(url, headers={**me, "If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == etag
    other = await client.get(url, headers={**me, "If-None-Match": '"999"'})
    assert other.status_code == 200 and other.json()["id"] == created.json()["id"]
    reads = await audit_events(app, action="claims_notice.read", resource_id=created.json()["id"])
    assert len(reads) == 2


async def test_an_unknown_query_parameter_is_refused_by_name(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    refused = await client.get(
        "/applications", params={"status": "submitted", "updated_sinse": "2025-01-01"}, headers=me
    )
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("updated_sinse", "unknown_parameter")]
    assert "program_year" in errors[0]["message"]
    assert (await client.get("/users/me", params={"x": "1"}, headers=me)).status_code == 422
    assert (await client.get("/applications", params={"limit": 5}, headers=me)).status_code == 200
