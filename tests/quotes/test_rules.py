"""The rating rules of RULES.md §1 and the rate-table loader, without a database.

Every expected figure is written out literally, worked by hand in the comment beside it; none is
computed with the code under test. Unless a test says otherwise a quote is for a lawyer of 10 years
(no new-lawyer discount), standard deductible, lump sum, in the 2025 table (365 days)."""

import hashlib
import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.quotes import rate_tables
from app.quotes.rate_tables import RateTableError, available_years, load_rate_table
from app.quotes.rules import (
    Deductible,
    InnocentPartySublimit,
    PaymentPlan,
    QuoteInput,
    QuoteInputError,
    check_program_year,
    compute_quote,
    validate_quote_input,
)

D = Decimal
T2025 = load_rate_table(2025)
T2024 = replace(T2025, program_year=2024, version="2024.test")  # the 2025 rates, 366 days
RATES_2025 = Path(rate_tables.__file__).parent / "rates" / "2025.json"
LINE_ORDER = [
    "base_premium",
    "new_lawyer_and_practice_discount",
    "deductible_adjustment",
    "innocent_party_buy_up",
    "real_estate_option",
    "risk_management_credit",
]


def quote(effective=date(2025, 1, 1), table=T2025, **kw):
    kw.setdefault("years_in_practice", 10)
    return compute_quote(QuoteInput(table.program_year, effective, **kw), table)


def lines(q):
    return {ln.code: ln.amount for ln in q.lines}


def money(q):
    return (str(q.premium), str(q.tax), str(q.total))


def schedule(q):
    return [(i.due_date.isoformat(), str(i.amount)) for i in q.instalments]


def test_worked_example():
    q = quote(years_in_practice=0, payment_plan=PaymentPlan.quarterly)
    assert [(ln.code, str(ln.amount)) for ln in q.lines] == [
        ("base_premium", "3250.00"),
        ("new_lawyer_and_practice_discount", "-1625.00"),
    ]
    assert money(q) == ("1625.00", "130.00", "1755.00")
    assert schedule(q) == [(f"2025-{m:02}-15", "438.75") for m in (1, 4, 7, 10)]
    assert (q.rate_table_year, q.rate_table_version, q.rate_table_digest) == (
        2025,
        "2025.1",
        T2025.digest,
    )
    assert all(ln.description for ln in q.lines)


@pytest.mark.parametrize(
    ("deductible", "adjustment", "expected"),
    [
        ("nil", "487.50", ("3737.50", "299.00", "4036.50")),  # 3250 x 15 %; tax 3737.50 x 8 %
        ("2500_combined", "243.75", ("3493.75", "279.50", "3773.25")),  # 3250 x 7.5 %
        ("2500_indemnity", "406.25", ("3656.25", "292.50", "3948.75")),  # 3250 x 12.5 %
        ("5000_combined", None, ("3250.00", "260.00", "3510.00")),  # standard: 0, no line
        ("5000_indemnity", "325.00", ("3575.00", "286.00", "3861.00")),  # 3250 x 10 %
        ("10000_combined", "-243.75", ("3006.25", "240.50", "3246.75")),  # 3250 x -7.5 %
        ("10000_indemnity", "243.75", ("3493.75", "279.50", "3773.25")),  # 3250 x 7.5 %
        ("25000_combined", "-406.25", ("2843.75", "227.50", "3071.25")),  # 3250 x -12.5 %
    ],
)
def test_each_deductible_option(deductible, adjustment, expected):
    q = quote(deductible=Deductible(deductible))
    assert lines(q).get("deductible_adjustment") == (D(adjustment) if adjustment else None)
    assert money(q) == expected


def test_deductible_percent_applies_to_the_base_not_the_discounted_premium():
    q = quote(years_in_practice=0, deductible=Deductible.nil)
    assert lines(q)["deductible_adjustment"] == D("487.50")  # 15 % of 3250, not of 1625
    assert q.premium == D("2112.50")  # 3250 - 1625 + 487.50


