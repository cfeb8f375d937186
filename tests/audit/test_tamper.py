"""Tamper evidence: the database refuses to rewrite the trail, each event's MAC finds an edit or a
forgery, the chain of seals finds a removal, sealing is safe with concurrent writers, and
`python -m app audit verify` reports it all."""

import asyncio
import hashlib
import hmac
import itertools
import os
import subprocess
import sys
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import service as audit_service
from app.audit.repository import SEALER_LOCK_ID
from app.core.audit_chain import audit_key_from, canonical, fold_chain, fold_joined
from app.core.audit_trail import AuditTrail
from app.core.requestctx import RequestMeta
from tests.conftest import TEST_SECRET
from tests.factories import audit_events, bearer, user_token

KEY = audit_key_from(TEST_SECRET)


async def _sql(app, statement, params=None, *, bypass=()):
    """Run one statement in its own transaction; `bypass` lifts the named tables' triggers
    for that transaction only, as only the tables' owner could."""
    async with app.state.database.engine.begin() as conn:
        for table in bypass:
            await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        result = await conn.execute(text(statement), params or {})
        for table in bypass:
            await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return result


async def _scalar(app, statement, params=None):
    async with app.state.database.engine.connect() as conn:
        return await conn.scalar(text(statement), params or {})


async def _trail(app, client, reads=4):
    """A small genuine trail: a login and some reads, all sealed and verified intact."""
    _, token = await user_token(app, client)
    for _ in range(reads):
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    coverage, total = await _seal_all(app)
    assert total == reads + 1 and set(coverage.values()) == {1}
    assert await _verify(app) == (reads + 1, [])
    return [e["seq"] for e in await audit_events(app)]


async def _seal_until(app, done, within=15.0):
    """Seal until `done(coverage)`. A seal takes only the events of transactions that had all
    finished when it began; on a shared server any other database's transaction running at
    that instant holds the horizon back too, so one call may seal less than everything."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await audit_service.seal(app.state.database.engine, app.state.audit_key)
        coverage, total = await _coverage(app)
        if done(coverage) or loop.time() > deadline:
            return coverage, total
        await asyncio.sleep(0.02)


async def _seal_all(app):
    return await _seal_until(app, lambda coverage: all(coverage.values()))


async def _seal_of(app, seq):
    """The seal whose batch holds the event."""
    return await _scalar(
        app,
        "SELECT s.seq FROM audit_seal s JOIN audit_event e ON e.xid >= s.xid_from "
        "AND e.xid < s.xid_to WHERE e.seq = :seq",
        {"seq": seq},
    )


async def _verify(app):
    return await audit_service.verify(app.state.database.engine, app.state.audit_key)


def test_the_apps_audit_key_is_the_one_derived_from_the_secret(app):
    assert app.state.audit_key == KEY


# --- the database refuses to rewrite history ----------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'nothing happened'",
        "UPDATE audit_event SET details = '{}' WHERE seq = (SELECT min(seq) FROM audit_event)",
        "DELETE FROM audit_event",
        "DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)",
        "TRUNCATE audit_event",
        "TRUNCATE audit_event, audit_seal",
        "UPDATE audit_seal SET chain_hash = repeat('0', 64)",
        "DELETE FROM audit_seal",
        "TRUNCATE audit_seal",
    ],
)
async def test_the_database_refuses_update_delete_and_truncate(app, client, statement):
    await _trail(app, client, reads=1)
    seals = await _scalar(app, "SELECT count(*) FROM audit_seal")
    owner = await _scalar(app, "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'")
    assert owner == await _scalar(app, "SELECT current_user")  # refused even for the owner
    with pytest.raises(DBAPIError, match="append-only"):
        await _sql(app, statement)
    assert await _scalar(app, "SELECT count(*) FROM audit_event") == 2
    assert await _scalar(app, "SELECT count(*) FROM audit_seal") == seals
    assert await _verify(app) == (2, [])


async def test_a_forged_transaction_id_is_overwritten_on_insert(app):
    async with app.state.database.engine.begin() as conn:
        own = int(await conn.scalar(text("SELECT pg_current_xact_id()::text")))
        await conn.execute(
            text(
                "INSERT INTO audit_event (id, occurred_at, action, outcome, details, mac, xid) "
                "VALUES (:id, now(), 'forged', 'success', '{}', 'x', '1'::xid8)"
            ),
            {"id": uuid.uuid4()},
        )
    stamped = await _scalar(app, "SELECT xid::text FROM audit_event WHERE action = 'forged'")
    assert int(stamped) == own


# --- seal and verify ----------------------------------------------------------------------


async def test_an_intact_trail_verifies_and_sealing_again_adds_nothing(app, client):
    await _trail(app, client)
    seals = await _scalar(app, "SELECT count(*) FROM audit_seal")
    again = await audit_service.seal(app.state.database.engine, app.state.audit_key)
    assert again.sealed == 0
    assert await _scalar(app, "SELECT count(*) FROM audit_seal") == seals  # no empty links
    # more events make further links, each chained to the one before
    _, token = await user_token(app, client)
    await client.get("/users/me", headers=bearer(token))
    coverage, total = await _seal_all(app)
    assert set(coverage.values()) == {1} and total == 7
    async with app.state.database.engine.connect() as conn:
        seals = (
            await conn.execute(text("SELECT prev_hash, chain_hash FROM audit_seal ORDER BY seq"))
        ).all()
    assert seals[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.chain_hash for a, b in itertools.pairwise(seals))
    assert await _verify(app) == (7, [])
    # the trail verifies only with its own key
    _, findings = await audit_service.verify(app.state.database.engine, b"another key")
    assert len(findings) >= 7


async def test_a_seal_names_the_events_of_its_batch_in_order(app, client):
    """What the database gathers for a seal (its count, first and last numbers, every number,
    and the MACs it folds) is exactly its batch's events, in order of their numbers."""
    await _trail(app, client, reads=6)
    async with app.state.database.engine.connect() as conn:
        seals = (await conn.execute(text("SELECT * FROM audit_seal ORDER BY seq"))).mappings().all()
        prev = "0" * 64
        for seal in seals:
            events = (
                await conn.execute(
                    text(
                        "SELECT seq, mac FROM audit_event WHERE xid >= :lo AND xid < :hi "
                        "ORDER BY seq"
                    ),
                    {"lo": seal["xid_from"], "hi": seal["xid_to"]},
                )
            ).all()
            seqs = [e.seq for e in events]
            assert seal["event_seqs"] == seqs and seal["event_count"] == len(seqs)
            assert (seal["first_event_seq"], seal["last_event_seq"]) == (
                (seqs[0], seqs[-1]) if seqs else (None, None)
            )
            assert seal["prev_hash"] == prev
            assert seal["chain_hash"] == fold_chain(KEY, prev, [e.mac for e in events])
            prev = seal["chain_hash"]
    assert sum(len(s["event_seqs"]) for s in seals) == 7


