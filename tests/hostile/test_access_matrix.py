"""The access matrix: every route of the app x every role (and no one) x whose record it is.

API.md fixes who may do what: a lawyer their own records; a firm admin and an integration the
records of their firm's lawyers (an integration only within the scopes an admin granted it);
staff by job function (customer service, underwriting, claims, finance, the auditor: read-only,
the audit trail; the admin: users, roles, unlock, disable, no business data). Someone else's
record answers 404, not 403; a role lacking the action answers 403; no credentials, 401.

`MATRIX` below states that contract for every route, as method and path template: one column per
caller, and for a route about one record one outcome per ownership relation, `own/firm/other`:
- own: the caller's own record (a lawyer's quote, anyone's own account, one's own firm);
- firm: a record of another lawyer of the caller's firm (lawyer A2's; the callers with a firm
  are of firm A);
- other: a record of a lawyer of another firm (B1's); for staff, with no firm, any lawyer's.
`-` where the relation does not exist for the caller (staff own no lawyer's records; no one has
a "firm" relation to a firm). Outcomes: `ok` (2xx, or the 4xx named in `REQUESTS` for the route,
one that only a request past access control can get), `401`, `403`, `404`, and for the routes that
create a record for the lawyer named in the body, `422` (the body names a lawyer the caller may
not act for: refused as invalid input naming `lawyer_id`, the same answer as for an id that does
not exist). Where the app disagrees with the contract, the cell is listed in `DEFECTS` with what
the app answers and why that is a defect; the test holds the app to that answer, so that a fix
fails the test until the entry is removed.

The routes are enumerated from `create_app(...).routes`: a route missing from the matrix fails
(add it to the matrix), and so does a matrix entry without a route. Every cell is requested over
HTTP (httpx over ASGI) with real data, built once for the module: two firms, lawyers in each, a
user of every role (an integration with every scope of INTEGRATION_SCOPES, and one with none, to
show that scope refusals come before any lookup), a quote, a draft, a submitted application
approved into a policy, a claims notice (a2's filed by the firm's admin) with a document, an
exemption draft with a document, and a payment authorization of each lawyer's for their policy.
For every refused cell the same request for an id that does not exist must get the same answer
and the same body (no existence oracle), and every 401/403/404 must be in the audit trail as an
event with outcome "denied" and the route's action (`x-audit-action`).
A list answered "ok" must hold each relation's record exactly when the caller may read it by id.

1045 cells (71 routes x 11 callers x their ownership relations), with 416 requests for ids
that do not exist and 60 list visibility checks.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import bindparam, text

from app.accounts.roles import INTEGRATION_SCOPES
from app.core.unit_of_work import AUDIT_ACTION
from app.main import create_app
from tests.applications.test_api import form_json
from tests.conftest import _TURNS, client_for, make_settings
from tests.factories import PASSWORD, login, make_firm, make_user

try:  # newer FastAPI (0.165 here) keeps included routers as route contexts in app.routes
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover (older FastAPI: app.routes holds the APIRoutes)
    iter_route_contexts = None

CALLERS = (
    "anonymous",
    "lawyer",
    "firm_admin",
    "integration",
    "integration_no_scopes",  # column "no_scopes": an integration of firm A granted nothing
    "customer_service",
    "underwriter",
    "claims",
    "finance",
    "auditor",
    "admin",
)
RELATIONS = ("own", "firm", "other")
REFUSED = frozenset({"401", "403", "404", "422"})
AUDITED = frozenset({"401", "403", "404"})

# fmt: off
MATRIX: dict[str, tuple[str, ...]] = {
    # route                                                  anonymous     lawyer        firm_admin    integration   no_scopes     cust_service  underwriter   claims        finance       auditor       admin
    "GET /healthz":                                         ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /readyz":                                          ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /docs":                                            ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /redoc":                                           ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /metrics":                                         ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "POST /auth/token":                                     ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "POST /auth/logout":                                    ("401",        "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "POST /auth/password":                                  ("401",        "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "POST /auth/password-reset":                            ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "POST /auth/password-reset/confirm":                    ("ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /users/me":                                        ("401",        "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /users/access-review":                             ("401",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "ok",         "ok"),
    "POST /users":                                          ("401",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "ok"),
    "GET /users":                                           ("401",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "ok"),
    "GET /users/{user_id}":                                 ("-/-/401",    "403/403/403","403/403/403","403/403/403","403/403/403","403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "ok/-/ok"),
    "PATCH /users/{user_id}":                               ("-/-/401",    "403/403/403","403/403/403","403/403/403","403/403/403","403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "ok/-/ok"),
    "POST /users/{user_id}/disable":                        ("-/-/401",    "403/403/403","403/403/403","403/403/403","403/403/403","403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "ok/-/ok"),
    "POST /users/{user_id}/enable":                         ("-/-/401",    "403/403/403","403/403/403","403/403/403","403/403/403","403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "ok/-/ok"),
    "POST /users/{user_id}/unlock":                         ("-/-/401",    "403/403/403","403/403/403","403/403/403","403/403/403","403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "403/-/403",  "ok/-/ok"),
    "POST /firms":                                          ("401",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "ok"),
    "GET /firms":                                           ("401",        "403",        "403",        "403",        "403",        "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "GET /firms/{firm_id}":                                 ("-/-/401",    "ok/-/404",   "ok/-/404",   "ok/-/404",   "ok/-/404",   "-/-/ok",     "-/-/ok",     "-/-/ok",     "-/-/ok",     "-/-/ok",     "-/-/ok"),
    "POST /quotes":                                         ("-/-/401",    "ok/422/422", "-/ok/422",   "-/ok/422",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /quotes":                                          ("401",        "ok",         "ok",         "ok",         "403",        "ok",         "ok",         "403",        "ok",         "403",        "403"),
    "GET /quotes/{quote_id}":                               ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "POST /applications":                                   ("-/-/401",    "ok/422/422", "-/ok/422",   "-/ok/422",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /applications":                                    ("401",        "ok",         "ok",         "ok",         "403",        "ok",         "ok",         "403",        "403",        "403",        "403"),
    "GET /applications/{application_id}":                   ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "PATCH /applications/{application_id}":                 ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /applications/{application_id}/submit":           ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /applications/{application_id}/decision":         ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /applications/{application_id}/tax-certificate":  ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /policies":                                        ("401",        "ok",         "ok",         "ok",         "403",        "ok",         "ok",         "403",        "ok",         "403",        "403"),
    "GET /policies/{policy_id}":                            ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "GET /policies/{policy_id}/changes":                    ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "POST /policies/{policy_id}/changes":                   ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /policies/{policy_id}/real-estate-review":        ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices":                                 ("-/-/401",    "ok/422/422", "-/ok/422",   "-/ok/422",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /claims-notices":                                  ("401",        "ok",         "ok",         "ok",         "403",        "403",        "403",        "ok",         "403",        "403",        "403"),
    "GET /claims-notices/history":                          ("401",        "403",        "403",        "403",        "403",        "403",        "ok",         "ok",         "403",        "403",        "403"),
    "GET /claims-notices/{notice_id}":                      ("-/-/401",    "ok/404/404", "-/ok/404",   "-/404/404",  "-/403/403",  "-/-/404",    "-/-/404",    "-/-/ok",     "-/-/404",    "-/-/404",    "-/-/404"),
    "PATCH /claims-notices/{notice_id}":                    ("-/-/401",    "ok/404/404", "-/ok/404",   "-/404/404",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices/{notice_id}/submit":              ("-/-/401",    "ok/404/404", "-/ok/404",   "-/404/404",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices/{notice_id}/acknowledge":         ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices/{notice_id}/counsel":             ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices/{notice_id}/milestones":          ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices/{notice_id}/costs":               ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /claims-notices/{notice_id}/documents":           ("-/-/401",    "ok/404/404", "-/ok/404",   "-/404/404",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /claims-notices/{notice_id}/documents":            ("-/-/401",    "ok/404/404", "-/ok/404",   "-/404/404",  "-/403/403",  "-/-/404",    "-/-/404",    "-/-/ok",     "-/-/404",    "-/-/404",    "-/-/404"),
    "GET /claims-notices/{notice_id}/documents/{document_id}": ("-/-/401", "ok/404/404", "-/ok/404",   "-/404/404",  "-/403/403",  "-/-/404",    "-/-/404",    "-/-/ok",     "-/-/404",    "-/-/404",    "-/-/404"),
    "POST /exemptions":                                     ("-/-/401",    "ok/422/422", "-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /exemptions":                                      ("401",        "ok",         "403",        "403",        "403",        "ok",         "ok",         "403",        "ok",         "403",        "403"),
    "GET /exemptions/{exemption_id}":                       ("-/-/401",    "ok/404/404", "-/404/404",  "-/404/404",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/404",    "-/-/ok",     "-/-/404",    "-/-/404"),
    "PATCH /exemptions/{exemption_id}":                     ("-/-/401",    "ok/404/404", "-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /exemptions/{exemption_id}/submit":               ("-/-/401",    "ok/404/404", "-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /exemptions/{exemption_id}/review":               ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /exemptions/{exemption_id}/end":                  ("-/-/401",    "ok/404/404", "-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "POST /exemptions/{exemption_id}/documents":            ("-/-/401",    "ok/404/404", "-/403/403",  "-/403/403",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/403",    "-/-/403"),
    "GET /exemptions/{exemption_id}/documents":             ("-/-/401",    "ok/404/404", "-/404/404",  "-/404/404",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/404",    "-/-/ok",     "-/-/404",    "-/-/404"),
    "GET /exemptions/{exemption_id}/documents/{document_id}": ("-/-/401",  "ok/404/404", "-/404/404",  "-/404/404",  "-/403/403",  "-/-/ok",     "-/-/ok",     "-/-/404",    "-/-/ok",     "-/-/404",    "-/-/404"),
    "GET /rate-tables":                                     ("401",        "ok",         "ok",         "ok",         "403",        "ok",         "ok",         "ok",         "ok",         "ok",         "ok"),
    "POST /payments/authorizations":                        ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "GET /payments/authorizations":                         ("401",        "ok",         "ok",         "ok",         "403",        "ok",         "403",        "403",        "ok",         "403",        "403"),
    "GET /payments/authorizations/{authorization_id}":      ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "GET /payments/accounts/{policy_id}":                   ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/ok",     "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "GET /payments/delinquent":                             ("401",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "ok",         "403",        "403"),
    "POST /payments":                                       ("-/-/401",    "ok/404/404", "-/ok/404",   "-/ok/404",   "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "POST /payments/received":                              ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "POST /payments/refund-payees":                          ("-/-/401",    "403/403/403","-/403/403",  "-/403/403",  "-/403/403",  "-/-/403",    "-/-/403",    "-/-/403",    "-/-/ok",     "-/-/403",    "-/-/403"),
    "POST /payments/processor-events":                      ("401",        "401",        "401",        "401",        "401",        "401",        "401",        "401",        "401",        "401",        "401"),
    "GET /audit-events":                                    ("401",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "403",        "ok",         "ok"),
}
# fmt: on

# The app's answers that disagree with the contract: (route, caller, relation) -> (what the app
# answers, why that is a defect). The relation is None for a route about no one record, and
# "missing" for the answer to an id that does not exist (it should be the refused cells' answer).
DEFECTS: dict[tuple[str, str, str | None], tuple[str, str]] = {
    # None today. The 39 cells found when this matrix was written (roles lacking an action got
    # an empty list or 404 instead of 403; roles checked after the record was looked up) were
    # fixed by checking each route's roles before any lookup (require_access).
}


# --- how each route is called -----------------------------------------------------------------

STRONG = "a long and uncommon passphrase"
WORKED_EXAMPLE = {"program_year": 2025, "effective_date": "2025-01-01", "payment_plan": "quarterly"}
LIST = {"limit": 200}  # every record of the module on one page
# Whose record each relation names, for a lawyer's records (quotes, applications, policies) and
# for the lawyer a record is created for: A1 is the `lawyer` caller, A2 a lawyer of the same firm
# (A), B1 a lawyer of firm B.
OWNERS = {"own": "a1", "firm": "a2", "other": "b1"}
FIRM_CALLERS = frozenset({"lawyer", "firm_admin", "integration", "integration_no_scopes"})


@dataclass
class Caller:
    name: str
    user: dict[str, Any] | None = None  # tests.factories.make_user's answer (None: anonymous)
    firm_id: uuid.UUID | None = None
    token: str | None = None

    @property
    def user_id(self) -> str | None:
        return str(self.user["id"]) if self.user else None


@dataclass
class World:
    app: Any
    client: httpx.AsyncClient
    firm_a: str
    firm_b: str
    callers: dict[str, Caller]
    people: dict[str, dict[str, Any]]  # a1, a2, b1, b_victim (the admin's target), probe
    records: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> owner -> id
    years: itertools.count[int] = field(default_factory=lambda: itertools.count(2030))
    addresses: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


Body = Callable[[World, Caller, str | None], Any]


@dataclass(frozen=True)
class Call:
    """How the matrix calls a route. `kind`: what the ownership relation picks (a lawyer's
    record: quote, application (the approved one), draft, policy; a user; a firm; or the lawyer
    named in the body of a create); None for a route about no one record. `ok`: the statuses
    that count as "ok", for every relation or by relation."""

    kind: str | None = None
    ok: frozenset[int] | dict[str, frozenset[int]] = frozenset({200})
    body: Body | None = None
    form: bool = False
    if_match: str | None = None  # the table whose row's current version If-Match names
    fresh_session: bool = False  # a session of its own (the call ends it)
    query: dict[str, Any] | None = None
    idempotent: bool = False  # sends an Idempotency-Key of its own
    files: Callable[[], dict[str, Any]] | None = None  # a multipart/form-data upload


TODAY = datetime.now(UTC).date().isoformat()
NOTICE = {
    "kind": "claim",
    "awareness_date": TODAY,
    "matter_description": "Missed a limitation period",
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HISTORY_OF_A1: dict[str, Any] = {}  # filled in when the data is built (a1's id)


def _pad(policy_id: str | None) -> dict[str, Any]:
    return {
        "policy_id": policy_id,
        "method": "pad",
        "plan": "quarterly",
        "payor_name": "Matrix Lawyer",
        "institution_number": "001",
        "transit_number": "12345",
        "account_number": "0001234567",
        "signed_on": TODAY,
    }


def _notice_body(w: World, c: Caller, t: str | None) -> dict[str, Any]:
    staff = {"channel": "paper", "received_on": TODAY} if c.name == "claims" else {}
    return {**NOTICE, "lawyer_id": t, **staff}


def _exemption_body(w: World, c: Caller, t: str | None) -> dict[str, Any]:
    staff = {"channel": "paper", "received_on": TODAY} if c.name != "lawyer" else {}
    return {"form": {"reason": "a"}, "lawyer_id": t, **staff}


def _new_user(w: World, c: Caller, t: str | None) -> dict[str, Any]:
    name = f"matrix-{secrets.token_hex(4)}"
    return {"username": name, "role": "lawyer", "firm_id": w.firm_b, "password": STRONG}


REQUESTS: dict[str, Call] = {
    "GET /healthz": Call(),
    "GET /readyz": Call(),
    "GET /docs": Call(),
    "GET /redoc": Call(),
    "GET /metrics": Call(),  # no METRICS_TOKEN in the test settings: open, outside production
    "POST /auth/token": Call(
        body=lambda w, c, t: {"username": w.people["probe"]["username"], "password": PASSWORD},
        form=True,
    ),
    "POST /auth/logout": Call(ok=frozenset({204}), fresh_session=True),
    # 422: the new password is the current one (refused after the session and the current
    # password are checked); a real change would end the caller's other sessions, the ones the
    # matrix uses. tests/auth covers changes.
    "POST /auth/password": Call(
        ok=frozenset({422}),
        body=lambda w, c, t: {
            "current_password": (c.user or w.people["probe"])["password"],
            "new_password": (c.user or w.people["probe"])["password"],
        },
    ),
    "POST /auth/password-reset": Call(
        ok=frozenset({202}), body=lambda w, c, t: {"username": w.people["probe"]["username"]}
    ),
    # 422: a code that was never sent (the real one goes out by e-mail); the route is open to
    # anyone, so this is the answer for every caller. tests/auth covers a real reset.
    "POST /auth/password-reset/confirm": Call(
        ok=frozenset({422}),
        body=lambda w, c, t: {"token": "not-a-reset-code", "new_password": STRONG},
    ),
    "GET /users/me": Call(),
    "GET /users/access-review": Call(),
    "POST /users": Call(ok=frozenset({201}), body=_new_user),
    "GET /users": Call(query=LIST),
    "GET /users/{user_id}": Call(kind="user"),
    "PATCH /users/{user_id}": Call(
        kind="user", body=lambda w, c, t: {"full_name": "Seen By The Matrix"}, if_match="app_user"
    ),
    # 409 for the admin's own account: admins cannot disable themselves
    "POST /users/{user_id}/disable": Call(
        kind="user",
        ok={"own": frozenset({409}), "firm": frozenset({200}), "other": frozenset({200})},
    ),
    "POST /users/{user_id}/enable": Call(kind="user"),
    "POST /users/{user_id}/unlock": Call(kind="user"),
    "POST /firms": Call(
        ok=frozenset({201}),
        body=lambda w, c, t: {"name": "Matrix LLP", "firm_number": f"M{secrets.token_hex(4)}"},
    ),
    "GET /firms": Call(query=LIST),
    "GET /firms/{firm_id}": Call(kind="firm"),
    "POST /quotes": Call(
        kind="lawyer", ok=frozenset({201}), body=lambda w, c, t: {**WORKED_EXAMPLE, "lawyer_id": t}
    ),
    "GET /quotes": Call(query=LIST),
    "GET /quotes/{quote_id}": Call(kind="quote"),
    # a program year of its own for each call: one live application per lawyer and year
    "POST /applications": Call(
        kind="lawyer",
        ok=frozenset({201}),
        body=lambda w, c, t: {"program_year": next(w.years), "lawyer_id": t},
    ),
    "GET /applications": Call(query=LIST),
    "GET /applications/{application_id}": Call(kind="application"),
    "PATCH /applications/{application_id}": Call(
        kind="draft",
        body=lambda w, c, t: {"form": {"a": {"fax": "416-555-0199"}}},
        if_match="application",
    ),
    # 422: the draft is incomplete, so whoever gets past the lookup and the role check is refused
    # by the rules and the draft stays a draft for the next cell (tests/applications: 200)
    "POST /applications/{application_id}/submit": Call(kind="draft", ok=frozenset({422})),
    # 409: the application was approved when the data was built (that approval is the 200)
    "POST /applications/{application_id}/decision": Call(
        kind="application",
        ok=frozenset({409}),
        body=lambda w, c, t: {"decision": "decline", "note": "access matrix"},
    ),
    "POST /applications/{application_id}/tax-certificate": Call(
        kind="draft", if_match="application"
    ),
    "GET /policies": Call(query=LIST),
    "GET /policies/{policy_id}": Call(kind="policy"),
    "GET /policies/{policy_id}/changes": Call(kind="policy"),
    # 409: the policy has no Part-Time option to lose, which only a caller past the lookup and
    # the role check learns; the policy is unchanged for the next cell (tests/policies: 201)
    "POST /policies/{policy_id}/changes": Call(
        kind="policy", ok=frozenset({409}), body=lambda w, c, t: {"kind": "lose_part_time"}
    ),
    # 409: the Real Estate option is not awaiting due diligence (tests/policies: 200)
    "POST /policies/{policy_id}/real-estate-review": Call(
        kind="policy", ok=frozenset({409}), body=lambda w, c, t: {"outcome": "cleared"}
    ),
    "POST /claims-notices": Call(
        kind="lawyer", ok=frozenset({201}), body=_notice_body, idempotent=True
    ),
    "GET /claims-notices": Call(query=LIST),
    "GET /claims-notices/history": Call(query=HISTORY_OF_A1),
    "GET /claims-notices/{notice_id}": Call(kind="notice"),
    # 409 for a filer: a filed notice's matter is the insurer's (tests/claims_notices: drafts)
    "PATCH /claims-notices/{notice_id}": Call(
        kind="notice",
        ok=frozenset({200, 409}),
        body=lambda w, c, t: {"facts": {"cybercrime": True}},
        if_match="claim_notice",
    ),
    # 409: the notice was filed when the data was built
    "POST /claims-notices/{notice_id}/submit": Call(kind="notice", ok=frozenset({409})),
    # 200 the first time, 409 after: acknowledged already
    "POST /claims-notices/{notice_id}/acknowledge": Call(kind="notice", ok=frozenset({200, 409})),
    "POST /claims-notices/{notice_id}/counsel": Call(
        kind="notice", body=lambda w, c, t: {"counsel_id": c.user_id}
    ),
    # 409 before the notice is acknowledged, 422 once the milestone is recorded
    "POST /claims-notices/{notice_id}/milestones": Call(
        kind="notice",
        ok=frozenset({200, 409, 422}),
        body=lambda w, c, t: {"milestone": "defence_filed", "occurred_on": TODAY},
    ),
    "POST /claims-notices/{notice_id}/costs": Call(
        kind="notice",
        ok=frozenset({200, 409}),
        body=lambda w, c, t: {"kind": "defence", "amount": "10.00", "occurred_on": TODAY},
    ),
    "POST /claims-notices/{notice_id}/documents": Call(
        kind="notice",
        ok=frozenset({201}),
        files=lambda: {"file": ("a.pdf", PDF, "application/pdf")},
    ),
    "GET /claims-notices/{notice_id}/documents": Call(kind="notice"),
    "GET /claims-notices/{notice_id}/documents/{document_id}": Call(kind="notice_document"),
    "POST /exemptions": Call(kind="lawyer", ok=frozenset({201}), body=_exemption_body),
    "GET /exemptions": Call(query=LIST),
    "GET /exemptions/{exemption_id}": Call(kind="exemption"),
    "PATCH /exemptions/{exemption_id}": Call(
        kind="exemption",
        body=lambda w, c, t: {"form": {"telephone": "416-555-0199"}},
        if_match="exemption",
    ),
    # 422: the draft is incomplete (tests/exemptions: 200)
    "POST /exemptions/{exemption_id}/submit": Call(kind="exemption", ok=frozenset({422})),
    # 409: a draft is not awaiting review (tests/exemptions: 200)
    "POST /exemptions/{exemption_id}/review": Call(
        kind="exemption", ok=frozenset({409}), body=lambda w, c, t: {"decision": "accept"}
    ),
    # 409: only an accepted exemption ends (tests/exemptions: 200)
    "POST /exemptions/{exemption_id}/end": Call(
        kind="exemption",
        ok=frozenset({409}),
        body=lambda w, c, t: {"practice_status_changed_on": TODAY},
    ),
    "POST /exemptions/{exemption_id}/documents": Call(
        kind="exemption",
        ok=frozenset({201}),
        files=lambda: {"file": ("a.pdf", PDF, "application/pdf")},
    ),
    "GET /exemptions/{exemption_id}/documents": Call(kind="exemption"),
    "GET /exemptions/{exemption_id}/documents/{document_id}": Call(kind="exemption_document"),
    "GET /rate-tables": Call(),
    "POST /payments/authorizations": Call(
        kind="policy", ok=frozenset({201}), body=lambda w, c, t: _pad(t)
    ),
    "GET /payments/authorizations": Call(query=LIST),
    "GET /payments/authorizations/{authorization_id}": Call(kind="authorization"),
    "GET /payments/accounts/{policy_id}": Call(kind="policy"),
    "GET /payments/delinquent": Call(query=LIST),
    "POST /payments": Call(
        kind="policy",
        ok=frozenset({201}),
        body=lambda w, c, t: {"policy_id": t, "amount": "1.00", "token": "tok_success"},
        idempotent=True,
    ),
    "POST /payments/received": Call(
        kind="policy",
        ok=frozenset({201}),
        body=lambda w, c, t: {"policy_id": t, "amount": "1.00", "payor_name": "Matrix LLP"},
    ),
    # finance names a payor of the policy (422 when no payment of that payor is on file yet)
    "POST /payments/refund-payees": Call(
        kind="policy",
        ok=frozenset({201, 422}),
        body=lambda w, c, t: {
            "policy_id": t,
            "original_payor": "Matrix LLP",
            "payee_name": "Matrix Payee",
            "payee_token": "tok_success",
            "lawyer_signed_on": "2025-01-02",
            "payor_signed_on": "2025-01-02",
        },
    ),
    # 401 to everyone: the processor's signature, not a caller, is what this route checks
    # (tests/payments: a good signature is 200, a bad one 401, an old timestamp 400)
    "POST /payments/processor-events": Call(
        body=lambda w, c, t: {"id": "evt_matrix", "type": "x", "data": {}}
    ),
    "GET /audit-events": Call(query=LIST),
}
# A list shows exactly the records its caller may read one by one.
LIST_READS = {
    "GET /users": "GET /users/{user_id}",
    "GET /firms": "GET /firms/{firm_id}",
    "GET /quotes": "GET /quotes/{quote_id}",
    "GET /applications": "GET /applications/{application_id}",
    "GET /policies": "GET /policies/{policy_id}",
    "GET /claims-notices": "GET /claims-notices/{notice_id}",
    "GET /exemptions": "GET /exemptions/{exemption_id}",
    "GET /payments/authorizations": "GET /payments/authorizations/{authorization_id}",
}


# --- reading the table ------------------------------------------------------------------------


def relations_of(kind: str | None, caller: str) -> tuple[str | None, ...]:
    """The ownership relations a caller has to a record of this kind."""
    if kind is None:
        return (None,)
    if kind == "user":
        own, firm = caller != "anonymous", caller in FIRM_CALLERS
    elif kind == "firm":
        own, firm = caller in FIRM_CALLERS, False
    else:  # a lawyer's record, or the lawyer a record is created for
        own, firm = caller == "lawyer", caller in FIRM_CALLERS
    return tuple(r for r, has in (("own", own), ("firm", firm), ("other", True)) if has)


def table_cells(route: str, caller: str) -> dict[str | None, str]:
    """The matrix's outcomes for one route and caller, by relation (None: no relation)."""
    cell = MATRIX[route][CALLERS.index(caller)]
    if REQUESTS[route].kind is None:
        return {None: cell}
    return {r: o for r, o in zip(RELATIONS, cell.split("/"), strict=True) if o != "-"}