def test_deductible_adjustment_is_pro_rated():
    q = quote(date(2025, 7, 1), deductible=Deductible.nil)
    # 184 days: 487.50 x 184 / 365 = 245.753...; base 1638.36; 1638.36 + 245.75 = 1884.11
    assert lines(q)["deductible_adjustment"] == D("245.75")
    assert money(q) == ("1884.11", "150.73", "2034.84")  # tax 150.7288


@pytest.mark.parametrize(
    ("years", "discount", "expected"),
    [
        (0, "-1625.00", ("1625.00", "130.00", "1755.00")),  # 50 % of 3250
        (1, "-1300.00", ("1950.00", "156.00", "2106.00")),  # 40 %
        (2, "-975.00", ("2275.00", "182.00", "2457.00")),  # 30 %
        (3, "-650.00", ("2600.00", "208.00", "2808.00")),  # 20 %
        (4, None, ("3250.00", "260.00", "3510.00")),  # 4+ years: 0 %, no line
        (10, None, ("3250.00", "260.00", "3510.00")),
    ],
)
def test_new_lawyer_tiers(years, discount, expected):
    q = quote(years_in_practice=years)
    assert lines(q).get("new_lawyer_and_practice_discount") == (D(discount) if discount else None)
    assert money(q) == expected


@pytest.mark.parametrize(
    ("years", "restricted", "part_time", "percent", "discount"),
    [
        (0, False, False, 50, "-1625.00"),
        (0, True, False, 50, "-1625.00"),  # 50 + 50 = 100, capped at 50
        (0, False, True, 50, "-1625.00"),  # 100 capped
        (0, True, True, 50, "-1625.00"),  # 150 capped
        (3, False, False, 20, "-650.00"),  # 3250 x 20 %
        (3, True, False, 50, "-1625.00"),  # 70 capped
        (3, False, True, 50, "-1625.00"),  # 70 capped
        (3, True, True, 50, "-1625.00"),  # 120 capped
        (10, False, False, 0, None),
        (10, True, False, 50, "-1625.00"),  # restricted alone: 50
        (10, False, True, 50, "-1625.00"),  # part-time alone: 50
        (10, True, True, 50, "-1625.00"),  # 100 capped
    ],
)
def test_discount_cap_for_every_combination(years, restricted, part_time, percent, discount):
    q = quote(years_in_practice=years, restricted_practice=restricted, part_time=part_time)
    assert lines(q).get("new_lawyer_and_practice_discount") == (D(discount) if discount else None)
    assert q.discount_percent == percent


def test_capped_discount_is_pro_rated():
    q = quote(date(2025, 7, 1), years_in_practice=3, restricted_practice=True, part_time=True)
    # 50 % of 3250 x 184 / 365 = 819.178...; 1638.36 - 819.18 = 819.18; tax 65.5344
    assert lines(q)["new_lawyer_and_practice_discount"] == D("-819.18")
    assert money(q) == ("819.18", "65.53", "884.71")


@pytest.mark.parametrize(
    ("effective", "table", "expected"),
    [
        (date(2025, 1, 1), T2025, ("3250.00", "260.00", "3510.00")),  # 365 / 365
        # 1 Jul - 31 Dec = 184 days: 3250 x 184 / 365 = 1638.356...; tax 131.0688
        (date(2025, 7, 1), T2025, ("1638.36", "131.07", "1769.43")),
        # 1 day: 3250 / 365 = 8.904...; tax 0.712
        (date(2025, 12, 31), T2025, ("8.90", "0.71", "9.61")),
        (date(2024, 1, 1), T2024, ("3250.00", "260.00", "3510.00")),  # 366 / 366
        # 184 days: 3250 x 184 / 366 = 1633.879...; tax 130.7104
        (date(2024, 7, 1), T2024, ("1633.88", "130.71", "1764.59")),
        # 29 Feb - 31 Dec = 307 days: 3250 x 307 / 366 = 2726.092...; tax 218.0872
        (date(2024, 2, 29), T2024, ("2726.09", "218.09", "2944.18")),
        # 1 day: 3250 / 366 = 8.879...; tax 0.7104
        (date(2024, 12, 31), T2024, ("8.88", "0.71", "9.59")),
    ],
)
def test_pro_rating(effective, table, expected):
    q = quote(effective, table)
    assert [ln.code for ln in q.lines] == ["base_premium"]
    assert money(q) == expected


