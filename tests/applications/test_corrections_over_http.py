"""The second reading of RULES.md §2 through POST /applications/{id}/submit, both ways; the
staff confirmation of the tax certificate; earlier decisions standing."""

import json
import uuid
from datetime import date

import pytest
from sqlalchemy import text

from tests.applications.test_api import _start, form_json
from tests.applications.test_rules_over_http import PART_TIME, _submit
from tests.factories import audit_events, bearer, user_token

ZERO_YEARS = {"years_in_practice": 0, "billing_code": "AC2", "hours_last_fiscal_year": 900}
SPOUSE = {
    "third_party_payor": True,
    "third_party_payor_relation": "spouse",
    "third_party_payor_name": "Sam Lawyer",
}
CASES = [
    # (correction, breaking sections, passing sections, field, code)
    (
        "0 years, not a new call: Section D",
        {"a": ZERO_YEARS, "d": {"unreported_claims_or_circumstances": None}},
        {"a": ZERO_YEARS},
        "d.unreported_claims_or_circumstances",
        "required",
    ),
    (
        "newly called enters AC0",
        {"a": {"newly_called_first_time": True, **ZERO_YEARS, "hours_last_fiscal_year": 0}},
        {
            "a": {
                "newly_called_first_time": True,
                **ZERO_YEARS,
                "billing_code": "AC0",
                "hours_last_fiscal_year": 0,
            }
        },
        "a.billing_code",
        "new_call_billings",
    ),
    (
        "25,000 alone with AV11",
        {
            "a": {"billing_code": "AV11", "gross_billings": None},
            "b": {"nature_of_practice": ["sole_practitioner"]},
            "c": {"deductible": "25000_combined"},
        },
        {
            "a": {"billing_code": "AV11", "gross_billings": "410000.00"},
            "b": {"nature_of_practice": ["sole_practitioner"]},
            "c": {"deductible": "25000_combined"},
        },
        "a.gross_billings",
        "billings_amount_required",
    ),
    (
        "25,000 with others and an AC code",
        {"a": {"billing_code": "AC6"}, "c": {"deductible": "25000_combined"}},
        {
            "a": {"billing_code": "AC6", "average_gross_billings": "300000.00"},
            "c": {"deductible": "25000_combined"},
        },
        "a.average_gross_billings",
        "billings_amount_required",
    ),
    (
        "part-time on own billings",
        {
            "a": {"billing_code": "AV8", "gross_billings": None, "hours_last_fiscal_year": 500},
            "c": PART_TIME,
        },
        {
            "a": {
                "billing_code": "AV8",
                "gross_billings": "80000.00",
                "hours_last_fiscal_year": 500,
            },
            "c": PART_TIME,
        },
        "a.gross_billings",
        "billings_amount_required",
    ),
    (
        "restricted with real estate",
        {
            "a": {"primary_area": 9},
            "c": {
                "restricted_practice": True,
                "practice_options_declaration_signed": True,
                "real_estate": True,
            },
        },
        {
            "a": {"primary_area": 9},
            "c": {"restricted_practice": True, "practice_options_declaration_signed": True},
        },
        "c.restricted_practice",
        "restricted_with_real_estate",
    ),
    (
        "innocent party buy-up alone",
        {
            "b": {"nature_of_practice": ["sole_practitioner"]},
            "c": {"innocent_party_sublimit": "500000"},
        },
        {"b": {"nature_of_practice": ["association"]}, "c": {"innocent_party_sublimit": "500000"}},
        "c.innocent_party_sublimit",
        "innocent_party_buy_up_not_offered",
    ),
    (
        "the firm is no third party",
        {"e": SPOUSE},
        {"e": {"third_party_payor": True, "third_party_payor_relation": "law_firm"}},
        "e.third_party_consent_confirmed",
        "required",
    ),
    (
        "tax certificate copy",
        {"a": {"indian_status_certificate": True}},
        {"a": {"indian_status_certificate": False}},
        "a.indian_status_certificate",
        "certificate_copy_not_on_file",
    ),
]


@pytest.mark.parametrize(
    ("rule", "breaking", "passing", "field", "code"), CASES, ids=[c[0] for c in CASES]
)
async def test_correction_both_ways(app, client, rule, breaking, passing, field, code):
    broken = await _submit(app, client, breaking)
    assert broken.status_code == 422, (rule, broken.text)
    errors = {(e["field"], e["code"]) for e in broken.json()["errors"]}
    assert (f"form.{field}", code) in errors, errors
    passed = await _submit(app, client, passing)
    assert passed.status_code == 200, (rule, passed.text)


