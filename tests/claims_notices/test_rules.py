"""The claims rules of app/claims_notices/rules.py, without a database.

Every expected figure in the tables is written out literally, worked by hand in the comment beside
it; none is computed with the code under test. The property tests check the invariants of the
deductible calls against a small model of the guide kept here (what counts, how much may be
called), on event sequences that the checker accepts."""

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.claims_notices.rules import (
    ClaimDeductible,
    CostEvent,
    CostKind,
    DeductibleBasis,
    DeductibleCall,
    DeductibleFacts,
    Milestone,
    MilestoneEvent,
    SocialEngineeringStep,
    Sublimit,
    SublimitFacts,
    applicable_sublimits,
    check_event,
    claim_deductible,
    deductible_calls,
)
from app.quotes.rules import Deductible

D = Decimal
COMB = DeductibleBasis.combined
INDEM = DeductibleBasis.indemnity
START = date(2025, 3, 1)
AWARE = START
TODAY = date(2026, 12, 31)

# Each option's own amount, from the program guide.
OPTION_AMOUNT = {
    "nil": D("0"),
    "2500_combined": D("2500"),
    "2500_indemnity": D("2500"),
    "5000_combined": D("5000"),
    "5000_indemnity": D("5000"),
    "10000_combined": D("10000"),
    "10000_indemnity": D("10000"),
    "25000_combined": D("25000"),
}


def day(n: int) -> date:
    return START + timedelta(days=n)


def m(n: int, milestone: str) -> MilestoneEvent:
    return MilestoneEvent(day(n), Milestone(milestone))


def c(n: int, kind: str, amount: str) -> CostEvent:
    return CostEvent(day(n), CostKind(kind), D(amount))


def ded(amount: str, basis: DeductibleBasis = COMB) -> ClaimDeductible:
    return ClaimDeductible(D(amount), basis, ())


def plain(calls: list[DeductibleCall]) -> list[tuple[int, str, str, str]]:
    """(day, amount, trigger, cumulative), amounts as strings so that 2 places are checked."""
    return [((k.on - START).days, str(k.amount), k.trigger, str(k.cumulative)) for k in calls]


# ---------------------------------------------------------------------------------------------
# 1. The deductible of a claim

CF = "counterfeit_instrument"
TI = "title_insured_no_levy"
CO = "conflict_of_interest"
AD = "administrative_dismissal"

