"""The audited read path's mechanics: namespaced parameters and the read-only guard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.audit_chain import audit_key_from
from app.core.audit_trail import AuditTrail
from app.core.db import WriteAfterAutocommitRead
from app.core.errors import database_failure
from app.core.requestctx import RequestMeta
from app.core.sql import Bound, arguments, compose, positional, statement
from app.core.unit_of_work import Unit, _finish
from tests.conftest import TEST_SECRET


def test_parts_with_the_same_parameter_name_keep_their_own_values():
    session_check = Bound("SELECT 1 WHERE :session_id IS NOT NULL", {"session_id": "real"})
    domain = Bound("SELECT :session_id AS forged", {"session_id": "forged"})
    query = compose("{a} UNION ALL {b}", a=session_check, b=domain)
    assert query.params == {"a__session_id": "real", "b__session_id": "forged"}
    assert ":a__session_id" in query.sql and ":b__session_id" in query.sql


def test_a_nested_composition_binds_each_value_to_its_own_number():
    """The driver's arguments of a composed statement (taken from its parts, a part at a time)
    are the values its renamed parameters name, in the order of their numbers, however the parts
    nest, repeat a parameter or share a name."""
    inner = compose(
        "SELECT {id} AND {visible}",
        id=Bound(":value", {"value": "the id"}),
        visible=Bound("owner = :who OR :who IS NULL AND :x", {"who": "me", "x": True}),
    )
    query = compose(
        "WITH t AS ({touch}) {q} UNION {event}",
        touch=Bound("SELECT :session_id, :idle, :role", {"session_id": 1, "idle": 2, "role": 3}),
        q=inner,
        event=Bound("SELECT :value", {"value": "the event's"}),
    )
    sql, args = arguments(query)
    names = positional(query.sql)[1]
    flat = dict(query.params)
    assert args == [flat[name] for name in names]
    assert args == [1, 2, 3, "the id", "me", True, "the event's"]
    assert sql.count("$5") == 2  # `who` twice, one number
    assert (
        statement(query)[1]
        == flat
        == {
            "touch__session_id": 1,
            "touch__idle": 2,
            "touch__role": 3,
            "q__id__value": "the id",
            "q__visible__who": "me",
            "q__visible__x": True,
            "event__value": "the event's",
        }
    )


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT :a", {}),
        ("SELECT 1", {"a": 1}),
        ("SELECT :a, :b", {"a": 1, "c": 2}),
    ],
)
def test_a_part_must_bind_exactly_its_parameters(sql, params):
    with pytest.raises(ValueError, match="parameters"):
        Bound(sql, params)


def test_casts_are_not_parameters():
    assert Bound("SELECT CAST(:a AS uuid), now()::text", {"a": None}).params == {"a": None}


def test_a_template_may_not_use_a_part_twice_or_bind_its_own_parameters():
    part = Bound("SELECT 1", {})
    with pytest.raises(ValueError):
        compose("{a} UNION {a}", a=part)
    with pytest.raises(ValueError):
        compose("{a} WHERE :x", a=part)


async def test_after_an_autocommit_read_only_the_units_bookkeeping_may_write(app):
    trail = AuditTrail(audit_key_from(TEST_SECRET), RequestMeta("test", None, None))
    async with app.state.database.sessionmaker() as session:
        unit = Unit(session, trail, app.state.settings)
        rows = await unit.read(Bound("SELECT CAST(:v AS int) AS v", {"v": 7}))
        assert [dict(r) for r in rows] == [{"v": 7}]
        assert unit.read_only
        with pytest.raises(WriteAfterAutocommitRead):
            await session.execute(text("CREATE TEMPORARY TABLE t (x int)"))
        unit.audit.record("test.read")
        assert await unit.audit.flush(session)  # the audit events still go in
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM audit_event")) == 1


async def test_a_unit_reads_without_a_session_on_a_pooled_connection_and_stays_read_only(app):
    """A request's first audited read needs no SQLAlchemy session: it runs on a pooled
    connection of its own; a session made after it is autocommit and read-only, as is the
    driver's path, and the bookkeeping still writes."""
    trail = AuditTrail(audit_key_from(TEST_SECRET), RequestMeta("test", None, None))
    unit = Unit(None, trail, app.state.settings, database=app.state.database)
    rows = await unit.read(Bound("SELECT CAST(:v AS int) AS v", {"v": 7}))
    assert [dict(r) for r in rows] == [{"v": 7}]
    assert unit.read_only and not unit.has_session
    with pytest.raises(WriteAfterAutocommitRead):
        await unit.read(Bound("CREATE TEMPORARY TABLE t (x int)", {}))
    try:
        with pytest.raises(WriteAfterAutocommitRead):
            await unit.db.execute(text("CREATE TEMPORARY TABLE t (x int)"))
        assert [dict(r) for r in await unit.read(Bound("SELECT 8 AS v", {}))] == [{"v": 8}]
        unit.audit.record("test.read")
        assert await _finish(unit) is None  # the event goes in
    finally:
        await unit.db.close()
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM audit_event")) == 1


