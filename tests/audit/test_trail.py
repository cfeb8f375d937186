"""The audit trail: what is recorded, that it is append-only, and that tampering is found."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import service as audit_service
from app.core.audit_chain import audit_key_from
from app.core.audit_trail import AuditTrail
from app.core.requestctx import RequestMeta
from tests.conftest import TEST_SECRET, client_for
from tests.factories import audit_events, bearer, make_firm, user_token

KEY = audit_key_from(TEST_SECRET)


async def test_reads_changes_refusals_and_logins_are_events(app, client):
    lawyer, lawyer_token = await user_token(app, client)
    _, admin_token = await user_token(app, client, role="admin")
    other_firm = await make_firm(app)

    me = await client.get("/users/me", headers=bearer(lawyer_token))
    created = await client.post(
        "/users",
        json={"username": "NEWSTAFF", "role": "underwriter", "password": "a long staff passphrase"},
        headers=bearer(admin_token),
    )
    async with client_for(app) as anonymous:
        no_token = await anonymous.get("/users/me")
    wrong_role = await client.get("/users", headers=bearer(lawyer_token))
    not_mine = await client.get(f"/firms/{other_firm}", headers=bearer(lawyer_token))
    assert (me.status_code, created.status_code) == (200, 201)
    assert (no_token.status_code, wrong_role.status_code, not_mine.status_code) == (401, 403, 404)

    [read] = await audit_events(app, action="user.read", actor_id=lawyer["id"])
    assert read["resource_type"] == "user" and read["resource_id"] == str(lawyer["id"])
    assert read["request_id"] == me.headers["x-request-id"]
    assert read["actor_role"] == "lawyer" and read["client_ip"] == "127.0.0.1"
    assert read["user_agent"].startswith("python-httpx") and read["occurred_at"].tzinfo

    [create] = await audit_events(app, action="user.create")
    assert create["details"]["after"]["role"] == "underwriter"
    assert create["details"]["before"]["role"] is None

    denied = await audit_events(app, outcome="denied")
    by_request = {e["request_id"]: e for e in denied}
    assert by_request[no_token.headers["x-request-id"]]["details"]["status"] == 401
    forbidden = by_request[wrong_role.headers["x-request-id"]]
    assert forbidden["details"]["status"] == 403 and forbidden["actor_id"] == lawyer["id"]
    hidden = by_request[not_mine.headers["x-request-id"]]
    assert hidden["details"]["status"] == 404 and hidden["resource_id"] == str(other_firm)
    assert hidden["action"] == "firm.read"
    assert len(await audit_events(app, action="auth.login")) == 2


async def test_no_secret_ever_reaches_the_trail(app, client):
    _, admin = await user_token(app, client, role="admin")
    firm = await make_firm(app)
    created = await client.post(
        "/users",
        json={
            "username": "PMS1",
            "role": "integration",
            "firm_id": str(firm),
            "scopes": ["quotes:read"],
        },
        headers=bearer(admin),
    )
    secret = created.json()["client_secret"]
    assert secret
    await client.post(
        "/users",
        json={"username": "L1234B", "role": "lawyer", "password": "the lawyer's own passphrase"},
        headers=bearer(admin),
    )
    async with app.state.database.engine.connect() as conn:
        everything = repr((await conn.execute(text("SELECT * FROM audit_event"))).all())
        hashes = (await conn.execute(text("SELECT password_hash FROM app_user"))).scalars().all()
    assert secret not in everything and "the lawyer's own passphrase" not in everything
    assert all(h not in everything for h in hashes if h)


async def test_a_read_whose_event_cannot_be_written_returns_nothing(app, client, monkeypatch):
    _, token = await user_token(app, client)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # the event of a read is built for the statement that reads (one round trip), or flushed
    monkeypatch.setattr(AuditTrail, "flush", broken)
    monkeypatch.setattr(AuditTrail, "take_statement", broken)
    monkeypatch.setattr("app.core.unit_of_work.insert_event", broken)
    response = await client.get("/users/me", headers=bearer(token))
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    assert "disk full" not in response.text and "Traceback" not in response.text
    assert "username" not in body


async def test_audit_events_endpoint_filters_pages_and_is_audited(app, client):
    lawyer, token = await user_token(app, client)
    for _ in range(3):
        await client.get("/users/me", headers=bearer(token))
    auditor, auditor_token = await user_token(app, client, role="auditor")
    assert (await client.get("/audit-events", headers=bearer(token))).status_code == 403

    params = {"actor_id": str(lawyer["id"]), "action": "user.read", "limit": 2}
    first = (await client.get("/audit-events", params=params, headers=bearer(auditor_token))).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await client.get(
            "/audit-events",
            params={**params, "cursor": first["next_cursor"]},
            headers=bearer(auditor_token),
        )
    ).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert {e["action"] for e in first["items"] + second["items"]} == {"user.read"}

    window = {"since": datetime(2000, 1, 1, tzinfo=UTC).isoformat(), "outcome": "failure"}
    assert (await client.get("/audit-events", params=window, headers=bearer(auditor_token))).json()[
        "items"
    ] == []
    by_resource = await client.get(
        "/audit-events",
        params={"resource_type": "user", "resource_id": str(lawyer["id"])},
        headers=bearer(auditor_token),
    )
    assert len(by_resource.json()["items"]) == 3
    lists = await audit_events(app, action="audit_event.list", actor_id=auditor["id"])
    assert len(lists) == 4 and len(lists[0]["resource_ids"]) == 2


async def _sql(app, statement, params=None, *, bypass_triggers=False):
    async with app.state.database.engine.begin() as conn:
        if bypass_triggers:
            await conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        result = await conn.execute(text(statement), params or {})
        if bypass_triggers:
            await conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        return result


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'nothing happened'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "UPDATE audit_seal SET chain_hash = 'x'",
        "DELETE FROM audit_seal",
        "TRUNCATE audit_seal",
    ],
)
async def test_the_database_refuses_to_rewrite_history(app, client, statement):
    await user_token(app, client)
    await audit_service.seal(app.state.database.engine, KEY)
    with pytest.raises(DBAPIError, match="append-only"):
        await _sql(app, statement)
    assert len(await audit_events(app)) == 1


async def test_a_forged_transaction_id_is_overwritten(app, client):
    await _sql(
        app,
        "INSERT INTO audit_event (id, occurred_at, action, outcome, details, mac, xid) "
        "VALUES (:id, now(), 'forged', 'success', '{}', 'x', '1'::xid8)",
        {"id": uuid.uuid4()},
    )
    async with app.state.database.engine.connect() as conn:
        xid = await conn.scalar(text("SELECT xid::text FROM audit_event WHERE action = 'forged'"))
    assert int(xid) > 1


async def _trail_with_seal(app, client):
    _, token = await user_token(app, client)
    for _ in range(4):
        await client.get("/users/me", headers=bearer(token))
    result = await audit_service.seal(app.state.database.engine, KEY)
    assert result.sealed == 5
    checked, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert (checked, findings) == (5, [])


async def test_verify_finds_an_edited_event(app, client):
    await _trail_with_seal(app, client)
    await _sql(
        app,
        "UPDATE audit_event SET actor_label = 'someone else' WHERE seq = 3",
        bypass_triggers=True,
    )
    _, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert findings[0].event_seq == 3 and "altered" in findings[0].problem


async def test_verify_finds_a_deleted_event(app, client):
    await _trail_with_seal(app, client)
    await _sql(app, "DELETE FROM audit_event WHERE seq = 2", bypass_triggers=True)
    _, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert findings and findings[0].seal_seq == 1 and "removed" in findings[0].problem


async def test_verify_finds_an_inserted_event(app, client):
    await _trail_with_seal(app, client)
    await _sql(
        app,
        "INSERT INTO audit_event (id, occurred_at, action, outcome, details, mac) "
        "VALUES (:id, now(), 'user.read', 'success', '{}', :mac)",
        {"id": uuid.uuid4(), "mac": "0" * 64},
    )
    _, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert findings[0].event_seq == 6 and "forged" in findings[0].problem


async def test_verify_finds_an_event_slipped_into_a_sealed_batch(app, client):
    await _trail_with_seal(app, client)
    # a copy of a genuine event (so its MAC is right), dated back into the sealed batch
    await _sql(
        app,
        "INSERT INTO audit_event (id, occurred_at, actor_id, actor_role, actor_label,"
        " action, resource_type, resource_id, outcome, request_id, client_ip, user_agent,"
        " details, mac, xid) SELECT :id, occurred_at, actor_id, actor_role, actor_label,"
        " action, resource_type, resource_id, outcome, request_id, client_ip, user_agent,"
        " details, mac, xid FROM audit_event WHERE seq = :seq",
        {"id": uuid.uuid4(), "seq": 2},
        bypass_triggers=True,
    )
    _, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert findings  # the copy's MAC covers its id, and the sealed batch no longer adds up
    assert any(f.seal_seq == 1 for f in findings)


async def test_sealing_waits_for_transactions_still_running(app, client):
    await user_token(app, client)
    trail = AuditTrail(KEY, RequestMeta("late-request", None, None))
    trail.record("quote.read", resource_type="quote", resource_id="x")
    async with app.state.database.sessionmaker() as session:
        await trail.flush(session)  # written, not committed
        first = await audit_service.seal(app.state.database.engine, KEY)
        assert first.sealed == 1  # the login only; the open transaction's event waits
        await session.commit()
    second = await audit_service.seal(app.state.database.engine, KEY)
    assert second.sealed == 1
    checked, findings = await audit_service.verify(app.state.database.engine, KEY)
    assert (checked, findings) == (2, [])
    async with app.state.database.engine.connect() as conn:
        counts = (
            await conn.execute(text("SELECT event_count FROM audit_seal ORDER BY seq"))
        ).scalars()
        assert list(counts) == [1, 1]


def _cli(database_url, *args):
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_audit_verify_command(app, client, database_url):
    await _trail_with_seal(app, client)
    intact = _cli(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    await _sql(
        app, "UPDATE audit_event SET outcome = 'failure' WHERE seq = 4", bypass_triggers=True
    )
    broken = _cli(database_url, "audit", "verify")
    assert broken.returncode != 0
    assert "first bad event 4" in broken.stdout
