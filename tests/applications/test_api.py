"""/applications through HTTP: drafts, If-Match, submission, firm consistency, decisions."""

import asyncio
import uuid
from datetime import date

from sqlalchemy import text

from app.applications.schemas import ApplicationRead
from tests.applications.test_rules import complete
from tests.claims_notices.support import claims_staff, paper_notice
from tests.factories import audit_events, bearer, login, make_firm, make_user, user_token


def form_json(**sections):
    return complete(**sections).model_dump(mode="json")


async def _token(client, user):
    return bearer(await login(client, user["username"], user["password"]))


async def _start(client, headers, form=None, **extra):
    body = {"program_year": 2025, **extra}
    if form is not None:
        body["form"] = form
    response = await client.post("/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json(), response.headers["etag"]


async def test_draft_to_policy(app, client):
    lawyer, token = await user_token(app, client)
    me = bearer(token)
    draft, etag = await _start(client, me, form={"a": {"name": "Ada Lawyer"}})
    assert draft["status"] == "draft" and draft["quote"] is None
    url = f"/applications/{draft['id']}"

    early = await client.post(f"{url}/submit", headers=me)
    assert early.status_code == 422
    fields = {e["field"] for e in early.json()["errors"]}
    assert {"form.a.law_society_number", "form.c.deductible", "form.f.warranty_signed"} <= fields
    assert (await client.get(url, headers=me)).json()["status"] == "draft"

    full = form_json(
        a={"years_in_practice": 1, "billing_code": "AV9", "hours_last_fiscal_year": 1200},
        c={"effective_date": "2025-01-01", "real_estate": True},
    )
    assert (await client.patch(url, json={"form": full}, headers=me)).status_code == 428
    changed = await client.patch(url, json={"form": full}, headers={**me, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    stale = await client.patch(
        url, json={"form": {"a": {"fax": "1"}}}, headers={**me, "If-Match": etag}
    )
    assert stale.status_code == 412

    submitted = await client.post(f"{url}/submit", headers=me)
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] == "submitted"
    quote = body["quote"]
    # 1 full year: 40 % off 3250; Real Estate 100; tax 8 % of 2050 = 164
    assert [(ln["code"], ln["amount"]) for ln in quote["lines"]] == [
        ("base_premium", "3250.00"),
        ("new_lawyer_and_practice_discount", "-1300.00"),
        ("real_estate_option", "100.00"),
    ]
    assert (quote["premium"], quote["tax"], quote["total"]) == ("2050.00", "164.00", "2214.00")
    frozen = await client.patch(
        url,
        json={"form": {"a": {"fax": "1"}}},
        headers={**me, "If-Match": submitted.headers["etag"]},
    )
    assert frozen.status_code == 409

    assert (
        await client.post(f"{url}/decision", json={"decision": "approve"}, headers=me)
    ).status_code == 403
    _, underwriter = await user_token(app, client, role="underwriter")
    approved = await client.post(
        f"{url}/decision", json={"decision": "approve", "note": "ok"}, headers=bearer(underwriter)
    )
    assert approved.status_code == 200, approved.text
    policy = approved.json()["policy"]
    assert policy["total"] == "2214.00" and policy["deductible"] == "5000_combined"
    assert policy["real_estate_status"] == "pending_due_diligence"
    again = await client.post(
        f"{url}/decision", json={"decision": "decline"}, headers=bearer(underwriter)
    )
    assert again.status_code == 409

    actions = [e["action"] for e in await audit_events(app, resource_type="application")]
    for action in (
        "application.create",
        "application.update",
        "application.submit",
        "application.decision",
    ):
        assert action in actions
    assert len(await audit_events(app, action="policy.issue")) == 1
    assert lawyer["id"]


async def test_information_requested_then_resubmitted(app, client):
    _, token = await user_token(app, client)
    draft, _ = await _start(client, bearer(token), form=form_json())
    url = f"/applications/{draft['id']}"
    assert (await client.post(f"{url}/submit", headers=bearer(token))).status_code == 200
    _, underwriter = await user_token(app, client, role="underwriter")
    asked = await client.post(
        f"{url}/decision",
        json={"decision": "request_information", "note": "Confirm the billings."},
        headers=bearer(underwriter),
    )
    assert asked.json()["status"] == "information_requested"
    etag = (await client.get(url, headers=bearer(token))).headers["etag"]
    fixed = await client.patch(
        url,
        json={"form": {"a": {"billing_code": "AV12"}}},
        headers={**bearer(token), "If-Match": etag},
    )
    assert fixed.status_code == 200
    assert (await client.post(f"{url}/submit", headers=bearer(token))).json()[
        "status"
    ] == "submitted"


async def test_one_application_per_lawyer_and_year(app, client):
    _, token = await user_token(app, client)
    await _start(client, bearer(token))
    second = await client.post("/applications", json={"program_year": 2025}, headers=bearer(token))
    assert second.status_code == 409


async def test_invalid_changes_name_the_field(app, client):
    _, token = await user_token(app, client)
    draft, etag = await _start(client, bearer(token))
    response = await client.patch(
        f"/applications/{draft['id']}",
        json={"form": {"a": {"primary_area": 26}, "c": {"deductible": "3000_combined"}}},
        headers={**bearer(token), "If-Match": etag},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "form.a.primary_area",
        "form.c.deductible",
    }
    # a firm's head count beyond any firm (and beyond what its documents keep exactly)
    huge = await client.patch(
        f"/applications/{draft['id']}",
        json={
            "form": {"b": {"non_lawyer_staff": 10**30, "lawyers_and_paralegal_partners": 100001}}
        },
        headers={**bearer(token), "If-Match": etag},
    )
    assert huge.status_code == 422
    assert {e["field"] for e in huge.json()["errors"]} == {
        "form.b.non_lawyer_staff",
        "form.b.lawyers_and_paralegal_partners",
    }
    assert (await client.get(f"/applications/{draft['id']}", headers=bearer(token))).json()[
        "version"
    ] == draft["version"]  # nothing saved


async def test_claims_history_blocks_the_nil_deductible(app, client):
    lawyer, token = await user_token(app, client)
    await paper_notice(client, await claims_staff(app, client), lawyer["id"], "2023-05-01")
    draft, _ = await _start(client, bearer(token), form=form_json(c={"deductible": "nil"}))
    refused = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(token))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "form.c.deductible",
            "code": "nil_deductible_claims_history",
            "message": "The nil deductible needs no claim or circumstance notice in the last 5 years.",
        }
    ]


