"""Every RULES.md §2 rule through POST /applications/{id}/submit, both ways."""

from datetime import UTC, date, datetime

import pytest

from tests.applications.test_api import _start, form_json
from tests.claims_notices.support import claims_staff, paper_notice
from tests.factories import bearer, make_firm, make_user, user_token

NEW_CALL = {
    "newly_called_first_time": True,
    "years_in_practice": 0,
    "billing_code": "AC0",
    "hours_last_fiscal_year": 0,
}
PART_TIME = {"part_time": True, "practice_options_declaration_signed": True}
SPOUSE_PAYS = {
    "third_party_payor": True,
    "third_party_payor_relation": "spouse",
    "third_party_payor_name": "Sam Lawyer",
}
CASES = [
    # (rule, breaking sections, passing sections, field, code)
    (
        "new call billings",
        {"a": {**NEW_CALL, "billing_code": "AC2"}},
        {"a": NEW_CALL},
        "a.billing_code",
        "new_call_billings",
    ),
    (
        "new call hours",
        {"a": {**NEW_CALL, "hours_last_fiscal_year": 40}},
        {"a": NEW_CALL},
        "a.hours_last_fiscal_year",
        "new_call_hours",
    ),
    (
        "area of practice",
        {"a": {"primary_area": 0}},
        {"a": {"primary_area": 25}},
        "a.primary_area",
        None,
    ),
    (
        "billing code",
        {"a": {"billing_code": "AC7"}},
        {"a": {"billing_code": "AC6"}},
        "a.billing_code",
        None,
    ),
    (
        "nature of practice",
        {"b": {"nature_of_practice": ["partnership_limited"]}},
        {"b": {"nature_of_practice": ["partnership_llp"]}},
        "b.nature_of_practice",
        None,
    ),
    (
        "10,000 not in-house",
        {"b": {"nature_of_practice": ["in_house_counsel"]}, "c": {"deductible": "10000_indemnity"}},
        {"c": {"deductible": "10000_indemnity"}},
        "c.deductible",
        "high_deductible_not_in_private_practice",
    ),
    (
        "25,000 billings",
        {"c": {"deductible": "25000_combined"}, "a": {"billing_code": "AV9"}},
        {"c": {"deductible": "25000_combined"}, "a": {"billing_code": "AV12"}},
        "c.deductible",
        "billings_below_threshold",
    ),
    (
        "25,000 straddling code",
        {"c": {"deductible": "25000_combined"}, "a": {"billing_code": "AV10"}},
        {
            "c": {"deductible": "25000_combined"},
            "a": {"billing_code": "AV10", "average_gross_billings": "260000.00"},
        },
        "a.average_gross_billings",
        "billings_amount_required",
    ),
    (
        "restricted area",
        {"c": {"restricted_practice": True, "practice_options_declaration_signed": True}},
        {
            "a": {"primary_area": 14},
            "c": {"restricted_practice": True, "practice_options_declaration_signed": True},
        },
        "c.restricted_practice",
        "restricted_area",
    ),
    (
        "options declaration",
        {"a": {"primary_area": 9}, "c": {"restricted_practice": True}},
        {
            "a": {"primary_area": 9},
            "c": {"restricted_practice": True, "practice_options_declaration_signed": True},
        },
        "c.practice_options_declaration_signed",
        "required",
    ),
    (
        "part-time hours",
        {"a": {"hours_last_fiscal_year": 800, "billing_code": "AV8"}, "c": PART_TIME},
        {"a": {"hours_last_fiscal_year": 750, "billing_code": "AV8"}, "c": PART_TIME},
        "c.part_time",
        "part_time_hours",
    ),
    (
        "part-time billings",
        {"a": {"hours_last_fiscal_year": 500, "billing_code": "AC2"}, "c": PART_TIME},
        {"a": {"hours_last_fiscal_year": 500, "billing_code": "AC1"}, "c": PART_TIME},
        "c.part_time",
        "part_time_billings",
    ),
    (
        "real estate required",
        {"a": {"secondary_area": 19}},
        {"a": {"secondary_area": 19}, "c": {"real_estate": True}},
        "c.real_estate",
        "real_estate_required",
    ),
    (
        "real estate refused",
        {"c": {"real_estate": True, "real_estate_bankrupt": True}},
        {"c": {"real_estate": True}},
        "c.real_estate",
        "real_estate_ineligible",
    ),
    (
        "section D",
        {"d": {"unreported_claims_or_circumstances": None}},
        {
            "a": {**NEW_CALL, "practised_outside_ontario": False},
            "d": {"unreported_claims_or_circumstances": None},
        },
        "d.unreported_claims_or_circumstances",
        "required",
    ),
    (
        "third-party payor",
        {"e": {**SPOUSE_PAYS, "third_party_consent_confirmed": False}},
        {"e": {**SPOUSE_PAYS, "third_party_consent_confirmed": True}},
        "e.third_party_consent_confirmed",
        "required",
    ),
    (
        "cheque lump sum",
        {"e": {"payment_method": "cheque", "payment_plan": "monthly"}},
        {"e": {"payment_method": "cheque", "payment_plan": "lump_sum"}},
        "e.payment_method",
        "cheque_lump_sum_only",
    ),
    ("warranty", {"f": {"warranty_signed": False}}, {}, "f.warranty_signed", "required"),
    (
        "privacy statement",
        {"f": {"personal_information_statement_acknowledged": False}},
        {},
        "f.personal_information_statement_acknowledged",
        "required",
    ),
    (
        "effective date",
        {"c": {"effective_date": "2024-12-31"}},
        {"c": {"effective_date": "2025-12-31"}},
        "c.effective_date",
        "outside_program_year",
    ),
    (
        "locum sublimit",
        {"c": {"locum": True, "locum_contracting_firm_sublimit": "500000"}},
        {
            "c": {
                "locum": True,
                "locum_contracting_firm_sublimit": "500000",
                "innocent_party_sublimit": "1000000",
            }
        },
        "c.innocent_party_sublimit",
        "locum_sublimit_below_firm",
    ),
]


