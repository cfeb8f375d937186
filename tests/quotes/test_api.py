"""POST /quotes, GET /quotes/{id}, GET /quotes through HTTP: pricing, ownership, audit."""

from decimal import Decimal

from tests.factories import audit_events, bearer, make_firm, make_user, user_token

WORKED_EXAMPLE = {"program_year": 2025, "effective_date": "2025-01-01", "payment_plan": "quarterly"}


async def test_worked_example_to_the_cent(app, client):
    lawyer, token = await user_token(app, client)
    response = await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(token))
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(ln["code"], ln["amount"]) for ln in body["lines"]] == [
        ("base_premium", "3250.00"),
        ("new_lawyer_and_practice_discount", "-1625.00"),
    ]
    assert (body["premium"], body["tax"], body["total"]) == ("1625.00", "130.00", "1755.00")
    assert [i["amount"] for i in body["instalments"]] == ["438.75"] * 4
    assert [i["due_date"] for i in body["instalments"]] == [
        "2025-01-15",
        "2025-04-15",
        "2025-07-15",
        "2025-10-15",
    ]
    assert body["lawyer_id"] == str(lawyer["id"])
    assert body["deductible"] == "5000_combined" and body["payment_plan"] == "quarterly"
    assert response.headers["location"] == f"/quotes/{body['id']}"
    again = await client.get(f"/quotes/{body['id']}", headers=bearer(token))
    assert again.status_code == 200
    assert again.json() == body


async def test_money_is_never_a_json_number(app, client):
    _, token = await user_token(app, client)
    body = (await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(token))).json()
    for value in (
        body["premium"],
        body["tax"],
        body["total"],
        *[ln["amount"] for ln in body["lines"]],
    ):
        assert isinstance(value, str) and Decimal(value).as_tuple().exponent == -2


async def test_bad_input_names_the_field_and_saves_nothing(app, client):
    _, token = await user_token(app, client)
    cases = [
        ({**WORKED_EXAMPLE, "effective_date": "2026-01-01"}, "effective_date"),
        ({**WORKED_EXAMPLE, "deductible": "3000_combined"}, "deductible"),
        ({**WORKED_EXAMPLE, "years_in_practice": -1}, "years_in_practice"),
        ({**WORKED_EXAMPLE, "program_year": 2031}, "program_year"),
        ({**WORKED_EXAMPLE, "payment_plan": "weekly"}, "payment_plan"),
        ({**WORKED_EXAMPLE, "surprise": True}, "surprise"),
    ]
    for body, field in cases:
        response = await client.post("/quotes", json=body, headers=bearer(token))
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    listed = await client.get("/quotes", headers=bearer(token))
    assert listed.json()["items"] == []
    assert await audit_events(app, action="quote.create") == []


async def test_someone_elses_quote_is_not_found_and_the_refusal_is_audited(app, client):
    _, owner_token = await user_token(app, client)
    other, other_token = await user_token(app, client)
    quote = (await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(owner_token))).json()
    response = await client.get(f"/quotes/{quote['id']}", headers=bearer(other_token))
    assert response.status_code == 404
    denied = await audit_events(app, outcome="denied", resource_id=quote["id"])
    assert len(denied) == 1 and denied[0]["actor_id"] == other["id"]
    listed = await client.get("/quotes", headers=bearer(other_token))
    assert listed.json()["items"] == []


async def test_staff_with_need_to_know_read_any_quote_others_do_not(app, client):
    _, owner_token = await user_token(app, client)
    quote = (await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(owner_token))).json()
    for role in ("customer_service", "underwriter", "finance"):
        _, token = await user_token(app, client, role=role)
        response = await client.get(f"/quotes/{quote['id']}", headers=bearer(token))
        assert response.status_code == 200, role
    for role in ("claims", "auditor", "admin"):  # roles without the action (API.md: 403)
        _, token = await user_token(app, client, role=role)
        response = await client.get(f"/quotes/{quote['id']}", headers=bearer(token))
        assert response.status_code == 403, role


async def test_firm_admin_and_integration_quote_for_their_lawyers(app, client):
    firm = await make_firm(app)
    other_firm = await make_firm(app)
    lawyer = await make_user(app, firm_id=firm)
    outsider = await make_user(app, firm_id=other_firm)
    _, admin_token = await user_token(app, client, role="firm_admin", firm_id=firm)
    body = {**WORKED_EXAMPLE, "lawyer_id": str(lawyer["id"])}
    created = await client.post("/quotes", json=body, headers=bearer(admin_token))
    assert created.status_code == 201, created.text
    assert created.json()["lawyer_id"] == str(lawyer["id"])

    missing = await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(admin_token))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "lawyer_id"
    foreign = {**WORKED_EXAMPLE, "lawyer_id": str(outsider["id"])}
    refused = await client.post("/quotes", json=foreign, headers=bearer(admin_token))
    assert refused.status_code == 422

    # the lawyer sees the quote made for them; an integration of the firm needs its scope
    lawyer_token = (
        await client.post(
            "/auth/token", data={"username": lawyer["username"], "password": lawyer["password"]}
        )
    ).json()["access_token"]
    mine = await client.get("/quotes", headers=bearer(lawyer_token))
    assert [q["id"] for q in mine.json()["items"]] == [created.json()["id"]]

    integration = await make_user(app, role="integration", firm_id=firm, scopes=["quotes:read"])
    token = (
        await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": integration["username"],
                "client_secret": integration["password"],
            },
        )
    ).json()["access_token"]
    assert (
        await client.get(f"/quotes/{created.json()['id']}", headers=bearer(token))
    ).status_code == 200
    no_scope = await client.post("/quotes", json=body, headers=bearer(token))
    assert no_scope.status_code == 403


