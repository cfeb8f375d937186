"""The claims rules of the program guide, pure: no I/O, no database, no web framework.

- `claim_deductible`: the deductible of one claim, from the option the policy carries and the facts
  of the claim that change it (counterfeit instrument, title-insured transaction without a levy,
  conflict of interest, administrative dismissal), applied in that order.
- `deductible_calls`: what the lawyer is called to pay towards the deductible, as the claims file
  (an append-only sequence of milestones and costs) grows. Each call is decided after each event
  from that event and those before it only, so appending an event never changes an earlier call.
- `check_event`: every rule a new event of the file breaks, at once.
- `applicable_sublimits`: the sublimits that apply to a claim.

All money is `Decimal` with two places, rounded half-up to the cent; never float."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from app.quotes.rules import DEDUCTIBLE_AMOUNTS, Deductible, Violation

__all__ = [
    "ClaimDeductible",
    "CostEvent",
    "CostKind",
    "DeductibleBasis",
    "DeductibleCall",
    "DeductibleFacts",
    "FileEvent",
    "Milestone",
    "MilestoneEvent",
    "SocialEngineeringStep",
    "Sublimit",
    "SublimitFacts",
    "applicable_sublimits",
    "check_event",
    "claim_deductible",
    "deductible_calls",
]

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_STANDARD = Decimal("5000.00")  # the standard deductible, 5,000 claims expenses and indemnity
_TITLE_NO_LEVY = Decimal("500.00")
_DISMISSAL_INCREASE = Decimal("10000.00")
_SUBLIMIT = Decimal("250000.00")
_REAL_ESTATE_AGGREGATE = Decimal("1000000.00")


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------
# 1. The deductible of a claim


class DeductibleBasis(StrEnum):
    combined = "combined"  # claim expenses and indemnity together
    indemnity = "indemnity"  # indemnity payments only


@dataclass(frozen=True)
class DeductibleFacts:
    counterfeit_instrument: bool = False  # counterfeit certified cheque or bank draft
    title_insured_no_levy: bool = False  # title-insured transaction, no transaction levy payable
    conflict_of_interest: bool = False  # acted for several parties, apparent or alleged conflict
    administrative_dismissal: bool = False  # an administrative dismissal not set aside


@dataclass(frozen=True)
class ClaimDeductible:
    amount: Decimal
    basis: DeductibleBasis
    adjustments: tuple[str, ...] = ()  # the codes of the steps that changed it, in order


# The options that apply to indemnity payments only; the others to claim expenses and
# indemnity together (nil: no amount, combined).
_INDEMNITY_ONLY = frozenset(
    {Deductible.indemnity_2500, Deductible.indemnity_5000, Deductible.indemnity_10000}
)


def claim_deductible(option: Deductible, facts: DeductibleFacts) -> ClaimDeductible:
    """The option's deductible, then, in this order: a counterfeit instrument raises it to the
    standard 5,000 combined when lower (by amount: an indemnity-only 5,000 or 10,000 keeps its
    amount and basis); a title-insured transaction without a levy makes a nil deductible 500
    indemnity only; a conflict of interest doubles it; an administrative dismissal adds 10,000 and
    makes it combined. `adjustments` names the steps that changed something."""
    option = Deductible(option)
    amount = DEDUCTIBLE_AMOUNTS[option]
    basis = DeductibleBasis.indemnity if option in _INDEMNITY_ONLY else DeductibleBasis.combined
    adjustments: list[str] = []
    if facts.counterfeit_instrument and amount < _STANDARD:
        amount, basis = _STANDARD, DeductibleBasis.combined
        adjustments.append("counterfeit_instrument")
    if facts.title_insured_no_levy and amount == 0:
        amount, basis = _TITLE_NO_LEVY, DeductibleBasis.indemnity
        adjustments.append("title_insured_no_levy")
    if facts.conflict_of_interest and amount != 0:
        amount = amount * 2
        adjustments.append("conflict_of_interest")
    if facts.administrative_dismissal:
        amount, basis = amount + _DISMISSAL_INCREASE, DeductibleBasis.combined
        adjustments.append("administrative_dismissal")
    return ClaimDeductible(_money(amount), basis, tuple(adjustments))


# ---------------------------------------------------------------------------------------------
# 2. The claims file: milestones, costs and the deductible calls


class Milestone(StrEnum):
    defence_filed = "defence_filed"  # statement of defence or responding material filed
    # examinations for discovery begun, or a settlement, pre-arbitration or pre-trial conference
    discoveries_begun = "discoveries_begun"
    payment_due = "payment_due"  # a judgment, arbitral award or settlement is due
    settled_before_defence = "settled_before_defence"  # before any defence or responding material
    closed_without_payment = "closed_without_payment"
    closed = "closed"  # file closed after its payments


class CostKind(StrEnum):
    investigation = "investigation"  # claim expense
    repair = "repair"  # claim expense
    loss_prevention = "loss_prevention"  # claim expense
    defence = "defence"  # claim expense
    indemnity = "indemnity"  # judgment, award or settlement payments


@dataclass(frozen=True)
class MilestoneEvent:
    on: date
    milestone: Milestone


@dataclass(frozen=True)
class CostEvent:
    on: date
    kind: CostKind
    amount: Decimal


FileEvent = MilestoneEvent | CostEvent

_CLOSING = frozenset({Milestone.closed_without_payment, Milestone.closed})
_SETTLED_KINDS = frozenset({CostKind.indemnity, CostKind.repair})


@dataclass(frozen=True)
class DeductibleCall:
    on: date
    amount: Decimal  # > 0, two places
    trigger: str  # the milestone just recorded, or "cost" when a later cost raised what is owed
    cumulative: Decimal  # called so far, this call included


@dataclass
class _File:
    """The state of a claims file after some of its events, as the calls see it."""

    reached: set[Milestone] = field(default_factory=set)
    latest_milestone_on: date | None = None
    costs: dict[CostKind, Decimal] = field(default_factory=dict)

    def record(self, event: FileEvent) -> None:
        if isinstance(event, MilestoneEvent):
            self.reached.add(event.milestone)
            if self.latest_milestone_on is None or event.on > self.latest_milestone_on:
                self.latest_milestone_on = event.on
        else:
            self.costs[event.kind] = self.costs.get(event.kind, _ZERO) + event.amount

    def counted_and_ceiling(self, deductible: ClaimDeductible) -> tuple[Decimal, Decimal]:
        amount = deductible.amount
        if Milestone.settled_before_defence in self.reached:
            counted = sum((self.costs.get(k, _ZERO) for k in _SETTLED_KINDS), _ZERO)
            return counted, amount
        if deductible.basis is DeductibleBasis.indemnity:
            counted = self.costs.get(CostKind.indemnity, _ZERO)
            return counted, amount if Milestone.payment_due in self.reached else _ZERO
        counted = sum(self.costs.values(), _ZERO)
        if self.reached & {Milestone.discoveries_begun, Milestone.payment_due}:
            return counted, amount
        if Milestone.defence_filed in self.reached:
            return counted, _money(amount / 2)
        return counted, _ZERO


def deductible_calls(
    deductible: ClaimDeductible, events: Sequence[FileEvent]
) -> list[DeductibleCall]:
    """The calls on the lawyer towards `deductible`, evaluated after each event in the order
    recorded. Combined basis: half the deductible (half-up to the cent) may be called once the
    defence is filed, the whole once discoveries begin or a payment is due; every cost counts.
    Indemnity basis: the whole once a payment is due; indemnity counts. Once settled before a
    defence: the whole, against indemnity and repair only. Whenever min(ceiling, counted costs)
    exceeds what was called, the difference is called, dated at the later of the event's date and
    the latest milestone's. Nothing is called once the file is closed."""
    file = _File()
    called = _ZERO
    calls: list[DeductibleCall] = []
    for event in events:
        if file.reached & _CLOSING:
            break
        file.record(event)  # a closing milestone changes neither ceiling nor counted costs
        counted, ceiling = file.counted_and_ceiling(deductible)
        owed = _money(min(ceiling, counted))
        if owed <= called:
            continue
        on = event.on
        if file.latest_milestone_on is not None and file.latest_milestone_on > on:
            on = file.latest_milestone_on
        trigger = event.milestone.value if isinstance(event, MilestoneEvent) else "cost"
        calls.append(DeductibleCall(on, owed - called, trigger, owed))
        called = owed
    return calls


