"""The payment rules of RULES.md §5 (and the settlement part of §3), without a database.

Expected figures are written out literally. The running example is the worked quote of RULES.md
§1: a total of 1,755.00 paid quarterly, 4 x 438.75 on 15 January, April, July and October 2025."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.payments.rules import (
    Attempt,
    Collection,
    EntryKind,
    Instalment,
    LedgerEntry,
    Method,
    Plan,
    Receipt,
    Settlement,
    balance,
    check_bank_account,
    check_currency,
    check_entry,
    check_payment,
    check_plan_and_method,
    collection_plan,
    first_instalment_affected,
    owed,
    received,
    refunds_by_receipt,
    settle_refund,
    signed_amount,
)
from app.quotes.rules import PaymentPlan, Violation

D = Decimal
JAN, APR, JUL, OCT = (date(2025, m, 15) for m in (1, 4, 7, 10))
QUARTERLY = [Instalment(d, D("438.75")) for d in (JAN, APR, JUL, OCT)]


def codes(violations):
    return [(v.field, v.code) for v in violations]


# Plans and methods


def test_plan_is_the_quote_payment_plan():
    assert Plan is PaymentPlan
    assert [p.value for p in Plan] == ["lump_sum", "quarterly", "monthly"]
    assert [m.value for m in Method] == ["pad", "card", "cheque"]


@pytest.mark.parametrize(
    ("plan", "method", "expected"),
    [
        ("lump_sum", "cheque", []),
        ("lump_sum", "pad", []),
        ("lump_sum", "card", []),
        ("quarterly", "pad", []),
        ("quarterly", "card", []),
        ("monthly", "pad", []),
        ("monthly", "card", []),
        ("quarterly", "cheque", [("method", "cheque_lump_sum_only")]),
        ("monthly", "cheque", [("method", "cheque_lump_sum_only")]),
        ("weekly", "pad", [("plan", "unknown_option")]),
        ("monthly", "cash", [("method", "unknown_option")]),
        ("weekly", "cash", [("plan", "unknown_option"), ("method", "unknown_option")]),
        (Plan.quarterly, Method.cheque, [("method", "cheque_lump_sum_only")]),
    ],
)
def test_check_plan_and_method(plan, method, expected):
    assert codes(check_plan_and_method(plan, method)) == expected


def test_cheque_violation_is_a_shared_violation():
    [v] = check_plan_and_method("monthly", "cheque")
    assert isinstance(v, Violation)
    assert "lump sum" in v.message


# Bank account and currency


@pytest.mark.parametrize(
    ("institution", "transit", "account", "expected"),
    [
        ("001", "12345", "1234567", []),
        ("003", "00011", "123456789012", []),
        ("010", "99999", "123456789", []),
        ("01", "12345", "1234567", [("institution_number", "wrong_length")]),
        ("0001", "12345", "1234567", [("institution_number", "wrong_length")]),
        ("0A1", "12345", "1234567", [("institution_number", "not_digits")]),
        ("001", "1234", "1234567", [("transit_number", "wrong_length")]),
        ("001", "123456", "1234567", [("transit_number", "wrong_length")]),
        ("001", "12-45", "1234567", [("transit_number", "not_digits")]),
        ("001", "12345", "123456", [("account_number", "wrong_length")]),
        ("001", "12345", "1234567890123", [("account_number", "wrong_length")]),
        ("001", "12345", "12345X7", [("account_number", "not_digits")]),
        ("001", "12345", "1234 567", [("account_number", "not_digits")]),
        ("001", "12345", "１２３４５６７", [("account_number", "not_digits")]),  # noqa: RUF001
        ("", "12345", "1234567", [("institution_number", "required")]),
        (
            "1",
            "ABCDE",
            "",
            [
                ("institution_number", "wrong_length"),
                ("transit_number", "not_digits"),
                ("account_number", "required"),
            ],
        ),
    ],
)
def test_check_bank_account(institution, transit, account, expected):
    assert codes(check_bank_account(institution, transit, account)) == expected


def test_bank_account_messages_say_the_size():
    [inst, transit, account] = check_bank_account("12", "123", "12")
    assert "exactly 3 digits" in inst.message
    assert "exactly 5 digits" in transit.message
    assert "7 to 12 digits" in account.message


@pytest.mark.parametrize(
    ("code", "expected"),
    [("CAD", []), ("USD", [("currency", "cad_only")]), ("cad", [("currency", "cad_only")]),
     ("", [("currency", "cad_only")])],
)  # fmt: skip
def test_check_currency(code, expected):
    assert codes(check_currency(code)) == expected


# The 10-day rule


@pytest.mark.parametrize(
    ("days_before", "on_form", "expected"),
    [
        (9, False, APR),  # too late for 15 January: the next date
        (10, False, JAN),  # exactly 10 days counts
        (11, False, JAN),
        (29, True, APR),
        (30, True, JAN),  # exactly 30 days counts
        (31, True, JAN),
        (29, False, JAN),
        (0, False, APR),
        (-5, False, APR),  # received after 15 January
    ],
)
def test_ten_day_rule(days_before, on_form, expected):
    received_on = JAN - timedelta(days=days_before)
    affected = first_instalment_affected(
        received_on, [JAN, APR, JUL, OCT], signed_on_application_form=on_form
    )
    assert affected == expected


@pytest.mark.parametrize(
    ("received_on", "on_form", "expected"),
    [
        (date(2025, 10, 5), False, OCT),  # 10 days before the last date
        (date(2025, 10, 6), False, None),  # 9 days: no date left
        (date(2025, 9, 15), True, OCT),  # 30 days
        (date(2025, 9, 16), True, None),
        (date(2024, 12, 1), False, JAN),
    ],
)
def test_ten_day_rule_at_the_end_of_the_schedule(received_on, on_form, expected):
    dates = [OCT, JUL, APR, JAN]  # in any order
    assert (
        first_instalment_affected(received_on, dates, signed_on_application_form=on_form)
        == expected
    )


def test_ten_day_rule_without_dates():
    assert first_instalment_affected(JAN, [], signed_on_application_form=False) is None


@given(
    st.dates(date(2024, 6, 1), date(2026, 6, 1)),
    st.lists(st.dates(date(2025, 1, 1), date(2025, 12, 31)), max_size=12),
    st.booleans(),
)
def test_ten_day_rule_properties(received_on, dates, on_form):
    notice = 30 if on_form else 10
    affected = first_instalment_affected(received_on, dates, signed_on_application_form=on_form)
    reachable = [d for d in dates if (d - received_on).days >= notice]
    if affected is None:
        assert reachable == []
    else:
        assert affected in dates
        assert (affected - received_on).days >= notice
        assert affected == min(reachable)
    # the 30-day case never reaches an earlier date than the 10-day case
    ten = first_instalment_affected(received_on, dates, signed_on_application_form=False)
    if affected is not None:
        assert ten is not None and ten <= affected


# Collection and the three-strike rule


def ok(on, amount):
    return Attempt(on, D(amount), succeeded=True)


def failed(on, amount):
    return Attempt(on, D(amount), succeeded=False)


def collect(as_of, *attempts, schedule=QUARTERLY):
    c = collection_plan(schedule, list(attempts), as_of=as_of)
    return (
        str(c.amount_to_collect_now),
        c.stopped,
        c.whole_balance_due,
        c.consecutive_failures,
        str(c.outstanding),
    )


COLLECTION_CASES = {
    # name: (as_of, attempts, (now, stopped, whole balance, failures, outstanding))
    "before the first due date: nothing": (
        date(2025, 1, 1),
        [],
        ("0.00", False, False, 0, "1755.00"),
    ),
    "first due date, not yet tried": (JAN, [], ("438.75", False, False, 0, "1755.00")),
    "all paid": (
        date(2025, 12, 31),
        [ok(JAN, "438.75"), ok(APR, "438.75"), ok(JUL, "438.75"), ok(OCT, "438.75")],
        ("0.00", False, False, 0, "0.00"),
    ),
    "paid so far": (
        date(2025, 5, 1),
        [ok(JAN, "438.75"), ok(APR, "438.75")],
        ("0.00", False, False, 0, "877.50"),
    ),
    "one failure, overdue until the next date": (
        date(2025, 2, 1),
        [failed(JAN, "438.75")],
        ("438.75", False, False, 1, "1755.00"),
    ),
    "one failure, the next date asks for both": (
        APR,
        [failed(JAN, "438.75")],
        ("877.50", False, False, 1, "1755.00"),
    ),
    "one failure then success for both": (
        APR,
        [failed(JAN, "438.75"), ok(APR, "877.50")],
        ("0.00", False, False, 0, "877.50"),
    ),
    "a failure retried before the next date": (
        date(2025, 1, 31),
        [failed(JAN, "438.75"), ok(date(2025, 1, 20), "438.75")],
        ("0.00", False, False, 0, "1316.25"),
    ),
    "two failures": (
        APR,
        [failed(JAN, "438.75"), failed(APR, "877.50")],
        ("877.50", False, False, 2, "1755.00"),
    ),
    "two failures, the third date asks for three before it counts": (
        JUL,
        [failed(JAN, "438.75"), failed(APR, "877.50")],
        ("1316.25", False, False, 2, "1755.00"),
    ),
    "three failures: stopped, whole balance due": (
        JUL,
        [failed(JAN, "438.75"), failed(APR, "877.50"), failed(JUL, "1316.25")],
        ("1755.00", True, True, 3, "1755.00"),
    ),
    "stopped stays stopped with the future instalment in the balance": (
        date(2025, 11, 1),
        [failed(JAN, "438.75"), failed(APR, "877.50"), failed(JUL, "1316.25")],
        ("1755.00", True, True, 3, "1755.00"),
    ),
    "money after the stop lowers the balance, not the stop": (
        date(2025, 8, 31),
        [
            failed(JAN, "438.75"),
            failed(APR, "877.50"),
            failed(JUL, "1316.25"),
            ok(date(2025, 8, 1), "500.00"),
        ],
        ("1255.00", True, True, 0, "1255.00"),
    ),
    "a success after two failures resets the count": (
        JUL,
        [failed(JAN, "438.75"), failed(APR, "877.50"), ok(JUL, "1316.25")],
        ("0.00", False, False, 0, "438.75"),
    ),
    "after the reset a failure counts from one": (
        OCT,
        [failed(JAN, "438.75"), failed(APR, "877.50"), ok(JUL, "1316.25"), failed(OCT, "438.75")],
        ("438.75", False, False, 1, "438.75"),
    ),
    "failures that are not consecutive do not stop": (
        OCT,
        [failed(JAN, "438.75"), ok(APR, "877.50"), failed(JUL, "438.75"), failed(OCT, "877.50")],
        ("877.50", False, False, 2, "877.50"),
    ),
    "a date without an attempt neither counts nor breaks the run": (
        date(2025, 7, 16),
        [failed(JAN, "438.75"), failed(JUL, "1316.25")],
        ("1316.25", False, False, 2, "1755.00"),
    ),
    "retries within one date's window count once": (
        date(2025, 4, 1),
        [
            failed(JAN, "438.75"),
            failed(date(2025, 1, 20), "438.75"),
            failed(date(2025, 2, 3), "438.75"),
        ],
        ("438.75", False, False, 1, "1755.00"),
    ),
    "attempts after as_of are not known yet": (
        APR,
        [failed(JAN, "438.75"), ok(date(2025, 4, 16), "877.50")],
        ("877.50", False, False, 1, "1755.00"),
    ),
    "a failure then a success the same day": (
        JAN,
        [failed(JAN, "438.75"), ok(JAN, "438.75")],
        ("0.00", False, False, 0, "1316.25"),
    ),
    "a policy issued late: past dates fall due at once": (
        date(2025, 5, 2),
        [],
        ("877.50", False, False, 0, "1755.00"),
    ),
}


@pytest.mark.parametrize(
    ("as_of", "attempts", "expected"), COLLECTION_CASES.values(), ids=COLLECTION_CASES.keys()
)
def test_collection_plan(as_of, attempts, expected):
    assert collect(as_of, *attempts) == expected


def test_collection_on_a_monthly_plan():
    monthly = [Instalment(date(2025, m, 15), D("146.25")) for m in range(1, 13)]  # 1,755.00
    attempts = [
        ok(date(2025, 1, 15), "146.25"),
        failed(date(2025, 2, 15), "146.25"),
        failed(date(2025, 3, 15), "292.50"),
        failed(date(2025, 4, 15), "438.75"),
    ]
    assert collect(date(2025, 4, 15), *attempts, schedule=monthly) == (
        "1608.75", True, True, 3, "1608.75"
    )  # fmt: skip
    assert collect(date(2025, 3, 15), *attempts[:3], schedule=monthly) == (
        "292.50", False, False, 2, "1608.75"
    )  # fmt: skip


def test_a_lump_sum_that_fails_stays_due():
    lump = [Instalment(JAN, D("1755.00"))]
    attempts = [failed(JAN, "1755.00"), failed(date(2025, 2, 1), "1755.00")]
    assert collect(date(2025, 3, 1), *attempts, schedule=lump) == (
        "1755.00", False, False, 1, "1755.00"
    )  # fmt: skip


def test_collection_returns_a_collection():
    c = collection_plan(QUARTERLY, [], as_of=JAN)
    assert c == Collection(D("438.75"), False, False, 0, D("1755.00"))


cents = st.integers(min_value=1, max_value=500_000).map(lambda c: D(c).scaleb(-2))
year_dates = st.dates(date(2025, 1, 1), date(2025, 12, 31))


@st.composite
def schedules(draw):
    dates = sorted(draw(st.lists(year_dates, min_size=1, max_size=12, unique=True)))
    return [Instalment(d, draw(cents)) for d in dates]


attempts_st = st.lists(st.builds(Attempt, year_dates, cents, st.booleans()), max_size=20).map(
    lambda xs: sorted(xs, key=lambda a: a.on)
)


@given(schedules(), attempts_st, year_dates)
def test_collection_properties(schedule, attempts, as_of):
    c = collection_plan(schedule, attempts, as_of=as_of)
    total = sum(i.amount for i in schedule)
    paid = sum(a.amount for a in attempts if a.succeeded and a.on <= as_of)
    due = sum(i.amount for i in schedule if i.due_on <= as_of)
    future = total - due
    passed = len({i.due_on for i in schedule if i.due_on <= as_of})

    assert 0 <= c.consecutive_failures <= passed  # never more strikes than dates passed
    assert c.outstanding == max(D("0.00"), total - paid)
    assert D("0.00") <= c.amount_to_collect_now <= c.outstanding
    assert c.stopped == c.whole_balance_due
    if c.consecutive_failures >= 3:
        assert c.stopped
    if c.stopped:
        assert c.amount_to_collect_now == c.outstanding
        assert passed >= 3
    else:
        assert c.amount_to_collect_now == max(D("0.00"), due - paid)
        if paid <= due:  # the instalments sum: collected now plus the future is all unpaid
            assert c.amount_to_collect_now + future == c.outstanding
    if not any(not a.succeeded for a in attempts):
        assert (c.stopped, c.consecutive_failures) == (False, 0)


@given(schedules(), attempts_st, year_dates, year_dates)
def test_a_stop_is_never_undone_by_time(schedule, attempts, as_of, later):
    assume(as_of <= later)
    if collection_plan(schedule, attempts, as_of=as_of).stopped:
        assert collection_plan(schedule, attempts, as_of=later).stopped


# Refund settlement


def settle(refund, unpaid, received_by):
    s = settle_refund(D(refund), unpaid, {k: D(v) for k, v in received_by.items()})
    return (
        [(i.due_on.isoformat(), str(i.amount)) for i in s.instalments],
        str(s.applied_to_instalments),
        {k: str(v) for k, v in s.payments_back.items()},
        str(s.returned),
    )


REMAINING = [Instalment(JUL, D("438.75")), Instalment(OCT, D("438.75"))]  # January and April paid

SETTLEMENT_CASES = {
    # name: (refund, unpaid, received by payor, (instalments left, applied, back, returned))
    "less than the last instalment: only it shrinks": (
        "100.00", REMAINING, {"lawyer": "877.50"},
        ([("2025-07-15", "438.75"), ("2025-10-15", "338.75")], "100.00", {}, "0.00"),
    ),
    "exactly the last instalment: it goes": (
        "438.75", REMAINING, {"lawyer": "877.50"},
        ([("2025-07-15", "438.75")], "438.75", {}, "0.00"),
    ),
    "more than the last: the latest first, then the one before": (
        "500.00", REMAINING, {"lawyer": "877.50"},
        ([("2025-07-15", "377.50")], "500.00", {}, "0.00"),
    ),
    "more than all unpaid: the rest goes back": (
        "1000.00", REMAINING, {"lawyer": "877.50"},
        ([], "877.50", {"lawyer": "122.50"}, "122.50"),
    ),
    "nothing unpaid: all goes back to the payor": (
        "658.13", [], {"firm": "1755.00"},
        ([], "0.00", {"firm": "658.13"}, "658.13"),
    ),
    "two payors: the latest payor first, each at most what it paid": (
        "1000.00", REMAINING, {"old firm": "438.75", "new firm": "100.00"},
        ([], "877.50", {"old firm": "22.50", "new firm": "100.00"}, "122.50"),
    ),
    "two payors, the latest covers it all": (
        "900.00", REMAINING, {"old firm": "438.75", "new firm": "438.75"},
        ([], "877.50", {"new firm": "22.50"}, "22.50"),
    ),
    "a zero refund changes nothing": (
        "0.00", REMAINING, {"lawyer": "877.50"},
        ([("2025-07-15", "438.75"), ("2025-10-15", "438.75")], "0.00", {}, "0.00"),
    ),
    "unpaid in any order: reduced by date, latest first": (
        "500.00", list(reversed(REMAINING)), {"lawyer": "877.50"},
        ([("2025-07-15", "377.50")], "500.00", {}, "0.00"),
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("refund", "unpaid", "received_by", "expected"),
    SETTLEMENT_CASES.values(),
    ids=SETTLEMENT_CASES.keys(),
)
def test_settle_refund(refund, unpaid, received_by, expected):
    assert settle(refund, unpaid, received_by) == expected


def test_settlement_type():
    s = settle_refund(D("10.00"), [], {"lawyer": D("10.00")})
    assert s == Settlement((), D("0.00"), {"lawyer": D("10.00")}, D("10.00"))


@pytest.mark.parametrize(
    ("refund", "unpaid", "received_by", "message"),
    [
        ("1000.00", REMAINING, {"lawyer": "100.00"}, "exceeds what is unpaid"),
        ("1.00", [], {}, "exceeds what is unpaid"),
        ("-1.00", [], {"lawyer": "10.00"}, "refund must be"),
        ("1.001", [], {"lawyer": "10.00"}, "refund must be"),
        ("1.00", [Instalment(JUL, D("-5.00"))], {"lawyer": "10.00"}, "unpaid instalment"),
        ("1.00", [], {"lawyer": "-10.00"}, "payor's receipts"),
    ],
)
def test_settle_refund_refuses(refund, unpaid, received_by, message):
    with pytest.raises(ValueError, match=message):
        settle_refund(D(refund), unpaid, {k: D(v) for k, v in received_by.items()})


@st.composite
def settlement_inputs(draw):
    unpaid = draw(st.lists(st.builds(Instalment, year_dates, cents), max_size=6))
    payors = draw(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), cents, max_size=4))
    most = sum(i.amount for i in unpaid) + sum(payors.values())
    refund = D(draw(st.integers(0, int(most * 100)))).scaleb(-2)
    return refund, unpaid, payors


@given(settlement_inputs())
def test_settlement_properties(inputs):
    refund, unpaid, payors = inputs
    s = settle_refund(refund, unpaid, payors)
    # the instalments sum: what is left plus what the refund cancelled is what was unpaid
    assert sum(i.amount for i in s.instalments) + s.applied_to_instalments == sum(
        i.amount for i in unpaid
    )
    assert s.applied_to_instalments + s.returned == refund
    assert s.returned == sum(s.payments_back.values())
    for payor, back in s.payments_back.items():
        assert D("0.00") < back <= payors[payor]  # never more than that payor paid
    if s.returned:  # money goes back only once nothing is left unpaid
        assert s.instalments == ()
    dates = [i.due_on for i in s.instalments]
    assert dates == sorted(dates)
    # latest first: every instalment left is as it was, except possibly the last one left
    by_date = sorted(unpaid, key=lambda i: i.due_on)
    left = list(s.instalments)
    assert all(i.amount > 0 for i in left)
    if left:
        kept = len(left) - 1
        assert left[:kept] == by_date[:kept]
        assert left[kept].due_on == by_date[kept].due_on
        assert left[kept].amount <= by_date[kept].amount


# The ledger


def entry(kind, amount):
    return LedgerEntry(EntryKind(kind), D(amount))


LEDGER = [
    entry("charge", "1755.00"),
    entry("payment", "438.75"),
    entry("failed_payment", "438.75"),
    entry("payment", "877.50"),
    entry("adjustment", "-100.00"),
    entry("adjustment", "25.00"),
    entry("refund", "50.00"),
]


def test_ledger_sums():
    assert str(owed(LEDGER)) == "1680.00"  # 1755 - 100 + 25
    assert str(received(LEDGER)) == "1266.25"  # 438.75 + 877.50 - 50
    assert str(balance(LEDGER)) == "413.75"  # 1680.00 - 1266.25
    assert [str(signed_amount(e)) for e in LEDGER] == [
        "1755.00", "-438.75", "0.00", "-877.50", "-100.00", "25.00", "50.00",
    ]  # fmt: skip
    assert str(balance([])) == "0.00"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (entry("payment", "413.75"), []),  # the whole balance
        (entry("payment", "413.76"), [("amount", "more_than_owed")]),
        (entry("payment", "0.00"), [("amount", "not_positive")]),
        (entry("payment", "-1.00"), [("amount", "not_positive")]),
        (entry("payment", "1.005"), [("amount", "too_many_decimals")]),
        (entry("payment", "1.500"), []),  # 2 places of value
        (entry("refund", "1266.25"), []),  # all that was received less refunded
        (entry("refund", "1266.26"), [("amount", "refund_exceeds_received")]),
        (entry("refund", "0.00"), [("amount", "not_positive")]),
        (entry("charge", "100.00"), []),
        (entry("charge", "0.00"), [("amount", "not_positive")]),
        (entry("charge", "-5.00"), [("amount", "not_positive")]),
        (entry("adjustment", "-1680.00"), []),  # owed down to 0
        (entry("adjustment", "-1680.01"), [("amount", "owed_below_zero")]),
        (entry("adjustment", "0.00"), [("amount", "zero_adjustment")]),
        (entry("adjustment", "-0.00"), [("amount", "zero_adjustment")]),
        (entry("adjustment", "0.001"), [("amount", "too_many_decimals")]),
        (entry("failed_payment", "5000.00"), []),  # moves no money: not held to the balance
        (entry("failed_payment", "0.00"), [("amount", "not_positive")]),
        (LedgerEntry(EntryKind.payment, D("NaN")), [("amount", "invalid")]),
        (LedgerEntry(EntryKind.payment, D("Infinity")), [("amount", "invalid")]),
        (LedgerEntry(EntryKind.payment, 10.5), [("amount", "invalid")]),  # a float: never money
        (LedgerEntry("gift", D("1.00")), [("kind", "unknown_option")]),
        (LedgerEntry("payment", D("1.00")), []),  # the kind's value is the kind
    ],
)
def test_check_entry(new, expected):
    assert codes(check_entry(LEDGER, new)) == expected


def test_nothing_to_pay_or_refund_on_an_empty_ledger():
    assert codes(check_entry([], entry("payment", "0.01"))) == [("amount", "more_than_owed")]
    assert codes(check_entry([], entry("refund", "0.01"))) == [
        ("amount", "refund_exceeds_received")
    ]
    assert codes(check_entry([], entry("adjustment", "-0.01"))) == [("amount", "owed_below_zero")]


def test_a_credit_can_be_refunded():
    """A premium lowered after it was paid leaves a credit (balance below 0), paid back."""
    entries = [
        entry("charge", "1755.00"),
        entry("payment", "1755.00"),
        entry("adjustment", "-300.00"),
    ]
    assert str(balance(entries)) == "-300.00"
    assert check_entry(entries, entry("refund", "300.00")) == []
    assert str(balance([*entries, entry("refund", "300.00")])) == "0.00"
    assert codes(check_entry(entries, entry("payment", "1.00"))) == [("amount", "more_than_owed")]


ledger_amounts = st.integers(min_value=-300_000, max_value=300_000).map(lambda c: D(c).scaleb(-2))
candidates = st.lists(st.tuples(st.sampled_from(list(EntryKind)), ledger_amounts), max_size=40)


@given(candidates)
def test_accepted_entries_keep_the_ledger_consistent(proposed):
    entries: list[LedgerEntry] = []
    refunded = paid = D("0.00")
    for kind, amount in proposed:
        new = LedgerEntry(kind, amount)
        if check_entry(entries, new):
            continue
        entries.append(new)
        paid += amount if kind is EntryKind.payment else 0
        refunded += amount if kind is EntryKind.refund else 0
        assert balance(entries) == owed(entries) - received(entries)
        assert balance(entries) == sum(signed_amount(e) for e in entries)
        assert refunded <= paid  # refunds never exceed receipts
        assert received(entries) == paid - refunded >= 0
        assert owed(entries) >= 0
        if kind is EntryKind.payment:
            assert balance(entries) >= 0  # a payment never overpays


@given(candidates)
def test_refused_entries_are_refused_for_a_reason(proposed):
    entries: list[LedgerEntry] = []
    for kind, amount in proposed:
        new = LedgerEntry(kind, amount)
        problems = check_entry(entries, new)
        if problems:
            assert all(v.field == "amount" for v in problems)
            if kind is EntryKind.payment and amount > 0:
                assert amount > balance(entries)
            if kind is EntryKind.refund and amount > 0:
                assert amount > received(entries)
        else:
            entries.append(new)


# One rule for a payment's amount and currency (the service's only check)


@pytest.mark.parametrize(
    ("amount", "currency", "owed_now", "expected"),
    [
        ("438.75", "CAD", "438.75", []),
        ("438.76", "CAD", "438.75", [("amount", "more_than_owed")]),
        ("0.01", "CAD", "0.00", [("amount", "more_than_owed")]),
        ("10.00", "USD", "438.75", [("currency", "cad_only")]),
        ("500.00", "EUR", "438.75", [("currency", "cad_only"), ("amount", "more_than_owed")]),
        ("1.005", "CAD", "438.75", [("amount", "too_many_decimals")]),
        ("0.00", "CAD", "438.75", [("amount", "not_positive")]),
    ],
)
def test_check_payment(amount, currency, owed_now, expected):
    assert codes(check_payment(D(amount), currency, D(owed_now))) == expected


# Refunds paid out, receipt by receipt


def receipt(payor, reference, amount):
    return Receipt(payor, reference, D(amount))


def test_refunds_go_back_latest_payor_first_then_latest_receipt_first():
    receipts = [
        receipt("Ada", "ch_1", "877.50"),
        receipt("Smith LLP", None, "877.50"),  # a cheque
        receipt("Ada", "ch_2", "877.50"),
    ]
    # Ada's money came in first: Smith LLP (the later payor) is refunded first, then Ada's
    # latest charge
    portions = refunds_by_receipt(D("1000.00"), receipts)
    assert [(r.reference, str(a)) for r, a in portions] == [
        ("ch_2", "122.50"),
        (None, "877.50"),
    ]
    assert refunds_by_receipt(D("0.00"), receipts) == []


def test_a_refund_beyond_receipts_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        refunds_by_receipt(D("100.01"), [receipt("Ada", "ch_1", "100.00")])


@st.composite
def refund_inputs(draw):
    receipts = draw(
        st.lists(
            st.builds(
                Receipt,
                st.sampled_from(["Ada", "Smith LLP", "Spouse"]),
                st.one_of(st.none(), st.text("abc", min_size=1, max_size=3)),
                cents,
            ),
            max_size=8,
        )
    )
    total = sum((r.amount for r in receipts), D("0.00"))
    refund = D(draw(st.integers(0, int(total * 100)))).scaleb(-2)
    return refund, receipts


@given(refund_inputs())
def test_refunds_never_exceed_receipts_per_payor(inputs):
    refund, receipts = inputs
    portions = refunds_by_receipt(refund, receipts)
    assert sum((a for _, a in portions), D("0.00")) == refund
    for payor in {r.payor for r in receipts}:
        paid = sum((r.amount for r in receipts if r.payor == payor), D("0.00"))
        back = sum((a for r, a in portions if r.payor == payor), D("0.00"))
        assert back <= paid
    for r, a in portions:
        assert D("0.00") < a <= r.amount  # each receipt at most what is left of it
    assert len({id(r) for r, _ in portions}) == len(portions)  # each receipt once