DEDUCTIBLE_TABLE = [
    # option, facts, amount, basis, adjustments
    # no facts: the option itself
    ("nil", (), "0.00", COMB, ()),
    ("2500_combined", (), "2500.00", COMB, ()),
    ("2500_indemnity", (), "2500.00", INDEM, ()),
    ("5000_combined", (), "5000.00", COMB, ()),
    ("5000_indemnity", (), "5000.00", INDEM, ()),
    ("10000_combined", (), "10000.00", COMB, ()),
    ("10000_indemnity", (), "10000.00", INDEM, ()),
    ("25000_combined", (), "25000.00", COMB, ()),
    # counterfeit: below 5,000 -> 5,000 combined; otherwise unchanged (by amount only)
    ("nil", (CF,), "5000.00", COMB, (CF,)),
    ("2500_combined", (CF,), "5000.00", COMB, (CF,)),
    ("2500_indemnity", (CF,), "5000.00", COMB, (CF,)),
    ("5000_combined", (CF,), "5000.00", COMB, ()),
    ("5000_indemnity", (CF,), "5000.00", INDEM, ()),
    ("10000_combined", (CF,), "10000.00", COMB, ()),
    ("10000_indemnity", (CF,), "10000.00", INDEM, ()),
    ("25000_combined", (CF,), "25000.00", COMB, ()),
    # title insured, no levy: only a nil deductible becomes 500 indemnity only
    ("nil", (TI,), "500.00", INDEM, (TI,)),
    ("2500_combined", (TI,), "2500.00", COMB, ()),
    ("2500_indemnity", (TI,), "2500.00", INDEM, ()),
    ("5000_combined", (TI,), "5000.00", COMB, ()),
    ("5000_indemnity", (TI,), "5000.00", INDEM, ()),
    ("10000_combined", (TI,), "10000.00", COMB, ()),
    ("10000_indemnity", (TI,), "10000.00", INDEM, ()),
    ("25000_combined", (TI,), "25000.00", COMB, ()),
    # conflict of interest: doubles, basis kept; 0 stays 0 (and is no adjustment)
    ("nil", (CO,), "0.00", COMB, ()),
    ("2500_combined", (CO,), "5000.00", COMB, (CO,)),
    ("2500_indemnity", (CO,), "5000.00", INDEM, (CO,)),
    ("5000_combined", (CO,), "10000.00", COMB, (CO,)),
    ("5000_indemnity", (CO,), "10000.00", INDEM, (CO,)),
    ("10000_combined", (CO,), "20000.00", COMB, (CO,)),
    ("10000_indemnity", (CO,), "20000.00", INDEM, (CO,)),
    ("25000_combined", (CO,), "50000.00", COMB, (CO,)),
    # administrative dismissal: + 10,000, combined
    ("nil", (AD,), "10000.00", COMB, (AD,)),
    ("2500_combined", (AD,), "12500.00", COMB, (AD,)),
    ("2500_indemnity", (AD,), "12500.00", COMB, (AD,)),
    ("5000_combined", (AD,), "15000.00", COMB, (AD,)),
    ("5000_indemnity", (AD,), "15000.00", COMB, (AD,)),
    ("10000_combined", (AD,), "20000.00", COMB, (AD,)),
    ("10000_indemnity", (AD,), "20000.00", COMB, (AD,)),
    ("25000_combined", (AD,), "35000.00", COMB, (AD,)),
    # combinations
    ("nil", (CF, TI), "5000.00", COMB, (CF,)),  # the title step sees 5,000, not nil
    ("nil", (TI, CO), "1000.00", INDEM, (TI, CO)),  # 500 indemnity, doubled
    ("nil", (TI, AD), "10500.00", COMB, (TI, AD)),  # 500 indemnity, + 10,000 combined
    ("nil", (TI, CO, AD), "11000.00", COMB, (TI, CO, AD)),  # 500, 1,000, 11,000
    ("nil", (CF, CO), "10000.00", COMB, (CF, CO)),  # 5,000, doubled
    ("nil", (CF, TI, CO, AD), "20000.00", COMB, (CF, CO, AD)),  # 5,000, 10,000, 20,000
    ("2500_indemnity", (CF, CO), "10000.00", COMB, (CF, CO)),  # 5,000 combined, doubled
    ("5000_indemnity", (CF, CO), "10000.00", INDEM, (CO,)),  # kept, doubled
    ("10000_indemnity", (TI, AD), "20000.00", COMB, (AD,)),
    ("5000_combined", (CF, TI, CO), "10000.00", COMB, (CO,)),
    ("25000_combined", (CO, AD), "60000.00", COMB, (CO, AD)),  # 50,000 + 10,000
    ("2500_combined", (CF, TI, CO, AD), "20000.00", COMB, (CF, CO, AD)),  # 5,000 10,000 20,000
]


def facts_of(names: tuple[str, ...]) -> DeductibleFacts:
    return DeductibleFacts(**dict.fromkeys(names, True))


@pytest.mark.parametrize(("option", "facts", "amount", "basis", "adjustments"), DEDUCTIBLE_TABLE)
def test_claim_deductible(option, facts, amount, basis, adjustments):
    got = claim_deductible(Deductible(option), facts_of(facts))
    assert (str(got.amount), got.basis, got.adjustments) == (amount, basis, adjustments)
    assert isinstance(got.amount, Decimal)


def test_the_table_covers_every_option_with_each_single_fact():
    singles = {(o, f) for o, f, *_ in DEDUCTIBLE_TABLE if len(f) <= 1}
    assert singles == {(o.value, f) for o in Deductible for f in [(), (CF,), (TI,), (CO,), (AD,)]}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Deductible)), st.lists(st.booleans(), min_size=4, max_size=4))
def test_claim_deductible_is_never_below_the_option(option, flags):
    facts = DeductibleFacts(*flags)
    got = claim_deductible(option, facts)
    assert got.amount >= OPTION_AMOUNT[option.value]
    assert got.amount.as_tuple().exponent == -2
    # adjustments are named facts, in the guide's order, only facts that hold
    order = [CF, TI, CO, AD]
    assert list(got.adjustments) == [a for a in order if a in got.adjustments]
    assert all(getattr(facts, a) for a in got.adjustments)
    # an administrative dismissal always makes it combined and adds 10,000 at least
    if facts.administrative_dismissal:
        assert got.basis is COMB
        assert got.amount >= OPTION_AMOUNT[option.value] + 10000