async def _submit(app, client, sections):
    _, token = await user_token(app, client)
    me = bearer(token)
    draft = await client.post(
        "/applications", json={"program_year": 2025, "form": form_json()}, headers=me
    )
    assert draft.status_code == 201
    url = f"/applications/{draft.json()['id']}"
    change = await client.patch(
        url, json={"form": sections}, headers={**me, "If-Match": draft.headers["etag"]}
    )
    if change.status_code == 422:  # refused already as a malformed answer
        return change
    assert change.status_code == 200, change.text
    return await client.post(f"{url}/submit", headers=me)


@pytest.mark.parametrize(
    ("rule", "breaking", "passing", "field", "code"), CASES, ids=[c[0] for c in CASES]
)
async def test_rule_both_ways(app, client, rule, breaking, passing, field, code):
    broken = await _submit(app, client, breaking)
    assert broken.status_code == 422, (rule, broken.text)
    errors = {(e["field"], e["code"]) for e in broken.json()["errors"]}
    assert any(f.startswith(f"form.{field}") and (code is None or c == code) for f, c in errors), (
        errors
    )
    passed = await _submit(app, client, passing)
    assert passed.status_code == 200, (rule, passed.text)


async def _notice(app, client, lawyer_id, reported_on, *, kind="claim", with_payment=False):
    """A notice entered by claims staff through the API; with a payment recorded on its file."""
    staff = await claims_staff(app, client)
    notice = await paper_notice(client, staff, lawyer_id, reported_on.isoformat(), kind=kind)
    if with_payment:
        url = f"/claims-notices/{notice['id']}"
        assert (await client.post(f"{url}/acknowledge", headers=staff)).status_code == 200
        paid = await client.post(
            f"{url}/costs",
            json={"kind": "investigation", "amount": "800.00", "occurred_on": str(reported_on)},
            headers=staff,
        )
        assert paid.status_code == 200, paid.text


@pytest.mark.parametrize(
    ("reported_on", "ok"),
    # effective 1 January 2025: six years before, then under five, then three
    [(date(2019, 1, 2), True), (date(2019, 12, 1), True), (date(2022, 1, 1), False)],
)
async def test_nil_deductible_and_claims_history(app, client, reported_on, ok):
    lawyer, token = await user_token(app, client)
    await _notice(app, client, lawyer["id"], reported_on, kind="circumstance")
    draft, _ = await _start(client, bearer(token), form=form_json(c={"deductible": "nil"}))
    answer = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(token))
    assert (answer.status_code == 200) is ok, answer.text


@pytest.mark.parametrize(("with_payment", "ok"), [(False, True), (True, False)])
async def test_part_time_and_claims_with_payments(app, client, with_payment, ok):
    lawyer, token = await user_token(app, client)
    await _notice(app, client, lawyer["id"], date(2024, 2, 1), with_payment=with_payment)
    form = form_json(a={"hours_last_fiscal_year": 400, "billing_code": "AV8"}, c=PART_TIME)
    draft, _ = await _start(client, bearer(token), form=form)
    answer = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(token))
    assert (answer.status_code == 200) is ok, answer.text


async def test_a_yes_in_section_d_needs_a_notice_filed(app, client):
    lawyer, token = await user_token(app, client)
    draft, _ = await _start(
        client, bearer(token), form=form_json(d={"unreported_claims_or_circumstances": True})
    )
    url = f"/applications/{draft['id']}/submit"
    refused = await client.post(url, headers=bearer(token))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "claims_notice_required"
    today = datetime.now(UTC).date()
    await _notice(app, client, lawyer["id"], today, kind="circumstance")
    assert (await client.post(url, headers=bearer(token))).status_code == 200


async def test_the_collective_restricted_option(app, client):
    firm = await make_firm(app)
    lawyers = [await make_user(app, firm_id=firm) for _ in range(2)]
    criminal = {"primary_area": 9}
    restricted = {"restricted_practice": True, "practice_options_declaration_signed": True}
    tokens = []
    for lawyer in lawyers:
        answer = await client.post(
            "/auth/token", data={"username": lawyer["username"], "password": lawyer["password"]}
        )
        tokens.append(bearer(answer.json()["access_token"]))
    first, _ = await _start(client, tokens[0], form=form_json(a=criminal, c=restricted))
    assert (
        await client.post(f"/applications/{first['id']}/submit", headers=tokens[0])
    ).status_code == 200
    second, _ = await _start(client, tokens[1], form=form_json(a=criminal))
    refused = await client.post(f"/applications/{second['id']}/submit", headers=tokens[1])
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "form.c.restricted_practice"
