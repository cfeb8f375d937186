"""The second reading of RULES.md §2 (corrections 0-6), pure, each both ways by table."""

from datetime import date

import pytest

from app.applications.form import ApplicationForm
from app.applications.rules import (
    SECTION_CHECKS,
    LawyerHistory,
    check_application,
    check_firm_consistency,
    consented_payor,
    new_lawyer_tier,
    payor_key,
    tax_exempt,
)
from tests.applications.test_rules import claim, complete, problems

NEW_CALL = {
    "newly_called_first_time": True,
    "years_in_practice": 0,
    "billing_code": "AC0",
    "hours_last_fiscal_year": 0,
    "practised_outside_ontario": False,
}


# 0. Who is a new call ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "d", "expected"),
    [
        # less than a full year of practice, truthful code and hours, Section D answered
        (
            {"years_in_practice": 0, "billing_code": "AC2", "hours_last_fiscal_year": 900},
            False,
            set(),
        ),
        (
            {"years_in_practice": 0, "billing_code": "AV9", "hours_last_fiscal_year": 300},
            True,
            set(),
        ),
        # ... but not a first-time new call: Section D is required
        (
            {"years_in_practice": 0, "billing_code": "AC2", "hours_last_fiscal_year": 900},
            None,
            {("d.unreported_claims_or_circumstances", "required")},
        ),
        (NEW_CALL, None, set()),  # the first-time new call may leave Section D empty
        (NEW_CALL, False, set()),
        (
            {**NEW_CALL, "billing_code": "AC1"},
            None,
            {("a.billing_code", "new_call_billings")},
        ),
        (
            {**NEW_CALL, "hours_last_fiscal_year": 150},
            None,
            {("a.hours_last_fiscal_year", "new_call_hours")},
        ),
        (
            {**NEW_CALL, "years_in_practice": 1},
            None,
            {("a.years_in_practice", "new_call_years")},
        ),
        (
            {**NEW_CALL, "practised_outside_ontario": True},
            None,
            {("a.practised_outside_ontario", "new_call_practised_elsewhere")},
        ),
    ],
)
def test_who_is_a_new_call(a, d, expected):
    history = LawyerHistory(claims=(claim(date(2024, 12, 1)),), application_started_on=None)
    found = problems(complete(a=a, d={"unreported_claims_or_circumstances": d}), history)
    assert found == expected


def test_zero_years_earns_the_first_tier_without_being_a_new_call():
    form = complete(
        a={"years_in_practice": 0, "billing_code": "AC2", "hours_last_fiscal_year": 900}
    )
    assert new_lawyer_tier(form.a.years_in_practice) == 0
    assert new_lawyer_tier(4) is None


# 1. The 25,000 deductible follows the practice type ---------------------------------------

ALONE = ["sole_practitioner", "law_corporation_sole"]
WITH_OTHERS = [
    "association",
    "partnership_general",
    "partnership_llp",
    "law_corporation_not_sole",
    "multi_discipline_or_combined_licensee",
]
BELOW = ("c.deductible", "billings_below_threshold")
OWN_AMOUNT = ("a.gross_billings", "billings_amount_required")
AVERAGE = ("a.average_gross_billings", "billings_amount_required")
ALONE_BY_CODE = {
    **dict.fromkeys(["AC0", "AC1", "AC2", "AC3", "AV8", "AV9", "AV10"], BELOW),
    **dict.fromkeys(["AC4", "AV11"], OWN_AMOUNT),
    **dict.fromkeys(["AC5", "AC6", "AV12", "AV13"], None),
}
WITH_OTHERS_BY_CODE = {
    **dict.fromkeys(["AC0", "AC1", "AC2", "AC3", "AC4", "AC5", "AC6", "AV10"], AVERAGE),
    **dict.fromkeys(["AV8", "AV9"], BELOW),
    **dict.fromkeys(["AV11", "AV12", "AV13"], None),
}


def _25k(nature, code, *, own=None, average=None):
    form = complete(
        a={"billing_code": code, "gross_billings": own, "average_gross_billings": average},
        b={"nature_of_practice": [nature]},
        c={"deductible": "25000_combined"},
    )
    return problems(form)


@pytest.mark.parametrize("nature", ALONE)
@pytest.mark.parametrize(("code", "expected"), ALONE_BY_CODE.items())
def test_25000_alone_needs_400000_of_own_billings(nature, code, expected):
    assert _25k(nature, code) == ({expected} if expected else set())


@pytest.mark.parametrize("nature", WITH_OTHERS)
@pytest.mark.parametrize(("code", "expected"), WITH_OTHERS_BY_CODE.items())
def test_25000_with_others_needs_an_average_of_250000(nature, code, expected):
    assert _25k(nature, code) == ({expected} if expected else set())


