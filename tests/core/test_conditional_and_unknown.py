"""Reads that clients can make cheap and filters they cannot misspell: If-None-Match answers
304 with the record's ETag (the read still recorded), and a query parameter an operation does
not take is a 422 naming it (a misspelt filter never returns everything)."""

from __future__ import annotations

from tests.claims_notices.support import MATTER, key
from tests.factories import audit_events, bearer, user_token, version_of


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


async def test_an_answer_that_changed_without_its_record_is_not_304(app, client):
    """The lawyer's name is shown with their claims notice: renaming the lawyer changes the
    answer but not the notice's version, so the old ETag no longer matches If-None-Match, while
    If-Match (the notice itself unchanged) still would."""
    lawyer, token = await user_token(app, client)
    me = bearer(token)
    created = await client.post("/claims-notices", json=MATTER, headers={**me, **key()})
    url, etag = f"/claims-notices/{created.json()['id']}", created.headers["etag"]
    _, admin_token = await user_token(app, client, role="admin")
    admin = bearer(admin_token)
    account = await client.get(f"/users/{lawyer['id']}", headers=admin)
    renamed = await client.patch(
        f"/users/{lawyer['id']}",
        json={"full_name": "Renamed Lawyer"},
        headers={**admin, "If-Match": account.headers["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    fresh = await client.get(url, headers={**me, "If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json()["lawyer"]["name"] == "Renamed Lawyer"
    assert fresh.headers["etag"] != etag
    assert version_of(fresh.headers["etag"]) == version_of(etag)
    again = await client.get(url, headers={**me, "If-None-Match": fresh.headers["etag"]})
    assert again.status_code == 304


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