def test_each_line_is_rounded_before_summing():
    q = quote(date(2025, 12, 30), years_in_practice=0)
    # 2 days: base 3250 x 2 / 365 = 17.808 -> 17.81; discount 1625 x 2 / 365 = 8.904 -> -8.90;
    # premium 17.81 - 8.90 = 8.91 (rounding the net 8.904 would give 8.90); tax 0.7128
    assert (lines(q)["base_premium"], lines(q)["new_lawyer_and_practice_discount"]) == (
        D("17.81"),
        D("-8.90"),
    )
    assert money(q) == ("8.91", "0.71", "9.62")


@pytest.mark.parametrize(
    ("deductible", "adjustment", "expected"),
    [
        # leap year, 2 Jul - 31 Dec = 183 days = half of 366: base 1625.00 exactly;
        # 7.5 % of 1625 = 121.875, an exact half cent: half-up away from zero
        ("10000_combined", "-121.88", ("1503.12", "120.25", "1623.37")),  # tax 120.2496
        ("10000_indemnity", "121.88", ("1746.88", "139.75", "1886.63")),  # tax 139.7504
    ],
)
def test_half_cents_round_away_from_zero(deductible, adjustment, expected):
    q = quote(date(2024, 7, 2), T2024, deductible=Deductible(deductible))
    assert lines(q)["base_premium"] == D("1625.00")
    assert lines(q)["deductible_adjustment"] == D(adjustment)
    assert money(q) == expected


@pytest.mark.parametrize(
    ("effective", "table", "fee"),
    [
        (date(2025, 1, 1), T2025, "100.00"),
        (date(2025, 7, 1), T2025, "50.41"),  # 100 x 184 / 365 = 50.410
        (date(2025, 12, 1), T2025, "8.49"),  # 31 days: 100 x 31 / 365 = 8.493
        (date(2025, 12, 2), T2025, "8.22"),  # 30 days: 100 x 30 / 365 = 8.219
        (date(2025, 12, 15), T2025, "8.22"),  # 17 days, charged 30
        (date(2025, 12, 31), T2025, "8.22"),  # 1 day, charged 30
        (date(2024, 12, 31), T2024, "8.20"),  # 1 day, charged 30: 100 x 30 / 366 = 8.197
    ],
)
def test_real_estate_option_with_30_day_minimum(effective, table, fee):
    assert lines(quote(effective, table, real_estate=True))["real_estate_option"] == D(fee)
    assert "real_estate_option" not in lines(quote(effective, table))


def test_real_estate_on_the_last_day():
    q = quote(date(2025, 12, 31), real_estate=True)
    assert money(q) == ("17.12", "1.37", "18.49")  # 8.90 + 8.22; tax 1.3696


@pytest.mark.parametrize(
    ("sublimit", "effective", "fee"),
    [
        ("250000", date(2025, 1, 1), None),  # included at no charge: no line
        ("500000", date(2025, 1, 1), "75.00"),
        ("1000000", date(2025, 1, 1), "125.00"),
        ("500000", date(2025, 7, 1), "37.81"),  # 75 x 184 / 365 = 37.808
        ("1000000", date(2025, 7, 1), "63.01"),  # 125 x 184 / 365 = 63.013
    ],
)
def test_innocent_party_buy_up_is_pro_rated(sublimit, effective, fee):
    q = quote(effective, innocent_party_sublimit=InnocentPartySublimit(sublimit))
    assert lines(q).get("innocent_party_buy_up") == (D(fee) if fee else None)


