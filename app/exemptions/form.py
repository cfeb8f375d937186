"""The Application for Exemption (guide p.25-29) as data: the lawyer's details, the reason (a)-(h)
and one section of facts per reason that has its own conditions.

Every field may be missing while the lawyer drafts; `rules.check_exemption` says what a submission
needs. Types are strict (a JSON `"true"` is not a yes, `"3"` is not a number, a number is not a
date); dates, enumerations and ids are read from their JSON text. Only the section of the chosen
reason counts: the others may hold what a draft typed before the lawyer changed the reason."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from app.core.fields import Email


class Reason(StrEnum):
    """Reason for the exemption request, the form's (a)-(h)."""

    a = "a"  # not practising in Ontario
    b = "b"  # occasional practice in Ontario, resident in another Canadian jurisdiction
    c = "c"  # temporary leave of absence
    d = "d"  # employed in government or education
    e = "e"  # in-house corporate counsel
    f = "f"  # legal aid clinic
    g = "g"  # mobility: resident and practising in a reciprocating jurisdiction
    h = "h"  # estate trustee, trustee for an inter vivos trust, attorney for property


REASON_TITLES: dict[Reason, str] = {
    Reason.a: "Not practising in Ontario",
    Reason.b: "Occasional practice in Ontario, resident in another Canadian jurisdiction",
    Reason.c: "Temporary leave of absence",
    Reason.d: "Employed lawyer: government or education",
    Reason.e: "Employed lawyer: in-house corporate counsel",
    Reason.f: "Employed or volunteer lawyer: legal aid clinic",
    Reason.g: "Mobility: resident and practising in a reciprocating jurisdiction",
    Reason.h: "Estate trustee, trustee for an inter vivos trust, attorney for property",
}


class Province(StrEnum):
    """Canadian provinces and territories, by their postal codes."""

    AB = "AB"
    BC = "BC"
    MB = "MB"
    NB = "NB"
    NL = "NL"
    NS = "NS"
    NT = "NT"
    NU = "NU"
    ON = "ON"
    PE = "PE"
    QC = "QC"
    SK = "SK"
    YT = "YT"


# Reason (g): every Canadian jurisdiction but Ontario and Québec (p.24).
RECIPROCATING = frozenset(Province) - {Province.ON, Province.QC}


class LeaveKind(StrEnum):
    family_or_illness = "family_or_illness"  # at most 5 years
    other = "other"  # at most 2 years


class EmployerKind(StrEnum):
    government_of_canada = "government_of_canada"
    government_of_ontario = "government_of_ontario"
    crown_attorney = "crown_attorney"
    city_solicitor = "city_solicitor"
    law_teacher = "law_teacher"


class OrganizationKind(StrEnum):
    clinic = "clinic"  # within the meaning of the Legal Aid Services Act
    student_legal_services = "student_legal_services"
    aboriginal_legal_services = "aboriginal_legal_services"


class TrusteeRole(StrEnum):
    estate_trustee = "estate_trustee"
    trustee = "trustee"  # for an inter vivos trust
    attorney_for_property = "attorney_for_property"


class TrusteeBasis(StrEnum):
    """Reason (h)'s second condition: (i) no other practice, or (ii) exempt under (d)-(f)."""

    not_otherwise_practising = "not_otherwise_practising"
    qualifies_under_d = "qualifies_under_d"
    qualifies_under_e = "qualifies_under_e"
    qualifies_under_f = "qualifies_under_f"