async def test_a_read_held_back_records_nothing_and_leaves_the_unit_free_to_write(app):
    """A row whose `unless` column is true is neither returned nor recorded, and the unit may
    still write (the caller does the work the row waits for, then reads again)."""
    trail = AuditTrail(audit_key_from(TEST_SECRET), RequestMeta("test", None, None))
    unit = Unit(None, trail, app.state.settings, database=app.state.database)
    waiting = Bound("SELECT CAST(:w AS boolean) AS waiting__, 1 AS v", {"w": True})
    assert await unit.read_recorded(waiting, trail.event("test.read"), unless="waiting__") is None
    assert not unit.read_only and not trail.has_pending
    try:
        await unit.db.execute(text("CREATE TEMPORARY TABLE t (x int)"))  # a write: allowed
        ready = Bound("SELECT CAST(:w AS boolean) AS waiting__, 2 AS v", {"w": False})
        row = await unit.read_recorded(ready, trail.event("test.read"), unless="waiting__")
        assert row is not None and row["v"] == 2 and trail.has_pending
        assert await _finish(unit) is None
    finally:
        await unit.db.close()
    async with app.state.database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM audit_event")) == 1
    with pytest.raises(ValueError, match="column"):
        await Unit(None, trail, app.state.settings, database=app.state.database).read_recorded(
            waiting, trail.event("test.read"), unless="x; DROP TABLE t"
        )


async def test_the_driver_path_fails_as_sqlalchemy_does(app):
    trail = AuditTrail(audit_key_from(TEST_SECRET), RequestMeta("test", None, None))
    unit = Unit(None, trail, app.state.settings, database=app.state.database)
    with pytest.raises(DBAPIError) as raised:
        await unit.read(Bound("SELECT 1 / CAST(:v AS int) AS v", {"v": 0}))
    assert database_failure(raised.value) == "invalid"  # a 422, as on SQLAlchemy's path
    assert not raised.value.connection_invalidated
    assert [dict(r) for r in await unit.read(Bound("SELECT 1 AS v", {}))] == [{"v": 1}]


async def test_a_read_cancelled_mid_statement_does_not_return_its_connection(app):
    """A statement cancelled on the driver's path leaves its connection in an unknown state:
    it is closed (invalidated), not handed to the next request."""
    import asyncio

    trail = AuditTrail(audit_key_from(TEST_SECRET), RequestMeta("test", None, None))
    unit = Unit(None, trail, app.state.settings, database=app.state.database)
    pool = app.state.database.engine.pool
    task = asyncio.ensure_future(unit.read(Bound("SELECT pg_sleep(5) AS slept", {})))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.checkedout() == len(app.state.database.lane)  # none but the lane's idle ones
    again = Unit(None, trail, app.state.settings, database=app.state.database)
    assert [dict(r) for r in await again.read(Bound("SELECT 1 AS v", {}))] == [{"v": 1}]


def _unit(app) -> Unit:
    trail = AuditTrail(audit_key_from(TEST_SECRET), RequestMeta("test", None, None))
    return Unit(None, trail, app.state.settings, database=app.state.database)


async def _backend(app) -> int:
    rows = await _unit(app).read(Bound("SELECT pg_backend_pid() AS pid", {}))
    return int(rows[0]["pid"])


async def test_reads_in_autocommit_reuse_the_lanes_connection(app):
    """Statements on the driver's path take a connection kept in the lane, not a new checkout
    of the pool each time."""
    database = app.state.database
    first = await _backend(app)
    checked_out = database.engine.pool.checkedout()
    assert [await _backend(app) for _ in range(5)] == [first] * 5
    assert database.engine.pool.checkedout() == checked_out == len(database.lane) >= 1