@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    macs=st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), max_size=30),
)
def test_folding_the_joined_macs_is_folding_them_one_by_one(prev, macs):
    h = hmac.new(KEY, prev.encode(), hashlib.sha256)
    for mac in macs:
        h.update(b"|" + mac.encode())
    assert fold_chain(KEY, prev, macs) == h.hexdigest()
    assert fold_joined(KEY, prev, "".join("|" + m for m in macs)) == h.hexdigest()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "'someone else'"),
        ("outcome", "'failure'"),
        ("details", """'{"ids": []}'"""),
        ("occurred_at", "occurred_at - interval '1 day'"),
        ("actor_id", "NULL"),
        ("request_id", "'another-request'"),
        ("mac", "repeat('a', 64)"),
    ],
)
async def test_an_edited_event_is_named(app, client, column, value):
    seqs = await _trail(app, client)
    victim = seqs[2]
    await _sql(
        app,
        f"UPDATE audit_event SET {column} = {value} WHERE seq = :seq",  # noqa: S608
        {"seq": victim},
        bypass=("audit_event",),
    )
    checked, findings = await _verify(app)
    assert checked == len(seqs)
    assert findings[0].event_seq == victim and "altered" in findings[0].problem
    assert findings[0].describe().startswith(f"event {victim}:")
    assert [f.event_seq for f in findings if f.seal_seq is None] == [victim]


async def test_an_event_moved_out_of_its_sealed_batch_is_found(app, client):
    seqs = await _trail(app, client)
    seal = await _seal_of(app, seqs[1])
    await _sql(
        app,
        "UPDATE audit_event SET xid = (SELECT max(xid_to) FROM audit_seal) WHERE seq = :seq",
        {"seq": seqs[1]},
        bypass=("audit_event",),
    )
    _, findings = await _verify(app)
    assert [f.seal_seq for f in findings] == [seal]
    assert "removed" in findings[0].problem