def _calendar_day(value: object) -> object:
    """A date or its ISO text; not a number (which lax parsing would take for a timestamp), nor a
    date and time."""
    if isinstance(value, str) or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    raise PydanticCustomError("date_type", "Input should be a date written YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_calendar_day)]
Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=200)]
Line = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=100)]
Code = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=20)]
Phone = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=30)]
Matters = Annotated[int, Field(strict=True, ge=0, le=10_000)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(_Section):
    street: Name | None = None
    city: Line | None = None
    province: Line | None = None
    postal_code: Code | None = None

    def is_complete(self) -> bool:
        return all((self.street, self.city, self.province, self.postal_code))


class OccasionalPractice(_Section):
    """(b) Occasional practice in Ontario (at most 10 matters a year), resident elsewhere."""

    province: Province | None = Field(
        default=None, description="Province or territory of residence"
    )
    ontario_matters_this_year: Matters | None = None
    proof_of_coverage: StrictBool = Field(
        default=False, description="Proof of the other jurisdiction's mandatory coverage provided"
    )
    proof_document_id: UUID | None = None


class LeaveOfAbsence(_Section):
    """(c) Temporary leave: at most 5 years for family or illness, 2 otherwise."""

    leave_kind: LeaveKind | None = None
    leave_start: Day | None = None
    leave_expected_end: Day | None = None
    alternative_employment: StrictBool | None = None


class GovernmentOrEducation(_Section):
    """(d) Counsel to a government, Crown attorney, city solicitor, or a law teacher."""

    employer_kind: EmployerKind | None = None
    only_for_employer: StrictBool | None = Field(
        default=None, description="Practises law in Ontario only for the employer (or teaches only)"
    )


class InHouseCounsel(_Section):
    """(e) Counsel to one corporation, not a law corporation, not on secondment from a law firm."""

    corporation_is_law_corporation: StrictBool | None = None
    on_secondment_from_law_firm: StrictBool | None = None
    one_corporation: StrictBool | None = Field(
        default=None, description="Employed by a single corporation (with its affiliates)"
    )


class LegalAidClinic(_Section):
    """(f) A clinic, student or Aboriginal legal services funded by Legal Aid Ontario."""

    organization_kind: OrganizationKind | None = None
    funded_by_legal_aid_ontario: StrictBool | None = None
    employed_by_legal_aid_ontario: StrictBool | None = None
    proof_of_coverage: StrictBool = Field(
        default=False, description="Proof of the organization's liability coverage provided"
    )
    proof_document_id: UUID | None = None


class Mobility(_Section):
    """(g) Resident and practising in a reciprocating jurisdiction, with its mandatory coverage."""

    jurisdiction: Province | None = None
    proof_of_coverage: StrictBool = Field(
        default=False, description="Proof of the jurisdiction's mandatory coverage provided"
    )
    proof_document_id: UUID | None = None


class Trustee(_Section):
    """(h) Estate trustee, trustee or attorney for property, for persons not related."""

    role: TrusteeRole | None = None
    for_non_related_persons: StrictBool | None = None
    named_while_in_practice: StrictBool | None = Field(
        default=None, description="Named while the lawyer practised law in Ontario"
    )
    sub_basis: TrusteeBasis | None = None


class ExemptionForm(_Section):
    reason: Reason | None = None
    effective_date: Day | None = None
    bench_appointment: StrictBool = Field(
        default=False, description="The exemption is based on an appointment to the Bench"
    )
    name: Name | None = None
    law_society_number: Code | None = None
    called_to_bar_on: Day | None = Field(
        default=None, description="Date of call: the exemption may not take effect before it"
    )
    mailing_address: Address | None = None
    telephone: Phone | None = None
    email: Email | None = None
    employer_name: Name | None = Field(
        default=None, description="Employer or law firm as of the effective date: (c)-(g)"
    )
    employer_address: Address | None = None
    employer_address_same_as_mailing: StrictBool = Field(
        default=False, description='The form\'s "as indicated above" box for the employer address'
    )
    pi_statement_acknowledged: StrictBool = Field(
        default=False, description="Read the Personal Information Statement and consent"
    )
    signature: Name | None = Field(default=None, description="The lawyer's name, typed")
    signed_on: Day | None = None
    pro_bono: StrictBool = Field(
        default=False, description="Will provide pro bono services while exempt (staff review)"
    )
    b: OccasionalPractice | None = None
    c: LeaveOfAbsence | None = None
    d: GovernmentOrEducation | None = None
    e: InHouseCounsel | None = None
    f: LegalAidClinic | None = None
    g: Mobility | None = None
    h: Trustee | None = None