async def test_zero_years_is_priced_with_the_first_tier(app, client):
    submitted = await _submit(app, client, {"a": ZERO_YEARS})
    lines = {ln["code"]: ln["amount"] for ln in submitted.json()["quote"]["lines"]}
    assert lines["new_lawyer_and_practice_discount"] == "-1625.00"


async def _earlier_year(app, lawyer_id, year, *, form=None, lost_part_time=False):
    """An approved application and its policy for an earlier year, as an earlier submission
    left them (optionally with the mid-term loss of Part-Time eligibility)."""
    app_id, quote_id, policy_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO quote (id, owner_id, created_by_id, program_year, rate_table_version,"
                " rate_table_digest, effective_date, inputs, lines, premium, tax, total, instalments)"
                " VALUES (:q, :o, :o, :y, 'old', 'x', :d, '{}', '[]', 1, 0, 1, '[]')"
            ),
            {"q": quote_id, "o": lawyer_id, "y": year, "d": date(year, 1, 1)},
        )
        await conn.execute(
            text(
                "INSERT INTO application (id, owner_id, created_by_id, program_year, status, form,"
                " quote_id, version) VALUES (:a, :o, :o, :y, 'approved', CAST(:f AS jsonb), :q, 1)"
            ),
            {"a": app_id, "o": lawyer_id, "y": year, "q": quote_id, "f": json.dumps(form or {})},
        )
        await conn.execute(
            text(
                "INSERT INTO policy (id, application_id, lawyer_id, program_year, effective_date,"
                " deductible, options, real_estate_status, premium, tax, total, quote_id, part_time)"
                " VALUES (:p, :a, :o, :y, :d, '5000_combined', '{}', 'not_taken', 1, 0, 1, :q, false)"
            ),
            {
                "p": policy_id,
                "a": app_id,
                "o": lawyer_id,
                "y": year,
                "d": date(year, 1, 1),
                "q": quote_id,
            },
        )
        if lost_part_time:
            await conn.execute(
                text(
                    "INSERT INTO mid_term_change (id, policy_id, kind, received_on, effective_date,"
                    " premium_adjustment, tax_adjustment, total_adjustment, pro_rated, details,"
                    " created_by_id) VALUES (:id, :p, 'lose_part_time', :d, :d, 1, 0, 1, false,"
                    " '{}', :o)"
                ),
                {"id": uuid.uuid4(), "p": policy_id, "d": date(year, 6, 1), "o": lawyer_id},
            )


@pytest.mark.parametrize(("lost_in", "ok"), [(2024, False), (2023, True)])
async def test_part_time_not_for_the_year_after_losing_it(app, client, lost_in, ok):
    lawyer, token = await user_token(app, client)
    await _earlier_year(app, lawyer["id"], lost_in, lost_part_time=True)
    form = form_json(a={"billing_code": "AC1", "hours_last_fiscal_year": 500}, c=PART_TIME)
    draft, _ = await _start(client, bearer(token), form=form)
    answer = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(token))
    assert (answer.status_code == 200) is ok, answer.text
    if not ok:
        assert answer.json()["errors"] == [
            {
                "field": "form.c.part_time",
                "code": "part_time_lost_last_year",
                "message": "Part-Time Practice is not available for 2025: the lawyer lost "
                "Part-Time eligibility during 2024.",
            }
        ]


@pytest.mark.parametrize(("name", "ok"), [("  sam LAWYER ", True), ("Kim Lawyer", False)])
async def test_a_payors_consent_carries_over_from_an_earlier_year(app, client, name, ok):
    lawyer, token = await user_token(app, client)
    earlier = form_json(e={**SPOUSE, "third_party_consent_confirmed": True})
    await _earlier_year(app, lawyer["id"], 2024, form=earlier)
    form = form_json(e={**SPOUSE, "third_party_payor_name": name})
    draft, _ = await _start(client, bearer(token), form=form)
    answer = await client.post(f"/applications/{draft['id']}/submit", headers=bearer(token))
    assert (answer.status_code == 200) is ok, answer.text