def expected(route: str, caller: str, relation: str | None) -> str:
    """The app's answer the test holds it to: the matrix's, or the known defect's."""
    if (route, caller, relation) in DEFECTS:
        return DEFECTS[route, caller, relation][0]
    return table_cells(route, caller)[relation]


def expected_for_missing(route: str, caller: str) -> str | None:
    """The answer to an id that does not exist: the refused cells' one (None: none refused)."""
    refused = {expected(route, caller, r) for r in table_cells(route, caller)} & REFUSED
    if not refused:
        return None
    if (route, caller, "missing") in DEFECTS:
        return DEFECTS[route, caller, "missing"][0]
    assert len(refused) == 1, f"{route} {caller}: refusals differ by relation {refused}"
    return refused.pop()


def counts() -> tuple[int, int, int]:
    """Cells, requests for missing ids, list visibility checks."""
    cells = missing = visible = 0
    for route, caller in itertools.product(MATRIX, CALLERS):
        cells += len(table_cells(route, caller))
        if REQUESTS[route].kind is not None and expected_for_missing(route, caller):
            missing += 1
        if route in LIST_READS and expected(route, caller, None) == "ok":
            visible += len(relations_of(REQUESTS[LIST_READS[route]].kind, caller))
    return cells, missing, visible


def app_routes(app: Any) -> dict[str, APIRoute]:
    """The app's API routes by "METHOD /path/{template}", from create_app(...).routes."""
    if iter_route_contexts is None:  # pragma: no cover
        found = [(route, route.path) for route in app.routes]
    else:
        found = [(c.original_route, c.path) for c in iter_route_contexts(app.routes)]
    routes = {
        f"{method} {path}": route
        for route, path in found
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    }
    assert routes, "no APIRoute in app.routes: the enumeration no longer sees the routes"
    return routes