@pytest.mark.parametrize(
    ("programs", "credit", "premium"),
    [
        (0, None, "3250.00"),
        (1, "-50.00", "3200.00"),
        (2, "-100.00", "3150.00"),
        (3, "-100.00", "3150.00"),
    ],
)
def test_risk_management_credit_is_capped_and_not_pro_rated(programs, credit, premium):
    q = quote(risk_management_programs=programs)
    assert lines(q).get("risk_management_credit") == (D(credit) if credit else None)
    assert q.premium == D(premium)
    late = quote(date(2025, 7, 1), risk_management_programs=programs)
    assert lines(late).get("risk_management_credit") == (D(credit) if credit else None)


@pytest.mark.parametrize("plan", ["lump_sum", "quarterly", "monthly"])
def test_premium_never_below_zero_and_lines_still_listed(plan):
    q = quote(date(2025, 12, 31), risk_management_programs=2, payment_plan=PaymentPlan(plan))
    assert [(ln.code, str(ln.amount)) for ln in q.lines] == [
        ("base_premium", "8.90"),
        ("risk_management_credit", "-100.00"),
    ]
    assert money(q) == ("0.00", "0.00", "0.00")  # 8.90 - 100.00 < 0: floored
    assert schedule(q) == [("2025-12-31", "0.00")]  # no date left: one, on the effective date


def test_certificate_of_indian_status_means_no_tax():
    q = quote(
        years_in_practice=0, indian_status_certificate=True, payment_plan=PaymentPlan.quarterly
    )
    assert money(q) == ("1625.00", "0.00", "1625.00")
    assert schedule(q) == [(f"2025-{m:02}-15", "406.25") for m in (1, 4, 7, 10)]  # 1625 / 4


@pytest.mark.parametrize(
    ("effective", "plan", "extra", "expected"),
    [
        (date(2025, 1, 1), "lump_sum", {}, [("2025-01-01", "3510.00")]),
        (date(2025, 7, 1), "lump_sum", {}, [("2025-07-01", "1769.43")]),
        (date(2025, 1, 1), "quarterly", {}, [(f"2025-{m:02}-15", "877.50") for m in (1, 4, 7, 10)]),
        (date(2025, 1, 1), "monthly", {}, [(f"2025-{m:02}-15", "292.50") for m in range(1, 13)]),
        # 1769.43 / 2 = 884.715 -> 884.71; the remaining cent on the first
        (date(2025, 7, 1), "quarterly", {}, [("2025-07-15", "884.72"), ("2025-10-15", "884.71")]),
        # 1769.43 / 6 = 294.905 -> 294.90; first 1769.43 - 5 x 294.90 = 294.93
        (
            date(2025, 7, 1),
            "monthly",
            {},
            [("2025-07-15", "294.93")] + [(f"2025-{m:02}-15", "294.90") for m in range(8, 13)],
        ),
        # 3246.75 / 4 = 811.6875 -> 811.68; first 3246.75 - 3 x 811.68 = 811.71
        (
            date(2025, 1, 1),
            "quarterly",
            {"deductible": Deductible.combined_10000},
            [("2025-01-15", "811.71")] + [(f"2025-{m:02}-15", "811.68") for m in (4, 7, 10)],
        ),
        # 3071.25 / 12 = 255.9375 -> 255.93; first 3071.25 - 11 x 255.93 = 256.02
        (
            date(2025, 1, 1),
            "monthly",
            {"deductible": Deductible.combined_25000},
            [("2025-01-15", "256.02")] + [(f"2025-{m:02}-15", "255.93") for m in range(2, 13)],
        ),
        # due on the effective date still counts: 170 days, 3250 x 170 / 365 = 1513.70
        # (1513.699) + tax 121.10 (121.096) = 1634.80, over 2
        (date(2025, 7, 15), "quarterly", {}, [("2025-07-15", "817.40"), ("2025-10-15", "817.40")]),
        # 78 days: 694.52 + tax 55.56 (55.5616), due on the effective date
        (date(2025, 10, 15), "quarterly", {}, [("2025-10-15", "750.08")]),
        # after the last quarterly date: 77 days, 3250 x 77 / 365 = 685.62 + tax 54.85 (54.8496)
        (date(2025, 10, 16), "quarterly", {}, [("2025-10-16", "740.47")]),
        # 17 days: 151.37 + tax 12.11 (12.1096), on the last monthly date
        (date(2025, 12, 15), "monthly", {}, [("2025-12-15", "163.48")]),
        # after the last monthly date: 16 days, 142.47 + tax 11.40 (11.3976)
        (date(2025, 12, 16), "monthly", {}, [("2025-12-16", "153.87")]),
    ],
)
def test_instalment_plans(effective, plan, extra, expected):
    assert schedule(quote(effective, payment_plan=PaymentPlan(plan), **extra)) == expected


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"effective_date": date(2026, 1, 1)}, "effective_date", "outside_program_year"),
        ({"effective_date": date(2024, 12, 31)}, "effective_date", "outside_program_year"),
        ({"years_in_practice": -1}, "years_in_practice", "negative"),
        ({"risk_management_programs": -2}, "risk_management_programs", "negative"),
        ({"program_year": 2026, "effective_date": date(2026, 1, 1)}, "program_year", None),
        ({"deductible": "7500_combined"}, "deductible", "unknown_option"),
    ],
)
def test_inputs_that_cannot_be_priced(changes, field, code):
    inp = replace(QuoteInput(2025, date(2025, 1, 1)), **changes)
    violations = validate_quote_input(inp, T2025)
    assert field in [v.field for v in violations]
    assert code is None or code in [v.code for v in violations if v.field == field]
    with pytest.raises(QuoteInputError) as refused:
        compute_quote(inp, T2025)
    assert isinstance(refused.value, ValueError) and refused.value.violations == violations


