"""The hand-written floor: raw asyncpg + Starlette doing the same work per request as the
service's audited endpoints, as cheaply as it can honestly be done, so that the ratio
service/floor measures the service's overhead and not a handicap of the floor.

Per request, like the service: verify the JWT (PyJWT, HS256 pinned, aud/iss/exp/iat/sub
required; a verified token is remembered with its expiry, as the service does), slide the
session's idle clock with the service's checks (idle, absolute limit, revoked, user disabled,
role/firm/scopes unchanged), read the row(s) with the same access rule for the caller, insert one
audit event (the service's columns, `_EVENT_COLUMNS`, with its HMAC `event_mac`), commit, and
answer the same JSON body (orjson).

Round trips, each statement in autocommit (one implicit transaction per statement):
- a record by id, when the event's data subject is known before reading (a lawyer reads their
  own records; a user record's subject is the user): ONE statement that slides the session,
  reads the row only if the session is live and inserts the event only if a row was read;
- a page of a list (the event names the rows returned, so its MAC needs them first), or a record
  whose owner is not known in advance (firm admins, staff): TWO — the SELECT, then the session
  slide and the event's insert in one statement, which writes nothing when the session ended;
- POST /quotes: ONE statement (slide, insert the quote, insert the event).

A claims notice is read with its claims file, its calls and its policy's cover as JSON subqueries
(the service's `NOTICES` text); its deductible and sublimits, and an exemption's coverage while
exempt, come from the service's pure rules (that is the work), everything around them is the
floor's own.

Run: python bench/floor.py --port 8101 (DATABASE_URL, SECRET_KEY, and optionally AUDIT_KEY,
SESSION_IDLE_TIMEOUT_SECONDS, JWT_ISSUER, JWT_AUDIENCE, DB_POOL_SIZE as for the service).
`python bench/floor.py --check` reports where the service's SQL has drifted from the floor's.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import hashlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import asyncpg
import jwt
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

try:  # the audit trail's module moved from app/audit to app/core
    from app.core.audit_chain import audit_key_from, event_mac, jsonable, redact
except ImportError:  # pragma: no cover
    from app.audit.chain import audit_key_from, event_mac, jsonable, redact  # type: ignore
try:
    from app.core.audit_trail import _EVENT_COLUMNS
except ImportError:  # pragma: no cover
    from app.audit.recorder import _EVENT_COLUMNS  # type: ignore
from app.claims_notices.rules import (
    DeductibleFacts,
    SublimitFacts,
    applicable_sublimits,
    claim_deductible,
)
from app.claims_notices.schemas import NoticeFacts
from app.exemptions.form import Reason
from app.exemptions.rules import (
    PRACTICE_AGGREGATE,
    PRACTICE_PER_CLAIM,
    PolicyLimits,
    coverage_while_exempt,
)
from app.payments.rules import EntryKind as LedgerKind
from app.payments.rules import LedgerEntry as LedgerLine
from app.payments.rules import balance as ledger_balance
from app.payments.rules import owed as ledger_owed
from app.payments.rules import received as ledger_received
from app.payments.service import applies_from_note
from app.quotes.rate_tables import available_years, load_rate_table
from app.quotes.rules import (
    Deductible,
    InnocentPartySublimit,
    PaymentPlan,
    QuoteInput,
    QuoteInputError,
    compute_quote,
)

SECRET = os.environ.get("SECRET_KEY", "")
AUDIT_KEY = (
    os.environ["AUDIT_KEY"].encode() if os.environ.get("AUDIT_KEY") else audit_key_from(SECRET)
)
IDLE = timedelta(seconds=int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", "3600")))
ISSUER = os.environ.get("JWT_ISSUER", "lpl-portal")
AUDIENCE = os.environ.get("JWT_AUDIENCE", "lpl-portal-api")
POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "10"))

EVENT_NAMES = tuple(name for name, _ in _EVENT_COLUMNS)
ROLES = frozenset(
    {
        "lawyer",
        "firm_admin",
        "integration",
        "customer_service",
        "underwriter",
        "claims",
        "finance",
        "auditor",
        "admin",
    }
)
FIRM_ROLES = frozenset({"firm_admin", "integration"})
QUOTE_READERS = frozenset({"customer_service", "underwriter", "finance"})
APPLICATION_READERS = frozenset({"customer_service", "underwriter"})
POLICY_READERS = frozenset({"customer_service", "underwriter", "finance"})
EXEMPTION_READERS = frozenset({"customer_service", "underwriter", "finance"})
PAYMENT_READERS = frozenset({"finance", "customer_service"})
MAX_LIMIT = 200

# --- SQL ---------------------------------------------------------------------------------
# The service's session slide (app/auth/repository.py TOUCH_SESSION_SQL), word for word;
# `--check` says when the two differ.
SLIDE = """\
UPDATE auth_session SET last_seen_at = now()
FROM app_user u
WHERE auth_session.id = :session_id AND auth_session.user_id = :session_user_id
  AND auth_session.revoked_at IS NULL
  AND auth_session.last_seen_at > now() - CAST(:session_idle AS interval)
  AND auth_session.absolute_expires_at > now()
  AND u.id = auth_session.user_id AND u.disabled_at IS NULL AND u.role = :session_role
  AND u.firm_id IS NOT DISTINCT FROM CAST(:session_firm_id AS uuid)
  AND u.scopes = CAST(:session_scopes AS varchar[])
RETURNING auth_session.id"""
# The service's visibility rule for a lawyer's records (app/users/acting_for.py), per caller,
# as the floor writes it too (see `visibility`): the branch for a lawyer and for a firm.
VISIBLE_OWN = "{owner} = CAST(:lawyer_id AS uuid)"
VISIBLE_FIRM = (
    "{owner} IN (SELECT member.id FROM app_user AS member"
    " WHERE member.firm_id = CAST(:firm_id AS uuid))"
)

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True, slots=True)
class Sql:
    """A statement written with :names, sent with $n; `args` orders a dict of values."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, named: str) -> Sql:
        names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        return cls(_NAMED.sub(number, named), tuple(names))

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[n] for n in self.names]


# Column types, read once at start-up: the event's columns follow the table, not a copy here.
COLUMN_TYPES: dict[str, dict[str, str]] = {}


def typed(table: str, names: Iterable[str], prefix: str) -> str:
    """`CAST(:prefix_col AS type), ...` for INSERT ... SELECT (no column to infer types from)."""
    types = COLUMN_TYPES[table]
    return ", ".join(f"CAST(:{prefix}{n} AS {types[n]})" for n in names)


def event_insert(condition: str) -> str:
    return (
        f"INSERT INTO audit_event ({', '.join(EVENT_NAMES)}) "
        f"SELECT {typed('audit_event', EVENT_NAMES, 'ev_')} WHERE {condition}"
    )


# --- the records --------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    resource_type: str
    select: str  # columns FROM table AS r (joins allowed)
    owner: str | None  # the owning lawyer's column (None: no per-lawyer rule)
    subject: str | None  # the result column holding the event's data subject
    order: str  # keyset column, "r.created_at" or "r.seq"
    newest_first: bool
    readers: frozenset[str]
    render: Callable[[Any], dict[str, Any]]
    # the domain's own rule for who sees what, (kind, SQL) for a caller; None: `visibility`'s
    rule: Callable[[Caller], tuple[str, str]] | None = None


def money(v: Any) -> str:
    return f"{v:.2f}"