@pytest.mark.parametrize("position", [0, 2, -1])
async def test_a_deleted_sealed_event_is_found_by_its_seal(app, client, position):
    seqs = await _trail(app, client)
    victim = seqs[position]
    seal = await _seal_of(app, victim)
    await _sql(
        app, "DELETE FROM audit_event WHERE seq = :seq", {"seq": victim}, bypass=("audit_event",)
    )
    checked, findings = await _verify(app)
    assert checked == len(seqs) - 1
    assert len(findings) == 1
    [finding] = findings
    assert finding.seal_seq == seal and "removed" in finding.problem
    # never blames an event that is still there: either the deleted one, or the seal itself
    assert finding.event_seq in (victim, None)
    if finding.event_seq is None:
        assert finding.describe().startswith(f"seal {seal}:")


async def test_an_edited_or_removed_seal_is_found(app, client):
    await _trail(app, client, reads=1)
    _, token = await user_token(app, client)
    await client.get("/users/me", headers=bearer(token))
    await _seal_all(app)
    seals = await _scalar(app, "SELECT count(*) FROM audit_seal")
    assert seals >= 2
    await _sql(
        app,
        "UPDATE audit_seal SET chain_hash = repeat('f', 64) WHERE seq = 1",
        bypass=("audit_seal",),
    )
    _, findings = await _verify(app)
    assert {f.seal_seq for f in findings} == {1, 2}  # its own batch, and the next link
    await _sql(app, "DELETE FROM audit_seal WHERE seq = 1", bypass=("audit_seal",))
    _, findings = await _verify(app)
    assert findings and findings[0].seal_seq == 2 and "broken" in findings[0].problem


def _forged_event(seq_hint: str, mac: str) -> dict:
    return {
        "id": uuid.uuid4(),
        "action": "user.read",
        "resource_type": "user",
        "resource_id": seq_hint,
        "mac": mac,
    }


FORGE = (
    "INSERT INTO audit_event (id, occurred_at, action, resource_type, resource_id, outcome, "
    "details, mac) VALUES (:id, now(), :action, :resource_type, :resource_id, 'success', "
    "'{}', :mac)"
)


async def test_forged_events_are_caught(app, client):
    seqs = await _trail(app, client)
    # a made-up MAC
    await _sql(app, FORGE, _forged_event("a", "not-a-mac"))
    # a MAC of the right shape: HMAC-SHA256 of the event's canonical fields, with a wrong key
    plausible = _forged_event("b", "")
    plausible["mac"] = hmac.new(b"guessed key", canonical(plausible), hashlib.sha256).hexdigest()
    assert len(plausible["mac"]) == 64
    await _sql(app, FORGE, plausible)
    # a genuine event's MAC copied onto a forged event
    genuine_mac = await _scalar(app, "SELECT mac FROM audit_event WHERE seq = :s", {"s": seqs[1]})
    await _sql(app, FORGE, _forged_event("c", genuine_mac))
    forged = [e["seq"] for e in await audit_events(app) if e["resource_id"] in ("a", "b", "c")]
    assert len(forged) == 3

    checked, findings = await _verify(app)
    assert checked == len(seqs) + 3
    assert [f.event_seq for f in findings] == forged
    assert all("forged" in f.problem for f in findings)
    # sealed now, the forgeries are still named by their MACs
    await _seal_all(app)
    _, findings = await _verify(app)
    assert [f.event_seq for f in findings] == forged


async def test_a_forgery_slipped_into_a_sealed_batch_is_caught_twice(app, client):
    seqs = await _trail(app, client)
    seal = await _seal_of(app, seqs[0])
    xid = await _scalar(app, "SELECT xid::text FROM audit_event WHERE seq = :s", {"s": seqs[0]})
    plausible = _forged_event("d", "")
    plausible["mac"] = hmac.new(b"guessed key", canonical(plausible), hashlib.sha256).hexdigest()
    await _sql(
        app,
        FORGE.replace("details, mac)", "details, mac, xid)").replace(
            "'{}', :mac)", "'{}', :mac, CAST(:xid AS text)::xid8)"
        ),
        {**plausible, "xid": xid},
        bypass=("audit_event",),
    )
    forged_seq = await _scalar(app, "SELECT max(seq) FROM audit_event")
    _, findings = await _verify(app)
    assert findings[0].event_seq == forged_seq and "forged" in findings[0].problem
    assert any(f.seal_seq == seal and "inserted" in f.problem for f in findings)


# --- python -m app audit verify -----------------------------------------------------------