# ---------------------------------------------------------------------------------------------
# 2. Deductible calls

CALLS_TABLE = [
    pytest.param(
        ded("5000.00"),
        [c(0, "investigation", "6000.00"), m(1, "defence_filed"), m(2, "discoveries_begun")],
        [
            (1, "2500.00", "defence_filed", "2500.00"),
            (2, "2500.00", "discoveries_begun", "5000.00"),
        ],
        id="standard: costs over 5,000 -> half at defence, the rest at discoveries",
    ),
    pytest.param(
        ded("5000.00"),
        [
            c(0, "investigation", "1000.00"),
            m(1, "defence_filed"),  # 1,000 counted, 2,500 ceiling -> 1,000
            c(2, "defence", "3000.00"),  # 4,000 counted, 2,500 ceiling -> 1,500 more
            m(3, "discoveries_begun"),  # 4,000 counted, 5,000 ceiling -> 1,500 more
            c(4, "defence", "3000.00"),  # 7,000 counted -> the last 1,000
        ],
        [
            (1, "1000.00", "defence_filed", "1000.00"),
            (2, "1500.00", "cost", "2500.00"),
            (3, "1500.00", "discoveries_begun", "4000.00"),
            (4, "1000.00", "cost", "5000.00"),
        ],
        id="costs below half at defence, catching up by costs and discoveries",
    ),
    pytest.param(
        ded("5000.00"),
        [
            c(0, "investigation", "1000.00"),
            m(1, "defence_filed"),  # 1,000
            m(2, "discoveries_begun"),  # still 1,000 counted: nothing
            c(3, "defence", "3000.00"),  # 4,000 counted -> 3,000
            c(4, "defence", "3000.00"),  # 7,000 counted -> 1,000
            c(5, "defence", "3000.00"),  # all called: nothing
        ],
        [
            (1, "1000.00", "defence_filed", "1000.00"),
            (3, "3000.00", "cost", "4000.00"),
            (4, "1000.00", "cost", "5000.00"),
        ],
        id="costs below half, discoveries first: 1,000 then 3,000 then 1,000",
    ),
    pytest.param(
        ded("5000.00", INDEM),
        [
            c(0, "investigation", "2000.00"),
            m(1, "defence_filed"),
            c(2, "defence", "18000.00"),
            m(3, "discoveries_begun"),
            m(4, "payment_due"),  # no indemnity yet: nothing
            c(5, "indemnity", "3000.00"),
            m(6, "closed"),
        ],
        [(5, "3000.00", "cost", "3000.00")],
        id="indemnity only: 20,000 of defence costs call nothing; indemnity 3,000 after payment",
    ),
    pytest.param(
        ded("5000.00", INDEM),
        [m(1, "defence_filed"), c(2, "indemnity", "8000.00"), m(3, "payment_due")],
        [(3, "5000.00", "payment_due", "5000.00")],
        id="indemnity only: indemnity recorded before the payment is due, called at payment_due",
    ),
    pytest.param(
        ded("5000.00"),
        [
            c(0, "repair", "1200.00"),
            c(1, "indemnity", "2000.00"),
            c(2, "investigation", "900.00"),
            m(3, "settled_before_defence"),
        ],
        [(3, "3200.00", "settled_before_defence", "3200.00")],
        id="settled before defence: repair 1,200 + indemnity 2,000, not investigation -> 3,200",
    ),
    pytest.param(
        ded("5000.00"),
        [
            c(0, "investigation", "900.00"),
            c(1, "repair", "1200.00"),
            m(2, "settled_before_defence"),  # 1,200
            c(3, "indemnity", "2000.00"),  # 3,200 -> 2,000 more
            c(4, "defence", "700.00"),  # not counted once settled
            m(5, "payment_due"),
            m(6, "closed"),
        ],
        [
            (2, "1200.00", "settled_before_defence", "1200.00"),
            (3, "2000.00", "cost", "3200.00"),
        ],
        id="settled before defence, costs recorded on both sides of it",
    ),
    pytest.param(
        ded("5000.00"),
        [m(0, "settled_before_defence"), c(1, "indemnity", "3000.00")],
        [(1, "3000.00", "cost", "3000.00")],
        id="the guide's example: settled before defence with indemnity 3,000 -> 3,000",
    ),
    pytest.param(
        ded("5000.00", INDEM),
        [c(0, "repair", "1000.00"), m(1, "settled_before_defence"), c(2, "indemnity", "6000.00")],
        [(1, "1000.00", "settled_before_defence", "1000.00"), (2, "4000.00", "cost", "5000.00")],
        id="indemnity only, settled before defence: repair counts too, up to the amount",
    ),
    pytest.param(
        ded("2500.00"),
        [c(0, "defence", "3000.00"), m(1, "defence_filed"), m(2, "discoveries_begun")],
        [
            (1, "1250.00", "defence_filed", "1250.00"),
            (2, "1250.00", "discoveries_begun", "2500.00"),
        ],
        id="2,500 combined: 1,250 then 1,250",
    ),
    pytest.param(
        ded("5000.00"),
        [m(0, "defence_filed"), c(1, "defence", "4000.00"), c(2, "defence", "4000.00")],
        [(1, "2500.00", "cost", "2500.00")],
        id="a cost recorded after the defence is filed catches up to half, no further",
    ),
    pytest.param(
        ded("5000.00"),
        [
            m(0, "defence_filed"),
            c(1, "defence", "1000.00"),
            m(2, "payment_due"),  # the whole amount may be called: nothing more counted
            c(3, "indemnity", "10000.00"),  # the remainder
        ],
        [(1, "1000.00", "cost", "1000.00"), (3, "4000.00", "cost", "5000.00")],
        id="payment due without discoveries: any remainder",
    ),
    pytest.param(
        ded("5000.00"),
        [
            m(0, "defence_filed"),
            c(1, "defence", "1000.00"),
            m(2, "closed_without_payment"),
            c(3, "defence", "9000.00"),
            m(4, "discoveries_begun"),
        ],
        [(1, "1000.00", "cost", "1000.00")],
        id="nothing is called after closed_without_payment",
    ),
    pytest.param(
        ded("5000.00"),
        [
            m(0, "settled_before_defence"),
            c(1, "indemnity", "1000.00"),
            m(2, "closed"),
            c(3, "indemnity", "9000.00"),
        ],
        [(1, "1000.00", "cost", "1000.00")],
        id="nothing is called after closed",
    ),
    pytest.param(
        ded("5000.00"),
        [m(5, "defence_filed"), c(2, "investigation", "2000.00"), c(9, "defence", "300.00")],
        [(5, "2000.00", "cost", "2000.00"), (9, "300.00", "cost", "2300.00")],
        id="a cost dated before the latest milestone is called at that milestone's date",
    ),
    pytest.param(
        ded("5000.00"),
        [c(1, "investigation", "9000.00"), m(7, "defence_filed")],
        [(7, "2500.00", "defence_filed", "2500.00")],
        id="a milestone's call is dated at the milestone",
    ),
    pytest.param(
        ded("0.00"),
        [
            c(0, "indemnity", "9000.00"),
            m(1, "defence_filed"),
            m(2, "discoveries_begun"),
            m(3, "payment_due"),
        ],
        [],
        id="a nil deductible never calls",
    ),
    pytest.param(
        ded("5000.00"),
        [c(0, "indemnity", "9000.00"), c(1, "repair", "9000.00")],
        [],
        id="combined: nothing before any milestone",
    ),
    pytest.param(
        ded("5000.01"),
        [c(0, "defence", "9000.00"), m(1, "defence_filed")],
        [(1, "2500.01", "defence_filed", "2500.01")],
        id="half is rounded half-up to the cent",
    ),
]


