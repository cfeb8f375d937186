"""Return of premium (RULES.md §3's Decision), without a database.

Every expected figure is written out literally, worked by hand in the comment beside it; none is
computed with the code under test. Unless a case says otherwise: a 2025 policy effective 1 January
(P = 365 days), premium 1,625.00 (a new call's), tax 8 % (130.00), charged 1,755.00 in all.
d(x) = (31 Dec - x) + 1; s = max(received - 30 days, exemption effective, policy effective), or
without the 30 days for a policy carrying the Real Estate option."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.exemptions.rules import Refund, premium_refund

D = Decimal
BASE = {
    "premium": D("1625.00"),
    "tax_rate": D("0.08"),
    "tax_exempt": False,
    "policy_effective": date(2025, 1, 1),
    "program_year": 2025,
    "exemption_effective": date(2025, 7, 1),
    "received": date(2025, 7, 1),
    "real_estate": False,
    "charged_total": D("1755.00"),
}

# 1 July to 31 December: 31 + 31 + 30 + 31 + 30 + 31 = 184 days.
# 1625 x 184 / 365 = 299000 / 365 = 819.1780... -> 819.18; tax 819.18 x 0.08 = 65.5344 -> 65.53
ON_1_JULY = Refund(
    start=date(2025, 7, 1),
    days=184,
    policy_days=365,
    premium=D("819.18"),
    tax=D("65.53"),
    total=D("884.71"),
    cover_ends=date(2025, 6, 30),
)

CASES = {
    # received on the effective date: received - 30 = 1 June < 1 July, so s = 1 July
    "received_on_effective_date": ({}, ON_1_JULY),
    # received 11 July: 11 July - 30 = 11 June < 1 July, so s is still 1 July
    "received_10_days_after": ({"received": date(2025, 7, 11)}, ON_1_JULY),
    # received 15 August (45 days after): 15 Aug - 30 = 16 July > 1 July, so s = 16 July;
    # d = 16 (16-31 July) + 31 + 30 + 31 + 30 + 31 = 169
    # 1625 x 169 / 365 = 274625 / 365 = 752.3972... -> 752.40; tax 60.192 -> 60.19
    "received_45_days_after": (
        {"received": date(2025, 8, 15)},
        Refund(
            start=date(2025, 7, 16),
            days=169,
            policy_days=365,
            premium=D("752.40"),
            tax=D("60.19"),
            total=D("812.59"),
            cover_ends=date(2025, 7, 15),
        ),
    ),
    # A policy effective 1 April (P = 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 = 275 days),
    # premium pro-rated when issued: 3250 x 275/365 = 2448.6301 -> 2448.63 less
    # 1625 x 275/365 = 1224.3150 -> 1224.32, premium 1224.31, tax 97.9448 -> 97.94, total 1322.25.
    # Exemption effective 1 February, before the policy began, received 10 April:
    # s = max(11 March, 1 February, 1 April) = 1 April: the whole premium and tax come back.
    "exemption_effective_before_the_policy": (
        {
            "premium": D("1224.31"),
            "policy_effective": date(2025, 4, 1),
            "exemption_effective": date(2025, 2, 1),
            "received": date(2025, 4, 10),
            "charged_total": D("1322.25"),
        },
        Refund(
            start=date(2025, 4, 1),
            days=275,
            policy_days=275,
            premium=D("1224.31"),
            tax=D("97.94"),
            total=D("1322.25"),
            cover_ends=date(2025, 4, 1),  # never before the policy's own start
        ),
    ),
    # The same 1 April policy, exemption effective 1 October, received 20 October:
    # s = max(20 September, 1 October, 1 April) = 1 October; d = 31 + 30 + 31 = 92
    # 1224.31 x 92 / 275 = 112636.52 / 275 = 409.5873... -> 409.59; tax 32.7672 -> 32.77
    "policy_effective_mid_year": (
        {
            "premium": D("1224.31"),
            "policy_effective": date(2025, 4, 1),
            "exemption_effective": date(2025, 10, 1),
            "received": date(2025, 10, 20),
            "charged_total": D("1322.25"),
        },
        Refund(
            start=date(2025, 10, 1),
            days=92,
            policy_days=275,
            premium=D("409.59"),
            tax=D("32.77"),
            total=D("442.36"),
            cover_ends=date(2025, 9, 30),
        ),
    ),
    # Received 5 February 2026: s = 6 January 2026, after the program year: d = 0, nothing back
    "received_after_31_december": (
        {"exemption_effective": date(2025, 11, 1), "received": date(2026, 2, 5)},
        Refund(
            start=date(2026, 1, 6),
            days=0,
            policy_days=365,
            premium=D("0.00"),
            tax=D("0.00"),
            total=D("0.00"),
            cover_ends=date(2025, 12, 31),  # the policy ran to its end
        ),
    ),
    # Received 15 January 2026, within 30 days of the year's end: s = 16 December 2025, d = 16
    # 1625 x 16 / 365 = 26000 / 365 = 71.2328... -> 71.23; tax 5.6984 -> 5.70
    "received_in_january_looks_back_into_december": (
        {"exemption_effective": date(2025, 11, 1), "received": date(2026, 1, 15)},
        Refund(
            start=date(2025, 12, 16),
            days=16,
            policy_days=365,
            premium=D("71.23"),
            tax=D("5.70"),
            total=D("76.93"),
            cover_ends=date(2025, 12, 15),
        ),
    ),
    # Real Estate option (premium 1625 + 100 = 1725.00, tax 138.00, charged 1863.00), received
    # 15 July: no look-back, s = max(15 July, 1 July, 1 January) = 15 July (without the option it
    # would be 1 July); d = 17 (15-31 July) + 153 = 170
    # 1725 x 170 / 365 = 293250 / 365 = 803.4246... -> 803.42; tax 64.2736 -> 64.27
    "real_estate_has_no_look_back": (
        {
            "premium": D("1725.00"),
            "real_estate": True,
            "received": date(2025, 7, 15),
            "charged_total": D("1863.00"),
        },
        Refund(
            start=date(2025, 7, 15),
            days=170,
            policy_days=365,
            premium=D("803.42"),
            tax=D("64.27"),
            total=D("867.69"),
            cover_ends=date(2025, 7, 14),
        ),
    ),
    # Tax-exempt (certificate holder, charged 1625.00): the premium of the first case, no tax
    "tax_exempt": (
        {"tax_exempt": True, "charged_total": D("1625.00")},
        Refund(
            start=date(2025, 7, 1),
            days=184,
            policy_days=365,
            premium=D("819.18"),
            tax=D("0.00"),
            total=D("819.18"),
            cover_ends=date(2025, 6, 30),
        ),
    ),
    # Leap year 2024: P = 366; 1 July to 31 December is still 184 days
    # 1625 x 184 / 366 = 299000 / 366 = 816.9398... -> 816.94; tax 65.3552 -> 65.36
    "leap_year": (
        {
            "policy_effective": date(2024, 1, 1),
            "program_year": 2024,
            "exemption_effective": date(2024, 7, 1),
            "received": date(2024, 7, 1),
        },
        Refund(
            start=date(2024, 7, 1),
            days=184,
            policy_days=366,
            premium=D("816.94"),
            tax=D("65.36"),
            total=D("882.30"),
            cover_ends=date(2024, 6, 30),
        ),
    ),
    # Leap year, exemption from 29 February, received that day: 59 days before it (31 + 28),
    # d = 366 - 59 = 307; 1625 x 307 / 366 = 498875 / 366 = 1363.0464... -> 1363.05;
    # tax 109.044 -> 109.04
    "leap_year_29_february": (
        {
            "policy_effective": date(2024, 1, 1),
            "program_year": 2024,
            "exemption_effective": date(2024, 2, 29),
            "received": date(2024, 2, 29),
        },
        Refund(
            start=date(2024, 2, 29),
            days=307,
            policy_days=366,
            premium=D("1363.05"),
            tax=D("109.04"),
            total=D("1472.09"),
            cover_ends=date(2024, 2, 28),
        ),
    ),
    # Charged only 850.00 (less than the 884.71 of the first case): the premium 819.18 first,
    # then 850.00 - 819.18 = 30.82 of the tax
    "capped_at_charged_tax_cut": (
        {"charged_total": D("850.00")},
        Refund(
            start=date(2025, 7, 1),
            days=184,
            policy_days=365,
            premium=D("819.18"),
            tax=D("30.82"),
            total=D("850.00"),
            cover_ends=date(2025, 6, 30),
        ),
    ),
    # Charged only 800.00: less than the premium refund itself, so 800.00 of premium, no tax
    "capped_at_charged_premium_cut": (
        {"charged_total": D("800.00")},
        Refund(
            start=date(2025, 7, 1),
            days=184,
            policy_days=365,
            premium=D("800.00"),
            tax=D("0.00"),
            total=D("800.00"),
            cover_ends=date(2025, 6, 30),
        ),
    ),
    # A premium below zero (credits beyond the lines) counts as 0
    "negative_premium_counts_as_zero": (
        {"premium": D("-50.00"), "charged_total": D("0.00")},
        Refund(
            start=date(2025, 7, 1),
            days=184,
            policy_days=365,
            premium=D("0.00"),
            tax=D("0.00"),
            total=D("0.00"),
            cover_ends=date(2025, 6, 30),
        ),
    ),
}


@pytest.mark.parametrize(("changes", "expected"), list(CASES.values()), ids=list(CASES))
def test_refund_table(changes, expected):
    assert premium_refund(**{**BASE, **changes}) == expected


def test_figures_are_to_the_cent():
    refund = premium_refund(**BASE)
    assert [str(refund.premium), str(refund.tax), str(refund.total)] == [
        "819.18",
        "65.53",
        "884.71",
    ]


def test_a_policy_outside_its_program_year_is_an_error():
    with pytest.raises(ValueError, match="program year"):
        premium_refund(**{**BASE, "policy_effective": date(2024, 12, 31)})


# --- properties ----------------------------------------------------------------------------------

YEAR = st.sampled_from([2024, 2025])
MONEY = st.decimals(min_value=-100, max_value=20_000, places=2, allow_nan=False)
RATE = st.sampled_from([D("0"), D("0.08"), D("0.13")])


@st.composite
def refund_inputs(draw):
    year = draw(YEAR)
    start, end = date(year, 1, 1), date(year, 12, 31)
    policy_effective = draw(st.dates(min_value=start, max_value=end))
    around = st.dates(min_value=start - timedelta(days=400), max_value=end + timedelta(days=400))
    return {
        "premium": draw(MONEY),
        "tax_rate": draw(RATE),
        "tax_exempt": draw(st.booleans()),
        "policy_effective": policy_effective,
        "program_year": year,
        "exemption_effective": draw(around),
        "received": draw(around),
        "real_estate": draw(st.booleans()),
        "charged_total": draw(MONEY),
    }


@settings(max_examples=400, deadline=None)
@given(refund_inputs())
def test_a_refund_is_never_negative_nor_more_than_charged(inputs):
    refund = premium_refund(**inputs)
    assert refund.premium >= 0 and refund.tax >= 0
    assert refund.total == refund.premium + refund.tax
    assert refund.total <= max(D(0), inputs["charged_total"])
    assert refund.days <= refund.policy_days
    assert inputs["policy_effective"] <= refund.cover_ends <= date(inputs["program_year"], 12, 31)


@settings(max_examples=400, deadline=None)
@given(refund_inputs(), st.integers(min_value=0, max_value=400))
def test_a_later_form_never_refunds_more(inputs, delay):
    sooner = premium_refund(**inputs)
    later = premium_refund(**{**inputs, "received": inputs["received"] + timedelta(days=delay)})
    assert later.premium <= sooner.premium
    assert later.total <= sooner.total


@settings(max_examples=200, deadline=None)
@given(refund_inputs())
def test_the_real_estate_option_never_refunds_more(inputs):
    with_option = premium_refund(**{**inputs, "real_estate": True})
    without = premium_refund(**{**inputs, "real_estate": False})
    assert with_option.total <= without.total