async def test_list_pages_through_own_quotes_and_is_audited(app, client):
    lawyer, token = await user_token(app, client)
    ids = []
    for day in range(1, 6):
        body = {**WORKED_EXAMPLE, "effective_date": f"2025-02-0{day}"}
        ids.append((await client.post("/quotes", json=body, headers=bearer(token))).json()["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/quotes", params=params, headers=bearer(token))).json()
        seen += [q["id"] for q in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    lists = await audit_events(app, action="quote.list", actor_id=lawyer["id"])
    assert len(lists) == 3
    assert sum(len(e["resource_ids"]) for e in lists) == 5


async def test_creation_and_reads_are_audited_with_the_request(app, client):
    lawyer, token = await user_token(app, client)
    created = await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(token))
    quote_id = created.json()["id"]
    read = await client.get(f"/quotes/{quote_id}", headers=bearer(token))
    [create_event] = await audit_events(app, action="quote.create", resource_id=quote_id)
    [read_event] = await audit_events(app, action="quote.read", resource_id=quote_id)
    assert create_event["request_id"] == created.headers["x-request-id"]
    assert read_event["request_id"] == read.headers["x-request-id"]
    assert read_event["actor_id"] == lawyer["id"] and read_event["actor_role"] == "lawyer"
    assert create_event["details"]["after"]["total"] == "1755.00"


async def test_a_quote_records_the_rate_table_that_priced_it(app, client):
    _, token = await user_token(app, client)
    body = (await client.post("/quotes", json=WORKED_EXAMPLE, headers=bearer(token))).json()
    assert body["rate_table_version"].startswith("2025")
    async with app.state.database.engine.connect() as conn:
        from sqlalchemy import text

        digest = await conn.scalar(
            text("SELECT rate_table_digest FROM quote WHERE id = :id"), {"id": body["id"]}
        )
    assert digest and len(digest) == 64


async def test_an_optional_idempotency_key_makes_a_retry_safe(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    attempt = {"Idempotency-Key": "quote-attempt-1"}
    first = await client.post("/quotes", json=WORKED_EXAMPLE, headers={**me, **attempt})
    retry = await client.post("/quotes", json=WORKED_EXAMPLE, headers={**me, **attempt})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    other = await client.post(
        "/quotes", json={**WORKED_EXAMPLE, "payment_plan": "monthly"}, headers={**me, **attempt}
    )
    assert other.status_code == 422
    without = await client.post("/quotes", json=WORKED_EXAMPLE, headers=me)
    assert without.status_code == 201 and without.json()["id"] != first.json()["id"]
    assert len((await client.get("/quotes", headers=me)).json()["items"]) == 2


async def test_a_quote_read_back_is_byte_for_byte_the_answer_it_was_priced_with(app, client):
    """Reads answer the stored row without building a QuoteRead (app/core/responses.py): for
    quotes of every option they must be exactly the bytes of the validated model POST answered,
    by id and in the list alike."""
    from itertools import cycle

    from app.quotes.rules import Deductible, InnocentPartySublimit, PaymentPlan

    _, token = await user_token(app, client)
    plans, sublimits = cycle(PaymentPlan), cycle(InnocentPartySublimit)
    created = []
    for n, deductible in enumerate(Deductible):
        body = {
            "program_year": 2025,
            "effective_date": f"2025-{1 + n % 12:02d}-{1 + (7 * n) % 28:02d}",
            "years_in_practice": n % 6,
            "deductible": deductible.value,
            "restricted_practice": n % 4 == 1,
            "part_time": n % 4 == 2,
            "real_estate": n % 2 == 0,
            "innocent_party_sublimit": next(sublimits).value,
            "risk_management_programs": n % 4,
            "indian_status_certificate": n % 5 == 3,
            "payment_plan": next(plans).value,
        }
        response = await client.post("/quotes", json=body, headers=bearer(token))
        assert response.status_code == 201, response.text
        created.append(response.content)
        read = await client.get(response.headers["location"], headers=bearer(token))
        assert read.content == response.content
    listed = await client.get("/quotes?limit=50", headers=bearer(token))
    items = listed.json()["items"]
    assert len(items) == len(created) == len(Deductible)
    assert listed.content == (
        b'{"items":[' + b",".join(reversed(created)) + b'],"next_cursor":null}'
    )
