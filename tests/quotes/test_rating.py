"""The rating engine (RULES.md §1), without a database. Every expected figure is worked by hand
in the comments; none is computed by the code under test."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.quotes.rate_tables import RateTableError, load_rate_table, parse_rate_table
from app.quotes.rules import (
    Deductible,
    InnocentPartySublimit,
    PaymentPlan,
    QuoteInput,
    QuoteInputError,
    compute_quote,
    round_half_up,
)

T2025 = load_rate_table(2025)
# A leap-year table: the 2025 rates for a 366-day program year.
T2024 = replace(T2025, program_year=2024, version="2024.test")
D = Decimal


def quote(effective=date(2025, 1, 1), table=T2025, **kw):
    years = kw.pop("years_in_practice", 10)  # 10 years: no new-lawyer discount
    return compute_quote(
        QuoteInput(table.program_year, effective, years_in_practice=years, **kw), table
    )


def lines(q):
    return {ln.code: ln.amount for ln in q.lines}


def test_worked_example():
    q = quote(years_in_practice=0, payment_plan=PaymentPlan.quarterly)
    assert [(ln.code, ln.amount) for ln in q.lines] == [
        ("base_premium", D("3250.00")),
        ("new_lawyer_and_practice_discount", D("-1625.00")),
    ]
    assert (q.premium, q.tax, q.total) == (D("1625.00"), D("130.00"), D("1755.00"))
    assert [i.amount for i in q.instalments] == [D("438.75")] * 4
    assert [i.due_date for i in q.instalments] == [
        date(2025, 1, 15),
        date(2025, 4, 15),
        date(2025, 7, 15),
        date(2025, 10, 15),
    ]


@pytest.mark.parametrize(
    ("deductible", "adjustment", "premium", "tax", "total"),
    [
        ("nil", "487.50", "3737.50", "299.00", "4036.50"),  # +15 % of 3250
        ("2500_combined", "243.75", "3493.75", "279.50", "3773.25"),  # +7.5 %
        ("2500_indemnity", "406.25", "3656.25", "292.50", "3948.75"),  # +12.5 %
        ("5000_combined", None, "3250.00", "260.00", "3510.00"),  # standard: no line
        ("5000_indemnity", "325.00", "3575.00", "286.00", "3861.00"),  # +10 %
        ("10000_combined", "-243.75", "3006.25", "240.50", "3246.75"),  # -7.5 %
        ("10000_indemnity", "243.75", "3493.75", "279.50", "3773.25"),  # +7.5 %
        ("25000_combined", "-406.25", "2843.75", "227.50", "3071.25"),  # -12.5 %
    ],
)
def test_each_deductible_option(deductible, adjustment, premium, tax, total):
    q = quote(deductible=Deductible(deductible))
    assert lines(q).get("deductible_adjustment") == (D(adjustment) if adjustment else None)
    assert (q.premium, q.tax, q.total) == (D(premium), D(tax), D(total))


def test_deductible_percent_applies_to_the_base_not_the_discounted_premium():
    q = quote(years_in_practice=0, deductible=Deductible.nil)
    # 15 % of 3250 = 487.50, not 15 % of 1625
    assert lines(q)["deductible_adjustment"] == D("487.50")
    assert q.premium == D("2112.50")  # 3250 - 1625 + 487.50


@pytest.mark.parametrize(
    ("years", "discount"),
    [(0, "-1625.00"), (1, "-1300.00"), (2, "-975.00"), (3, "-650.00"), (4, None), (10, None)],
)
def test_new_lawyer_tiers(years, discount):
    q = quote(years_in_practice=years)
    assert lines(q).get("new_lawyer_and_practice_discount") == (D(discount) if discount else None)


@pytest.mark.parametrize(
    ("years", "restricted", "part_time", "percent"),
    [
        (10, False, False, 0),
        (10, True, False, 50),
        (10, False, True, 50),
        (10, True, True, 50),  # 100 capped at 50
        (0, True, False, 50),  # 100 capped
        (0, False, True, 50),
        (0, True, True, 50),  # 150 capped
        (3, False, False, 20),
        (3, True, False, 50),  # 70 capped
        (2, False, True, 50),  # 80 capped
        (1, False, False, 40),
    ],
)
def test_discount_cap_for_every_combination(years, restricted, part_time, percent):
    q = quote(years_in_practice=years, restricted_practice=restricted, part_time=part_time)
    expected = -D(3250) * percent / 100
    assert lines(q).get("new_lawyer_and_practice_discount", D(0)) == expected
    assert q.discount_percent == percent


@pytest.mark.parametrize(
    ("effective", "table", "base", "premium", "tax", "total"),
    [
        (date(2025, 1, 1), T2025, "3250.00", "3250.00", "260.00", "3510.00"),
        # 184 days (1 Jul - 31 Dec): 3250 * 184 / 365 = 1638.356... ; tax 131.0688
        (date(2025, 7, 1), T2025, "1638.36", "1638.36", "131.07", "1769.43"),
        # 1 day: 3250 / 365 = 8.904...; tax 0.712
        (date(2025, 12, 31), T2025, "8.90", "8.90", "0.71", "9.61"),
        # leap year: 366 days in all
        (date(2024, 1, 1), T2024, "3250.00", "3250.00", "260.00", "3510.00"),
        # 3250 * 184 / 366 = 1633.879...; tax 130.7104
        (date(2024, 7, 1), T2024, "1633.88", "1633.88", "130.71", "1764.59"),
        # 29 Feb 2024 to 31 Dec: 307 days; 3250 * 307 / 366 = 2726.092...; tax 218.0872
        (date(2024, 2, 29), T2024, "2726.09", "2726.09", "218.09", "2944.18"),
    ],
)
def test_pro_rating(effective, table, base, premium, tax, total):
    q = quote(effective, table)
    assert lines(q)["base_premium"] == D(base)
    assert (q.premium, q.tax, q.total) == (D(premium), D(tax), D(total))


def test_new_lawyer_discount_is_pro_rated_too():
    q = quote(date(2025, 7, 1), years_in_practice=0)
    # 1625 * 184 / 365 = 819.178...; premium 1638.36 - 819.18; tax 65.5344
    assert lines(q)["new_lawyer_and_practice_discount"] == D("-819.18")
    assert (q.premium, q.tax, q.total) == (D("819.18"), D("65.53"), D("884.71"))


@pytest.mark.parametrize(
    ("effective", "fee"),
    [
        (date(2025, 1, 1), "100.00"),
        (date(2025, 12, 1), "8.49"),  # 31 days: 100 * 31 / 365 = 8.493
        (date(2025, 12, 2), "8.22"),  # 30 days: 100 * 30 / 365 = 8.219
        (date(2025, 12, 31), "8.22"),  # 1 day, but at least 30
    ],
)
def test_real_estate_option_with_30_day_minimum(effective, fee):
    q = quote(effective, real_estate=True)
    assert lines(q)["real_estate_option"] == D(fee)


def test_real_estate_total_on_the_last_day():
    q = quote(date(2025, 12, 31), real_estate=True)
    # 8.90 + 8.22 = 17.12; tax 1.3696
    assert (q.premium, q.tax, q.total) == (D("17.12"), D("1.37"), D("18.49"))


@pytest.mark.parametrize(
    ("sublimit", "effective", "fee"),
    [
        ("250000", date(2025, 1, 1), None),
        ("500000", date(2025, 1, 1), "75.00"),
        ("1000000", date(2025, 1, 1), "125.00"),
        ("1000000", date(2025, 7, 1), "63.01"),  # 125 * 184 / 365 = 63.013
        ("500000", date(2025, 7, 1), "37.81"),  # 75 * 184 / 365 = 37.808
    ],
)
def test_innocent_party_buy_up_is_pro_rated(sublimit, effective, fee):
    q = quote(effective, innocent_party_sublimit=InnocentPartySublimit(sublimit))
    assert lines(q).get("innocent_party_buy_up") == (D(fee) if fee else None)


@pytest.mark.parametrize(
    ("programs", "credit"), [(0, None), (1, "-50.00"), (2, "-100.00"), (3, "-100.00")]
)
def test_risk_management_credit_is_capped_and_not_pro_rated(programs, credit):
    assert lines(quote(risk_management_programs=programs)).get("risk_management_credit") == (
        D(credit) if credit else None
    )
    late = quote(date(2025, 12, 1), risk_management_programs=programs)
    assert lines(late).get("risk_management_credit") == (D(credit) if credit else None)


def test_premium_never_below_zero():
    q = quote(date(2025, 12, 31), risk_management_programs=2)
    assert [(ln.code, ln.amount) for ln in q.lines] == [
        ("base_premium", D("8.90")),
        ("risk_management_credit", D("-100.00")),
    ]
    assert (q.premium, q.tax, q.total) == (D("0.00"), D("0.00"), D("0.00"))
    assert [(i.due_date, i.amount) for i in q.instalments] == [(date(2025, 12, 31), D("0.00"))]


def test_certificate_of_indian_status_means_no_tax():
    q = quote(years_in_practice=0, indian_status_certificate=True)
    assert (q.premium, q.tax, q.total) == (D("1625.00"), D("0.00"), D("1625.00"))


@pytest.mark.parametrize(
    ("effective", "plan", "expected"),
    [
        (date(2025, 1, 1), "lump_sum", [("2025-01-01", "3510.00")]),
        (date(2025, 1, 1), "monthly", [(f"2025-{m:02}-15", "292.50") for m in range(1, 13)]),
        # 1769.43 over 15 Jul and 15 Oct: 884.715 -> 884.71 each, the extra cent first
        (date(2025, 7, 1), "quarterly", [("2025-07-15", "884.72"), ("2025-10-15", "884.71")]),
        # six months: 1769.43 / 6 = 294.905 -> 294.90; first 1769.43 - 5 * 294.90 = 294.93
        (
            date(2025, 7, 1),
            "monthly",
            [("2025-07-15", "294.93")] + [(f"2025-{m:02}-15", "294.90") for m in range(8, 13)],
        ),
    ],
)
def test_instalment_plans(effective, plan, expected):
    q = quote(effective, payment_plan=PaymentPlan(plan))
    assert [(i.due_date.isoformat(), str(i.amount)) for i in q.instalments] == expected


def test_instalment_on_its_due_date_still_counts():
    q = quote(date(2025, 10, 15), payment_plan=PaymentPlan.quarterly)
    assert [i.due_date for i in q.instalments] == [date(2025, 10, 15)]


@pytest.mark.parametrize(
    ("effective", "plan"),
    [(date(2025, 10, 16), "quarterly"), (date(2025, 12, 16), "monthly")],
)
def test_after_the_last_instalment_date_one_instalment_on_the_effective_date(effective, plan):
    q = quote(effective, payment_plan=PaymentPlan(plan))
    assert [(i.due_date, i.amount) for i in q.instalments] == [(effective, q.total)]


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(1, 200), "0.01"),
        (Fraction(-1, 200), "-0.01"),
        (Fraction(1, 400), "0.00"),
        (Fraction(2499, 1000), "2.50"),
        (Fraction(-1001, 400), "-2.50"),
    ],
)
def test_rounding_is_half_up_per_line(value, rounded):
    assert str(round_half_up(value)) == rounded


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"effective_date": date(2026, 1, 1)}, "effective_date"),
        ({"effective_date": date(2024, 12, 31)}, "effective_date"),
        ({"years_in_practice": -1}, "years_in_practice"),
        ({"risk_management_programs": -2}, "risk_management_programs"),
        ({"program_year": 2024}, "program_year"),
    ],
)
def test_inputs_a_bare_quote_can_check(changes, field):
    inp = replace(QuoteInput(2025, date(2025, 1, 1)), **changes)
    with pytest.raises(QuoteInputError) as refused:
        compute_quote(inp, T2025)
    assert field in [v.field for v in refused.value.violations]


def test_rate_tables_are_validated_when_loaded():
    raw = (
        b'{"program_year": 2026, "version": "x", "base_premium": "3250.00",'
        b' "deductible_percent": {"nil": "15"}}'
    )
    with pytest.raises(RateTableError, match="deductible_percent"):
        parse_rate_table(raw, "2026.json")
    with pytest.raises(RateTableError, match="no rate table"):
        load_rate_table(1999)
    assert len(T2025.digest) == 64 and T2025.version == "2025.1"


inputs = st.builds(
    QuoteInput,
    program_year=st.just(2025),
    effective_date=st.dates(date(2025, 1, 1), date(2025, 12, 31)),
    years_in_practice=st.integers(0, 40),
    deductible=st.sampled_from(Deductible),
    restricted_practice=st.booleans(),
    part_time=st.booleans(),
    real_estate=st.booleans(),
    innocent_party_sublimit=st.sampled_from(InnocentPartySublimit),
    risk_management_programs=st.integers(0, 5),
    indian_status_certificate=st.booleans(),
    payment_plan=st.sampled_from(PaymentPlan),
)


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_totals_add_up(inp):
    q = compute_quote(inp, T2025)
    line_sum = sum(ln.amount for ln in q.lines)
    assert q.premium == max(D(0), line_sum)
    assert q.total == q.premium + q.tax
    assert all(ln.amount == ln.amount.quantize(D("0.01")) for ln in q.lines)


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_instalments_sum_to_the_total_and_are_never_negative(inp):
    q = compute_quote(inp, T2025)
    amounts = [i.amount for i in q.instalments]
    assert sum(amounts) == q.total
    assert all(a >= 0 for a in amounts)
    assert len(set(amounts[1:])) <= 1 and amounts[0] >= max(amounts)
    assert amounts[0] - min(amounts) < D("0.01") * len(amounts)
    assert all(i.due_date >= inp.effective_date for i in q.instalments)


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_discount_never_exceeds_the_cap(inp):
    q = compute_quote(inp, T2025)
    base = lines(q)["base_premium"]
    discount = -lines(q).get("new_lawyer_and_practice_discount", D(0))
    assert D(0) <= discount <= (base / 2).quantize(D("0.01")) + D("0.01")


@settings(max_examples=200, deadline=None)
@given(inputs, st.integers(1, 364))
def test_premium_never_rises_as_the_effective_date_moves_later(inp, shift):
    later = inp.effective_date + timedelta(days=shift)
    if later.year != 2025:
        later = date(2025, 12, 31)
    assert (
        compute_quote(replace(inp, effective_date=later), T2025).premium
        <= compute_quote(inp, T2025).premium
    )