# --- the data, built once for the module ------------------------------------------------------


async def _token_of(client: httpx.AsyncClient, user: dict[str, Any]) -> str:
    if user["role"] == "integration":
        response = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": user["username"],
                "client_secret": user["password"],
            },
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
    else:
        token = await login(client, user["username"], user["password"])
    client.cookies.clear()  # bearer tokens only: a kept session cookie would authenticate
    return token


async def _created(response: Any) -> dict[str, Any]:
    answer = await response
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _records(client: httpx.AsyncClient, owner: str, underwriter: str) -> dict[str, str]:
    """A quote, an application submitted and approved into a policy, and a draft."""
    me = {"Authorization": f"Bearer {owner}"}
    quote = await _created(client.post("/quotes", json=WORKED_EXAMPLE, headers=me))
    body = {"program_year": 2025, "form": form_json()}
    application = await _created(client.post("/applications", json=body, headers=me))
    url = f"/applications/{application['id']}"
    await _created(client.post(f"{url}/submit", headers=me))
    approved = await _created(
        client.post(
            f"{url}/decision",
            json={"decision": "approve", "note": "access matrix"},
            headers={"Authorization": f"Bearer {underwriter}"},
        )
    )
    draft_body = {"program_year": 2026, "form": {"a": {"name": "Ada Lawyer"}}}
    draft = await _created(client.post("/applications", json=draft_body, headers=me))
    return {
        "quote": quote["id"],
        "application": application["id"],
        "policy": approved["policy"]["id"],
        "draft": draft["id"],
    }