@pytest.mark.parametrize(("deductible", "events", "expected"), CALLS_TABLE)
def test_deductible_calls(deductible, events, expected):
    assert plain(deductible_calls(deductible, events)) == expected


def test_no_events_no_calls():
    assert deductible_calls(ded("5000.00"), []) == []


# A model of the guide, kept apart from the code under test, for the invariants.


def counted_by_guide(basis: DeductibleBasis, events) -> Decimal:
    reached = {e.milestone for e in events if isinstance(e, MilestoneEvent)}
    if Milestone.settled_before_defence in reached:
        kinds = {CostKind.indemnity, CostKind.repair}
    elif basis is INDEM:
        kinds = {CostKind.indemnity}
    else:
        kinds = set(CostKind)
    return sum((e.amount for e in events if isinstance(e, CostEvent) and e.kind in kinds), D(0))


def ceiling_by_guide(deductible: ClaimDeductible, events) -> Decimal:
    reached = {e.milestone for e in events if isinstance(e, MilestoneEvent)}
    whole = deductible.amount
    if Milestone.settled_before_defence in reached or Milestone.payment_due in reached:
        return whole
    if deductible.basis is INDEM:
        return D(0)
    if Milestone.discoveries_begun in reached:
        return whole
    if Milestone.defence_filed in reached:
        return whole / 2  # the amounts here are whole or even cents: half is exact
    return D(0)