def test_a_program_year_needs_a_rate_table():
    assert check_program_year(2025) == []
    [violation] = check_program_year(1999)
    assert (violation.field, violation.code) == ("program_year", "no_rate_table")
    assert check_program_year(2026, available={2026}) == []


def test_the_2025_table_loads_with_its_published_values():
    t = load_rate_table(2025)
    assert 2025 in available_years() and load_rate_table(2025) is t
    assert (t.program_year, t.version, t.base_premium) == (2025, "2025.1", D("3250.00"))
    assert t.digest == hashlib.sha256(RATES_2025.read_bytes()).hexdigest()
    assert [t.new_lawyer_percent(y) for y in range(6)] == [50, 40, 30, 20, 0, 0]
    assert dict(t.deductible_percent) == {
        "nil": D("15"),
        "2500_combined": D("7.5"),
        "2500_indemnity": D("12.5"),
        "5000_combined": D("0"),
        "5000_indemnity": D("10"),
        "10000_combined": D("-7.5"),
        "10000_indemnity": D("7.5"),
        "25000_combined": D("-12.5"),
    }
    assert dict(t.innocent_party_fee) == {"250000": 0, "500000": D("75"), "1000000": D("125")}
    assert (t.quarterly_months, t.monthly_months) == ((1, 4, 7, 10), tuple(range(1, 13)))
    with pytest.raises(TypeError):
        t.deductible_percent["nil"] = D(0)  # type: ignore[index]  # the cached table is read-only


def test_a_table_missing_a_deductible_code_is_refused(tmp_path, monkeypatch):
    data = json.loads(RATES_2025.read_bytes())
    data.update(program_year=2031, version="2031.1")
    del data["deductible_percent"]["10000_indemnity"]
    (tmp_path / "2031.json").write_text(json.dumps(data))
    monkeypatch.setattr(rate_tables, "_rates_dir", lambda: tmp_path)
    with pytest.raises(
        RateTableError, match=r"rates/2031\.json: deductible_percent: .*10000_indemnity"
    ):
        load_rate_table(2031)
    with pytest.raises(RateTableError, match="no rate table"):
        load_rate_table(2032)


