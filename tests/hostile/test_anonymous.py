"""Refusals of requests naming nobody are counted, not written one by one; authenticated
refusals stay one event each."""

from __future__ import annotations

import uuid

from app.main import record_repeated_refusals
from tests.conftest import client_for
from tests.factories import audit_events, bearer, user_token


async def test_a_flood_without_identity_is_two_events_not_fifty(app, client):
    async with client_for(app) as anonymous:
        for i in range(50):
            headers = {} if i % 2 else {"Authorization": "Bearer forged.token.value"}
            assert (await anonymous.get("/users/me", headers=headers)).status_code == 401
    [first] = await audit_events(app, action="user.read", outcome="denied")
    assert first["actor_id"] is None and first["client_ip"] == "127.0.0.1"
    assert await record_repeated_refusals(app, everything=True) == 1
    first_again, counted = await audit_events(app, action="user.read", outcome="denied")
    assert first_again == first
    assert counted["details"]["repeated"] == 49 and counted["details"]["client_ip"] == "127.0.0.1"
    assert counted["details"]["window_start"] < counted["details"]["window_end"]


async def test_past_the_limit_a_client_naming_nobody_is_told_to_wait(app_factory):
    app = app_factory(anonymous_rate_limit=5)
    async with client_for(app) as anonymous:
        answers = [(await anonymous.get("/quotes")).status_code for _ in range(7)]
        assert answers == [401] * 5 + [429] * 2
        late = await anonymous.get("/quotes")
        assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1
    assert len(await audit_events(app, action="quote.list", outcome="denied")) == 1


async def test_authenticated_refusals_stay_one_event_each(app, client):
    lawyer, token = await user_token(app, client)
    for _ in range(3):
        missing = await client.get(f"/quotes/{uuid.uuid4()}", headers=bearer(token))
        assert missing.status_code == 404
    events = await audit_events(app, action="quote.read", outcome="denied")
    assert [e["actor_id"] for e in events] == [lawyer["id"]] * 3