def assert_call_invariants(deductible: ClaimDeductible, events) -> list[DeductibleCall]:
    calls = deductible_calls(deductible, events)
    total = D(0)
    for call in calls:
        assert call.amount > 0
        assert call.amount.as_tuple().exponent == -2
        assert call.cumulative.as_tuple().exponent == -2
        total += call.amount
        assert call.cumulative == total
        assert call.cumulative <= deductible.amount
    if deductible.amount == 0:
        assert calls == []
    made = 0  # the calls made by events[:k]
    closed = False
    for k in range(1, len(events) + 1):
        prefix = events[:k]
        prefix_calls = deductible_calls(deductible, prefix)
        assert prefix_calls == calls[: len(prefix_calls)]  # appending never changes a call
        assert len(prefix_calls) >= made
        event = events[k - 1]
        milestone_dates = [e.on for e in prefix if isinstance(e, MilestoneEvent)]
        new_calls = prefix_calls[made:]
        assert len(new_calls) <= 1  # one call at most per event
        if closed:
            assert new_calls == []
        for call in new_calls:
            assert call.on == max([event.on, *milestone_dates])
            expected_trigger = (
                event.milestone.value if isinstance(event, MilestoneEvent) else "cost"
            )
            assert call.trigger == expected_trigger
        made = len(prefix_calls)
        if isinstance(event, MilestoneEvent) and event.milestone in {
            Milestone.closed,
            Milestone.closed_without_payment,
        }:
            closed = True
        if closed:
            continue
        called = prefix_calls[-1].cumulative if prefix_calls else D(0)
        counted = counted_by_guide(deductible.basis, prefix)
        ceiling = ceiling_by_guide(deductible, prefix)
        assert called <= counted
        assert called <= ceiling
        reached = {e.milestone for e in prefix if isinstance(e, MilestoneEvent)}
        if reached & {Milestone.payment_due, Milestone.settled_before_defence}:
            assert called == min(deductible.amount, counted)
        else:
            assert called == min(ceiling, counted)
    return calls


def accepted_sequence(candidates) -> list:
    """The candidates that check_event accepts, each against those accepted before it."""
    events: list = []
    for event in candidates:
        if not check_event(events, event, aware_on=AWARE, today=TODAY):
            events.append(event)
    return events


def allowed_orders() -> list[tuple[Milestone, ...]]:
    orders = []
    for size in range(1, len(Milestone) + 1):
        for order in itertools.permutations(Milestone, size):
            events: list = []
            for i, milestone in enumerate(order):
                event = MilestoneEvent(day(i * 10), milestone)
                if check_event(events, event, aware_on=AWARE, today=TODAY):
                    break
                events.append(event)
            else:
                orders.append(order)
    return orders


ALLOWED_ORDERS = allowed_orders()


def test_the_allowed_milestone_orders():
    """The checker's orders, written out: defence, discoveries, payment, closing; or a settlement
    before defence, then payment, closing; closed without payment from before any payment."""
    df, db, pd, sb = "defence_filed", "discoveries_begun", "payment_due", "settled_before_defence"
    cw, cl = "closed_without_payment", "closed"
    got = {tuple(x.value for x in order) for order in ALLOWED_ORDERS}
    assert got == {
        (df,), (sb,), (cw,),
        (df, db), (df, pd), (df, cw), (sb, pd), (sb, cl),
        (df, db, pd), (df, pd, db), (df, db, cw), (df, pd, cl), (sb, pd, cl),
        (df, db, pd, cl), (df, pd, db, cl),
    }  # fmt: skip


COST_PATTERN = [("repair", "300.00"), ("defence", "1100.00"), ("indemnity", "900.00")]