# ---------------------------------------------------------------------------------------------
# 3. Checking a new event against the file


def _is_money(amount: Decimal) -> bool:
    """Positive, finite, and no more than two decimal places (1.50 and 1.500 are money)."""
    return amount.is_finite() and amount > 0 and amount == amount.quantize(_CENT)


def _milestone_violations(
    reached: set[Milestone], latest_on: date | None, new: MilestoneEvent
) -> list[Violation]:
    m = new.milestone
    out: list[Violation] = []

    def order(message: str) -> None:
        out.append(Violation("milestone", "milestone_out_of_order", message))

    if m in reached:
        out.append(Violation("milestone", "milestone_repeated", f"{m.value} is already recorded."))
    if latest_on is not None and new.on < latest_on:
        out.append(
            Violation(
                "on",
                "milestone_out_of_order",
                f"A milestone may not be dated before the latest one ({latest_on.isoformat()}).",
            )
        )
    if m is Milestone.discoveries_begun and Milestone.defence_filed not in reached:
        order("Discoveries cannot begin before a defence is filed.")
    if m is Milestone.payment_due and not reached & {
        Milestone.defence_filed,
        Milestone.settled_before_defence,
    }:
        order("A payment is due only after a defence is filed or a settlement before defence.")
    if m is Milestone.settled_before_defence and Milestone.defence_filed in reached:
        order("A defence is already filed: the claim cannot settle before defence.")
    if m is Milestone.defence_filed and Milestone.settled_before_defence in reached:
        order("The claim settled before defence: no defence can be filed.")
    if m is Milestone.closed_without_payment and reached & {
        Milestone.payment_due,
        Milestone.settled_before_defence,
    }:
        order("Something was paid on this file: it cannot close without payment.")
    if m is Milestone.closed and not reached & {
        Milestone.payment_due,
        Milestone.settled_before_defence,
    }:
        order("A file closes after its payments only once a payment is due or it settled.")
    return out