async def test_a_new_lawyer_tier_is_not_granted_a_third_time(app, client):
    lawyer, token = await user_token(app, client)
    _, underwriter = await user_token(app, client, role="underwriter")
    new_call = {"years_in_practice": 0, "billing_code": "AC0", "hours_last_fiscal_year": 0}
    for year in (2023, 2024):  # two earlier policy years granted the 0-years tier
        async with app.state.database.engine.begin() as conn:
            app_id, quote_id = uuid.uuid4(), uuid.uuid4()
            await conn.execute(
                text(
                    "INSERT INTO quote (id, owner_id, created_by_id, program_year, rate_table_version,"
                    " rate_table_digest, effective_date, inputs, lines, premium, tax, total, instalments)"
                    " VALUES (:q, :o, :o, :y, 'old', 'x', :d, '{}', '[]', 1, 0, 1, '[]')"
                ),
                {"q": quote_id, "o": lawyer["id"], "y": year, "d": date(year, 1, 1)},
            )
            await conn.execute(
                text(
                    "INSERT INTO application (id, owner_id, created_by_id, program_year, status, form,"
                    " quote_id, version) VALUES (:a, :o, :o, :y, 'approved', '{}', :q, 1)"
                ),
                {"a": app_id, "o": lawyer["id"], "y": year, "q": quote_id},
            )
            await conn.execute(
                text(
                    "INSERT INTO policy (id, application_id, lawyer_id, program_year, effective_date,"
                    " deductible, new_lawyer_tier, options, real_estate_status, premium, tax, total,"
                    " quote_id) VALUES (:p, :a, :o, :y, :d, '5000_combined', 0, '{}', 'not_taken',"
                    " 1, 0, 1, :q)"
                ),
                {
                    "p": uuid.uuid4(),
                    "a": app_id,
                    "o": lawyer["id"],
                    "y": year,
                    "d": date(year, 1, 1),
                    "q": quote_id,
                },
            )
    draft, _ = await _start(client, bearer(token), form=form_json(a=new_call))
    refused = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(token))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "new_lawyer_tier_used"
    assert underwriter


