"""The annual application form, sections A-F, as the 2025 guide lists it (pages 6-15).

Every field may be missing while the lawyer drafts; `rules.check_application` says what a
submission needs. Enumerations are the guide's own lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.fields import Email
from app.quotes.rules import Deductible, InnocentPartySublimit, PaymentPlan
from app.quotes.schemas import MONEY_STRING

# Areas of practice, p.7 (the form asks for the number).
PRACTICE_AREAS: dict[int, str] = {
    1: "ADR/Mediation Services (acting as third party neutral)",
    2: "Administrative Law",
    3: "Bankruptcy, Insolvency & Receivership Law",
    4: "Charity and Not-for-Profit Law",
    5: "Civil Litigation (including ADR) - Defendant",
    6: "Civil Litigation (including ADR) - Plaintiff",
    7: "Construction Law",
    8: "Corporate/Commercial Law (excluding civil litigation activities)",
    9: "Criminal/Quasi Criminal Law",
    10: "Environmental Law",
    11: "Family/Matrimonial Law",
    12: "Franchise Law",
    13: "Health Law",
    14: "Immigration Law",
    15: "Indigenous Legal Issues",
    16: "Intellectual Property Law",
    17: "Labour/Employment Law",
    18: "Municipal Law",
    19: "Real Estate Law (excluding civil litigation activities)",
    20: "Securities Law (including syndications, tax shelters, limited partnerships, etc.)",
    21: "Tax Law",
    22: "Transportation Law",
    23: "Wills, Estates, Trusts Law",
    24: "Workplace Safety & Insurance Law",
    25: "Other",
}
CRIMINAL, IMMIGRATION, REAL_ESTATE = 9, 14, 19
PracticeArea = Annotated[int, Field(ge=1, le=25, description="Area of practice number, p.7")]


class BillingCode(StrEnum):
    """Volume billings, p.6: actual gross billings (AC) or average per lawyer (AV)."""

    AC0 = "AC0"  # nil
    AC1 = "AC1"  # 1 - 100,000
    AC2 = "AC2"  # 100,001 - 200,000
    AC3 = "AC3"  # 200,001 - 300,000
    AC4 = "AC4"  # 300,001 - 400,000
    AC5 = "AC5"  # 400,001 - 500,000
    AC6 = "AC6"  # over 500,000
    AV8 = "AV8"  # up to 100,000
    AV9 = "AV9"  # 100,001 - 200,000
    AV10 = "AV10"  # 200,001 - 300,000
    AV11 = "AV11"  # 300,001 - 400,000
    AV12 = "AV12"  # 400,001 - 500,000
    AV13 = "AV13"  # over 500,000


# The range of billings each code stands for (upper bound None: no upper bound).
BILLING_RANGES: dict[BillingCode, tuple[Decimal, Decimal | None]] = {
    BillingCode.AC0: (Decimal(0), Decimal(0)),
    BillingCode.AC1: (Decimal(1), Decimal(100_000)),
    BillingCode.AC2: (Decimal(100_001), Decimal(200_000)),
    BillingCode.AC3: (Decimal(200_001), Decimal(300_000)),
    BillingCode.AC4: (Decimal(300_001), Decimal(400_000)),
    BillingCode.AC5: (Decimal(400_001), Decimal(500_000)),
    BillingCode.AC6: (Decimal(500_001), None),
    BillingCode.AV8: (Decimal(0), Decimal(100_000)),
    BillingCode.AV9: (Decimal(100_001), Decimal(200_000)),
    BillingCode.AV10: (Decimal(200_001), Decimal(300_000)),
    BillingCode.AV11: (Decimal(300_001), Decimal(400_000)),
    BillingCode.AV12: (Decimal(400_001), Decimal(500_000)),
    BillingCode.AV13: (Decimal(500_001), None),
}


class NatureOfPractice(StrEnum):
    """Question 9, p.8 (check all that apply)."""

    law_corporation_sole = "law_corporation_sole"
    law_corporation_not_sole = "law_corporation_not_sole"
    sole_practitioner = "sole_practitioner"
    association = "association"
    partnership_general = "partnership_general"
    partnership_llp = "partnership_llp"
    multi_discipline_or_combined_licensee = "multi_discipline_or_combined_licensee"
    in_house_counsel = "in_house_counsel"
    employed_other = "employed_other"


NOT_IN_PRIVATE_PRACTICE = frozenset(
    {NatureOfPractice.in_house_counsel, NatureOfPractice.employed_other}
)
PRACTISING_ALONE = frozenset(
    {NatureOfPractice.sole_practitioner, NatureOfPractice.law_corporation_sole}
)
# Practising with others (p.10, p.13): association, partnership, a law corporation of several
# lawyers. The 25,000 deductible's average-billings test and the Innocent Party buy-up follow it.
PRACTISING_WITH_OTHERS = frozenset(
    {
        NatureOfPractice.association,
        NatureOfPractice.partnership_general,
        NatureOfPractice.partnership_llp,
        NatureOfPractice.multi_discipline_or_combined_licensee,
        NatureOfPractice.law_corporation_not_sole,
    }
)
# A law partnership or law corporation: its lawyers choose some options together.
FIRM_WIDE_CHOICE = frozenset(
    {
        NatureOfPractice.law_corporation_sole,
        NatureOfPractice.law_corporation_not_sole,
        NatureOfPractice.partnership_general,
        NatureOfPractice.partnership_llp,
        NatureOfPractice.multi_discipline_or_combined_licensee,
    }
)


class MailingPreference(StrEnum):
    firm = "firm"
    home = "home"


class PaymentMethod(StrEnum):
    cheque = "cheque"
    pre_authorized_debit = "pre_authorized_debit"
    credit_card = "credit_card"


class PayorRelation(StrEnum):
    """Who pays the premium, question 17 (p.14)."""

    law_firm = "law_firm"
    firm_lawyer_or_paralegal_partner = "firm_lawyer_or_paralegal_partner"
    firm_management_company = "firm_management_company"
    spouse = "spouse"
    non_lawyer_employee = "non_lawyer_employee"
    other = "other"


# The firm, its lawyers and paralegal partners and its management company are not third parties.
NOT_THIRD_PARTIES = frozenset(
    {
        PayorRelation.law_firm,
        PayorRelation.firm_lawyer_or_paralegal_partner,
        PayorRelation.firm_management_company,
    }
)


MoneyString = Annotated[Decimal, MONEY_STRING]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(_Section):
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=50)
    postal_code: str | None = Field(default=None, max_length=10)

    def is_complete(self) -> bool:
        return all((self.street, self.city, self.province, self.postal_code))


class SectionA(_Section):
    """Individual lawyer information (questions 1-8)."""

    name: str | None = Field(default=None, max_length=200)
    position: str | None = Field(default=None, max_length=100)
    law_society_number: str | None = Field(default=None, max_length=20)
    preferred_mailing_address: MailingPreference | None = None
    firm_name: str | None = Field(default=None, max_length=200)
    firm_address: Address | None = None
    home_address: Address | None = None
    home_phone: str | None = Field(default=None, max_length=30)
    work_phone: str | None = Field(default=None, max_length=30)
    fax: str | None = Field(default=None, max_length=30)
    email: Email | None = None
    indian_status_certificate: bool | None = None
    newly_called_first_time: bool = Field(
        default=False,
        description="Newly called to the Bar for the first time (p.6, questions 3, 5 and 6): "
        "enters 0 years, AC0 and 0 hours, and may leave Section D empty",
    )
    years_in_practice: int | None = Field(default=None, ge=0, le=80)
    practised_outside_ontario: bool | None = None
    billing_code: BillingCode | None = None
    gross_billings: MoneyString | None = Field(
        default=None,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="The lawyer's own gross billings last fiscal year, where a rule needs the "
        "amount (25,000 deductible practising alone: AC4, AV11; Part-Time with an AV code)",
    )
    average_gross_billings: MoneyString | None = Field(
        default=None,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="The firm's average gross billings per lawyer last fiscal year, where the "
        "25,000 deductible needs it (practising with others: AV10 or any AC code)",
    )
    hours_last_fiscal_year: int | None = Field(default=None, ge=0, le=8784)
    primary_area: PracticeArea | None = None
    secondary_area: PracticeArea | None = None
    personal_law_corporation: str | None = Field(default=None, max_length=200)


class SectionB(_Section):
    """Firm information (questions 9-12)."""

    nature_of_practice: list[NatureOfPractice] | None = None
    # Bounded far above any firm (the largest have a few thousand people): an unbounded number
    # could be stored beyond what the documents' reader reads exactly (app/core/db.py).
    lawyers_and_paralegal_partners: int | None = Field(default=None, ge=0, le=100_000)
    non_lawyer_staff: int | None = Field(default=None, ge=0, le=100_000)
    excess_insurer: str | None = Field(default=None, max_length=200)
    excess_limit_per_claim: MoneyString | None = Field(default=None, ge=0, decimal_places=2)
    excess_limit_aggregate: MoneyString | None = Field(default=None, ge=0, decimal_places=2)


class SectionC(_Section):
    """Coverage options (questions 13-16)."""

    effective_date: date | None = None
    deductible: Deductible | None = None
    restricted_practice: bool = False
    part_time: bool = False
    practice_options_declaration_signed: bool = False
    real_estate: bool = False
    real_estate_bankrupt: bool = False
    real_estate_fraud_conviction_or_discipline: bool = False
    real_estate_law_society_restriction: bool = False
    innocent_party_sublimit: InnocentPartySublimit = InnocentPartySublimit.limit_250000
    locum: bool = False
    locum_contracting_firm_sublimit: InnocentPartySublimit | None = None
    risk_management_programs: int = Field(default=0, ge=0, le=20)


class SectionD(_Section):
    """Claims and circumstances not yet notified."""

    unreported_claims_or_circumstances: bool | None = None


class SectionE(_Section):
    """Premium payment (questions 17-20). Card numbers are never taken here."""

    third_party_payor: bool | None = None
    third_party_payor_relation: PayorRelation | None = None
    third_party_payor_name: str | None = Field(default=None, max_length=200)
    third_party_consent_confirmed: bool = False
    payment_plan: PaymentPlan | None = None
    payment_method: PaymentMethod | None = None


class SectionF(_Section):
    """Warranty, signature and the Personal Information Statement."""

    warranty_signed: bool = False
    signature_name: str | None = Field(default=None, max_length=200)
    signed_on: date | None = None
    personal_information_statement_acknowledged: bool = False


class ApplicationForm(_Section):
    a: SectionA = Field(default_factory=SectionA)
    b: SectionB = Field(default_factory=SectionB)
    c: SectionC = Field(default_factory=SectionC)
    d: SectionD = Field(default_factory=SectionD)
    e: SectionE = Field(default_factory=SectionE)
    f: SectionF = Field(default_factory=SectionF)
