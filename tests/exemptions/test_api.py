"""/exemptions through HTTP: the form's lifecycle, every reason both ways, coverage while exempt,
staff review of proof, the return of premium, the end of an exemption, and need to know."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.exemptions.form import ExemptionForm
from app.exemptions.schemas import ExemptionRead
from tests.applications.test_api import _start, form_json
from tests.documents.test_content import MINIMAL_PDF
from tests.factories import audit_events, bearer, login, make_firm, make_user, user_token
from tests.policies.test_api import _policy

ADDRESS = {"street": "1 Bay St", "city": "Toronto", "province": "ON", "postal_code": "M5J 2T3"}
SIGNED = {
    "name": "Ada Lawyer",
    "law_society_number": "98765A",
    "mailing_address": ADDRESS,
    "telephone": "416-555-0100",
    "email": "ada@example.com",
    "pi_statement_acknowledged": True,
    "signature": "Ada Lawyer",
    "signed_on": "2025-06-01",
}
EMPLOYER = {"employer_name": "Employer Inc.", "employer_address": ADDRESS}
# A complete form for each reason, with the facts that make it eligible.
REASONS = {
    "a": {},
    "b": {
        "b": {"province": "BC", "ontario_matters_this_year": 4, "proof_of_coverage": True},
    },
    "c": {
        **EMPLOYER,
        "c": {
            "leave_kind": "family_or_illness",
            "leave_start": "2025-07-01",
            "leave_expected_end": "2026-06-30",
            "alternative_employment": False,
        },
    },
    "d": {**EMPLOYER, "d": {"employer_kind": "crown_attorney", "only_for_employer": True}},
    "e": {
        **EMPLOYER,
        "e": {
            "corporation_is_law_corporation": False,
            "on_secondment_from_law_firm": False,
            "one_corporation": True,
        },
    },
    "f": {
        **EMPLOYER,
        "f": {
            "organization_kind": "clinic",
            "funded_by_legal_aid_ontario": True,
            "employed_by_legal_aid_ontario": False,
            "proof_of_coverage": True,
        },
    },
    "g": {**EMPLOYER, "g": {"jurisdiction": "AB", "proof_of_coverage": True}},
    "h": {
        "h": {
            "role": "estate_trustee",
            "for_non_related_persons": True,
            "named_while_in_practice": True,
            "sub_basis": "not_otherwise_practising",
        }
    },
}
# One way each reason is refused, and the field named.
REFUSALS = {
    "b": ({"b": {"ontario_matters_this_year": 11}}, "form.b.ontario_matters_this_year"),
    "c": ({"c": {"leave_expected_end": "2030-07-02"}}, "form.c.leave_expected_end"),
    "d": ({"d": {"only_for_employer": False}}, "form.d.only_for_employer"),
    "e": ({"e": {"corporation_is_law_corporation": True}}, "form.e.corporation_is_law_corporation"),
    "f": ({"f": {"employed_by_legal_aid_ontario": True}}, "form.f.employed_by_legal_aid_ontario"),
    "g": ({"g": {"jurisdiction": "QC"}}, "form.g.jurisdiction"),
    "h": ({"h": {"for_non_related_persons": False}}, "form.h.for_non_related_persons"),
}


def form(reason: str, effective: str = "2025-07-01", **changes):
    body = {"reason": reason, "effective_date": effective, **SIGNED, **REASONS[reason]}
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(name), dict):
            body[name] = {**body[name], **value}
        else:
            body[name] = value
    return body


async def _draft(client, headers, **body):
    response = await client.post("/exemptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json(), response.headers["etag"]


async def _submitted(client, headers, **body):
    draft, _ = await _draft(client, headers, **body)
    return await client.post(f"/exemptions/{draft['id']}/submit", headers=headers)


async def test_a_draft_changed_and_submitted(app, client):
    lawyer, token = await user_token(app, client)
    me = bearer(token)
    draft, etag = await _draft(client, me, form={"reason": "a"})
    assert draft["status"] == "draft" and draft["lawyer_id"] == str(lawyer["id"])
    url = f"/exemptions/{draft['id']}"
    early = await client.post(f"{url}/submit", headers=me)
    assert early.status_code == 422
    assert {"form.effective_date", "form.signature"} <= {e["field"] for e in early.json()["errors"]}
    assert (await client.patch(url, json={"form": form("a")}, headers=me)).status_code == 428
    changed = await client.patch(url, json={"form": form("a")}, headers={**me, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    stale = await client.patch(
        url, json={"form": {"telephone": "1"}}, headers={**me, "If-Match": etag}
    )
    assert stale.status_code == 412
    submitted = await client.post(f"{url}/submit", headers=me)
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] == "accepted" and body["needs_review"] is False
    assert body["received_on"] == datetime.now(UTC).date().isoformat()
    # never covered before: no run-off, but the three services stay covered
    assert body["coverage"]["kind"] == "none"
    assert len(body["coverage"]["services_still_covered"]) == 3
    assert (await client.get(url, headers=me)).json() == body
    actions = [e["action"] for e in await audit_events(app, resource_id=draft["id"])]
    assert {"exemption.create", "exemption.update", "exemption.submit", "exemption.read"} <= set(
        actions
    )


@pytest.mark.parametrize("reason", sorted(REASONS))
async def test_every_reason_both_ways(app, client, reason):
    _, token = await user_token(app, client)
    me = bearer(token)
    accepted = await _submitted(client, me, form=form(reason))
    assert accepted.status_code == 200, accepted.text
    waits = reason in ("b", "f", "g")
    assert accepted.json()["status"] == ("pending_review" if waits else "accepted")
    if reason in REFUSALS:
        changes, field = REFUSALS[reason]
        _, other = await user_token(app, client)
        refused = await _submitted(client, bearer(other), form=form(reason, **changes))
        assert refused.status_code == 422, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]], refused.text


async def test_bad_input(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    unknown = await client.post("/exemptions", json={"form": {"reason": "i"}}, headers=me)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "form.reason"
    for reason, changes, field in (
        ("d", {"called_to_bar_on": "2025-09-01"}, "form.effective_date"),  # before the call
        ("a", {"effective_date": "2031-01-01"}, "form.effective_date"),  # absurdly far ahead
        ("b", {"b": {"province": "ON"}}, "form.b.province"),
        ("g", {"g": {"jurisdiction": "ON"}}, "form.g.jurisdiction"),
        ("c", {"c": {"alternative_employment": True}}, "form.c.alternative_employment"),
        ("e", {"e": {"on_secondment_from_law_firm": True}}, "form.e.on_secondment_from_law_firm"),
        ("d", {"employer_name": None}, "form.employer_name"),
    ):
        refused = await _submitted(client, me, form=form(reason, **changes))
        assert refused.status_code == 422, (changes, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], (changes, refused.text)
    listed = (await client.get("/exemptions", headers=me)).json()["items"]
    assert all(item["status"] == "draft" for item in listed)


async def test_proof_is_reviewed_by_staff(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    pending = (await _submitted(client, me, form=form("g"))).json()
    assert pending["status"] == "pending_review" and pending["needs_review"]
    url = f"/exemptions/{pending['id']}"
    proof = await client.post(
        f"{url}/documents",
        files={"file": ("proof.pdf", MINIMAL_PDF, "application/pdf")},
        headers=me,
    )
    assert proof.status_code == 201, proof.text
    fake = await client.post(
        f"{url}/documents",
        files={"file": ("proof.pdf", b"<html>proof</html>", "application/pdf")},
        headers=me,
    )
    assert fake.status_code == 422
    _, cs = await user_token(app, client, role="customer_service")
    staff = bearer(cs)
    listed = await client.get(f"{url}/documents", headers=staff)
    assert [d["id"] for d in listed.json()] == [proof.json()["id"]]
    got = await client.get(f"{url}/documents/{proof.json()['id']}", headers=staff)
    assert got.status_code == 200 and got.content == MINIMAL_PDF
    no_reason = await client.post(f"{url}/review", json={"decision": "refuse"}, headers=staff)
    assert no_reason.status_code == 422
    assert (
        await client.post(f"{url}/review", json={"decision": "accept"}, headers=me)
    ).status_code == 403
    accepted = await client.post(f"{url}/review", json={"decision": "accept"}, headers=staff)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = await client.post(f"{url}/review", json={"decision": "accept"}, headers=staff)
    assert again.status_code == 409
    # a pro bono flag waits for review too, and a refusal carries its reason
    _, other = await user_token(app, client)
    flagged = (await _submitted(client, bearer(other), form=form("a", pro_bono=True))).json()
    assert flagged["status"] == "pending_review"
    refused = await client.post(
        f"/exemptions/{flagged['id']}/review",
        json={"decision": "refuse", "reason": "The program is not approved."},
        headers=staff,
    )
    assert refused.json()["status"] == "refused"
    assert refused.json()["review_note"] == "The program is not approved."


async def _paper_exemption(client, staff, lawyer_id, received_on, reason="a", **changes):
    draft, _ = await _draft(
        client,
        staff,
        lawyer_id=lawyer_id,
        channel="paper",
        received_on=received_on,
        form=form(reason, **changes),
    )
    return await client.post(f"/exemptions/{draft['id']}/submit", headers=staff)


@pytest.mark.parametrize(
    ("received_on", "premium", "tax", "start", "cover_ends"),
    [
        # 3,250.00 premium (10 years, standard), 8 % tax, P = 365 days (1 January 2025).
        # received on the effective date, 1 July: s = max(1 June, 1 July) = 1 July, d = 184:
        # 3250 x 184 / 365 = 1638.356 -> 1638.36; tax 131.0688 -> 131.07
        ("2025-07-01", "1638.36", "131.07", "2025-07-01", "2025-06-30"),
        # received 10 days after: s = max(11 June, 1 July) = 1 July: the same
        ("2025-07-11", "1638.36", "131.07", "2025-07-01", "2025-06-30"),
        # received 45 days after (15 August): s = 16 July, d = 169: 1504.794 -> 1504.79;
        # tax 120.3832 -> 120.38
        ("2025-08-15", "1504.79", "120.38", "2025-07-16", "2025-07-15"),
    ],
)
async def test_the_return_of_premium(app, client, received_on, premium, tax, start, cover_ends):
    policy_id, me, _ = await _policy(app, client)
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    _, cs = await user_token(app, client, role="customer_service")
    answer = await _paper_exemption(client, bearer(cs), lawyer_id, received_on)
    assert answer.status_code == 200, answer.text
    refund = answer.json()["refund"]
    total = f"{float(premium) + float(tax):.2f}"
    assert (refund["premium"], refund["tax"], refund["total"]) == (premium, tax, total)
    assert (refund["start"], refund["cover_ends"], refund["policy_id"]) == (
        start,
        cover_ends,
        policy_id,
    )
    policy = (await client.get(f"/policies/{policy_id}", headers=me)).json()
    assert policy["cover_ends"] == cover_ends
    assert policy["total"] == f"{3510 - float(total):.2f}"
    changes = (await client.get(f"/policies/{policy_id}/changes", headers=me)).json()
    refunds = [c for c in changes if c["kind"] == "exemption_refund"]
    assert [c["total_adjustment"] for c in refunds] == [f"-{total}"]
    # finance reads the refund
    _, finance = await user_token(app, client, role="finance")
    seen = await client.get(f"/exemptions/{answer.json()['id']}", headers=bearer(finance))
    assert seen.status_code == 200 and seen.json()["refund"] == refund


async def test_coverage_while_exempt_and_the_application_it_blocks(app, client):
    _, me, _ = await _policy(app, client)  # a 2025 policy: previously covered in 2026
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    exempt = await _submitted(client, me, form=form("d", effective="2026-01-01"))
    assert exempt.status_code == 200, exempt.text
    body = exempt.json()
    assert body["refund"] is None  # no 2026 policy to return
    coverage = body["coverage"]
    assert (coverage["kind"], coverage["per_claim"], coverage["aggregate"]) == (
        "run_off",
        "250000.00",
        "250000.00",
    )
    assert coverage["deductible"] == "5000.00"
    assert coverage["aggregate_reinstated_annually"] is False
    # a second exemption while one is in force
    twice = await _submitted(client, me, form=form("a", effective="2026-02-01"))
    assert twice.status_code == 409
    # an application for a period the exemption covers is refused, and says why
    draft, _ = await _start(
        client, me, program_year=2026, form=form_json(c={"effective_date": "2026-03-01"})
    )
    refused = await client.post(f"/applications/{draft['id']}/submit", headers=me)
    assert refused.status_code == 422
    error = next(e for e in refused.json()["errors"] if e["code"] == "exempt")
    assert error["field"] == "form.c.effective_date" and "/end" in error["message"]
    ended = await client.post(
        f"/exemptions/{body['id']}/end",
        json={"practice_status_changed_on": "2026-03-01"},
        headers=me,
    )
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert ended.json()["ended_on"] == "2026-03-01"
    submitted = await client.post(f"/applications/{draft['id']}/submit", headers=me)
    assert "exempt" not in [e["code"] for e in submitted.json().get("errors", [])]
    assert lawyer_id


@pytest.mark.parametrize(
    ("reason", "effective", "kind", "per_claim", "aggregate", "reinstated"),
    [
        ("c", "2026-01-01", "full_practice", "1000000.00", "2000000.00", True),
        ("g", "2026-01-01", "run_off", "1000000.00", "2000000.00", True),
        ("a", "2026-01-01", "run_off", "250000.00", "250000.00", False),
    ],
)
async def test_each_coverage_statement(
    app, client, reason, effective, kind, per_claim, aggregate, reinstated
):
    _, me, _ = await _policy(app, client)
    draft, _ = await _draft(client, me, form=form(reason, effective=effective))
    coverage = draft["coverage"]
    assert (coverage["kind"], coverage["per_claim"], coverage["aggregate"]) == (
        kind,
        per_claim,
        aggregate,
    )
    assert coverage["aggregate_reinstated_annually"] is reinstated


async def test_a_leave_taken_mid_year_keeps_the_current_policys_limits(app, client):
    _, me, _ = await _policy(app, client, c={"deductible": "10000_combined"})
    draft, _ = await _draft(client, me, form=form("c", effective="2025-07-01"))
    coverage = draft["coverage"]
    assert coverage["kind"] == "current_policy_continues"
    assert (coverage["per_claim"], coverage["deductible"]) == ("1000000.00", "10000.00")


async def test_need_to_know(app, client):
    firm = await make_firm(app)
    lawyer = await make_user(app, firm_id=firm)
    me = bearer(await login(client, lawyer["username"], lawyer["password"]))
    draft, _ = await _draft(client, me, form=form("a"))
    url = f"/exemptions/{draft['id']}"
    for role in ("customer_service", "underwriter", "finance"):
        _, token = await user_token(app, client, role=role)
        assert (await client.get(url, headers=bearer(token))).status_code == 200, role
    for role, firm_id in (
        ("firm_admin", firm),
        ("claims", None),
        ("auditor", None),
        ("admin", None),
    ):
        _, token = await user_token(app, client, role=role, firm_id=firm_id)
        assert (await client.get(url, headers=bearer(token))).status_code == 404, role
        assert (await client.get("/exemptions", headers=bearer(token))).status_code == 403, role
    _, admin_of_firm = await user_token(app, client, role="firm_admin", firm_id=firm)
    made = await client.post(
        "/exemptions", json={"lawyer_id": str(lawyer["id"])}, headers=bearer(admin_of_firm)
    )
    assert made.status_code == 403
    _, stranger = await user_token(app, client)
    assert (await client.get(url, headers=bearer(stranger))).status_code == 404
    changed = await client.patch(
        url, json={"form": {"telephone": "2"}}, headers={**bearer(stranger), "If-Match": '"1"'}
    )
    assert changed.status_code == 404


async def test_an_exemption_read_back_is_byte_for_byte_what_its_last_change_answered(app, client):
    """Reads answer the stored row as data (app/core/responses.py), changes the validated
    model: a draft, a submitted exemption with its coverage and its return of premium."""
    policy_id, me, _ = await _policy(app, client)
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    _, cs = await user_token(app, client, role="customer_service")
    staff = bearer(cs)
    draft = await client.post(
        "/exemptions",
        json={
            "lawyer_id": lawyer_id,
            "channel": "paper",
            "received_on": "2025-08-15",
            "form": form("a"),
        },
        headers=staff,
    )
    assert draft.status_code == 201, draft.text
    url = draft.headers["location"]

    async def read_back(answer):
        assert answer.status_code in (200, 201), answer.text
        read = await client.get(url, headers=staff)
        assert read.content == answer.content
        # the values its model would write (the form's fields in stored order)
        assert read.json() == ExemptionRead.model_validate(read.json()).model_dump(mode="json")
        listed = await client.get(f"/exemptions?lawyer_id={lawyer_id}", headers=staff)
        assert listed.content == b'{"items":[' + answer.content + b'],"next_cursor":null}'
        return read.json()

    await read_back(draft)
    submitted = await read_back(await client.post(f"{url}/submit", headers=staff))
    assert submitted["refund"]["policy_id"] == policy_id and submitted["coverage"]


async def test_a_form_stored_by_an_earlier_version_is_answered_by_the_current_one(app, client):
    """A form written before its model changed (another fingerprint, here none and a field
    missing) is validated again when read: the field added since comes with its default, and
    the coverage is still computed from it."""
    from sqlalchemy import text

    _, token = await user_token(app, client)
    me = bearer(token)
    lawyer_id = (await client.get("/users/me", headers=me)).json()["id"]
    draft, _ = await _draft(client, me, lawyer_id=lawyer_id, form=form("a", telephone="416"))
    assert draft["form"]["telephone"] == "416" and draft["coverage"] is not None
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE exemption SET form_schema = NULL, form = form - 'telephone' WHERE id = :id"
            ),
            {"id": draft["id"]},
        )
    read = await client.get(f"/exemptions/{draft['id']}", headers=me)
    assert read.status_code == 200, read.text
    assert read.json()["form"]["telephone"] is None
    assert read.json()["coverage"] == draft["coverage"]
    assert list(read.json()["form"]) == list(ExemptionForm.model_fields)  # the model's order