async def _firm_lawyers(app, client, n):
    firm = await make_firm(app)
    lawyers = [await make_user(app, firm_id=firm) for _ in range(n)]
    return firm, [await _token(client, lawyer) for lawyer in lawyers]


async def test_firm_consistency_across_three_lawyers(app, client):
    _, (first, second, third) = await _firm_lawyers(app, client, 3)
    for headers in (first, second):
        draft, _ = await _start(client, headers, form=form_json())
        assert (
            await client.post(f"/applications/{draft['id']}/submit", headers=headers)
        ).status_code == 200
    odd = form_json(c={"deductible": "2500_combined", "innocent_party_sublimit": "500000"})
    draft, _ = await _start(client, third, form=odd)
    refused = await client.post(f"/applications/{draft['id']}/submit", headers=third)
    assert refused.status_code == 409
    assert {e["field"] for e in refused.json()["errors"]} == {
        "form.c.deductible",
        "form.c.innocent_party_sublimit",
    }
    etag = (await client.get(f"/applications/{draft['id']}", headers=third)).headers["etag"]
    await client.patch(
        f"/applications/{draft['id']}",
        json={"form": {"c": {"deductible": "5000_combined", "innocent_party_sublimit": "250000"}}},
        headers={**third, "If-Match": etag},
    )
    assert (
        await client.post(f"/applications/{draft['id']}/submit", headers=third)
    ).status_code == 200


async def test_a_sole_practitioner_is_not_bound_by_a_firm(app, client):
    _, (first, second) = await _firm_lawyers(app, client, 2)
    sole = {"nature_of_practice": ["association"]}
    draft, _ = await _start(client, first, form=form_json(b=sole))
    assert (
        await client.post(f"/applications/{draft['id']}/submit", headers=first)
    ).status_code == 200
    other, _ = await _start(
        client, second, form=form_json(b=sole, c={"deductible": "2500_combined"})
    )
    assert (
        await client.post(f"/applications/{other['id']}/submit", headers=second)
    ).status_code == 200


async def test_concurrent_submits_with_different_deductibles_only_one_wins(app, client):
    _, (first, second) = await _firm_lawyers(app, client, 2)
    a, _ = await _start(client, first, form=form_json(c={"deductible": "5000_combined"}))
    b, _ = await _start(client, second, form=form_json(c={"deductible": "10000_combined"}))
    answers = await asyncio.gather(
        client.post(f"/applications/{a['id']}/submit", headers=first),
        client.post(f"/applications/{b['id']}/submit", headers=second),
    )
    assert sorted(r.status_code for r in answers) == [200, 409]


