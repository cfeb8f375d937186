"""Each list filters by the fields staff work with (issue: the client contract), through HTTP."""

from __future__ import annotations

from tests.applications.test_api import _start, form_json
from tests.factories import bearer, login, make_user, user_token


async def _ids(client, url, headers, **params):
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_applications_by_status_lawyer_law_society_number_and_submission(app, client):
    ada = await make_user(app, username="11111A")
    bob = await make_user(app, username="22222B")
    ada_h = bearer(await login(client, ada["username"], ada["password"]))
    bob_h = bearer(await login(client, bob["username"], bob["password"]))
    submitted, _ = await _start(client, ada_h, form=form_json())
    assert (await client.post(f"/applications/{submitted['id']}/submit", headers=ada_h)).is_success
    draft, _ = await _start(client, bob_h, form={"a": {"name": "Bob"}})
    _, uw = await user_token(app, client, role="underwriter")
    staff = bearer(uw)
    both = {submitted["id"], draft["id"]}
    assert await _ids(client, "/applications", staff) == both
    assert await _ids(client, "/applications", staff, status="submitted") == {submitted["id"]}
    assert await _ids(client, "/applications", staff, status="draft") == {draft["id"]}
    assert await _ids(client, "/applications", staff, law_society_number="22222B") == {draft["id"]}
    assert await _ids(client, "/applications", staff, lawyer_id=str(ada["id"])) == {submitted["id"]}
    assert await _ids(
        client, "/applications", staff, submitted_from="2000-01-01", submitted_to="2999-12-31"
    ) == {submitted["id"]}
    assert await _ids(client, "/applications", staff, submitted_to="2001-01-01") == set()
    # a lawyer filtering still sees only their own
    assert await _ids(client, "/applications", bob_h, law_society_number="11111A") == set()


async def test_quotes_by_year_policies_by_lawyer_and_users_by_name(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    body = {"program_year": 2025, "effective_date": "2025-01-01"}
    quote = (await client.post("/quotes", json=body, headers=me)).json()
    assert await _ids(client, "/quotes", me, program_year=2025) == {quote["id"]}
    assert await _ids(client, "/quotes", me, program_year=2026) == set()
    _, admin = await user_token(app, client, role="admin")
    await make_user(app, role="lawyer", username="33333C")
    zoe = await client.post(
        "/users",
        json={
            "username": "zoe-cs",
            "role": "customer_service",
            "full_name": "Zoë 100%_Sure",
            "password": "a long passphrase for zoe",
        },
        headers=bearer(admin),
    )
    assert zoe.status_code == 201, zoe.text
    assert await _ids(client, "/users", bearer(admin), name="100%_s") == {zoe.json()["id"]}
    assert await _ids(client, "/users", bearer(admin), name="1000") == set()
    found = await _ids(client, "/users", bearer(admin), law_society_number="33333C")
    assert len(found) == 1
    bad = await client.get("/applications", params={"status": "lost"}, headers=me)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