async def _build(app: Any, client: httpx.AsyncClient) -> World:
    firm_a = await make_firm(app, name="Matrix A LLP")
    firm_b = await make_firm(app, name="Matrix B LLP")
    people = {
        "a1": await make_user(app, role="lawyer", firm_id=firm_a),
        "a2": await make_user(app, role="lawyer", firm_id=firm_a),
        "b1": await make_user(app, role="lawyer", firm_id=firm_b),
        "b_victim": await make_user(app, role="lawyer", firm_id=firm_b),
        "probe": await make_user(app, role="lawyer", firm_id=firm_b),
    }
    callers = {"anonymous": Caller("anonymous"), "lawyer": Caller("lawyer", people["a1"], firm_a)}
    for name in ("firm_admin", "integration", "integration_no_scopes"):
        role = "integration" if name.startswith("integration") else name
        scopes = sorted(INTEGRATION_SCOPES) if name == "integration" else []
        user = await make_user(app, role=role, firm_id=firm_a, scopes=scopes)
        callers[name] = Caller(name, user, firm_a)
    for name in CALLERS[5:]:
        callers[name] = Caller(name, await make_user(app, role=name))
    for caller in callers.values():
        if caller.user is not None:
            caller.token = await _token_of(client, caller.user)
    world = World(app, client, str(firm_a), str(firm_b), callers, people)
    underwriter = callers["underwriter"].token
    assert underwriter is not None
    for owner in OWNERS.values():
        token = callers["lawyer"].token if owner == "a1" else await _token_of(client, people[owner])
        assert token is not None
        for kind, record_id in (await _records(client, token, underwriter)).items():
            world.records.setdefault(kind, {})[owner] = record_id
        # a claims notice: filed by the lawyer, but a2's by the firm's admin (who then sees it)
        filer = callers["firm_admin"].token if owner == "a2" else token
        notice = await _created(
            client.post(
                "/claims-notices",
                json={**NOTICE, "lawyer_id": str(people[owner]["id"])},
                headers={"Authorization": f"Bearer {filer}", "Idempotency-Key": owner},
            )
        )
        world.records.setdefault("notice", {})[owner] = notice["id"]
        document = await _created(
            client.post(
                f"/claims-notices/{notice['id']}/documents",
                files={"file": ("evidence.pdf", PDF, "application/pdf")},
                headers={"Authorization": f"Bearer {filer}"},
            )
        )
        world.records.setdefault("notice_document", {})[owner] = f"{notice['id']}|{document['id']}"
        # an exemption draft of the lawyer's own, with a document
        mine = {"Authorization": f"Bearer {token}"}
        exemption = await _created(
            client.post("/exemptions", json={"form": {"reason": "a"}}, headers=mine)
        )
        proof = await _created(
            client.post(
                f"/exemptions/{exemption['id']}/documents",
                files={"file": ("proof.pdf", PDF, "application/pdf")},
                headers=mine,
            )
        )
        world.records.setdefault("exemption", {})[owner] = exemption["id"]
        # a payment authorization of the lawyer's own for their policy
        authorization = await _created(
            client.post(
                "/payments/authorizations", json=_pad(world.records["policy"][owner]), headers=mine
            )
        )
        world.records.setdefault("authorization", {})[owner] = authorization["id"]
        world.records.setdefault("exemption_document", {})[owner] = (
            f"{exemption['id']}|{proof['id']}"
        )
    HISTORY_OF_A1["lawyer_id"] = str(people["a1"]["id"])
    return world