@pytest.mark.parametrize("option", list(Deductible))
@pytest.mark.parametrize("order", ALLOWED_ORDERS, ids=lambda o: "-".join(x.value for x in o))
def test_calls_over_every_allowed_milestone_order(option, order):
    deductible = claim_deductible(option, DeductibleFacts())
    candidates: list = [c(0, "investigation", "700.00"), c(1, "indemnity", "400.00")]
    for i, milestone in enumerate(order):
        at = 10 * (i + 1)
        candidates.append(MilestoneEvent(day(at), milestone))
        candidates += [c(at + j, kind, amount) for j, (kind, amount) in enumerate(COST_PATTERN)]
        candidates.append(c(at - 5, "defence", "650.00"))  # dated before the milestone
    events = accepted_sequence(candidates)
    assert [e.milestone for e in events if isinstance(e, MilestoneEvent)] == list(order)
    assert_call_invariants(deductible, events)


# Random files: milestones in non-decreasing dates (most then pass the checker), costs on any
# day from awareness; the checker decides which are kept.

milestone_steps = st.tuples(st.just("m"), st.sampled_from(list(Milestone)), st.integers(0, 40))
cost_steps = st.tuples(
    st.just("c"),
    st.tuples(st.sampled_from(list(CostKind)), st.integers(1, 1_500_000)),  # cents
    st.integers(0, 400),
)


@st.composite
def files(draw):
    steps = draw(st.lists(st.one_of(milestone_steps, cost_steps), max_size=25))
    events: list = []
    latest = AWARE
    for tag, what, days in steps:
        if tag == "m":
            event = MilestoneEvent(latest + timedelta(days=days), what)
        else:
            kind, cents = what
            event = CostEvent(AWARE + timedelta(days=days), kind, D(cents).scaleb(-2))
        if not check_event(events, event, aware_on=AWARE, today=TODAY):
            events.append(event)
            if tag == "m":
                latest = event.on
    return events


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(list(Deductible)),
    st.builds(DeductibleFacts, st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    files(),
)
def test_calls_invariants_on_random_files(option, facts, events):
    deductible = claim_deductible(option, facts)
    assert deductible.amount >= OPTION_AMOUNT[option.value]
    assert_call_invariants(deductible, events)


# ---------------------------------------------------------------------------------------------
# 3. Checking a new event


def codes(violations) -> Counter:
    return Counter((v.field, v.code) for v in violations)


def M(milestone: str, n: int = 10) -> MilestoneEvent:
    return m(n, milestone)


DEFENCE = [M("defence_filed", 5)]
SETTLED = [M("settled_before_defence", 5)]
PAID = [M("defence_filed", 5), M("payment_due", 6)]
COST = c(10, "defence", "100.00")