async def test_staff_confirm_the_certificate_then_the_submission_is_tax_free(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    draft, etag = await _start(client, me, form=form_json(a={"indian_status_certificate": True}))
    url = f"/applications/{draft['id']}"
    refused = await client.post(f"{url}/submit", headers=me)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "certificate_copy_not_on_file"

    assert (
        await client.post(f"{url}/tax-certificate", headers={**me, "If-Match": etag})
    ).status_code == 403
    _, finance = await user_token(app, client, role="finance")  # a role without the action
    assert (
        await client.post(f"{url}/tax-certificate", headers={**bearer(finance), "If-Match": etag})
    ).status_code == 403
    _, clerk = await user_token(app, client, role="customer_service")
    staff = bearer(clerk)
    assert (await client.post(f"{url}/tax-certificate", headers=staff)).status_code == 428
    assert (
        await client.post(f"{url}/tax-certificate", headers={**staff, "If-Match": '"99"'})
    ).status_code == 412
    confirmed = await client.post(f"{url}/tax-certificate", headers={**staff, "If-Match": etag})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["application_id"] == draft["id"]
    assert confirmed.headers["etag"] != etag
    events = await audit_events(
        app, action="application.tax_certificate_confirm", outcome="success"
    )
    assert len(events) == 1 and events[0]["resource_id"] == draft["id"]
    refusals = await audit_events(
        app, action="application.tax_certificate_confirm", outcome="denied"
    )
    assert refusals  # the lawyer's attempt, among others, is on the trail

    submitted = await client.post(f"{url}/submit", headers=me)
    assert submitted.status_code == 200, submitted.text
    quote = submitted.json()["quote"]
    assert (quote["premium"], quote["tax"], quote["total"]) == ("3250.00", "0.00", "3250.00")
    late = await client.post(
        f"{url}/tax-certificate", headers={**staff, "If-Match": submitted.headers["etag"]}
    )
    assert late.status_code == 409


async def test_without_the_certificate_the_tax_is_charged(app, client):
    submitted = await _submit(app, client, {"a": {"indian_status_certificate": False}})
    quote = submitted.json()["quote"]
    assert (quote["premium"], quote["tax"], quote["total"]) == ("3250.00", "260.00", "3510.00")


async def test_a_submission_judged_before_the_corrections_keeps_its_outcome(app, client):
    """A sole practitioner with AV11 and the 25,000 deductible passed the first reading; the
    corrected rules refuse it, yet the submitted application is decided, not re-judged."""
    lawyer, token = await user_token(app, client)
    old_form = form_json(
        a={"billing_code": "AV11", "gross_billings": None},
        b={"nature_of_practice": ["sole_practitioner"]},
        c={"deductible": "25000_combined"},
    )
    quote = await client.post(
        "/quotes",
        json={
            "program_year": 2025,
            "effective_date": "2025-01-01",
            "years_in_practice": 10,
            "deductible": "25000_combined",
            "payment_plan": "quarterly",
        },
        headers=bearer(token),
    )
    assert quote.status_code == 201, quote.text
    app_id, quote_id = uuid.uuid4(), quote.json()["id"]
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO application (id, owner_id, created_by_id, program_year, status, form,"
                " quote_id, submitted_at, version) VALUES (:a, :o, :o, 2025, 'submitted',"
                " CAST(:f AS jsonb), :q, now(), 1)"
            ),
            {"a": app_id, "o": lawyer["id"], "q": quote_id, "f": json.dumps(old_form)},
        )
    _, underwriter = await user_token(app, client, role="underwriter")
    approved = await client.post(
        f"/applications/{app_id}/decision",
        json={"decision": "approve"},
        headers=bearer(underwriter),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["policy"]["total"] == "3071.25"
    async with app.state.database.engine.connect() as conn:
        edition = await conn.scalar(
            text("SELECT rules_edition FROM application WHERE id = :a"), {"a": app_id}
        )
    assert edition is None  # judged before editions were recorded; nothing re-judged it


async def test_a_new_submission_records_the_rules_edition(app, client):
    submitted = await _submit(app, client, {})
    async with app.state.database.engine.connect() as conn:
        edition = await conn.scalar(
            text("SELECT rules_edition FROM application WHERE id = :a"),
            {"a": submitted.json()["id"]},
        )
    assert edition == "2026-11-25"