@pytest.mark.parametrize(
    ("nature", "code", "own", "average", "expected"),
    [
        ("sole_practitioner", "AC4", "400000.00", None, set()),
        ("sole_practitioner", "AC4", "399999.99", None, {BELOW}),
        ("sole_practitioner", "AV11", "400000.00", None, set()),  # the bug: AV11 passed alone
        ("law_corporation_sole", "AV11", "350000.00", None, {BELOW}),
        ("sole_practitioner", "AV11", None, "450000.00", {OWN_AMOUNT}),  # an average is not own
        ("partnership_general", "AV10", None, "250000.00", set()),
        ("partnership_general", "AV10", None, "249999.99", {BELOW}),
        ("association", "AV10", "400000.00", None, {AVERAGE}),  # own billings are not the average
        ("association", "AC6", "900000.00", "250000.00", set()),
        ("law_corporation_not_sole", "AC6", None, "200000.00", {BELOW}),
    ],
)
def test_25000_with_amounts_stated(nature, code, own, average, expected):
    assert _25k(nature, code, own=own, average=average) == expected


# 2. Part-Time --------------------------------------------------------------------------------

PART_TIME = {"part_time": True, "practice_options_declaration_signed": True}


@pytest.mark.parametrize(
    ("code", "own", "expected"),
    [
        ("AC0", None, set()),
        ("AC1", None, set()),
        ("AC2", None, {("c.part_time", "part_time_billings")}),
        ("AC6", None, {("c.part_time", "part_time_billings")}),
        ("AV8", None, {("a.gross_billings", "billings_amount_required")}),
        ("AV8", "100000.00", set()),
        ("AV8", "100000.01", {("c.part_time", "part_time_billings")}),
        # Decision: any average is not the lawyer's own; the own amount decides
        ("AV9", None, {("a.gross_billings", "billings_amount_required")}),
        ("AV9", "60000.00", set()),
        ("AV12", "150000.00", {("c.part_time", "part_time_billings")}),
    ],
)
def test_part_time_is_on_the_lawyers_own_billings(code, own, expected):
    form = complete(
        a={"hours_last_fiscal_year": 500, "billing_code": code, "gross_billings": own},
        c=PART_TIME,
    )
    assert problems(form) == expected


@pytest.mark.parametrize(
    ("kind", "reported", "with_payment", "ok"),
    [
        ("circumstance", date(2023, 3, 1), True, False),  # a claim includes a circumstance
        ("claim", date(2023, 3, 1), True, False),
        ("circumstance", date(2023, 3, 1), False, True),
        ("circumstance", date(2019, 12, 31), True, True),  # more than five years before
    ],
)
def test_part_time_and_circumstances_with_payments(kind, reported, with_payment, ok):
    history = LawyerHistory(claims=(claim(reported, kind=kind, with_payment=with_payment),))
    found = problems(
        complete(a={"billing_code": "AC1", "hours_last_fiscal_year": 500}, c=PART_TIME), history
    )
    assert (("c.part_time", "part_time_claims_history") not in found) is ok


@pytest.mark.parametrize(
    ("lost", "ok"), [(frozenset({2024}), False), (frozenset({2023}), True), (frozenset(), True)]
)
def test_part_time_not_for_the_year_after_it_was_lost(lost, ok):
    form = complete(a={"billing_code": "AC1", "hours_last_fiscal_year": 500}, c=PART_TIME)
    found = problems(form, LawyerHistory(part_time_lost_years=lost))
    assert (found == set()) is ok
    assert found <= {("c.part_time", "part_time_lost_last_year")}


# 3. Restricted and Real Estate -------------------------------------------------------------


@pytest.mark.parametrize(
    ("restricted", "real_estate", "ok"),
    [(True, True, False), (True, False, True), (False, True, True), (False, False, True)],
)
def test_restricted_and_real_estate_together_are_refused(restricted, real_estate, ok):
    form = complete(
        a={"primary_area": 9},
        c={
            "restricted_practice": restricted,
            "practice_options_declaration_signed": restricted,
            "real_estate": real_estate,
        },
    )
    found = problems(form)
    assert (found == set()) is ok
    assert found <= {("c.restricted_practice", "restricted_with_real_estate")}


# 4. Innocent Party buy-up and firm consistency ----------------------------------------------

NOT_OFFERED = ("c.innocent_party_sublimit", "innocent_party_buy_up_not_offered")


@pytest.mark.parametrize("sublimit", ["500000", "1000000"])
@pytest.mark.parametrize(
    ("nature", "locum", "ok"),
    [
        *((n, False, True) for n in WITH_OTHERS),
        ("sole_practitioner", False, False),
        ("law_corporation_sole", False, False),
        ("in_house_counsel", False, False),
        ("employed_other", False, False),
        ("sole_practitioner", True, True),  # a locum may buy up (and must match the firm)
    ],
)
def test_innocent_party_buy_up_only_with_others_or_as_locum(sublimit, nature, locum, ok):
    c = {"innocent_party_sublimit": sublimit, "locum": locum}
    if locum:
        c["locum_contracting_firm_sublimit"] = "500000"
    found = problems(complete(b={"nature_of_practice": [nature]}, c=c))
    assert (NOT_OFFERED not in found) is ok