async def test_a_lost_connection_empties_the_lane_and_the_next_read_gets_a_sound_one(app):
    database = app.state.database
    lost = await _backend(app)
    async with database.engine.connect() as admin:
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})
    with pytest.raises(DBAPIError) as raised:
        await _backend(app)
    assert raised.value.connection_invalidated  # answered 503 (app/core/errors.py)
    assert len(database.lane) == 0
    again = await _backend(app)
    assert again != lost


async def test_the_lane_gives_a_connection_back_to_the_pool_after_its_time(app):
    database = app.state.database
    await database.lane.close()
    await _backend(app)
    assert len(database.lane) == 1
    recycle, database.lane.recycle = database.lane.recycle, 0  # every connection past its time
    try:
        await _backend(app)
    finally:
        database.lane.recycle = recycle
    assert len(database.lane) == 0
    assert database.engine.pool.checkedout() == 0


async def test_the_lane_holds_at_most_its_size_and_closes_with_the_database(app):
    import asyncio

    database = app.state.database
    many = database.lane.size + 3
    # each statement holds its connection for a moment, so they need `many` at once
    await asyncio.gather(
        *(_unit(app).read(Bound("SELECT pg_sleep(0.2) AS slept", {})) for _ in range(many))
    )
    assert len(database.lane) == database.lane.size
    assert database.engine.pool.checkedout() == database.lane.size
    await database.lane.close()
    assert database.engine.pool.checkedout() == 0


def test_json_read_from_the_database_parses_as_the_standard_library_does():
    from app.core.db import parse_json

    for text_ in (
        '{"a": [1, 2.5, -0.0, "é\\u00e9", null, true], "b": {"": {}}}',
        '"1755.00"',
        "[]",
        '{"n": 9223372036854775807, "m": -9223372036854775808}',
        '["\\ud800"]',  # a lone surrogate, which a json column keeps
    ):
        assert parse_json(text_) == json.loads(text_)


def _unbounded_integers(schema: dict[str, Any], at: str = "$") -> list[str]:
    found = []
    bounded = "maximum" in schema or "exclusiveMaximum" in schema
    if schema.get("type") == "integer" and not bounded:
        found.append(at)
    for key, value in schema.items():
        if isinstance(value, dict):
            found += _unbounded_integers(value, f"{at}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    found += _unbounded_integers(item, f"{at}.{key}[{i}]")
    return found


def test_no_stored_document_can_hold_an_integer_json_reads_inexactly():
    """Every integer the API takes into a stored JSON document (a form, a quote's inputs, a
    notice's facts) has a maximum: orjson, which reads the documents, would read one beyond 64
    bits as a float (`parse_json`)."""
    from app.applications.form import ApplicationForm
    from app.applications.schemas import ApplicationCreate
    from app.claims_notices.schemas import ClaimsNoticeCreate, CostCreate, MilestoneCreate
    from app.exemptions.form import ExemptionForm
    from app.exemptions.schemas import ExemptionCreate, ReviewCreate
    from app.quotes.schemas import QuoteCreate

    models = (
        ApplicationForm,
        ApplicationCreate,
        ExemptionForm,
        ExemptionCreate,
        ReviewCreate,
        QuoteCreate,
        ClaimsNoticeCreate,
        MilestoneCreate,
        CostCreate,
    )
    unbounded = {
        model.__name__: found
        for model in models
        if (found := _unbounded_integers(model.model_json_schema()))
    }
    assert unbounded == {}


def test_an_answer_built_as_data_is_written_as_its_model_writes_it():
    """`json_response`'s serializer against the model's, on the value types the answers carry."""
    import datetime as dt
    import uuid
    from decimal import Decimal

    from pydantic import BaseModel

    from app.core.responses import to_json
    from app.quotes.rules import Deductible
    from app.quotes.schemas import MoneyOut

    class Inner(BaseModel):
        amount: MoneyOut

    class Answer(BaseModel):
        id: uuid.UUID
        on: dt.date
        at: dt.datetime
        exact: dt.datetime
        money: MoneyOut
        kind: Deductible
        inner: Inner
        items: list[Inner]
        nothing: str | None

    values = {
        "id": uuid.uuid4(),
        "on": dt.date(2025, 2, 28),
        "at": dt.datetime(2026, 11, 25, 20, 1, 2, 345678, tzinfo=dt.UTC),
        "exact": dt.datetime(2026, 11, 25, 20, 1, 2, tzinfo=dt.UTC),
        "money": Decimal("1755.00"),
        "kind": Deductible("5000_combined"),
        "inner": Inner(amount=Decimal("-0.50")),
        "items": [{"amount": "12.30"}],
        "nothing": None,
    }
    data = {**values, "kind": "5000_combined", "items": [{"amount": "12.30"}]}
    assert to_json(data).decode() == Answer.model_validate(values).model_dump_json()


async def test_a_burst_of_requests_whose_session_ended_does_not_exhaust_the_pool(app_factory):
    """Each such request finds its session ended on one connection and records the refusal on
    another: it must hand the first back before taking the second, else a burst larger than the
    pool waits for the pool's timeout and fails with 503 (seen: 16 requests, 30 s, 503s)."""
    import asyncio
    import time

    from tests.conftest import client_for
    from tests.factories import bearer, user_token

    app = app_factory(db_pool_size=2)  # a pool of 2 (and a lane of 1) against 20 requests
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        async with app.state.database.engine.begin() as conn:
            await conn.execute(
                text("UPDATE auth_session SET last_seen_at = now() - interval '2 hours'")
            )
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(client.get(path, headers=bearer(token)) for path in ["/quotes", "/users/me"] * 10)
        )
        elapsed = time.perf_counter() - started
    assert [a.status_code for a in answers] == [401] * 20
    assert elapsed < 10, elapsed


