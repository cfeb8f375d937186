"""The questions an auditor asks of the trail, answered through GET /audit-events."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from app.audit import service as audit_service
from app.core.audit_chain import audit_key_from
from tests.conftest import TEST_SECRET
from tests.factories import audit_events, bearer, login, make_firm, make_user, user_token

KEY = audit_key_from(TEST_SECRET)
QUOTE = {"program_year": 2025, "effective_date": "2025-01-01"}


async def _trail(client, token, **params):
    response = await client.get("/audit-events", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_who_saw_this_record_includes_the_list_reads_that_returned_it(app, client):
    firm = await make_firm(app)
    lawyer, token = await user_token(app, client, firm_id=firm)
    admin, admin_token = await user_token(app, client, role="firm_admin", firm_id=firm)
    quote_id = (await client.post("/quotes", json=QUOTE, headers=bearer(token))).json()["id"]
    other = (await client.post("/quotes", json=QUOTE, headers=bearer(token))).json()["id"]
    assert (await client.get("/quotes", headers=bearer(admin_token))).status_code == 200
    assert (await client.get(f"/quotes/{other}", headers=bearer(token))).status_code == 200
    _, auditor = await user_token(app, client, role="auditor")

    about = await _trail(client, auditor, resource_id=quote_id)
    assert sorted((e["action"], e["actor_id"]) for e in about) == sorted(
        [("quote.create", str(lawyer["id"])), ("quote.list", str(admin["id"]))]
    )
    [listed] = [e for e in about if e["action"] == "quote.list"]
    assert set(listed["resource_ids"]) == {quote_id, other}


async def test_everything_about_one_lawyer(app, client):
    firm = await make_firm(app)
    lawyer, token = await user_token(app, client, firm_id=firm)
    colleague, colleague_token = await user_token(app, client, firm_id=firm)
    _, admin_token = await user_token(app, client, role="firm_admin", firm_id=firm)
    quote_id = (await client.post("/quotes", json=QUOTE, headers=bearer(token))).json()["id"]
    await client.post("/quotes", json=QUOTE, headers=bearer(colleague_token))
    assert (await client.get(f"/quotes/{quote_id}", headers=bearer(admin_token))).is_success
    _, auditor = await user_token(app, client, role="auditor")

    about = await _trail(client, auditor, subject_id=str(lawyer["id"]))
    assert [e["action"] for e in reversed(about)] == ["quote.create", "quote.read"]
    assert all(str(lawyer["id"]) in e["subject_ids"] for e in about)
    colleague_events = await _trail(client, auditor, subject_id=str(colleague["id"]))
    assert [e["action"] for e in colleague_events] == ["quote.create"]


async def test_a_refusal_names_the_action_and_the_actor_the_cookie_identified(app, client):
    lawyer = await make_user(app)
    await login(client, lawyer["username"])  # the session cookie is now held by the client
    refused = await client.post("/quotes", json=QUOTE)  # no X-Requested-With
    assert refused.status_code == 403, refused.text
    [event] = await audit_events(app, action="quote.create")
    assert event["outcome"] == "denied" and event["actor_id"] == lawyer["id"]
    allowed = await client.post("/quotes", json=QUOTE, headers={"X-Requested-With": "fetch"})
    assert allowed.status_code == 201
    outcomes = [e["outcome"] for e in await audit_events(app, action="quote.create")]
    assert outcomes == ["denied", "success"]


async def test_a_refusal_of_a_missing_record_has_the_same_action_as_its_success(app, client):
    lawyer, token = await user_token(app, client)
    missing = await client.get(f"/quotes/{uuid.uuid4()}", headers=bearer(token))
    assert missing.status_code == 404
    [event] = await audit_events(app, action="quote.read")
    assert (event["outcome"], event["actor_id"]) == ("denied", lawyer["id"])


async def test_verify_names_the_event_removed_from_the_middle_of_a_sealed_batch(app, client):
    _, token = await user_token(app, client)
    for _ in range(5):
        assert (await client.get("/users/me", headers=bearer(token))).is_success
    await audit_service.seal(app.state.database.engine, KEY)
    async with app.state.database.engine.connect() as conn:
        seqs = [r[0] for r in await conn.execute(text("SELECT seq FROM audit_event ORDER BY seq"))]
    middle = seqs[len(seqs) // 2]
    async with app.state.database.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        await conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": middle})
        await conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    _, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert [(f.event_seq, "removed" in f.problem) for f in findings] == [(middle, True)]


async def test_need_to_know_follows_the_lawyer_to_another_firm(app, client):
    firm_a, firm_b = await make_firm(app), await make_firm(app)
    lawyer, token = await user_token(app, client, firm_id=firm_a)
    _, admin_a = await user_token(app, client, role="firm_admin", firm_id=firm_a)
    _, admin_b = await user_token(app, client, role="firm_admin", firm_id=firm_b)
    quote_id = (await client.post("/quotes", json=QUOTE, headers=bearer(token))).json()["id"]
    draft = await client.post("/applications", json={"program_year": 2025}, headers=bearer(token))
    assert draft.status_code == 201, draft.text
    application_id = draft.json()["id"]

    async def sees(admin_token: str) -> list[int]:
        return [
            (await client.get(path, headers=bearer(admin_token))).status_code
            for path in (f"/quotes/{quote_id}", f"/applications/{application_id}")
        ]

    assert await sees(admin_a) == [200, 200] and await sees(admin_b) == [404, 404]
    _, root = await user_token(app, client, role="admin")
    user = await client.get(f"/users/{lawyer['id']}", headers=bearer(root))
    moved = await client.patch(
        f"/users/{lawyer['id']}",
        json={"firm_id": str(firm_b)},
        headers={**bearer(root), "If-Match": user.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    assert await sees(admin_a) == [404, 404] and await sees(admin_b) == [200, 200]
    listed = await client.get("/quotes", headers=bearer(admin_a))
    assert listed.json()["items"] == []
    edit = await client.patch(
        f"/applications/{application_id}",
        json={"form": {"a": {"work_phone": "416-555-0100"}}},
        headers={**bearer(admin_a), "If-Match": draft.headers["etag"]},
    )
    assert edit.status_code == 404


async def test_the_trail_is_answered_byte_for_byte_as_its_model_writes_it(app, client):
    """The list answers the stored rows (app/core/responses.py): exactly the bytes the
    validated model would give, for reads, lists with their ids, changes and a refusal."""
    from app.audit.schemas import AuditEventRead

    firm = await make_firm(app)
    _, token = await user_token(app, client, firm_id=firm)
    quote_id = (await client.post("/quotes", json=QUOTE, headers=bearer(token))).json()["id"]
    await client.get(f"/quotes/{quote_id}", headers=bearer(token))
    await client.get("/quotes?program_year=2025", headers=bearer(token))
    await client.get(f"/quotes/{uuid.uuid4()}", headers=bearer(token))  # refused: 404
    _, auditor = await user_token(app, client, role="auditor")
    answer = await client.get("/audit-events?limit=50", headers=bearer(auditor))
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert len(page["items"]) >= 6
    async with app.state.database.engine.connect() as conn:
        rows = {
            str(row["id"]): row
            for row in (await conn.execute(text("SELECT * FROM audit_event"))).mappings()
        }
    expected = [
        AuditEventRead.model_validate(dict(rows[item["id"]])).model_dump_json().encode()
        for item in page["items"]
    ]
    assert answer.content == (b'{"items":[' + b",".join(expected) + b'],"next_cursor":null}')