def _cli(database_url, *args):
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
    }
    env.pop("AUDIT_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_audit_verify_command_exit_codes(app, client, database_url):
    seqs = await _trail(app, client)
    intact = await asyncio.to_thread(_cli, database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert f"{len(seqs)} events checked" in intact.stdout
    await _sql(
        app,
        "UPDATE audit_event SET outcome = 'denied' WHERE seq IN (:a, :b)",
        {"a": seqs[3], "b": seqs[1]},
        bypass=("audit_event",),
    )
    broken = await asyncio.to_thread(_cli, database_url, "audit", "verify")
    assert broken.returncode != 0
    first_line = broken.stdout.splitlines()[0]
    assert "NOT intact" in first_line and f"first bad event {seqs[1]}:" in first_line
    assert f"event {seqs[3]}" in broken.stdout


# --- sealing with concurrent writers ------------------------------------------------------


async def _coverage(app):
    """How many seals cover each event (by the transaction id batches), and the seals' total."""
    async with app.state.database.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT e.seq, count(s.seq) AS seals FROM audit_event e LEFT JOIN audit_seal s "
                    "ON e.xid >= s.xid_from AND e.xid < s.xid_to GROUP BY e.seq ORDER BY e.seq"
                )
            )
        ).all()
        total = await conn.scalar(text("SELECT coalesce(sum(event_count), 0) FROM audit_seal"))
    return {r.seq: r.seals for r in rows}, total


async def test_sealing_leaves_events_of_unfinished_transactions_for_later(app, client):
    engine, key = app.state.database.engine, app.state.audit_key
    _, token = await user_token(app, client)  # committed: the login
    [login_event] = await audit_events(app)
    trail = AuditTrail(key, RequestMeta("late-request-0001", "10.0.0.1", "late writer"))
    trail.record("user.read", resource_type="user", resource_id="late")
    async with app.state.database.sessionmaker() as session:
        await trail.flush(session)  # written in a transaction still open
        late_seq = await session.scalar(text("SELECT max(seq) FROM audit_event"))
        # a request that starts and commits after the open one
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
        [read_event] = await audit_events(app, action="user.read")
        assert read_event["seq"] > late_seq
        # the login, written before the open transaction began, gets sealed ...
        coverage, _ = await _seal_until(app, lambda c: c[login_event["seq"]] == 1)
        assert coverage[login_event["seq"]] == 1
        # ... but nothing from the open transaction onwards, however often the sealer runs
        for _ in range(3):
            assert (await audit_service.seal(engine, key)).sealed == 0
        coverage, total = await _coverage(app)
        assert late_seq not in coverage  # not even visible to others yet
        assert coverage[read_event["seq"]] == 0 and total == 1
        await session.commit()
    coverage, total = await _seal_all(app)
    assert set(coverage) == {login_event["seq"], late_seq, read_event["seq"]}
    assert set(coverage.values()) == {1} and total == 3
    assert await _verify(app) == (3, [])


async def test_an_aborted_writer_leaves_no_gap_in_the_chain(app, client):
    key = app.state.audit_key
    await user_token(app, client)
    trail = AuditTrail(key, RequestMeta("aborted-request", None, None))
    trail.record("user.read", resource_type="user", resource_id="aborted")
    async with app.state.database.sessionmaker() as session:
        await trail.flush(session)
        await _seal_all(app)
        await session.rollback()
    coverage, total = await _seal_all(app)
    assert set(coverage.values()) == {1} and total == len(coverage) == 1
    assert await _verify(app) == (1, [])


async def test_one_sealer_at_a_time(app, client):
    engine, key = app.state.database.engine, app.state.audit_key
    await user_token(app, client)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SEALER_LOCK_ID})
        for _ in range(3):
            busy = await audit_service.seal(engine, key)
            assert (busy.sealed, busy.xid_to) == (0, None)
        assert await _scalar(app, "SELECT count(*) FROM audit_seal") == 0
        await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SEALER_LOCK_ID})
    coverage, _ = await _seal_all(app)
    assert list(coverage.values()) == [1]


async def test_many_writers_and_sealers_put_every_event_in_exactly_one_seal(app, client):
    engine, key = app.state.database.engine, app.state.audit_key
    tokens = [(await user_token(app, client))[1] for _ in range(3)]

    async def reads(token):
        for _ in range(6):
            assert (await client.get("/users/me", headers=bearer(token))).status_code == 200

    async def sealer():
        for _ in range(6):
            await audit_service.seal(engine, key)
            await asyncio.sleep(0.005)

    await asyncio.gather(*(reads(t) for t in tokens), sealer(), sealer())
    coverage, total = await _seal_all(app)
    assert len(coverage) == 3 + 3 * 6
    assert set(coverage.values()) == {1} and total == len(coverage)
    assert await _verify(app) == (len(coverage), [])