async def test_firm_admin_prepares_for_a_lawyer_who_stays_the_owner(app, client):
    firm = await make_firm(app)
    lawyer = await make_user(app, firm_id=firm)
    _, admin = await user_token(app, client, role="firm_admin", firm_id=firm)
    draft, _ = await _start(client, bearer(admin), form=form_json(), lawyer_id=str(lawyer["id"]))
    assert draft["lawyer_id"] == str(lawyer["id"])
    submitted = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(admin))
    assert submitted.status_code == 200
    lawyer_view = await client.get(
        f"/applications/{draft['id']}", headers=await _token(client, lawyer)
    )
    assert lawyer_view.status_code == 200

    _, stranger = await user_token(app, client)
    assert (
        await client.get(f"/applications/{draft['id']}", headers=bearer(stranger))
    ).status_code == 404
    for role, status in (
        ("customer_service", 200),
        ("underwriter", 200),
        ("finance", 403),  # roles without the action (API.md: 403)
        ("admin", 403),
    ):
        _, staff = await user_token(app, client, role=role)
        assert (
            await client.get(f"/applications/{draft['id']}", headers=bearer(staff))
        ).status_code == status, role
    listed = await client.get("/applications", headers=bearer(admin))
    assert [a["id"] for a in listed.json()["items"]] == [draft["id"]]


async def test_an_application_read_back_is_byte_for_byte_what_its_last_change_answered(app, client):
    """Reads answer the stored row with its quote as stored (app/core/responses.py), changes
    the validated model: at each stage, a draft, completed, submitted with its quote, approved
    with its policy, the read by id and the list answer exactly the bytes the change answered."""
    _, token = await user_token(app, client)
    me = bearer(token)
    _, underwriter = await user_token(app, client, role="underwriter")
    full = form_json(
        a={"years_in_practice": 3, "billing_code": "AV9", "hours_last_fiscal_year": 900},
        c={"effective_date": "2025-02-10", "real_estate": True},
        e={"payment_plan": "lump_sum"},
    )

    async def read_back(answer):
        assert answer.status_code in (200, 201), answer.text
        read = await client.get(answer.headers.get("location", url), headers=me)
        assert read.content == answer.content
        # the values its model writes (its quote and policy included; the form in stored order)
        assert read.json() == ApplicationRead.model_validate(read.json()).model_dump(mode="json")
        listed = await client.get("/applications?limit=50", headers=me)
        assert listed.content == b'{"items":[' + answer.content + b'],"next_cursor":null}'
        return answer

    url = ""
    draft = await read_back(
        await client.post(
            "/applications",
            json={"program_year": 2025, "form": {"a": {"name": "Ada Lawyer"}}},
            headers=me,
        )
    )
    url = draft.headers["location"]
    await read_back(
        await client.patch(
            url, json={"form": full}, headers={**me, "If-Match": draft.headers["etag"]}
        )
    )
    await read_back(await client.post(f"{url}/submit", headers=me))
    approved = await read_back(
        await client.post(
            f"{url}/decision",
            json={"decision": "approve", "note": "ok"},
            headers=bearer(underwriter),
        )
    )
    final = approved.json()
    assert final["policy"] and final["quote"]["lines"] and final["form"]["a"]["name"]
    # the form answered as stored is what the validated model writes, value for value
    from app.applications.form import ApplicationForm

    stored = ApplicationForm.model_validate(final["form"]).model_dump(mode="json")
    assert final["form"] == stored


async def test_a_form_stored_by_an_earlier_version_is_answered_by_the_current_one(app, client):
    """A form written before its model changed (another fingerprint, here none and a field
    missing) is validated again when read: the field added since comes with its default."""
    _, token = await user_token(app, client)
    me = bearer(token)
    created = await client.post(
        "/applications",
        json={"program_year": 2025, "form": {"a": {"name": "Ada", "email": "ada@example.com"}}},
        headers=me,
    )
    assert created.status_code == 201, created.text
    assert created.json()["form"]["a"]["email"] == "ada@example.com"
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE application SET form_schema = NULL, form = form #- '{a,email}'"
                " WHERE id = :id"
            ),
            {"id": created.json()["id"]},
        )
    read = await client.get(created.headers["location"], headers=me)
    assert read.status_code == 200
    assert read.json()["form"]["a"]["email"] is None
    assert read.json()["form"]["a"]["name"] == "Ada"