def _broken(change):
    data = json.loads(RATES_2025.read_bytes())
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(base_premium="-1.00"), "base_premium"),
        (lambda d: d.update(base_premium=3250.0), "base_premium"),  # a float, not a string
        (lambda d: d.update(base_premium="3250.005"), "base_premium"),  # not whole cents
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(tax_percent="108"), "tax_percent"),
        (lambda d: d.update(discount_cap_percent="-5"), "discount_cap_percent"),
        (lambda d: d["deductible_percent"].update(nil="NaN"), "deductible_percent.nil"),
        (lambda d: d["deductible_percent"].update(x="1"), "deductible_percent"),
        (lambda d: d["deductible_percent"].update({"5000_combined": "1"}), "5000_combined"),
        (lambda d: d.update(standard_deductible="7500_combined"), "standard_deductible"),
        (lambda d: d["innocent_party_fee"].pop("1000000"), "innocent_party_fee"),
        (lambda d: d["new_lawyer_discount_percent"].pop("1"), "new_lawyer_discount_percent"),
        (lambda d: d["new_lawyer_discount_percent"].update({"1": "60"}), "new_lawyer_discount"),
        (lambda d: d.update(quarterly_months=[1, 4, 7, 13]), "quarterly_months"),
        (lambda d: d.update(monthly_months=[]), "monthly_months"),
        (lambda d: d.update(instalment_day=31), "instalment_day"),
        (lambda d: d.update(real_estate_minimum_days=True), "real_estate_minimum_days"),
        (lambda d: d.update(risk_management_credit_max="10.00"), "risk_management_credit_max"),
        (lambda d: d.update(tax_pct="8"), "tax_pct"),  # unknown (misspelt) field
        (lambda d: d.update(program_year=2026, version="2026.1"), "program_year"),
    ],
)
def test_broken_tables_are_refused_naming_the_field(change, field):
    with pytest.raises(RateTableError, match=f"2025.json: .*{field}"):
        rate_tables.parse_rate_table(_broken(change), "2025.json", expected_year=2025)


def test_duplicate_keys_are_refused():
    raw = RATES_2025.read_bytes().replace(b'"tax_percent"', b'"tax_percent": "9", "tax_percent"')
    with pytest.raises(RateTableError, match=r"duplicate keys.*tax_percent"):
        rate_tables.parse_rate_table(raw, "2025.json")


@st.composite
def quote_inputs(draw, tables=(T2025, T2024)):
    table = draw(st.sampled_from(tables))
    y = table.program_year
    inp = QuoteInput(
        program_year=y,
        effective_date=draw(st.dates(date(y, 1, 1), date(y, 12, 31))),
        years_in_practice=draw(st.integers(0, 45)),
        deductible=draw(st.sampled_from(Deductible)),
        restricted_practice=draw(st.booleans()),
        part_time=draw(st.booleans()),
        real_estate=draw(st.booleans()),
        innocent_party_sublimit=draw(st.sampled_from(InnocentPartySublimit)),
        risk_management_programs=draw(st.integers(0, 5)),
        indian_status_certificate=draw(st.booleans()),
        payment_plan=draw(st.sampled_from(PaymentPlan)),
    )
    return inp, table


@settings(max_examples=400, deadline=None)
@given(quote_inputs())
def test_lines_sum_to_the_premium_unless_negative(case):
    inp, table = case
    q = compute_quote(inp, table)
    line_sum = sum(ln.amount for ln in q.lines)
    assert q.premium == (line_sum if line_sum >= 0 else D("0.00"))
    assert q.total == q.premium + q.tax
    assert all(ln.amount == ln.amount.quantize(D("0.01")) and ln.amount for ln in q.lines[1:])
    codes = [ln.code for ln in q.lines]
    assert codes[0] == "base_premium" and codes == sorted(codes, key=LINE_ORDER.index)
    assert ("real_estate_option" in codes) == inp.real_estate
    assert ("risk_management_credit" in codes) == (inp.risk_management_programs > 0)