@pytest.fixture(scope="module")
async def world(
    database_url: str, _run_state: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """One app and one set of data for every cell (the tables emptied first, as app_factory
    does; app_factory's apps empty them again for the modules after this one)."""
    emptier = _run_state[0]
    app = create_app(make_settings(database_url))
    _TURNS.place(tmp_path_factory)
    try:
        async with client_for(app) as client:
            # the writes of setting up: not while another worker runs a serial test
            with _TURNS.hold(exclusive=False):
                await emptier()
                built = await _build(app, client)
            yield built
    finally:
        await app.state.auth_rate_limiter.close()
        await app.state.database.dispose()


# --- calling ----------------------------------------------------------------------------------


def _target(w: World, kind: str, caller: Caller, relation: str) -> str:
    if kind == "user":
        ids = {
            "own": caller.user_id,
            "firm": w.people["a2"]["id"],
            "other": w.people["b_victim"]["id"],
        }
        return str(ids[relation])
    if kind == "firm":
        return str(caller.firm_id) if relation == "own" else w.firm_b
    if kind == "lawyer":
        return str(w.people[OWNERS[relation]]["id"])
    return w.records[kind][OWNERS[relation]]


async def _version_tag(w: World, table: str, record_id: str) -> str:
    async with w.app.state.database.engine.connect() as conn:
        version = (
            await conn.execute(
                text(f"SELECT version FROM {table} WHERE id = CAST(:id AS uuid)"),  # noqa: S608
                {"id": record_id},
            )
        ).scalar()
    return f'"{version or 1}"'


async def call(w: World, route: str, caller: Caller, target: str | None) -> httpx.Response:
    how = REQUESTS[route]
    method, template = route.split(" ", 1)
    # a record inside another (a notice's document) is named "parent|child"
    ids = iter((target or "").split("|") if target and "|" in target else [])
    path = re.sub(r"\{\w+\}", lambda m: next(ids, target or ""), template)
    headers: dict[str, str] = {}
    token = (
        await _token_of(w.client, caller.user)
        if how.fresh_session and caller.user
        else caller.token
    )
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if how.idempotent:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    if how.if_match and target:
        headers["If-Match"] = await _version_tag(w, how.if_match, target)
    options: dict[str, Any] = {"headers": headers, "params": how.query}
    if how.body is not None:
        options["data" if how.form else "json"] = how.body(w, caller, target)
    if how.files is not None:
        options["files"] = how.files()
    if caller.user is not None:
        w.client.cookies.clear()
        return await w.client.request(method, path, **options)
    # No one: each request from an address of its own. Refusals naming nobody are recorded at
    # once only for the first of a window per address and action, the others counted into one
    # event when the window closes (app/core/anonymous.py); so each is found by its request id.
    n = next(w.addresses)
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    transport = httpx.ASGITransport(app=w.app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        return await client.request(method, path, **options)


def outcome(route: str, relation: str | None, status: int) -> str:
    ok = REQUESTS[route].ok
    accepted = ok.get(relation or "", frozenset()) if isinstance(ok, dict) else ok
    return "ok" if status in accepted else str(status)


def shape(response: httpx.Response, record_id: str | None) -> str:
    """The answer with what names the request (its id, the record's id) taken out."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body.pop("request_id", None)
    text_ = f"{response.headers.get('content-type')} {json.dumps(body, sort_keys=True)}"
    for part in (record_id or "").split("|"):
        text_ = text_.replace(part, "<id>") if part else text_
    return text_


@dataclass
class Refusal:
    caller: Caller
    target: str | None
    request_id: str


async def _unaudited(w: World, route: str, refusals: list[Refusal]) -> list[str]:
    """The refusals without their "denied" event, with the route's action, in the trail."""
    action = (app_routes(w.app)[route].openapi_extra or {}).get(AUDIT_ACTION)
    if not refusals:
        return []
    if not action:
        return [f"{route} refuses but declares no {AUDIT_ACTION}"]
    query = text(
        "SELECT request_id, action, outcome, actor_id, resource_id FROM audit_event"
        " WHERE request_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    async with w.app.state.database.engine.connect() as conn:
        rows = (await conn.execute(query, {"ids": [r.request_id for r in refusals]})).mappings()
        events: dict[str, list[Any]] = {}
        for row in rows:
            events.setdefault(row["request_id"], []).append(row)
    path_names_record = "{" in route
    problems = []
    for refusal in refusals:
        found = [
            e
            for e in events.get(refusal.request_id, [])
            if e["outcome"] == "denied"
            and e["action"] == action
            and (str(e["actor_id"]) if e["actor_id"] else None) == refusal.caller.user_id
            and (not path_names_record or e["resource_id"] == (refusal.target or "").split("|")[0])
        ]
        if len(found) != 1:
            problems.append(
                f"{refusal.caller.name} -> {refusal.target}: no denied {action} event of its own"
                f" (request {refusal.request_id}: {events.get(refusal.request_id)})"
            )
    return problems


# --- the tests --------------------------------------------------------------------------------


def test_the_table_states_every_cell_once() -> None:
    assert set(REQUESTS) == set(MATRIX), "every route of the matrix says how it is called"
    assert set(LIST_READS) <= set(MATRIX) and set(LIST_READS.values()) <= set(MATRIX)
    for route, row in MATRIX.items():
        kind = REQUESTS[route].kind
        assert len(row) == len(CALLERS), route
        for caller, cell in zip(CALLERS, row, strict=True):
            slots = cell.split("/")
            assert len(slots) == (1 if kind is None else 3), f"{route} {caller}: {cell}"
            present = (
                tuple(r for r, o in zip(RELATIONS, slots, strict=False) if o != "-")
                if kind
                else (None,)
            )
            assert present == relations_of(kind, caller), f"{route} {caller}: {cell}"
            allowed = {"ok", "401", "403", "404"} | ({"422"} if kind == "lawyer" else set())
            assert {o for o in slots if o != "-"} <= allowed, f"{route} {caller}: {cell}"
            expected_for_missing(route, caller)  # refusals agree across relations
    for (route, caller, relation), (actual, reason) in DEFECTS.items():
        assert route in MATRIX and caller in CALLERS and reason, (route, caller, relation)
        if relation == "missing":
            assert REQUESTS[route].kind is not None
            refused = {expected(route, caller, r) for r in table_cells(route, caller)} & REFUSED
            assert refused and actual not in refused, f"not a defect: {route} {caller} missing"
        else:
            cells = table_cells(route, caller)
            assert relation in cells, f"no such cell: {route} {caller} {relation}"
            assert actual != cells[relation], f"not a defect: {route} {caller} {relation}"
    cells, missing, visible = counts()
    assert __doc__ is not None
    stated = (
        f"{cells} cells ({len(MATRIX)} routes x {len(CALLERS)} callers x their ownership relations)"
    )
    assert stated in " ".join(__doc__.split()), f"the docstring should say: {stated}"
    assert f"{missing} requests for ids" in " ".join(__doc__.split())
    assert f"{visible} list visibility checks" in " ".join(__doc__.split())
    print(
        f"\naccess matrix: {cells} cells ({len(MATRIX)} routes x {len(CALLERS)} callers x "
        f"ownership), {missing} missing-id comparisons, {visible} list visibility checks, "
        f"{len(DEFECTS)} known defects"
    )


async def test_every_route_is_in_the_matrix(world: World) -> None:
    routes = app_routes(world.app)  # create_app(make_settings(database_url)), see `world`
    unlisted = sorted(set(routes) - set(MATRIX))
    assert not unlisted, f"add it to the access matrix (MATRIX and REQUESTS): {unlisted}"
    stale = sorted(set(MATRIX) - set(routes))
    assert not stale, f"the access matrix names routes the app does not have: {stale}"


@pytest.mark.parametrize("route", list(MATRIX))
async def test_route_answers_as_the_matrix_says(
    world: World, route: str, record_property: Callable[[str, object], None]
) -> None:
    assert route in app_routes(world.app), f"{route}: in the access matrix, not in the app"
    how = REQUESTS[route]
    problems: list[str] = []
    refusals: list[Refusal] = []
    cells = 0

    def check(
        caller: Caller,
        relation: str | None,
        target: str | None,
        got: str,
        want: str,
        response: httpx.Response,
    ) -> None:
        if got != want:
            problems.append(
                f"{caller.name} {relation or ''} -> {got}, the matrix says {want}:"
                f" {response.status_code} {response.text[:300]}"
            )
        if str(response.status_code) in AUDITED:
            refusals.append(Refusal(caller, target, response.json().get("request_id")))

    for name in CALLERS:
        caller = world.callers[name]
        answers: dict[str | None, tuple[str, httpx.Response, str | None]] = {}
        for relation in table_cells(route, name):
            target = _target(world, how.kind, caller, relation) if how.kind and relation else None
            response = await call(world, route, caller, target)
            got, want = (
                outcome(route, relation, response.status_code),
                expected(route, name, relation),
            )
            check(caller, relation, target, got, want, response)
            answers[relation] = (got, response, target)
            cells += 1
            if route in LIST_READS and got == "ok":
                problems += _list_visibility(world, route, caller, response)
        want_missing = expected_for_missing(route, name) if how.kind else None
        if want_missing is None:
            continue
        missing = str(uuid.uuid4())
        response = await call(world, route, caller, missing)
        got = outcome(route, "missing", response.status_code)
        check(caller, "missing", missing, got, want_missing, response)
        for relation, (other_got, other, target) in answers.items():
            if other_got == got and shape(other, target) != shape(response, missing):
                problems.append(
                    f"{name}: {relation}'s record and a missing id answer differently:"
                    f" {shape(other, target)} != {shape(response, missing)}"
                )
    problems += await _unaudited(world, route, refusals)
    record_property("matrix_cells", cells)
    assert not problems, f"{route}:\n" + "\n".join(problems)


def _list_visibility(w: World, route: str, caller: Caller, response: httpx.Response) -> list[str]:
    """The list holds the caller's readable records of each relation, and no others."""
    read = LIST_READS[route]
    listed = {str(item["id"]) for item in response.json()["items"]}
    problems = []
    for relation in relations_of(REQUESTS[read].kind, caller.name):
        assert relation is not None
        target = _target(w, REQUESTS[read].kind or "", caller, relation)
        readable = expected(read, caller.name, relation) == "ok"
        if (target in listed) != readable:
            problems.append(
                f"{caller.name}: the list {'lacks' if readable else 'shows'} the {relation}"
                f" record {target}, which {read} {'reads' if readable else 'refuses'}"
            )
    return problems