QUOTE_INPUTS = (
    "program_year",
    "effective_date",
    "years_in_practice",
    "deductible",
    "restricted_practice",
    "part_time",
    "real_estate",
    "innocent_party_sublimit",
    "risk_management_programs",
    "indian_status_certificate",
    "payment_plan",
)


def quote_json(row: Any, p: str = "") -> dict[str, Any]:
    inputs = row[p + "inputs"]
    return {
        "id": row[p + "id"],
        "lawyer_id": row[p + "owner_id"],
        **{f: inputs.get(f) for f in QUOTE_INPUTS},
        "lines": row[p + "lines"],
        "premium": money(row[p + "premium"]),
        "tax": money(row[p + "tax"]),
        "total": money(row[p + "total"]),
        "instalments": row[p + "instalments"],
        "rate_table_version": row[p + "rate_table_version"],
        "created_at": row[p + "created_at"],
    }


def lawyer_json(row: Any, owner: str) -> dict[str, Any]:
    return {
        "id": row[owner],
        "name": row["lawyer_name__"],
        "law_society_number": row["lawyer_number__"],
    }


def application_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "lawyer_id": row["owner_id"],
        "lawyer": lawyer_json(row, "owner_id"),
        "firm_id": row["firm_id"],
        "program_year": row["program_year"],
        "status": row["status"],
        "form": row["form"],
        "quote": quote_json(row, "q_") if row["q_id"] is not None else None,
        "policy": {
            "id": row["p_id"],
            "program_year": row["p_program_year"],
            "effective_date": row["p_effective_date"],
            "deductible": row["p_deductible"],
            "real_estate_status": row["p_real_estate_status"],
            "premium": money(row["p_premium"]),
            "tax": money(row["p_tax"]),
            "total": money(row["p_total"]),
            "issued_at": row["p_issued_at"],
        }
        if row["p_id"] is not None
        else None,
        "submitted_at": row["submitted_at"],
        "decided_at": row["decided_at"],
        "decision_note": row["decision_note"],
        "tax_certificate_on_file": row["tax_certificate_confirmed_at"] is not None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


def policy_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "application_id": row["application_id"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_json(row, "lawyer_id"),
        "firm_id": row["firm_id"],
        "program_year": row["program_year"],
        "effective_date": row["effective_date"],
        "deductible": row["deductible"],
        "part_time": row["part_time"],
        "real_estate_status": row["real_estate_status"],
        "real_estate_since": row["real_estate_since"],
        "cover_ends": row["cover_ends"],
        "premium": money(row["premium"]),
        "tax": money(row["tax"]),
        "total": money(row["total"]),
        "issued_at": row["issued_at"],
        "updated_at": row["updated_at"],
    }


USER_FIELDS = (
    "id",
    "username",
    "role",
    "email",
    "full_name",
    "firm_id",
    "scopes",
    "disabled",
    "locked",
    "last_login_at",
    "role_changed_at",
    "created_at",
    "updated_at",
    "version",
)
EVENT_FIELDS = (
    "id",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "request_id",
    "client_ip",
    "user_agent",
    "subject_ids",
    "resource_ids",
    "details",
)
if "client_request_id" in EVENT_NAMES:  # shown beside our request id once the column exists
    EVENT_FIELDS = (*EVENT_FIELDS[:11], "client_request_id", *EVENT_FIELDS[11:])