async def test_json_is_read_and_written_through_the_one_parser_in_both_paths(app):
    """JSON and JSONB read on the driver's path (an audited read) and through SQLAlchemy (the
    ORM) are parsed alike, and SQLAlchemy's JSON parameters are written as before (the driver
    takes both in text form, app/core/db.py)."""
    from sqlalchemy import JSON, bindparam, text
    from sqlalchemy.dialects.postgresql import JSONB

    from app.core.db import fetch_on_pool

    database = app.state.database
    document = {"n": 9223372036854775807, "s": "é\u00e9", "l": [1, 2.5, None, {"": {}}]}
    query = Bound(
        "SELECT CAST(:doc AS jsonb) AS b, CAST(:doc AS json) AS j", {"doc": json.dumps(document)}
    )
    [row] = await fetch_on_pool(database, query)
    assert row["b"] == row["j"] == document
    async with database.engine.connect() as conn:
        statement = text("SELECT CAST(:b AS jsonb) AS b, CAST(:j AS json) AS j").bindparams(
            bindparam("b", type_=JSONB), bindparam("j", type_=JSON)
        )
        got = (await conn.execute(statement, {"b": document, "j": [document]})).one()
        assert (got.b, got.j) == (document, [document])
    # a value that is not JSON text yet is refused, never written as its Python repr
    with pytest.raises(DBAPIError):
        await fetch_on_pool(database, Bound("SELECT CAST(:doc AS jsonb) AS b", {"doc": document}))


def test_answers_written_out_show_their_models_fields_in_order():
    """The answers built as dict displays (cheaper than `fields_of` by about ten thousand
    instructions a row, measured on a page of 50) name exactly their model's fields, in its
    order: a field added to a model and not to its answer fails here, not in a client."""
    from app.audit.schemas import AuditEventRead
    from app.audit.service import event_answer
    from app.payments.schemas import AuthorizationRead
    from app.payments.service import authorization_answer
    from app.policies.schemas import PolicyDetail
    from app.policies.service import policy_answer
    from app.users.schemas import UserRead
    from app.users.service import user_answer

    class AnyRow(dict):  # every column NULL
        def __missing__(self, key: str) -> None:
            return None

    for answer, model in (
        (event_answer, AuditEventRead),
        (authorization_answer, AuthorizationRead),
        (policy_answer, PolicyDetail),
        (user_answer, UserRead),
    ):
        assert list(answer(AnyRow())) == list(model.model_fields), answer.__name__
    from app.exemptions.schemas import CoverageRead
    from app.exemptions.service import _coverage

    coverage = _coverage({"reason": "c", "effective_date": "2026-03-01"}, {})
    assert coverage is not None
    assert list(coverage) == list(CoverageRead.model_fields)
    assert CoverageRead.model_validate(coverage).model_dump(mode="json") == coverage
