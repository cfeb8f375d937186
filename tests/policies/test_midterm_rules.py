"""Mid-term change adjustments to the cent (figures worked by hand in the comments)."""

from datetime import date
from decimal import Decimal

import pytest

from app.policies.rules import (
    ChangeNotAllowed,
    add_real_estate,
    change_effective_date,
    lose_part_time,
    remove_real_estate,
)
from app.quotes.rate_tables import load_rate_table
from app.quotes.rules import QuoteInput, compute_quote

T = load_rate_table(2025)
D = Decimal


def figures(adj):
    return (str(adj.premium), str(adj.tax), str(adj.total))


def test_never_backdated():
    assert change_effective_date(date(2025, 3, 10), date(2025, 3, 1)) == date(2025, 3, 10)
    assert change_effective_date(date(2025, 3, 10), date(2025, 4, 1)) == date(2025, 4, 1)
    assert change_effective_date(date(2025, 3, 10), None) == date(2025, 3, 10)


@pytest.mark.parametrize(
    ("effective", "prorated_before", "expected"),
    [
        # 184 days: 100 * 184 / 365 = 50.41; tax 4.0328
        (date(2025, 7, 1), False, ("50.41", "4.03", "54.44")),
        # 17 days, but 30 at least: 100 * 30 / 365 = 8.22; tax 0.6576
        (date(2025, 12, 15), False, ("8.22", "0.66", "8.88")),
        # the year's pro-rated change already used: the full fee
        (date(2025, 7, 1), True, ("100.00", "8.00", "108.00")),
    ],
)
def test_adding_real_estate(effective, prorated_before, expected):
    adj = add_real_estate(T, effective=effective, prorated_before=prorated_before, tax_exempt=False)
    assert figures(adj) == expected
    assert adj.pro_rated is not prorated_before


def test_adding_real_estate_without_tax_for_a_certificate_holder():
    adj = add_real_estate(T, effective=date(2025, 7, 1), prorated_before=False, tax_exempt=True)
    assert figures(adj) == ("50.41", "0.00", "50.41")


@pytest.mark.parametrize(
    ("effective", "prorated_before", "expected"),
    [
        # kept: 181 days (1 Jan - 30 Jun) = 49.59 of 100.00 paid; tax -4.0328
        (date(2025, 7, 1), False, ("-50.41", "-4.03", "-54.44")),
        # kept: 9 days, 30 at least = 8.22; returned 91.78; tax -7.3424
        (date(2025, 1, 10), False, ("-91.78", "-7.34", "-99.12")),
        # the year's pro-rated change already used: nothing returned
        (date(2025, 7, 1), True, ("0.00", "0.00", "0.00")),
    ],
)
def test_removing_real_estate(effective, prorated_before, expected):
    adj = remove_real_estate(
        T,
        effective=effective,
        started_on=date(2025, 1, 1),
        fee_paid=D("100.00"),
        prorated_before=prorated_before,
        tax_exempt=False,
    )
    assert figures(adj) == expected


def test_changes_stay_within_the_policy_year():
    with pytest.raises(ChangeNotAllowed):
        add_real_estate(T, effective=date(2026, 1, 2), prorated_before=False, tax_exempt=False)


@pytest.mark.parametrize(
    ("years", "effective", "expected"),
    [
        # 10 years: 50 % part-time discount lost: +1625.00, tax +130.00
        (10, date(2025, 1, 1), ("1625.00", "130.00", "1755.00")),
        # 1 year: capped 50 % becomes 40 %: 1625 -> 1950; tax 130 -> 156
        (1, date(2025, 1, 1), ("325.00", "26.00", "351.00")),
        # inception 1 July: 819.18 -> 1638.36; tax 65.53 -> 131.07
        (10, date(2025, 7, 1), ("819.18", "65.54", "884.72")),
    ],
)
def test_losing_part_time_rerates_from_inception(years, effective, expected):
    inputs = QuoteInput(2025, effective, years_in_practice=years, part_time=True)
    adj, rerated = lose_part_time(T, inputs, compute_quote(inputs, T))
    assert figures(adj) == expected
    assert adj.effective_date == effective
    assert "new_lawyer_and_practice_discount" not in [ln.code for ln in rerated.lines] or years < 4


def test_losing_part_time_needs_the_option():
    inputs = QuoteInput(2025, date(2025, 1, 1))
    with pytest.raises(ChangeNotAllowed):
        lose_part_time(T, inputs, compute_quote(inputs, T))