@settings(max_examples=400, deadline=None)
@given(quote_inputs())
def test_instalments_sum_to_the_total(case):
    inp, table = case
    q = compute_quote(inp, table)
    amounts = [i.amount for i in q.instalments]
    assert sum(amounts) == q.total
    assert all(a >= 0 for a in amounts)
    assert all(amounts[0] >= a for a in amounts) and len(set(amounts[1:])) <= 1
    assert amounts[0] - amounts[-1] < D("0.01") * len(amounts)  # at most n - 1 cents more
    assert all(i.due_date >= inp.effective_date for i in q.instalments)
    assert q.instalments[-1].due_date.year == inp.program_year


@settings(max_examples=400, deadline=None)
@given(quote_inputs())
def test_discount_never_exceeds_the_cap(case):
    inp, table = case
    q = compute_quote(inp, table)
    base = lines(q)["base_premium"]
    discount = -lines(q).get("new_lawyer_and_practice_discount", D(0))
    # both lines are rounded on their own, so the discount may exceed half the rounded base by
    # at most half a cent
    assert D(0) <= discount <= base * table.discount_cap_percent / 100 + D("0.005")


@settings(max_examples=300, deadline=None)
@given(quote_inputs(), st.integers(1, 365))
def test_premium_falls_as_the_effective_date_moves_later(case, shift):
    """With the 2025 rates, the pro-rated lines net to at least 37.5 % of 3250 a year (base less
    the 50 % cap less the 12.5 % largest deductible credit), 3.33 a day or more, which outweighs
    the at most 5 x 0.005 rounding of each of two quotes; the real-estate minimum only holds that
    line still and the risk credit does not move. So a later date gives a strictly lower premium,
    unless the premium is already 0. (Not a law of the formula: see the next test.)"""
    inp, table = case
    later = min(inp.effective_date + timedelta(days=shift), date(inp.program_year, 12, 31))
    q, q_later = compute_quote(inp, table), compute_quote(replace(inp, effective_date=later), table)
    if later == inp.effective_date:
        assert q_later == q
    else:
        assert q_later.premium < q.premium or q_later.premium == q.premium == 0
        assert q_later.total <= q.total


def test_premium_can_rise_a_cent_when_the_pro_rated_lines_net_to_zero():
    # a hypothetical table whose 25,000 deductible takes 50 %: base - 50 % - 50 % nets to 0 and
    # only the rounding of each line is left
    table = replace(
        T2025, deductible_percent={**T2025.deductible_percent, "25000_combined": D("-50")}
    )
    early = quote(
        date(2025, 1, 3), table, years_in_practice=0, deductible=Deductible.combined_25000
    )
    # 363 days: 3250 x 363 / 365 = 3232.19; 1625 x 363 / 365 = 1616.0958 -> -1616.10 twice;
    # 3232.19 - 3232.20 = -0.01, floored to 0.00
    assert early.premium == D("0.00")
    late = quote(date(2025, 1, 4), table, years_in_practice=0, deductible=Deductible.combined_25000)
    # 362 days: 3250 x 362 / 365 = 3223.2877 -> 3223.29; 1625 x 362 / 365 = 1611.6438 -> -1611.64
    # twice; 3223.29 - 3223.28 = 0.01
    assert late.premium == D("0.01")


@settings(max_examples=200, deadline=None)
@given(
    quote_inputs(tables=(T2025,)),
    st.one_of(st.dates(max_value=date(2024, 12, 31)), st.dates(min_value=date(2026, 1, 1))),
)
def test_an_effective_date_outside_the_year_is_refused(case, outside):
    inp, table = case
    with pytest.raises(QuoteInputError) as refused:
        compute_quote(replace(inp, effective_date=outside), table)
    assert [(v.field, v.code) for v in refused.value.violations] == [
        ("effective_date", "outside_program_year")
    ]