def fields_json(names: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    def render(row: Any) -> dict[str, Any]:
        return {n: row[n] for n in names}

    return render


QUOTE_COLUMNS = (
    "{a}.id AS {p}id, {a}.owner_id AS {p}owner_id, {a}.inputs AS {p}inputs, {a}.lines AS {p}lines,"
    " {a}.premium AS {p}premium, {a}.tax AS {p}tax, {a}.total AS {p}total,"
    " {a}.instalments AS {p}instalments, {a}.rate_table_version AS {p}rate_table_version,"
    " {a}.created_at AS {p}created_at"
)
QUOTES = Domain(
    "quote",
    f"SELECT {QUOTE_COLUMNS.format(a='r', p='')} FROM quote AS r",
    owner="r.owner_id",
    subject="owner_id",
    order="r.created_at",
    newest_first=True,
    readers=QUOTE_READERS,
    render=quote_json,
)
# Whose record it is: the owning lawyer's name and Law Society number, joined (app/users/whose.py).
LAWYER_COLUMNS = "lw.full_name AS lawyer_name__, lw.username AS lawyer_number__"
LAWYER_JOIN = "JOIN app_user AS lw ON lw.id = {owner}"
APPLICATIONS = Domain(
    "application",
    "SELECT r.id, r.owner_id, r.firm_id, r.program_year, r.status, r.form, r.submitted_at,"
    " r.decided_at, r.decision_note, r.tax_certificate_confirmed_at, r.created_at,"
    f" r.updated_at, r.version, {LAWYER_COLUMNS}, "
    + QUOTE_COLUMNS.format(a="q", p="q_")
    + ", p.id AS p_id, p.program_year AS p_program_year, p.effective_date AS p_effective_date,"
    " p.deductible AS p_deductible, p.real_estate_status AS p_real_estate_status,"
    " p.premium AS p_premium, p.tax AS p_tax, p.total AS p_total, p.issued_at AS p_issued_at"
    f" FROM application AS r {LAWYER_JOIN.format(owner='r.owner_id')}"
    " LEFT JOIN quote AS q ON q.id = r.quote_id"
    " LEFT JOIN policy AS p ON p.application_id = r.id AND r.status = 'approved'",
    owner="r.owner_id",
    subject="owner_id",
    order="r.created_at",
    newest_first=True,
    readers=APPLICATION_READERS,
    render=application_json,
)
POLICIES = Domain(
    "policy",
    "SELECT r.id, r.application_id, r.lawyer_id, r.firm_id, r.program_year, r.effective_date,"
    " r.deductible, r.part_time, r.real_estate_status, r.real_estate_since, r.cover_ends,"
    f" r.premium, r.tax, r.total, r.issued_at, r.updated_at, {LAWYER_COLUMNS}"
    f" FROM policy AS r {LAWYER_JOIN.format(owner='r.lawyer_id')}",
    owner="r.lawyer_id",
    subject="lawyer_id",
    order="r.issued_at",
    newest_first=True,
    readers=POLICY_READERS,
    render=policy_json,
)
USERS = Domain(
    "user",
    "SELECT r.id, r.username, r.role, r.email, r.full_name, r.firm_id, r.scopes,"
    " r.disabled_at IS NOT NULL AS disabled,"
    " (r.locked_until IS NOT NULL AND r.locked_until > now()) AS locked,"
    " r.last_login_at, r.role_changed_at, r.created_at, r.updated_at, r.version"
    " FROM app_user AS r",
    owner=None,
    subject="id",
    order="r.created_at",
    newest_first=False,
    readers=frozenset(),
    render=fields_json(USER_FIELDS),
)
EVENTS = Domain(
    "audit_event",
    f"SELECT {', '.join('r.' + f for f in EVENT_FIELDS)} FROM audit_event AS r",
    owner=None,
    subject=None,
    order="r.seq",
    newest_first=True,
    readers=frozenset(),
    render=fields_json(EVENT_FIELDS),
)


# Claims notices (app/claims_notices): the notice with its claims file, its calls and its
# policy's cover as JSON subqueries, one statement; the deductible and the sublimits computed by
# the service's pure rules (app/claims_notices/rules.py) from the facts and the cover.
NOTICE_FILE = (
    "(SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.position), '[]'::jsonb)"
    " FROM claim_file_entry AS e WHERE e.notice_id = r.id)"
)
NOTICE_CALLS = (
    "(SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.cumulative), '[]'::jsonb)"
    " FROM deductible_call AS c WHERE c.notice_id = r.id)"
)
NOTICE_COVER = (
    "(SELECT jsonb_build_object('id', p.id, 'program_year', p.program_year,"
    " 'deductible', p.deductible, 'options', p.options,"
    " 'real_estate_status', p.real_estate_status)"
    " FROM policy AS p WHERE p.id = r.policy_id)"
)
NOTICE_COLUMNS = (
    f"r.*, {NOTICE_FILE} AS file__, {NOTICE_CALLS} AS calls__, {NOTICE_COVER} AS cover__,"
    f" {LAWYER_COLUMNS}"
)
# A notice's facts as answered: the stored ones over the defaults of every fact (read once).
FACT_DEFAULTS = NoticeFacts().model_dump(mode="json")
INCLUDED_INNOCENT_PARTY = Decimal("250000.00")
CENT = Decimal("0.01")


def notices_visible(caller: Caller) -> tuple[str, str]:
    """app/claims_notices/repository.py `visible_to`: the lawyer their own; a firm admin or
    integration what it filed for a current member of its firm; claims staff every notice
    filed and their own drafts; nobody else any."""
    if caller.role == "claims":
        return "all", "(r.status <> 'draft' OR r.filed_by_id = CAST(:viewer_id AS uuid))"
    if caller.role == "lawyer":
        return "own", VISIBLE_OWN.format(owner="r.lawyer_id")
    if caller.role in FIRM_ROLES and caller.firm_id is not None:
        return "firm", (
            VISIBLE_FIRM.format(owner="r.lawyer_id")
            + " AND r.filed_by_id = CAST(:viewer_id AS uuid)"
        )
    return "none", "FALSE"


def _money_or_none(v: Any) -> str | None:
    return None if v is None else money(Decimal(str(v)))


def _stamp(v: str) -> datetime:
    return datetime.fromisoformat(v)


def notice_json(row: Any) -> dict[str, Any]:
    facts = {**FACT_DEFAULTS, **(row["facts"] or {})}
    steps = list(row["social_engineering_steps"] or [])
    facts["social_engineering_steps"] = steps
    cover = row["cover__"]
    deductible = None
    if cover:
        buy_up = (cover["options"] or {}).get("innocent_party_sublimit")
        limit = Decimal(buy_up).quantize(CENT) if buy_up else INCLUDED_INNOCENT_PARTY
        real_estate = cover["real_estate_status"] == "in_force"
        d = claim_deductible(
            Deductible(cover["deductible"]),
            DeductibleFacts(
                counterfeit_instrument=facts["counterfeit_instrument"],
                title_insured_no_levy=facts["title_insured_no_levy"],
                conflict_of_interest=facts["conflict_of_interest"],
                administrative_dismissal=facts["administrative_dismissal"],
            ),
        )
        deductible = {
            "option": cover["deductible"],
            "amount": money(d.amount),
            "basis": d.basis,
            "adjustments": list(d.adjustments),
        }
    else:
        limit, real_estate = INCLUDED_INNOCENT_PARTY, False
    sublimits = applicable_sublimits(
        SublimitFacts(
            innocent_party=facts["innocent_party"],
            real_estate=facts["real_estate"],
            social_engineering=facts["social_engineering"],
            social_engineering_steps=frozenset(steps),
            cybercrime=facts["cybercrime"],
        ),
        innocent_party_limit=limit,
        real_estate_option=real_estate,
    )
    entries, calls = row["file__"] or [], row["calls__"] or []
    costs = sum((Decimal(str(e["amount"])) for e in entries if e["amount"] is not None), Decimal(0))
    called = sum((Decimal(str(c["amount"])) for c in calls), Decimal(0))
    return {
        "id": row["id"],
        "reference": row["reference"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_json(row, "lawyer_id"),
        "firm_id": row["firm_id"],
        "filed_by_id": row["filed_by_id"],
        "status": row["status"],
        "channel": row["channel"],
        "kind": row["kind"],
        "received_on": row["reported_on"] if row["status"] != "draft" else None,
        "awareness_date": row["awareness_date"],
        "client_name": row["client_name"],
        "matter_description": row["matter_description"],
        "retainer_date": row["retainer_date"],
        "claimant": row["claimant"],
        "alleged_error": row["alleged_error"],
        "potential_damages": _money_or_none(row["potential_damages"]),
        "chronology": row["chronology"] or [],
        "reported_on_section_d": row["reported_on_section_d"],
        "facts": facts,
        "policy_id": row["policy_id"],
        "deductible": deductible,
        "sublimits": [
            {
                "code": s.code,
                "per_claim": money(s.per_claim),
                "aggregate": _money_or_none(s.aggregate),
                "note": s.note,
            }
            for s in sublimits
        ],
        "counsel_id": row["counsel_id"],
        "acknowledged_at": row["acknowledged_at"],
        "file": [
            {
                "id": e["id"],
                "entry_type": e["entry_type"],
                "milestone": e["milestone"],
                "kind": e["cost_kind"],
                "amount": _money_or_none(e["amount"]),
                "occurred_on": e["occurred_on"],
                "note": e["note"],
                "recorded_by_id": e["recorded_by_id"],
                "created_at": _stamp(e["created_at"]),
            }
            for e in entries
        ],
        "calls": [
            {
                "id": c["id"],
                "due_on": c["due_on"],
                "amount": _money_or_none(c["amount"]),
                "cumulative": _money_or_none(c["cumulative"]),
                "trigger": c["trigger"],
            }
            for c in calls
        ],
        "costs_total": money(costs),
        "called_total": money(called),
        "submitted_at": row["submitted_at"],
        "closed_at": row["closed_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


NOTICES = Domain(
    "claims_notice",
    f"SELECT {NOTICE_COLUMNS} FROM claim_notice AS r {LAWYER_JOIN.format(owner='r.lawyer_id')}",
    owner="r.lawyer_id",
    subject="lawyer_id",
    order="r.created_at",
    newest_first=True,
    readers=frozenset(),
    render=notice_json,
    rule=notices_visible,
)


# Exemptions (app/exemptions): the row; the coverage while exempt by the service's pure rule
# (app/exemptions/rules.py `coverage_while_exempt`) from the form and the facts kept with it.
def exemptions_visible(caller: Caller) -> tuple[str, str]:
    """app/exemptions/repository.py `visible_to`: never a firm's people; else the lawyer's own
    and staff with need to know."""
    if caller.role in FIRM_ROLES:
        return "none", "FALSE"
    return visibility(caller, EXEMPTIONS_RULED)


def _deductible_amount(option: str | None) -> Decimal:
    if not option or option == "nil":
        return Decimal("0.00")
    return Decimal(option.split("_", 1)[0]).quantize(CENT)


def exemption_json(row: Any) -> dict[str, Any]:
    form = row["form"]
    facts = row["facts"] or {}
    coverage = None
    reason, starts = form.get("reason"), form.get("effective_date")
    if reason is not None and starts is not None:
        on = date.fromisoformat(starts)
        current = facts.get("current_deductible")
        c = coverage_while_exempt(
            Reason(reason),
            previously_covered=bool(facts.get("previously_covered")),
            starts_at_year_start=(on.month, on.day) == (1, 1),
            current_policy=PolicyLimits(
                PRACTICE_PER_CLAIM, PRACTICE_AGGREGATE, _deductible_amount(current)
            )
            if current is not None
            else None,
        )
        coverage = {
            "kind": c.kind,
            "per_claim": _money_or_none(c.per_claim),
            "aggregate": _money_or_none(c.aggregate),
            "deductible": _money_or_none(c.deductible),
            "aggregate_reinstated_annually": c.aggregate_reinstated_annually,
            "note": c.note,
            "services_still_covered": list(c.services_still_covered),
        }
    refund = row["refund"]
    return {
        "id": row["id"],
        "lawyer_id": row["owner_id"],
        "lawyer": lawyer_json(row, "owner_id"),
        "filed_by_id": row["filed_by_id"],
        "status": row["status"],
        "channel": row["channel"],
        "form": form,
        "received_on": row["received_on"],
        "needs_review": row["needs_review"],
        "coverage": coverage,
        "refund": {
            **refund,
            **{k: money(Decimal(str(refund[k]))) for k in ("premium", "tax", "total")},
        }
        if refund
        else None,
        "review_note": row["review_note"],
        "reviewed_at": row["reviewed_at"],
        "ended_on": row["ended_on"],
        "submitted_at": row["submitted_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


EXEMPTIONS = Domain(
    "exemption",
    f"SELECT r.*, {LAWYER_COLUMNS} FROM exemption AS r {LAWYER_JOIN.format(owner='r.owner_id')}",
    owner="r.owner_id",
    subject="owner_id",
    order="r.created_at",
    newest_first=True,
    readers=EXEMPTION_READERS,
    render=exemption_json,
    rule=exemptions_visible,
)
EXEMPTIONS_RULED = Domain(**{**EXEMPTIONS.__dict__, "rule": None})  # the lawyers' rule alone


# Payments (app/payments): an authorization as answered (the account number masked, the
# 10-day rule's sentence from the service's own wording); a policy's account with its
# receivables (what is unpaid of each, from the ledger), its ledger, the lawyer's deductible
# calls and their ledger, and its refunds as JSON subqueries of one statement; the figures
# (balance, owed, received, due now) by the service's pure ledger rules (app/payments/rules.py).
MASK = "\u2022" * 4


def authorization_json(row: Any) -> dict[str, Any]:
    notice = 30 if row["notice_days"] == 30 else 10
    return {
        "id": row["id"],
        "policy_id": row["policy_id"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_json(row, "lawyer_id"),
        "method": row["method"],
        "plan": row["plan"],
        "payor_name": row["payor_name"],
        "payor_is_lawyer": row["payor_is_lawyer"],
        "third_party_consent": row["third_party_consent"],
        "institution_number": row["institution_number"],
        "transit_number": row["transit_number"],
        "account_number": MASK + row["account_last4"] if row["account_last4"] else None,
        "card_on_file": row["card_token"] is not None,
        "signed_on": row["signed_on"],
        "on_application_form": row["on_application_form"],
        "received_on": row["received_on"],
        "applies_from": row["applies_from"],
        "applies_from_note": applies_from_note(row["applies_from"], notice_days=notice),
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


AUTHORIZATIONS = Domain(
    "payment_authorization",
    f"SELECT r.*, {LAWYER_COLUMNS} FROM payment_authorization AS r"
    f" {LAWYER_JOIN.format(owner='r.lawyer_id')}",
    owner="r.lawyer_id",
    subject="lawyer_id",
    order="r.created_at",
    newest_first=True,
    readers=PAYMENT_READERS,
    render=authorization_json,
)
# A receivable with what is left to pay of it (app/payments/repository.py `_UNPAID`).
UNPAID = (
    "coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.id, 'kind', x.kind, 'due_on',"
    " x.due_on, 'scheduled_on', x.scheduled_on, 'amount', x.amount, 'status', x.status,"
    " 'unpaid', x.amount + coalesce((SELECT sum(CASE e.kind WHEN 'payment' THEN -e.amount"
    " ELSE e.amount END) FROM ledger_entry AS e WHERE e.receivable_id = x.id"
    " AND (e.kind = 'payment' OR (e.kind = 'adjustment' AND e.amount < 0))), 0))"
    " ORDER BY x.due_on, x.scheduled_on, x.origin) FROM receivable AS x WHERE {where}), '[]')"
)
LEDGER = (
    "coalesce((SELECT jsonb_agg(jsonb_build_object('seq', e.seq, 'kind', e.kind, 'amount',"
    " e.amount, 'receivable_id', e.receivable_id, 'payor', e.payor, 'processor_reference',"
    " e.processor_reference, 'note', e.note, 'created_at', e.created_at) ORDER BY e.seq)"
    " FROM ledger_entry AS e WHERE {where}), '[]')"
)
REFUNDS = (
    "coalesce((SELECT jsonb_agg(jsonb_build_object('id', f.id, 'payor', f.payor, 'payee',"
    " f.payee, 'amount', f.amount, 'status', f.status, 'reason', f.reason,"
    " 'processor_reference', f.processor_reference, 'failure_reason', f.failure_reason,"
    " 'created_at', f.created_at) ORDER BY f.created_at, f.id)"
    " FROM payment_refund AS f WHERE f.policy_id = r.id), '[]')"
)
# What the service brings in on every read (app/payments/accounts.py `open_account`): the floor
# reads an opened account only, and checks that nothing is waiting to be brought in.
NOTHING_NEW = (
    "NOT EXISTS (SELECT 1 FROM mid_term_change AS m WHERE m.policy_id = r.id"
    " AND m.total_adjustment <> 0 AND NOT EXISTS (SELECT 1 FROM receivable AS x"
    " WHERE x.origin = 'adjustment:' || m.id::text))"
    " AND NOT EXISTS (SELECT 1 FROM deductible_call AS c WHERE c.lawyer_id = r.lawyer_id"
    " AND NOT EXISTS (SELECT 1 FROM receivable AS x"
    " WHERE x.origin = 'deductible_call:' || c.id::text))"
)
ACCOUNT_COLUMNS = (
    "a.policy_id AS id, a.lawyer_id, a.status, a.delinquent_since, a.opened_at AS created_at,"
    f" {UNPAID.format(where='x.policy_id = a.policy_id')} AS receivables__,"
    f" {LEDGER.format(where='e.policy_id = a.policy_id')} AS ledger__,"
    " "
    + UNPAID.format(where="x.lawyer_id = a.lawyer_id AND x.kind = 'deductible_call'")
    + " AS calls__, "
    + LEDGER.format(where="e.policy_id IS NULL AND e.lawyer_id = a.lawyer_id")
    + " AS call_ledger__"
)
ACCOUNTS = Domain(
    "payment_account",
    f"SELECT r.*, {REFUNDS} AS refunds__, {NOTHING_NEW} AS nothing_new__, {LAWYER_COLUMNS}"
    f" FROM (SELECT {ACCOUNT_COLUMNS} FROM payment_account AS a) AS r"
    f" {LAWYER_JOIN.format(owner='r.lawyer_id')}",
    owner="r.lawyer_id",
    subject="lawyer_id",
    order="r.created_at",
    newest_first=True,
    readers=PAYMENT_READERS,
    render=lambda row: account_json(row),
)


def _d(v: Any) -> Decimal:
    return Decimal(str(v)).quantize(CENT)


def _receivable(x: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": x["id"],
        "kind": x["kind"],
        "due_on": x["due_on"],
        "scheduled_on": x["scheduled_on"],
        "amount": money(_d(x["amount"])),
        "unpaid": money(max(_d(x["unpaid"]), Decimal("0.00"))),
        "status": x["status"],
    }


def _lines(entries: list[dict[str, Any]]) -> list[LedgerLine]:
    return [LedgerLine(LedgerKind(e["kind"]), _d(e["amount"])) for e in entries]


def account_json(row: Any) -> dict[str, Any]:
    # the service would bring these in first (a write the floor does not model)
    assert row["nothing_new__"], "the floor reads opened accounts with nothing new to bring in"
    receivables, ledger = row["receivables__"], row["ledger__"]
    lines = _lines(ledger)
    on = datetime.now(UTC).date().isoformat()
    delinquent = row["status"] == "delinquent"
    due_now = sum(
        (
            _d(x["unpaid"])
            for x in receivables
            if x["status"] != "cancelled" and (delinquent or x["due_on"] <= on)
        ),
        Decimal("0.00"),
    )
    return {
        "policy_id": row["id"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_json(row, "lawyer_id"),
        "payment_status": row["status"],
        "balance": money(ledger_balance(lines)),
        "owed": money(ledger_owed(lines)),
        "received": money(ledger_received(lines)),
        "due_now": money(due_now),
        "receivables": [_receivable(x) for x in receivables],
        "ledger": [
            {**e, "amount": money(_d(e["amount"])), "created_at": _stamp(e["created_at"])}
            for e in ledger
        ],
        "deductible_calls": [_receivable(x) for x in row["calls__"]],
        "deductible_balance": money(ledger_balance(_lines(row["call_ledger__"]))),
        "refunds": [
            {**f, "amount": money(_d(f["amount"])), "created_at": _stamp(f["created_at"])}
            for f in row["refunds__"]
        ],
    }


# --- the caller ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: uuid.UUID
    session_id: uuid.UUID
    username: str
    role: str
    firm_id: uuid.UUID | None
    scopes: tuple[str, ...]  # sorted

    def slide(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "session_user_id": self.user_id,
            "session_idle": IDLE,
            "session_role": self.role,
            "session_firm_id": self.firm_id,
            "session_scopes": list(self.scopes),
        }


_verified: dict[str, tuple[Caller, int]] = {}
_VERIFIED_MAX = 10_000


def verify(token: str) -> tuple[Caller, int] | None:
    try:
        if jwt.get_unverified_header(token).get("alg") != "HS256":
            return None
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        if claims.get("token_use") != "access" or claims.get("role") not in ROLES:
            return None
        firm = claims.get("firm")
        caller = Caller(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            username=str(claims["preferred_username"]),
            role=str(claims["role"]),
            firm_id=uuid.UUID(firm) if firm else None,
            scopes=tuple(sorted(str(claims.get("scope", "")).split())),
        )
        return caller, int(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


def caller_of(request: Request) -> Caller | None:
    """The token's caller; a token verified once is remembered, its expiry still checked (the
    service does the same). Whether the session is alive is the slide's business."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    known = _verified.get(token)
    if known is None:
        known = verify(token)
        if known is None:
            return None
        _verified[token] = known
        if len(_verified) > _VERIFIED_MAX:
            del _verified[next(iter(_verified))]
    caller, expires = known
    return caller if time.time() < expires else None


def visibility(caller: Caller, domain: Domain) -> tuple[str, str]:
    """The service's rule for a lawyer's records, written for this caller's role: (kind, SQL).
    A lawyer: their own; a firm admin or integration: the current members' of their firm;
    staff with need to know: all; anyone else: nothing."""
    if domain.rule is not None:
        return domain.rule(caller)
    if domain.owner is None:
        return "all", "TRUE"
    # The service's own text (`--check` compares it with app/users/acting_for.py).
    if caller.role == "lawyer":
        return "own", VISIBLE_OWN.format(owner=domain.owner)
    if caller.role in FIRM_ROLES and caller.firm_id is not None:
        return "firm", VISIBLE_FIRM.format(owner=domain.owner)
    if caller.role in domain.readers:
        return "all", "TRUE"
    return "none", "FALSE"


# --- statements ----------------------------------------------------------------------------


@cache
def read_one_sql(domain: Domain, where: str) -> Sql:
    """Slide the session, read the record if the session is live, log the read if found."""
    return Sql.of(
        f"WITH touched AS ({SLIDE}),"
        f" found AS ({domain.select} WHERE r.id = :record_id AND {where}"
        " AND EXISTS (SELECT 1 FROM touched)),"
        f" logged AS ({event_insert('EXISTS (SELECT 1 FROM found)')})"
        " SELECT EXISTS (SELECT 1 FROM touched) AS live__, found.*"
        " FROM (SELECT 1) AS one LEFT JOIN found ON TRUE"
    )


@cache
def select_one_sql(domain: Domain, where: str) -> Sql:
    return Sql.of(f"{domain.select} WHERE r.id = :record_id AND {where}")


@cache
def page_sql(domain: Domain, where: str, after: bool) -> Sql:
    way = "DESC" if domain.newest_first else "ASC"
    beyond = "<" if domain.newest_first else ">"
    if domain.order == "r.seq":
        keyset, order = "r.seq < CAST(:after_seq AS bigint)", f"r.seq {way}"
    else:
        keyset = (
            f"({domain.order}, r.id) {beyond}"
            " (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid))"
        )
        order = f"{domain.order} {way}, r.id {way}"
    return Sql.of(
        f"{domain.select} WHERE {where}{' AND ' + keyset if after else ''}"
        f" ORDER BY {order} LIMIT :limit_plus_one"
    )


@cache
def log_sql() -> Sql:
    """Slide the session and log the request's event; no row when the session has ended."""
    return Sql.of(
        f"WITH touched AS ({SLIDE}) {event_insert('EXISTS (SELECT 1 FROM touched)')} RETURNING 1"
    )


@cache
def log_alone_sql() -> Sql:
    return Sql.of(event_insert("TRUE"))


QUOTE_INSERT_COLUMNS = (
    "id",
    "owner_id",
    "firm_id",
    "created_by_id",
    "program_year",
    "rate_table_version",
    "rate_table_digest",
    "effective_date",
    "inputs",
    "lines",
    "premium",
    "tax",
    "total",
    "instalments",
)


@cache
def create_quote_sql() -> Sql:
    return Sql.of(
        f"WITH touched AS ({SLIDE}),"
        f" created AS (INSERT INTO quote ({', '.join(QUOTE_INSERT_COLUMNS)})"
        f" SELECT {typed('quote', QUOTE_INSERT_COLUMNS, 'q_')}"
        " WHERE EXISTS (SELECT 1 FROM touched) RETURNING created_at),"
        f" logged AS ({event_insert('EXISTS (SELECT 1 FROM touched)')})"
        " SELECT (SELECT created_at FROM created) AS created_at"
    )


# --- one request: its caller, its audit event, its answer ------------------------------

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# The service keeps the client's X-Request-ID beside its own request id once its events have
# that column (being added as this is written); before, a sane client id was the request id.
CLIENT_REQUEST_ID = "client_request_id" in EVENT_NAMES
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]

pool: asyncpg.Pool | None = None


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID type, which orjson does not know
        return str(value)
    raise TypeError


class Refused(Exception):
    def __init__(self, status: int, resource_id: object = None) -> None:
        self.status = status
        self.resource_id = resource_id


class Call:
    """One request: the request id (X-Request-ID when sane, as the service's middleware), the
    verified caller, and the audit action and resource type it is recorded under."""

    __slots__ = (
        "action",
        "caller",
        "client_request_id",
        "request",
        "request_id",
        "resource_type",
    )

    def __init__(self, request: Request, action: str, resource_type: str | None) -> None:
        self.request = request
        incoming = request.headers.get("x-request-id")
        sane = incoming if incoming and _REQUEST_ID.match(incoming) else None
        if CLIENT_REQUEST_ID:  # the request id is always ours, the client's is kept beside it
            self.request_id, self.client_request_id = uuid.uuid4().hex, sane
        else:
            self.request_id, self.client_request_id = sane or uuid.uuid4().hex, None
        self.caller = caller_of(request)
        self.action = action
        self.resource_type = resource_type

    def who(self, allowed: Callable[[Caller], bool] = lambda c: True) -> Caller:
        if self.caller is None:
            raise Refused(401)
        if not allowed(self.caller):
            raise Refused(403)
        return self.caller

    def event(
        self,
        *,
        resource_id: object = None,
        subjects: Iterable[Any] = (),
        resource_ids: Iterable[Any] = (),
        outcome: str = "success",
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The event's column values (as :ev_<column>), its MAC made as the service makes it."""
        caller, request = self.caller, self.request
        user_agent = request.headers.get("user-agent")
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "occurred_at": datetime.now(UTC),
            "actor_id": caller.user_id if caller else None,
            "actor_role": caller.role if caller else None,
            "actor_label": caller.username if caller else None,
            "action": self.action,
            "resource_type": self.resource_type,
            "resource_id": None if resource_id is None else str(resource_id)[:64],
            "outcome": outcome,
            "request_id": self.request_id,
            "client_ip": request.client.host if request.client else None,
            "user_agent": (user_agent or "")[:512] or None,
            "details": jsonable(redact(details or {})),
            "subject_ids": list(dict.fromkeys(s for s in subjects if s is not None)),
            "resource_ids": [str(r) for r in resource_ids],
            "client_request_id": self.client_request_id,
        }
        row["mac"] = event_mac(AUDIT_KEY, row)
        # a column the floor does not know yet (a newer schema) is written as NULL
        return {f"ev_{name}": row.get(name) for name in EVENT_NAMES}

    def answer(
        self,
        body: Any,
        status: int = 200,
        extra: Iterable[tuple[bytes, bytes]] = (),
        version: int | None = None,
    ) -> Response:
        content = orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z)
        response = Response(content, status_code=status, media_type="application/json")
        response.raw_headers.append((b"x-request-id", self.request_id.encode()))
        response.raw_headers.extend(SECURITY_HEADERS)
        response.raw_headers.extend(extra)
        if version is not None:  # the service's ETag: the version and a digest of the answer
            digest = hashlib.sha256(content).hexdigest()[:16]
            response.raw_headers.append((b"etag", f'"{version}.{digest}"'.encode()))
        return response

    def problem(self, status: int, detail: str) -> Response:
        return self.answer({"status": status, "detail": detail}, status)

    async def refusal(self, refused: Refused) -> Response:
        """A refusal (401/403/404) is an audit event too; a live session still slides."""
        status = refused.status
        values = self.event(
            resource_id=refused.resource_id, outcome="denied", details={"status": status}
        )
        assert pool is not None
        if status != 401 and self.caller is not None:
            stmt = log_sql()
            args = stmt.args({**self.caller.slide(), **values})
            if await pool.fetchval(stmt.text, *args) is None:
                status = 401
        else:
            stmt = log_alone_sql()
            await pool.execute(stmt.text, *stmt.args(values))
        return self.problem(status, "refused")


def endpoint(
    action: str, resource_type: str | None
) -> Callable[[Callable[[Call], Any]], Callable[[Request], Any]]:
    """A route whose refusals are answered and recorded alike."""

    def wrap(handler: Callable[[Call], Any]) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            call = Call(request, action, resource_type)
            try:
                response: Response = await handler(call)
                return response
            except Refused as refused:
                return await call.refusal(refused)

        return route

    return wrap


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any] | None:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, list) else None


# --- the endpoints -------------------------------------------------------------------------


async def read_one(
    call: Call,
    domain: Domain,
    record: str,
    *,
    allowed: Callable[[Caller], bool] = lambda c: True,
    own_only: bool = False,
    etagged: bool = False,
) -> Response:
    caller = call.who(allowed)
    try:
        record_id = uuid.UUID(record)
    except ValueError:
        return call.problem(422, f"{record[:64]} is not an id")
    kind, where = ("own", "r.id = :viewer_id") if own_only else visibility(caller, domain)
    values = {"record_id": record_id, "viewer_id": caller.user_id, **caller.slide()}
    values.update(lawyer_id=caller.user_id, firm_id=caller.firm_id)
    assert pool is not None
    if kind == "own" or domain.subject == "id":
        # The event's subject is known before reading (the caller, whose own record it is, or
        # the user read): one statement slides, reads and logs.
        subject = record_id if domain.subject == "id" else caller.user_id
        stmt = read_one_sql(domain, where)
        values.update(call.event(resource_id=record_id, subjects=(subject,)))
        row = await pool.fetchrow(stmt.text, *stmt.args(values))
        assert row is not None
        if not row["live__"]:
            raise Refused(401)  # the session ended: nothing was written
        if row["id"] is None:  # the session slid; the refusal is recorded on its own
            raise Refused(404, record_id)
    else:  # read first: the event names the owner
        stmt = select_one_sql(domain, where)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(stmt.text, *stmt.args(values))
            if row is None:
                raise Refused(404, record_id)
            subjects = (row[domain.subject],) if domain.subject else ()
            values.update(call.event(resource_id=record_id, subjects=subjects))
            log = log_sql()
            if await conn.fetchval(log.text, *log.args(values)) is None:
                raise Refused(401)  # the session ended: nothing was written
    return call.answer(domain.render(row), version=row["version"] if etagged else None)


async def read_page(
    call: Call, domain: Domain, *, allowed: Callable[[Caller], bool] = lambda c: True
) -> Response:
    caller = call.who(allowed)
    query = call.request.query_params
    unsupported = set(query) - {"limit", "cursor"}
    if unsupported:  # the benchmark reads first pages; the floor does not filter
        return call.problem(400, f"the floor does not filter by {sorted(unsupported)}")
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return call.problem(422, "limit")
    cursor = query.get("cursor") or None
    values = {"limit_plus_one": limit + 1, "viewer_id": caller.user_id, **caller.slide()}
    values.update(lawyer_id=caller.user_id, firm_id=caller.firm_id)
    if cursor is not None:
        position = decode_cursor(cursor)
        try:
            if domain.order == "r.seq":
                assert position is not None and len(position) == 1 and type(position[0]) is int
                values["after_seq"] = position[0]
            else:
                assert position is not None and len(position) == 2
                values["after_at"] = datetime.fromisoformat(position[0])
                values["after_id"] = uuid.UUID(position[1])
        except (AssertionError, ValueError, TypeError):
            return call.problem(422, "cursor")
    stmt = page_sql(domain, visibility(caller, domain)[1], cursor is not None)
    assert pool is not None
    async with pool.acquire() as conn:
        rows = await conn.fetch(stmt.text, *stmt.args(values))
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit and page:
            last = page[-1]
            next_cursor = encode_cursor(
                [last["seq"]]
                if domain.order == "r.seq"
                else [last[domain.order[2:]].isoformat(), str(last["id"])]
            )
        values.update(
            call.event(
                resource_ids=[row["id"] for row in page],
                subjects=[row[domain.subject] for row in page] if domain.subject else (),
                details={"filters": {}, "cursor": cursor, "count": len(page)},
            )
        )
        log = log_sql()
        if await conn.fetchval(log.text, *log.args(values)) is None:
            raise Refused(401)  # the session ended: nothing was written
    return call.answer({"items": [domain.render(row) for row in page], "next_cursor": next_cursor})


def scoped(scope: str) -> Callable[[Caller], bool]:
    """Integrations act only within their scopes; people are unaffected."""
    return lambda c: c.role != "integration" or scope in c.scopes


def role_in(*roles: str) -> Callable[[Caller], bool]:
    return lambda c: c.role in roles


def both(*checks: Callable[[Caller], bool]) -> Callable[[Caller], bool]:
    return lambda c: all(check(c) for check in checks)


# Who the routes let in (app/claims_notices/router.py, app/exemptions/router.py); what each
# sees is the domain's visibility rule.
CLAIMS_READER = scoped("claims:read")
CLAIMS_LISTER = both(role_in("lawyer", "firm_admin", "integration", "claims"), CLAIMS_READER)
EXEMPTION_READER = scoped("exemptions:read")


@endpoint("quote.read", "quote")
async def get_quote(call: Call) -> Response:
    record = call.request.path_params["record"]
    return await read_one(call, QUOTES, record, allowed=scoped("quotes:read"))


@endpoint("quote.list", "quote")
async def list_quotes(call: Call) -> Response:
    return await read_page(call, QUOTES, allowed=scoped("quotes:read"))


@endpoint("application.read", "application")
async def get_application(call: Call) -> Response:
    record = call.request.path_params["record"]
    reader = scoped("applications:read")
    return await read_one(call, APPLICATIONS, record, allowed=reader, etagged=True)


@endpoint("application.list", "application")
async def list_applications(call: Call) -> Response:
    return await read_page(call, APPLICATIONS, allowed=scoped("applications:read"))


@endpoint("policy.read", "policy")
async def get_policy(call: Call) -> Response:
    record = call.request.path_params["record"]
    return await read_one(call, POLICIES, record, allowed=scoped("applications:read"))


@endpoint("policy.list", "policy")
async def list_policies(call: Call) -> Response:
    return await read_page(call, POLICIES, allowed=scoped("applications:read"))


@endpoint("claims_notice.read", "claims_notice")
async def get_notice(call: Call) -> Response:
    record = call.request.path_params["record"]
    return await read_one(call, NOTICES, record, allowed=CLAIMS_READER, etagged=True)


@endpoint("claims_notice.list", "claims_notice")
async def list_notices(call: Call) -> Response:
    return await read_page(call, NOTICES, allowed=CLAIMS_LISTER)


@endpoint("exemption.read", "exemption")
async def get_exemption(call: Call) -> Response:
    record = call.request.path_params["record"]
    return await read_one(call, EXEMPTIONS, record, allowed=EXEMPTION_READER, etagged=True)


# Who the payments routes let in (app/payments/router.py `Reader`, `Finance`): lawyers, firms'
# people and integrations (payments:read), finance and customer service; what each sees is the
# lawyer-records rule with finance and customer service reading all.
PAYMENT_READER = both(
    role_in("lawyer", "firm_admin", "integration", "finance", "customer_service"),
    scoped("payments:read"),
)


@endpoint("payment_authorization.read", "payment_authorization")
async def get_payment_authorization(call: Call) -> Response:
    record = call.request.path_params["record"]
    return await read_one(call, AUTHORIZATIONS, record, allowed=PAYMENT_READER)


@endpoint("payment_authorization.list", "payment_authorization")
async def list_payment_authorizations(call: Call) -> Response:
    return await read_page(call, AUTHORIZATIONS, allowed=PAYMENT_READER)


@endpoint("payment_account.read", "payment_account")
async def get_payment_account(call: Call) -> Response:
    record = call.request.path_params["record"]
    response = await read_one(call, ACCOUNTS, record, allowed=PAYMENT_READER)
    return response


@endpoint("user.read", "user")
async def get_me(call: Call) -> Response:
    record = str(call.who().user_id)
    return await read_one(call, USERS, record, own_only=True, etagged=True)


@endpoint("user.read", "user")
async def get_user(call: Call) -> Response:
    record = call.request.path_params["record"]
    return await read_one(call, USERS, record, allowed=role_in("admin"), etagged=True)


@endpoint("user.list", "user")
async def list_users(call: Call) -> Response:
    return await read_page(call, USERS, allowed=role_in("admin"))


@endpoint("audit_event.list", "audit_event")
async def list_events(call: Call) -> Response:
    return await read_page(call, EVENTS, allowed=role_in("auditor", "admin"))


# POST /quotes: the fields of the service's QuoteCreate, with their defaults and bounds.


def _int_in(lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if type(v) is not int or not lo <= v <= hi:
            raise ValueError
        return v

    return check


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise ValueError
    return v


QUOTE_FIELDS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "program_year": (None, _int_in(2000, 2100)),
    "effective_date": (None, date.fromisoformat),
    "years_in_practice": (0, _int_in(0, 80)),
    "deductible": (Deductible("5000_combined"), Deductible),
    "restricted_practice": (False, _bool),
    "part_time": (False, _bool),
    "real_estate": (False, _bool),
    "innocent_party_sublimit": (InnocentPartySublimit("250000"), InnocentPartySublimit),
    "risk_management_programs": (0, _int_in(0, 20)),
    "indian_status_certificate": (False, _bool),
    "payment_plan": (PaymentPlan("lump_sum"), PaymentPlan),
}


def _json_value(value: Any) -> Any:
    if hasattr(value, "value"):  # an enum
        return value.value
    return value.isoformat() if isinstance(value, date) else value


@endpoint("quote.create", "quote")
async def create_quote(call: Call) -> Response:
    caller = call.who(
        lambda c: c.role in ("lawyer", "firm_admin", "integration") and scoped("quotes:write")(c)
    )
    try:
        body = orjson.loads(await call.request.body())
        if not isinstance(body, dict) or set(body) - {*QUOTE_FIELDS, "lawyer_id"}:
            raise ValueError
        fields = {}
        for name, (default, check) in QUOTE_FIELDS.items():
            if name in body:
                fields[name] = check(body[name])
            elif default is None:
                raise ValueError
            else:
                fields[name] = default
        lawyer_id = uuid.UUID(body["lawyer_id"]) if body.get("lawyer_id") else None
    except (ValueError, TypeError, orjson.JSONDecodeError):
        return call.problem(422, "invalid quote request")
    assert pool is not None
    if caller.role == "lawyer":
        if lawyer_id not in (None, caller.user_id):
            return call.problem(422, "lawyers act for themselves")
        owner_id, firm_id = caller.user_id, caller.firm_id
    else:  # a firm's admin or integration names a lawyer of their firm
        lawyer = lawyer_id and await pool.fetchrow(
            "SELECT role, firm_id FROM app_user WHERE id = $1", lawyer_id
        )
        if not lawyer or lawyer["role"] != "lawyer" or lawyer["firm_id"] != caller.firm_id:
            return call.problem(422, "no lawyer of your firm has this id")
        owner_id, firm_id = lawyer_id, caller.firm_id
    inp = QuoteInput(**fields)
    if inp.program_year not in available_years():
        return call.problem(422, "no rate table")
    table = load_rate_table(inp.program_year)
    try:
        result = compute_quote(inp, table)
    except QuoteInputError:
        return call.problem(422, "cannot be priced")
    quote_id = uuid.uuid4()
    inputs = {f: _json_value(fields[f]) for f in QUOTE_INPUTS}
    lines = [
        {"code": ln.code, "description": ln.description, "amount": money(ln.amount)}
        for ln in result.lines
    ]
    instalments = [
        {"due_date": i.due_date.isoformat(), "amount": money(i.amount)} for i in result.instalments
    ]
    quote = {
        "id": quote_id,
        "owner_id": owner_id,
        "firm_id": firm_id,
        "created_by_id": caller.user_id,
        "program_year": inp.program_year,
        "rate_table_version": table.version,
        "rate_table_digest": table.digest,
        "effective_date": inp.effective_date,
        "inputs": inputs,
        "lines": lines,
        "premium": result.premium,
        "tax": result.tax,
        "total": result.total,
        "instalments": instalments,
    }
    values = {f"q_{k}": v for k, v in quote.items()}
    values.update(caller.slide())
    values.update(
        call.event(
            resource_id=quote_id,
            subjects=(owner_id,),
            details={"after": {**inputs, "lawyer_id": owner_id, "total": money(result.total)}},
        )
    )
    stmt = create_quote_sql()
    created = await pool.fetchval(stmt.text, *stmt.args(values))
    if created is None:
        raise Refused(401)  # the session ended: nothing was written
    quote["created_at"] = created
    location = [(b"location", f"/quotes/{quote_id}".encode())]
    return call.answer(quote_json(quote), 201, location)


# --- start-up ------------------------------------------------------------------------------


async def _codecs(conn: asyncpg.Connection) -> None:
    for name in ("jsonb", "json"):
        await conn.set_type_codec(
            name,
            encoder=lambda v: orjson.dumps(v, default=_default).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _column_types(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "SELECT c.relname, a.attname, format_type(a.atttypid, NULL) AS type"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relname IN ('audit_event', 'quote') AND c.relkind = 'r'"
        " AND pg_table_is_visible(c.oid) AND a.attnum > 0 AND NOT a.attisdropped"
    )
    for row in rows:
        COLUMN_TYPES.setdefault(row["relname"], {})[row["attname"]] = row["type"]


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it came: every statement runs in autocommit and
    leaves no session state (no SET, LISTEN, advisory lock or cursor), so asyncpg's default
    reset (a query, one more round trip per request) has nothing to do. The service's pool does
    not reset either."""


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(
        url, min_size=POOL_SIZE, max_size=POOL_SIZE, init=_codecs, reset=_nothing_to_reset
    )
    async with pool.acquire() as conn:
        await _column_types(conn)
    gc.collect()
    gc.freeze()  # as the service does: start-up objects stay out of the collector's way
    gc.set_threshold(10_000, *gc.get_threshold()[1:])  # as the service does (GC_YOUNG_THRESHOLD)
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/quotes", list_quotes, methods=["GET"]),
        Route("/quotes", create_quote, methods=["POST"]),
        Route("/quotes/{record}", get_quote),
        Route("/applications", list_applications),
        Route("/applications/{record}", get_application),
        Route("/policies", list_policies),
        Route("/policies/{record}", get_policy),
        Route("/claims-notices", list_notices),
        Route("/claims-notices/{record}", get_notice),
        Route("/exemptions/{record}", get_exemption),
        Route("/payments/authorizations", list_payment_authorizations),
        Route("/payments/authorizations/{record}", get_payment_authorization),
        Route("/payments/accounts/{record}", get_payment_account),
        Route("/users", list_users),
        Route("/users/me", get_me),
        Route("/users/{record}", get_user),
        Route("/audit-events", list_events),
    ],
    lifespan=lifespan,
)


# --- drift ---------------------------------------------------------------------------------


def drift() -> list[str]:
    """Where the service's SQL differs from what the floor was written against."""
    notes: list[str] = []

    def same(a: str, b: str) -> bool:
        return " ".join(a.split()) == " ".join(b.split())

    try:
        from app.auth import repository

        if not same(repository.TOUCH_SESSION_SQL, SLIDE):
            notes.append("the session slide (app/auth/repository.py) differs from the floor's")
    except (ImportError, AttributeError) as exc:
        notes.append(f"could not compare the session slide: {exc!r}")
    try:
        from app.accounts.roles import Role
        from app.auth.principal import Principal
        from app.users import acting_for

        for role, expected in ((Role.lawyer, VISIBLE_OWN), (Role.firm_admin, VISIBLE_FIRM)):
            who = Principal(uuid.uuid4(), "x", role, uuid.uuid4(), frozenset(), uuid.uuid4())
            rule = acting_for.lawyer_records_visible(who, readers=frozenset(), owner="{owner}")
            if not same(rule.sql, expected):
                notes.append(f"the visibility rule for a {role} differs from the floor's")
    except (ImportError, AttributeError) as exc:
        notes.append(f"could not compare the visibility rule: {exc!r}")
    try:
        from app.users import whose

        if not same(whose.LAWYER_COLUMNS, LAWYER_COLUMNS) or not same(
            whose.lawyer_join("{owner}"), LAWYER_JOIN
        ):
            notes.append(
                "the lawyer's columns or join (app/users/whose.py) differ from the floor's"
            )
    except (ImportError, AttributeError) as exc:
        notes.append(f"could not compare the lawyer's columns: {exc!r}")
    for module, name, mine in (
        ("app.quotes.repository", "QUOTES", QUOTES),
        ("app.applications.repository", "APPLICATIONS", APPLICATIONS),
        ("app.policies.repository", "POLICIES", POLICIES),
        ("app.users.service", "USERS", USERS),
        ("app.audit.service", "EVENTS", EVENTS),
        ("app.claims_notices.repository", "NOTICES", NOTICES),
        ("app.exemptions.repository", "EXEMPTIONS", EXEMPTIONS),
        ("app.payments.repository", "AUTHORIZATIONS", AUTHORIZATIONS),
    ):
        try:
            source = getattr(__import__(module, fromlist=[name]), name)
            way = "DESC" if mine.newest_first else "ASC"
            expected = (
                f"r.seq {way}" if mine.order == "r.seq" else f"{mine.order} {way}, r.id {way}"
            )
            if source.keyset.order != expected:
                notes.append(
                    f"{module}.{name} orders by {source.keyset.order!r}, the floor by {expected!r}"
                )
            if mine in (NOTICES, EXEMPTIONS) and not same(source.select, mine.select):
                notes.append(f"{module}.{name} selects other columns than the floor")
            subject = getattr(source, "subject", None)
            if subject != mine.subject:
                notes.append(
                    f"{module}.{name}'s subject is {subject!r}, the floor's {mine.subject!r}"
                )
        except (ImportError, AttributeError) as exc:
            notes.append(f"could not compare {module}.{name}: {exc!r}")
    return notes


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--check", action="store_true", help="report drift from the service")
    args = parser.parse_args()
    if args.check:
        for note in drift():
            print(note)
        raise SystemExit(0)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