def test_the_included_sublimit_needs_no_buy_up():
    assert problems(complete(b={"nature_of_practice": ["sole_practitioner"]})) == set()


@pytest.mark.parametrize(
    ("mine", "theirs", "ok"),
    [
        ("5000_combined", "5000_combined", True),
        ("5000_indemnity", "5000_combined", False),  # same amount, another type
        ("10000_combined", "5000_combined", False),  # same type, another amount
    ],
)
def test_firm_deductible_is_the_same_amount_and_type(mine, theirs, ok):
    conflicts = check_firm_consistency(
        complete(c={"deductible": mine}), [complete(c={"deductible": theirs})]
    )
    assert (conflicts == []) is ok
    if not ok:
        assert conflicts[0].field == "c.deductible"
        assert "amount and type" in conflicts[0].message


# 5. Third-party payor -----------------------------------------------------------------------

CONSENT = ("e.third_party_consent_confirmed", "required")


@pytest.mark.parametrize(
    ("relation", "name", "consent", "expected"),
    [
        ("law_firm", None, False, set()),
        ("firm_lawyer_or_paralegal_partner", None, False, set()),
        ("firm_management_company", None, False, set()),
        ("spouse", "Sam Lawyer", False, {CONSENT}),
        ("spouse", "Sam Lawyer", True, set()),
        ("non_lawyer_employee", "Pat Clerk", False, {CONSENT}),
        ("other", "Aunt Ida", True, set()),
        ("spouse", None, True, {("e.third_party_payor_name", "required")}),
        (None, None, True, {("e.third_party_payor_relation", "required")}),
    ],
)
def test_who_is_a_third_party_payor(relation, name, consent, expected):
    e = {
        "third_party_payor": True,
        "third_party_payor_relation": relation,
        "third_party_payor_name": name,
        "third_party_consent_confirmed": consent,
    }
    assert problems(complete(e=e)) == expected


@pytest.mark.parametrize(
    ("earlier", "now", "ok"),
    [
        (("spouse", "Sam Lawyer"), ("spouse", "  sam   LAWYER "), True),
        (("spouse", "Sam Lawyer"), ("spouse", "Kim Lawyer"), False),
        (("spouse", "Sam Lawyer"), ("other", "Sam Lawyer"), False),
    ],
)
def test_a_consent_carries_over_to_later_years(earlier, now, ok):
    def payor(relation, name, consent):
        return complete(
            e={
                "third_party_payor": True,
                "third_party_payor_relation": relation,
                "third_party_payor_name": name,
                "third_party_consent_confirmed": consent,
            }
        )

    given = consented_payor(payor(*earlier, True))
    assert given is not None
    assert consented_payor(payor(*earlier, False)) is None  # not confirmed: nothing to carry
    found = problems(payor(*now, False), LawyerHistory(consented_payors=frozenset({given})))
    assert (CONSENT not in found) is ok


def test_the_firm_paying_has_no_payor_key():
    firm = complete(e={"third_party_payor": True, "third_party_payor_relation": "law_firm"})
    assert payor_key(firm) is None


# 6. Sales tax certificate --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claimed", "on_file", "refused", "exempt"),
    [(True, False, True, False), (True, True, False, True), (False, True, False, False)],
)
def test_the_tax_exemption_needs_the_copy_on_file(claimed, on_file, refused, exempt):
    form = complete(a={"indian_status_certificate": claimed})
    history = LawyerHistory(tax_certificate_on_file=on_file)
    found = problems(form, history)
    assert (("a.indian_status_certificate", "certificate_copy_not_on_file") in found) is refused
    assert tax_exempt(form, history) is exempt


# The split: one entry point, every section at once -------------------------------------------


def test_every_broken_rule_at_once_each_naming_its_section_field():
    form = complete(
        a={**NEW_CALL, "billing_code": "AC2", "indian_status_certificate": True},
        b={"nature_of_practice": ["sole_practitioner"]},
        c={"restricted_practice": True, "real_estate": True, "innocent_party_sublimit": "500000"},
        e={"third_party_payor": True, "third_party_payor_relation": "spouse"},
    )
    found = check_application(form, LawyerHistory(), program_year=2025)
    codes = {v.code for v in found}
    assert {
        "new_call_billings",
        "certificate_copy_not_on_file",
        "restricted_with_real_estate",
        "innocent_party_buy_up_not_offered",
        "required",
    } <= codes
    assert all(v.field.split(".")[0] in "abcdef" and "." in v.field for v in found)
    assert len(SECTION_CHECKS) >= 10
    assert ApplicationForm.model_validate(form.model_dump(mode="json")) == form