def check_event(
    events: Sequence[FileEvent], new: FileEvent, *, aware_on: date, today: date
) -> list[Violation]:
    """Every rule that appending `new` to the file `events` (each already accepted) breaks."""
    reached: set[Milestone] = set()
    latest_on: date | None = None
    for event in events:
        if isinstance(event, MilestoneEvent):
            reached.add(event.milestone)
            if latest_on is None or event.on > latest_on:
                latest_on = event.on
    out: list[Violation] = []
    if new.on > today:
        out.append(Violation("on", "in_future", "Must not be after today."))
    if new.on < aware_on:
        out.append(
            Violation(
                "on",
                "before_awareness",
                f"Must not be before the lawyer became aware ({aware_on.isoformat()}).",
            )
        )
    if reached & _CLOSING:
        name = "milestone" if isinstance(new, MilestoneEvent) else "kind"
        out.append(Violation(name, "file_closed", "The file is closed: nothing may follow."))
    if isinstance(new, CostEvent):
        if not _is_money(new.amount):
            out.append(
                Violation(
                    "amount", "positive_money", "Must be more than 0, with at most two decimals."
                )
            )
    else:
        out.extend(_milestone_violations(reached, latest_on, new))
    return out


# ---------------------------------------------------------------------------------------------
# 4. Sublimits


class SocialEngineeringStep(StrEnum):
    # a written retainer or agreement with instructions for receipt, release and transfer of funds
    written_instructions = "written_instructions"
    no_revised_instructions_warning = "no_revised_instructions_warning"  # told not to expect any
    # a telephone number in the written retainer to call on receiving revised instructions
    verification_phone_number = "verification_phone_number"
    # purported changes confirmed by calling known contact information or by meeting
    changes_confirmed = "changes_confirmed"
    changes_kept_in_writing = "changes_kept_in_writing"  # updated contacts, instructions


@dataclass(frozen=True)
class SublimitFacts:
    innocent_party: bool = False  # arises from a dishonest act of a partner, associate, employee…
    real_estate: bool = False  # a real-estate matter
    social_engineering: bool = False
    social_engineering_steps: frozenset[SocialEngineeringStep] = frozenset()
    cybercrime: bool = False


@dataclass(frozen=True)
class Sublimit:
    code: str
    per_claim: Decimal
    aggregate: Decimal | None
    note: str


def applicable_sublimits(
    facts: SublimitFacts, *, innocent_party_limit: Decimal, real_estate_option: bool
) -> list[Sublimit]:
    """The sublimits that apply, in this order: innocent party (the policy's limit: 250,000
    unless bought up), real estate (only with the Real Estate option: 250,000 per claim,
    1,000,000 aggregate), social engineering (250,000 unless all five protective steps were
    taken), cybercrime (250,000, with or without social engineering)."""
    out: list[Sublimit] = []
    if facts.innocent_party:
        out.append(
            Sublimit(
                "innocent_party",
                _money(innocent_party_limit),
                None,
                "Claim arising from a dishonest act of a partner, associate, employee or other.",
            )
        )
    if facts.real_estate and real_estate_option:
        out.append(
            Sublimit(
                "real_estate",
                _SUBLIMIT,
                _REAL_ESTATE_AGGREGATE,
                "Real-estate matter under the Real Estate option.",
            )
        )
    missing = [s for s in SocialEngineeringStep if s not in facts.social_engineering_steps]
    if facts.social_engineering and missing:
        out.append(
            Sublimit(
                "social_engineering",
                _SUBLIMIT,
                None,
                "Protective steps not all taken: " + ", ".join(s.value for s in missing) + ".",
            )
        )
    if facts.cybercrime:
        out.append(Sublimit("cybercrime", _SUBLIMIT, None, "Cybercrime."))
    return out