CHECK_TABLE = [
    # dates
    pytest.param([], CostEvent(TODAY + timedelta(days=1), CostKind.defence, D("1.00")),
                 [("on", "in_future")], id="cost dated tomorrow"),
    pytest.param([], CostEvent(TODAY, CostKind.defence, D("1.00")), [], id="cost dated today"),
    pytest.param([], MilestoneEvent(TODAY + timedelta(days=1), Milestone.defence_filed),
                 [("on", "in_future")], id="milestone dated tomorrow"),
    pytest.param([], MilestoneEvent(TODAY, Milestone.defence_filed), [], id="milestone today"),
    pytest.param([], CostEvent(AWARE - timedelta(days=1), CostKind.repair, D("1.00")),
                 [("on", "before_awareness")], id="cost before awareness"),
    pytest.param([], CostEvent(AWARE, CostKind.repair, D("1.00")), [], id="cost on awareness"),
    pytest.param([], MilestoneEvent(AWARE - timedelta(days=1), Milestone.defence_filed),
                 [("on", "before_awareness")], id="milestone before awareness"),
    pytest.param([], MilestoneEvent(AWARE, Milestone.defence_filed), [], id="milestone on awareness"),
    # a closed file
    pytest.param([M("closed_without_payment", 5)], COST, [("kind", "file_closed")],
                 id="cost after closed_without_payment"),
    pytest.param([*PAID, M("closed", 7)], COST, [("kind", "file_closed")], id="cost after closed"),
    pytest.param(PAID, COST, [], id="cost after payment_due, before closing"),
    pytest.param([*DEFENCE, M("closed_without_payment", 6)], M("discoveries_begun"),
                 [("milestone", "file_closed")], id="milestone after closed_without_payment"),
    pytest.param([*DEFENCE, M("closed_without_payment", 6)], M("closed_without_payment"),
                 [("milestone", "file_closed"), ("milestone", "milestone_repeated")],
                 id="closed twice: closed and repeated"),
    pytest.param(DEFENCE, M("discoveries_begun"), [], id="discoveries before closing"),
    # money
    pytest.param([], c(1, "repair", "0.00"), [("amount", "positive_money")], id="amount 0"),
    pytest.param([], c(1, "repair", "-5.00"), [("amount", "positive_money")], id="negative"),
    pytest.param([], c(1, "repair", "10.005"), [("amount", "positive_money")], id="3 places"),
    pytest.param([], c(1, "repair", "NaN"), [("amount", "positive_money")], id="NaN"),
    pytest.param([], c(1, "repair", "Infinity"), [("amount", "positive_money")], id="infinite"),
    pytest.param([], c(1, "repair", "0.01"), [], id="one cent"),
    pytest.param([], c(1, "repair", "10.5"), [], id="one place"),
    pytest.param([], c(1, "repair", "10.500"), [], id="trailing zero past 2 places is 10.50"),
    # repeated
    pytest.param(DEFENCE, M("defence_filed"), [("milestone", "milestone_repeated")],
                 id="defence twice"),
    pytest.param([*PAID], M("payment_due"), [("milestone", "milestone_repeated")],
                 id="payment_due twice"),
    pytest.param([], M("defence_filed"), [], id="defence once"),
    # dated before the latest milestone
    pytest.param(DEFENCE, M("discoveries_begun", 4), [("on", "milestone_out_of_order")],
                 id="milestone dated before the latest milestone"),
    pytest.param(DEFENCE, M("discoveries_begun", 5), [], id="milestone dated on the latest one"),
    pytest.param(DEFENCE, c(1, "defence", "1.00"), [], id="a cost may be dated before it"),
    # sequence rules
    pytest.param([], M("discoveries_begun"), [("milestone", "milestone_out_of_order")],
                 id="discoveries without defence"),
    pytest.param(SETTLED, M("discoveries_begun"), [("milestone", "milestone_out_of_order")],
                 id="discoveries after a settlement before defence"),
    pytest.param(DEFENCE, M("discoveries_begun"), [], id="discoveries after defence"),
    pytest.param([], M("payment_due"), [("milestone", "milestone_out_of_order")],
                 id="payment without defence or settlement"),
    pytest.param(DEFENCE, M("payment_due"), [], id="payment after defence"),
    pytest.param(SETTLED, M("payment_due"), [], id="payment after settlement before defence"),
    pytest.param(DEFENCE, M("settled_before_defence"), [("milestone", "milestone_out_of_order")],
                 id="settled before defence after a defence"),
    pytest.param([], M("settled_before_defence"), [], id="settled before defence, no defence"),
    pytest.param(SETTLED, M("defence_filed"), [("milestone", "milestone_out_of_order")],
                 id="defence after settled before defence"),
    pytest.param(PAID, M("closed_without_payment"), [("milestone", "milestone_out_of_order")],
                 id="closed without payment after payment_due"),
    pytest.param(SETTLED, M("closed_without_payment"), [("milestone", "milestone_out_of_order")],
                 id="closed without payment after settlement"),
    pytest.param(DEFENCE, M("closed_without_payment"), [], id="closed without payment, defence"),
    pytest.param([], M("closed_without_payment"), [], id="closed without payment, nothing"),
    pytest.param([], M("closed"), [("milestone", "milestone_out_of_order")], id="closed, nothing"),
    pytest.param(DEFENCE, M("closed"), [("milestone", "milestone_out_of_order")],
                 id="closed after defence only"),
    pytest.param(PAID, M("closed"), [], id="closed after payment_due"),
    pytest.param(SETTLED, M("closed"), [], id="closed after settlement"),
    # every broken rule at once
    pytest.param(
        [*DEFENCE, M("closed_without_payment", 6)],
        MilestoneEvent(TODAY + timedelta(days=1), Milestone.closed),
        [("on", "in_future"), ("milestone", "file_closed"), ("milestone", "milestone_out_of_order")],
        id="closed in the future after closed_without_payment",
    ),
    pytest.param(
        [M("closed_without_payment", 6)],
        CostEvent(AWARE - timedelta(days=1), CostKind.indemnity, D("0")),
        [("on", "before_awareness"), ("kind", "file_closed"), ("amount", "positive_money")],
        id="a cost breaking three rules",
    ),
    pytest.param(
        [*PAID],
        M("defence_filed", 2),
        [("milestone", "milestone_repeated"), ("on", "milestone_out_of_order")],
        id="repeated and dated before the latest",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("events", "new", "expected"), CHECK_TABLE)
def test_check_event(events, new, expected):
    got = check_event(events, new, aware_on=AWARE, today=TODAY)
    assert codes(got) == Counter(expected)
    assert all(v.message for v in got)


# ---------------------------------------------------------------------------------------------
# 4. Sublimits

ALL_STEPS = frozenset(SocialEngineeringStep)


def sub(facts: SublimitFacts, limit: str = "250000", option: bool = False):
    got = applicable_sublimits(facts, innocent_party_limit=D(limit), real_estate_option=option)
    assert all(isinstance(s, Sublimit) and s.note for s in got)
    return [
        (s.code, str(s.per_claim), None if s.aggregate is None else str(s.aggregate)) for s in got
    ]


SUBLIMIT_TABLE = [
    pytest.param(SublimitFacts(), "250000", True, [], id="none"),
    pytest.param(SublimitFacts(innocent_party=True), "250000", False,
                 [("innocent_party", "250000.00", None)], id="innocent party, included"),
    pytest.param(SublimitFacts(innocent_party=True), "500000", False,
                 [("innocent_party", "500000.00", None)], id="innocent party, 500,000"),
    pytest.param(SublimitFacts(innocent_party=True), "1000000", False,
                 [("innocent_party", "1000000.00", None)], id="innocent party, 1,000,000"),
    pytest.param(SublimitFacts(real_estate=True), "250000", False, [],
                 id="real estate without the option"),
    pytest.param(SublimitFacts(real_estate=True), "250000", True,
                 [("real_estate", "250000.00", "1000000.00")], id="real estate with the option"),
    pytest.param(SublimitFacts(innocent_party=False), "250000", True, [],
                 id="the option alone"),
    pytest.param(SublimitFacts(social_engineering=True), "250000", False,
                 [("social_engineering", "250000.00", None)], id="social engineering, no step"),
    pytest.param(SublimitFacts(social_engineering=True, social_engineering_steps=ALL_STEPS),
                 "250000", False, [], id="social engineering, all five steps"),
    pytest.param(SublimitFacts(social_engineering=False, social_engineering_steps=ALL_STEPS),
                 "250000", False, [], id="steps without social engineering"),
    pytest.param(SublimitFacts(cybercrime=True), "250000", False,
                 [("cybercrime", "250000.00", None)], id="cybercrime"),
    pytest.param(SublimitFacts(cybercrime=True, social_engineering=True,
                               social_engineering_steps=ALL_STEPS), "250000", False,
                 [("cybercrime", "250000.00", None)], id="cybercrime, social engineering covered"),
    pytest.param(SublimitFacts(cybercrime=True, social_engineering=True), "250000", False,
                 [("social_engineering", "250000.00", None), ("cybercrime", "250000.00", None)],
                 id="cybercrime and social engineering"),
    pytest.param(
        SublimitFacts(True, True, True, frozenset(), True), "500000", True,
        [
            ("innocent_party", "500000.00", None),
            ("real_estate", "250000.00", "1000000.00"),
            ("social_engineering", "250000.00", None),
            ("cybercrime", "250000.00", None),
        ],
        id="all four",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "limit", "option", "expected"), SUBLIMIT_TABLE)
def test_applicable_sublimits(facts, limit, option, expected):
    assert sub(facts, limit, option) == expected


@pytest.mark.parametrize("missing", list(SocialEngineeringStep))
def test_social_engineering_sublimit_when_any_one_step_is_missing(missing):
    facts = SublimitFacts(social_engineering=True, social_engineering_steps=ALL_STEPS - {missing})
    assert sub(facts) == [("social_engineering", "250000.00", None)]
    (got,) = applicable_sublimits(facts, innocent_party_limit=D(250000), real_estate_option=False)
    assert missing.value in got.note


def test_there_are_five_protective_steps():
    assert {s.value for s in SocialEngineeringStep} == {
        "written_instructions",
        "no_revised_instructions_warning",
        "verification_phone_number",
        "changes_confirmed",
        "changes_kept_in_writing",
    }
