"""Benchmark: the service's audited endpoints against a hand-written floor (raw asyncpg +
Starlette doing the same work per request, bench/floor.py), one worker each, alternating rounds.

    make bench                                    # or: python bench/run.py
    python bench/run.py --rounds 3 --duration 5   # shorter
    python bench/run.py --only quote,quotes       # a subset (names: --help)

Migrates a fresh database (lpl_bench on BENCH_SERVER_URL, default the local server), seeds it
through the service's own CLI and HTTP API (a firm of 55 lawyers with approved applications and
policies, 60 quotes of one lawyer, 3 claims notices filed by that lawyer and 52 entered on paper
by claims staff, an exemption draft, staff), checks that the floor answers each endpoint with the
service's body, then loads each endpoint with wrk (Debian package `wrk`; else a small Python load
generator), service and floor in turn, their order swapped every round. Prints and writes to
bench/results.md the medians over the rounds: requests/s, p50 and p99 of each, and the ratio
service/floor (the median of the rounds' ratios), plus each process's peak memory.

The floor needs PyJWT (the `bench` extra in pyproject.toml; installed with pip into this
interpreter's environment when missing) and orjson (a dependency of the service itself).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
PY = sys.executable
SERVICE_PORT, FLOOR_PORT = 8100, 8101
SECRET = "bench-secret-" + "b" * 40
PASSWORD = "benchmark passphrase for one lawyer"
LAWYERS = 55  # one application (and policy) each: more than a page of 50
QUOTES = 60  # of the main lawyer: more than a page of 50
QUOTE_BODY = {
    "program_year": 2025,
    "effective_date": "2025-03-01",
    "years_in_practice": 2,
    "deductible": "2500_combined",
    "real_estate": True,
    "innocent_party_sublimit": "500000",
    "risk_management_programs": 1,
    "payment_plan": "quarterly",
}
NOTICES_OF_LAWYER = 3  # filed by the main lawyer through the portal
NOTICES_ON_PAPER = 52  # entered by claims staff for the firm's lawyers: more than a page of 50
NOTICE_BODY = {
    "kind": "claim",
    "awareness_date": "2025-05-01",
    "client_name": "Bench Client Ltd.",
    "matter_description": "A real estate closing in which the client alleges a missed search.",
    "claimant": "Bench Client Ltd.",
    "alleged_error": "The title search missed a registered easement.",
    "potential_damages": "1000.00",
    "chronology": [
        {"date": "2025-04-01", "event": "The closing."},
        {"date": "2025-04-20", "event": "The client's letter."},
    ],
    "facts": {"real_estate": True, "conflict_of_interest": True, "cybercrime": True},
}
AUTHORIZATION_BODY = {
    "method": "pad",
    "plan": "quarterly",
    "payor_name": "Bench LLP",
    "institution_number": "001",
    "transit_number": "12345",
    "account_number": "000123456789",
    "signed_on": "2024-11-20",
}
EXEMPTION_BODY = {"form": {"reason": "a", "effective_date": "2026-01-01"}}
# A complete 2025 application that breaks no rule (tests/applications/test_rules.py `complete`).
APPLICATION_FORM = {
    "a": {
        "name": "Ada Lawyer",
        "position": "Partner",
        "law_society_number": "98765A",
        "preferred_mailing_address": "firm",
        "firm_name": "Bench LLP",
        "firm_address": {
            "street": "1 King St W",
            "city": "Toronto",
            "province": "ON",
            "postal_code": "M5H 1A1",
        },
        "work_phone": "416-555-0100",
        "email": "ada@bench.example.com",
        "indian_status_certificate": False,
        "years_in_practice": 10,
        "practised_outside_ontario": False,
        "billing_code": "AV11",
        "gross_billings": "90000.00",
        "hours_last_fiscal_year": 1600,
        "primary_area": 8,
    },
    "b": {
        "nature_of_practice": ["partnership_general"],
        "lawyers_and_paralegal_partners": 3,
        "non_lawyer_staff": 2,
    },
    "c": {"effective_date": "2025-01-01", "deductible": "5000_combined"},
    "d": {"unreported_claims_or_circumstances": False},
    "e": {"third_party_payor": False, "payment_plan": "quarterly", "payment_method": "credit_card"},
    "f": {
        "warranty_signed": True,
        "signature_name": "Ada Lawyer",
        "signed_on": "2024-11-20",
        "personal_information_statement_acknowledged": True,
    },
}


# --- the floor's extra packages ------------------------------------------------------------


def ensure_bench_extra() -> None:
    """Install the `bench` extra's packages into this environment when one is missing."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["bench"]
    missing = []
    for requirement in extra:
        name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    if missing:
        print(f"installing the floor's packages (pyproject extra 'bench'): {' '.join(missing)}")
        subprocess.run([PY, "-m", "pip", "install", "--quiet", *missing], check=True)


# --- processes -----------------------------------------------------------------------------


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def fresh_database(server: str, name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(plain(server))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    import httpx

    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/users/me", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{cmd} did not start")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# --- seeding through the service -----------------------------------------------------------


class SeedError(Exception):
    pass


@dataclass
class Seed:
    """What the cases need, made through the service's CLI and HTTP API, and what failed."""

    tokens: dict[str, list[str]] = field(default_factory=dict)  # sessions of each caller
    ids: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def expect(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SeedError(
            f"{what}: the service answered {response.status_code} "
            f"{response.text[:400].strip()} (expected {status})"
        )
    return response.json() if response.content else None


def cli_user(env: dict[str, str], username: str, role: str) -> str:
    """`python -m app users create ... --password-stdin`; the new user's id."""
    done = subprocess.run(
        [
            PY,
            "-m",
            "app",
            "users",
            "create",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SeedError(f"python -m app users create --role {role}: {done.stderr.strip()[:400]}")
    return done.stdout.strip().splitlines()[-1]


def seed(env: dict[str, str], wanted: set[str], sessions: int) -> Seed:
    """The firm, its lawyers and their approved applications, quotes, and the callers, each
    logged in `sessions` times (a client has its own session, so requests do not all queue on
    one session's row)."""
    import httpx

    out = Seed()
    client = httpx.Client(base_url=f"http://127.0.0.1:{SERVICE_PORT}", timeout=60)

    def login(username: str) -> str:
        body = expect(
            client.post("/auth/token", data={"username": username, "password": PASSWORD}),
            200,
            f"POST /auth/token ({username})",
        )
        return str(body["access_token"])

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {out.tokens[role][0]}"}

    try:
        cli_user(env, "BENCHADMIN", "admin")
        out.tokens["admin"] = [login("BENCHADMIN") for _ in range(sessions)]
        firm = expect(
            client.post(
                "/firms",
                json={"name": "Bench LLP", "firm_number": "BENCH-1"},
                headers=auth("admin"),
            ),
            201,
            "POST /firms",
        )
        callers = {  # key: (username, role, firm)
            "lawyer": ("98765A", "lawyer", firm["id"]),
            # POST /quotes as another lawyer: the first one's list keeps its size
            "lawyer2": ("98765B", "lawyer", firm["id"]),
            "firm_admin": ("FIRMADMIN1", "firm_admin", firm["id"]),
            "underwriter": ("UNDERWRITER1", "underwriter", None),
            "auditor": ("AUDITOR1", "auditor", None),
            "claims": ("CLAIMS1", "claims", None),
            "finance": ("FINANCE1", "finance", None),
        }
        for key, (username, role, firm_id) in callers.items():
            user = expect(
                client.post(
                    "/users",
                    json={
                        "username": username,
                        "role": role,
                        "firm_id": firm_id,
                        "password": PASSWORD,
                    },
                    headers=auth("admin"),
                ),
                201,
                f"POST /users ({role})",
            )
            out.ids[f"{key}_id"] = user["id"]
            out.tokens[key] = [login(username) for _ in range(sessions)]
        lawyers = [out.ids["lawyer_id"]]
        for i in range(1, LAWYERS):  # the firm's other lawyers: set-up codes by e-mail
            user = expect(
                client.post(
                    "/users",
                    json={
                        "username": f"L{i:05d}",
                        "role": "lawyer",
                        "firm_id": firm["id"],
                        "email": f"lawyer{i}@bench.example.com",
                    },
                    headers=auth("admin"),
                ),
                201,
                "POST /users (lawyer of the firm)",
            )
            lawyers.append(user["id"])
    except (SeedError, KeyError, TypeError) as exc:
        out.problems.append(f"users: {exc}")
        return out

    if wanted & {"quote_id", "quotes"}:
        try:
            for _ in range(QUOTES):
                quote = expect(
                    client.post("/quotes", json=QUOTE_BODY, headers=auth("lawyer")),
                    201,
                    "POST /quotes",
                )
            out.ids["quote_id"] = quote["id"]
        except SeedError as exc:
            out.problems.append(f"quotes: {exc}")

    # the notices entered on paper fall in the 2025 policies' year: their cover is read too
    policies: list[str] = []
    if wanted & {"application_id", "policy_id", "notice_id", "authorization_id"}:
        try:
            for lawyer_id in lawyers:
                draft = expect(
                    client.post(
                        "/applications",
                        json={
                            "program_year": 2025,
                            "lawyer_id": lawyer_id,
                            "form": APPLICATION_FORM,
                        },
                        headers=auth("firm_admin"),
                    ),
                    201,
                    "POST /applications (firm_admin for a lawyer)",
                )
                url = f"/applications/{draft['id']}"
                expect(
                    client.post(f"{url}/submit", headers=auth("firm_admin")),
                    200,
                    "POST /applications/{id}/submit",
                )
                approved = expect(
                    client.post(
                        f"{url}/decision",
                        json={"decision": "approve", "note": "bench"},
                        headers=auth("underwriter"),
                    ),
                    200,
                    "POST /applications/{id}/decision",
                )
                policies.append(approved["policy"]["id"])
                if lawyer_id == out.ids["lawyer_id"]:
                    out.ids["application_id"] = approved["id"]
                    out.ids["policy_id"] = approved["policy"]["id"]
        except (SeedError, KeyError, TypeError) as exc:
            out.problems.append(f"applications: {exc}")

    if "notice_id" in wanted:
        try:
            for _ in range(NOTICES_OF_LAWYER):
                notice = expect(
                    client.post(
                        "/claims-notices",
                        json=NOTICE_BODY,
                        headers={**auth("lawyer"), "Idempotency-Key": uuid.uuid4().hex},
                    ),
                    201,
                    "POST /claims-notices (the lawyer)",
                )
            out.ids["notice_id"] = notice["id"]
            for n in range(NOTICES_ON_PAPER):
                expect(
                    client.post(
                        "/claims-notices",
                        json={
                            **NOTICE_BODY,
                            "channel": "paper",
                            "received_on": "2025-05-02",
                            "lawyer_id": lawyers[n % len(lawyers)],
                        },
                        headers={**auth("claims"), "Idempotency-Key": uuid.uuid4().hex},
                    ),
                    201,
                    "POST /claims-notices (claims staff, a paper notice)",
                )
        except (SeedError, KeyError, TypeError) as exc:
            out.ids.pop("notice_id", None)
            out.problems.append(f"claims notices: {exc}")

    # a debit authorization on each policy (the firm's admin), each account opened (finance
    # reads it), and one instalment of the main lawyer's paid by card: a ledger to read
    if "authorization_id" in wanted and policies:
        try:
            for policy_id in policies:
                authorization = expect(
                    client.post(
                        "/payments/authorizations",
                        json={**AUTHORIZATION_BODY, "policy_id": policy_id},
                        headers=auth("firm_admin"),
                    ),
                    201,
                    "POST /payments/authorizations (firm_admin for a lawyer)",
                )
                account = expect(
                    client.get(f"/payments/accounts/{policy_id}", headers=auth("finance")),
                    200,
                    "GET /payments/accounts/{policy_id} (finance: opened)",
                )
                if policy_id == out.ids.get("policy_id"):
                    out.ids["authorization_id"] = authorization["id"]
                    first = account["receivables"][0]
                    expect(
                        client.post(
                            "/payments",
                            json={
                                "receivable_id": first["id"],
                                "amount": first["amount"],
                                "token": "tok_success",
                            },
                            headers={**auth("lawyer"), "Idempotency-Key": uuid.uuid4().hex},
                        ),
                        201,
                        "POST /payments (the lawyer, by card)",
                    )
        except (SeedError, KeyError, TypeError, IndexError) as exc:
            out.ids.pop("authorization_id", None)
            out.problems.append(f"payments: {exc}")

    if "exemption_id" in wanted:
        try:
            exemption = expect(
                client.post("/exemptions", json=EXEMPTION_BODY, headers=auth("lawyer")),
                201,
                "POST /exemptions (a draft)",
            )
            out.ids["exemption_id"] = exemption["id"]
        except (SeedError, KeyError, TypeError) as exc:
            out.problems.append(f"exemptions: {exc}")
    return out


# --- the cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    caller: str
    path: Callable[[dict[str, str]], str]
    needs: tuple[str, ...] = ()
    post: bool = False
    compare: str = "equal"  # equal | keys (the bodies' fields only) | except-new (not id/time)


CASES = [
    Case(
        "quote", "GET /quotes/{id}", "lawyer", lambda i: f"/quotes/{i['quote_id']}", ("quote_id",)
    ),
    Case(
        "application",
        "GET /applications/{id}",
        "lawyer",
        lambda i: f"/applications/{i['application_id']}",
        ("application_id",),
    ),
    Case(
        "policy",
        "GET /policies/{id}",
        "lawyer",
        lambda i: f"/policies/{i['policy_id']}",
        ("policy_id",),
    ),
    Case(
        "claims-notice",
        "GET /claims-notices/{id}",
        "lawyer",
        lambda i: f"/claims-notices/{i['notice_id']}",
        ("notice_id",),
    ),
    Case(
        "exemption",
        "GET /exemptions/{id}",
        "lawyer",
        lambda i: f"/exemptions/{i['exemption_id']}",
        ("exemption_id",),
    ),
    Case(
        "payment-account",
        "GET /payments/accounts/{policy_id}",
        "lawyer",
        lambda i: f"/payments/accounts/{i['policy_id']}",
        ("policy_id", "authorization_id"),
    ),
    Case(
        "payment-authorization",
        "GET /payments/authorizations/{id}",
        "lawyer",
        lambda i: f"/payments/authorizations/{i['authorization_id']}",
        ("authorization_id",),
    ),
    Case("me", "GET /users/me", "lawyer", lambda i: "/users/me"),
    Case("user", "GET /users/{id}", "admin", lambda i: f"/users/{i['lawyer_id']}", ("lawyer_id",)),
    Case("quotes", "GET /quotes?limit=50", "lawyer", lambda i: "/quotes?limit=50", ("quotes",)),
    Case(
        "applications",
        "GET /applications?limit=50",
        "firm_admin",
        lambda i: "/applications?limit=50",
        ("applications",),
    ),
    Case(
        "policies",
        "GET /policies?limit=50",
        "firm_admin",
        lambda i: "/policies?limit=50",
        ("policies",),
    ),
    Case(
        "claims-notices",
        "GET /claims-notices?limit=50",
        "claims",
        lambda i: "/claims-notices?limit=50",
        ("claims-notices",),
    ),
    Case(
        "payment-authorizations",
        "GET /payments/authorizations?limit=50",
        "finance",
        lambda i: "/payments/authorizations?limit=50",
        ("payment-authorizations",),
    ),
    Case("users", "GET /users?limit=50", "admin", lambda i: "/users?limit=50"),
    Case(
        "audit",
        "GET /audit-events?limit=50",
        "auditor",
        lambda i: "/audit-events?limit=50",
        (),
        False,
        "keys",
    ),
    Case("create-quote", "POST /quotes", "lawyer2", lambda i: "/quotes", (), True, "except-new"),
]
# A case needs ids from the seed; a list needs the stage whose rows fill its page (its id
# stands for the stage having run).
STAGE_OF = {
    "quotes": "quote_id",
    "applications": "application_id",
    "policies": "policy_id",
    "claims-notices": "notice_id",
    "payment-authorizations": "authorization_id",
}


# What differs between two requests' answers or events, by comparison mode: a new quote's id
# and time; the audit event naming a new quote; a list of audit events (the newest differ).
SKIPPED = {
    ("id", "except-new"),
    ("created_at", "except-new"),
    ("resource_id", "except-new-event"),
    ("resource_ids", "except-list"),
}


def label(case: Case) -> str:
    return "another lawyer" if case.caller == "lawyer2" else case.caller


def differences(a: Any, b: Any, mode: str, path: str = "$") -> list[str]:
    """How the floor's body `b` differs from the service's `a` (the first few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        if a.keys() != b.keys():
            only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
            found.append(f"{path}: fields only in the service {only_a}, only in the floor {only_b}")
        for k in a.keys() & b.keys():
            if path == "$" and (k, mode) in SKIPPED:
                continue
            found += differences(a[k], b[k], mode, f"{path}.{k}")
        return found
    if isinstance(a, list) and isinstance(b, list):
        if mode == "keys":
            return differences(a[0], b[0], mode, f"{path}[0]") if a and b else []
        if len(a) != len(b):
            return [f"{path}: {len(a)} items from the service, {len(b)} from the floor"]
        found = []
        for n, (x, y) in enumerate(zip(a, b)):
            found += differences(x, y, mode, f"{path}[{n}]")
            if len(found) > 3:
                break
        return found
    if mode == "keys" or a == b:
        return []
    return [f"{path}: service {json.dumps(a)[:80]}, floor {json.dumps(b)[:80]}"]


# The columns of an audit event that differ between any two requests.
PER_REQUEST = frozenset(
    {"seq", "id", "occurred_at", "request_id", "client_request_id", "mac", "xid"}
)


async def events_of(db_url: str, request_ids: list[str]) -> list[list[dict[str, Any]]]:
    import asyncpg

    conn = await asyncpg.connect(plain(db_url))
    try:
        columns = await conn.fetchval(
            "SELECT array_agg(column_name::text) FROM information_schema.columns"
            " WHERE table_name = 'audit_event'"
        )
        # our X-Request-ID: the event's request id, or beside the server's own
        where = (
            "$1 IN (request_id, client_request_id)"
            if "client_request_id" in columns
            else "request_id = $1"
        )
        found = []
        for request_id in request_ids:
            rows = await conn.fetch(
                f"SELECT * FROM audit_event WHERE {where} ORDER BY seq",
                request_id,
            )
            found.append(
                [
                    {
                        k: json.loads(v) if k == "details" else v
                        for k, v in row.items()
                        if k not in PER_REQUEST
                    }
                    for row in rows
                ]
            )
        return found
    finally:
        await conn.close()


async def table_sizes(db_url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(plain(db_url))
    try:
        return {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in (
                "quote",
                "application",
                "policy",
                "claim_notice",
                "exemption",
                "app_user",
                "auth_session",
                "audit_event",
            )
        }
    finally:
        await conn.close()


def jsonish(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def preflight(case: Case, seed_: Seed, db_url: str) -> tuple[list[str], list[str]]:
    """(errors, differences): one request to each; an error answer is reported, not measured.
    Compares the floor's body with the service's, and the audit events each wrote."""
    import uuid

    import httpx

    path = case.path(seed_.ids)
    bodies, errors, request_ids = [], [], []
    for target, port in (("service", SERVICE_PORT), ("floor", FLOOR_PORT)):
        request_ids.append(f"bench-{case.key}-{target}-{uuid.uuid4().hex[:12]}")
        headers = {
            "Authorization": f"Bearer {seed_.tokens[case.caller][0]}",
            "X-Request-ID": request_ids[-1],
            "User-Agent": "bench-preflight",
        }
        url = f"http://127.0.0.1:{port}{path}"
        r = (
            httpx.post(url, json=QUOTE_BODY, headers=headers, timeout=30)
            if case.post
            else httpx.get(url, headers=headers, timeout=30)
        )
        if r.status_code >= 300:
            errors.append(f"{target} answered {r.status_code}: {r.text[:300].strip()}")
        bodies.append(r.json() if r.headers.get("content-type", "").endswith("json") else None)
    if errors:
        return errors, []
    found = [f"body {d}" for d in differences(bodies[0], bodies[1], case.compare)]
    if isinstance(bodies[0], dict) and "items" in bodies[0]:
        n = len(bodies[0]["items"])
        if n < 50:
            found.append(f"the page has {n} items, not a full page of 50")
    service_events, floor_events = (jsonish(e) for e in asyncio.run(events_of(db_url, request_ids)))
    if not service_events:
        found.append("audit events: none found for the service's request id (not compared)")
    if len(service_events) != len(floor_events):
        found.append(
            f"audit events: the service wrote {len(service_events)}, the floor {len(floor_events)}"
        )
    mode = {"keys": "except-list", "except-new": "except-new-event"}.get(case.compare, "equal")
    for a, b in zip(service_events, floor_events):
        found += [f"audit event {d}" for d in differences(a, b, mode)]
    return [], found


# --- load ----------------------------------------------------------------------------------

WRK_LINE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, tokens: list[str], *, post: bool, duration: int, connections: int
) -> dict[str, float]:
    """wrk, each request with the next of the caller's sessions (requests built once)."""
    body = json.dumps(QUOTE_BODY) if post else None
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(
        f"local tokens = {{{', '.join(json.dumps(t) for t in tokens)}}}\n"
        "local requests, n = {}, 0\n"
        "init = function(args)\n"
        "  for i, token in ipairs(tokens) do\n"
        '    local headers = {["Authorization"] = "Bearer " .. token}\n'
        + (
            '    headers["Content-Type"] = "application/json"\n'
            f'    requests[i] = wrk.format("POST", nil, headers, [[{body}]])\n'
            if post
            else '    requests[i] = wrk.format("GET", nil, headers)\n'
        )
        + "  end\n"
        "end\n"
        "request = function()\n"
        "  n = n % #requests + 1\n"
        "  return requests[n]\n"
        "end\n"
    )
    script.close()
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name]
    try:
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    result: dict[str, float] = {"errors": 0.0}
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
        elif m := WRK_LINE.match(line):
            result[f"p{m.group(1)}"] = to_ms(m.group(2), m.group(3))
        elif "Non-2xx" in line:
            result["errors"] += float(line.split()[-1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] += sum(float(n) for n in re.findall(r"\d+", line))
    return result


async def python_load(
    url: str, tokens: list[str], *, post: bool, duration: int, connections: int
) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration

    async def worker(n: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                r = await (client.post(url, json=QUOTE_BODY) if post else client.get(url))
                latencies.append((time.perf_counter() - t) * 1000)
                errors += r.status_code >= 300

    await asyncio.gather(*(worker(n) for n in range(connections)))
    latencies.sort()
    return {
        "rps": len(latencies) / duration,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
        "errors": float(errors),
    }


def load(
    url: str, tokens: list[str], *, post: bool, duration: int, connections: int
) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, tokens, post=post, duration=duration, connections=connections)
    return asyncio.run(
        python_load(url, tokens, post=post, duration=duration, connections=connections)
    )


# --- report --------------------------------------------------------------------------------


def median_of(rs: list[dict[str, float]], key: str) -> float:
    values = [r[key] for r in rs if key in r]
    return statistics.median(values) if values else float("nan")


def tail_of(rs: list[dict[str, float]], connections: int) -> float:
    """The median over rounds of p99 / mean latency, the mean being connections / (requests/s)
    in a closed loop (Little's law): how long the tail is, whatever the throughput."""
    tails = [r["p99"] * r["rps"] / (1000 * connections) for r in rs if r.get("rps") and "p99" in r]
    return statistics.median(tails) if tails else float("nan")


def git_describe() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return f"{head}{' with uncommitted changes' if dirty else ''}"
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8, help="seconds per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--sessions",
        type=int,
        help="logins per caller, used in turn (default: one per connection; 1: all requests "
        "share one session and queue on its row)",
    )
    parser.add_argument("--warmup", type=int, default=1, help="seconds per target, 0: none")
    parser.add_argument(
        "--only",
        help="comma-separated endpoints: " + ", ".join(f"{c.key} ({c.name})" for c in CASES),
    )
    args = parser.parse_args()
    cases = CASES
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = sorted(set(keys) - {c.key for c in CASES})
        if unknown:
            parser.error(f"unknown endpoints {unknown}; known: {[c.key for c in CASES]}")
        cases = [c for c in CASES if c.key in keys]

    ensure_bench_extra()
    load_before = os.getloadavg()[0]

    server = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = asyncio.run(fresh_database(server, "lpl_bench"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "APP_ENV": "test",
        "AUTH_RATE_LIMIT": "100000",
        "PYTHONPATH": str(ROOT),
    }
    notes: list[str] = []
    drift = subprocess.run(
        [PY, "bench/floor.py", "--check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    notes += [f"drift: {line}" for line in drift.stdout.splitlines() if line.strip()]
    if drift.returncode != 0:
        notes.append(f"drift: the check failed: {drift.stderr.strip()[-400:]}")
    migrated = subprocess.run(
        [PY, "-m", "app", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if migrated.returncode != 0:
        raise SystemExit(f"python -m app migrate failed:\n{migrated.stderr[-2000:]}")

    service = start(
        [PY, "-m", "app", "serve", "--port", str(SERVICE_PORT), "--workers", "1"], env, SERVICE_PORT
    )
    try:
        floor = start([PY, "bench/floor.py", "--port", str(FLOOR_PORT)], env, FLOOR_PORT)
    except BaseException:
        service.terminate()
        raise
    skipped: dict[str, str] = {}
    try:
        wanted = {STAGE_OF.get(n, n) for c in cases for n in c.needs}
        started = time.perf_counter()
        seeded = seed(env, wanted, args.sessions or args.connections)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        for problem in seeded.problems:
            print(f"SEEDING ERROR (the service): {problem}")
        for case in cases:
            absent = [n for n in case.needs if STAGE_OF.get(n, n) not in seeded.ids]
            if case.caller not in seeded.tokens:
                absent.append(f"a {case.caller} token")
            if absent:
                skipped[case.key] = f"not seeded: {', '.join(absent)}"
                continue
            errors, found = preflight(case, seeded, url)
            if errors:
                skipped[case.key] = "; ".join(errors)
            for d in found:
                notes.append(f"{case.name}: the floor's {d}")
        for key, why in skipped.items():
            print(f"skipped {key}: {why}")
        for note in notes:
            print(f"note: {note}")

        measured = [c for c in cases if c.key not in skipped]
        targets = [("service", SERVICE_PORT), ("floor", FLOOR_PORT)]
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for case in measured:
            if args.warmup > 0:
                for _, port in targets:
                    load(
                        f"http://127.0.0.1:{port}{case.path(seeded.ids)}",
                        seeded.tokens[case.caller],
                        post=case.post,
                        duration=args.warmup,
                        connections=args.connections,
                    )
        for n in range(args.rounds):
            for case in measured:
                for target, port in targets if n % 2 == 0 else targets[::-1]:
                    r = load(
                        f"http://127.0.0.1:{port}{case.path(seeded.ids)}",
                        seeded.tokens[case.caller],
                        post=case.post,
                        duration=args.duration,
                        connections=args.connections,
                    )
                    results.setdefault((case.key, target), []).append(r)
            print(f"round {n + 1}/{args.rounds} done")
        memory = {name: peak_rss_mib(p.pid) for name, p in (("service", service), ("floor", floor))}
        load_after = os.getloadavg()[0]
    finally:
        for proc in (service, floor):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    sizes = asyncio.run(table_sizes(url))
    notes.append(
        "rows at the end: "
        + ", ".join(f"{table} {n}" for table, n in sizes.items())
        + " (the lists read the first page of tables that grew during the run)"
    )
    # Every event either wrote must pass the service's own check of the trail.
    started = time.perf_counter()
    verified = subprocess.run(
        [PY, "-m", "app", "audit", "verify", "--seal"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    verdict = (verified.stdout + verified.stderr).strip().splitlines()
    notes.append(
        f"`python -m app audit verify --seal` after the run (exit {verified.returncode}, "
        f"{time.perf_counter() - started:.0f} s): {' / '.join(verdict[-3:])}"
    )
    if verified.returncode != 0:
        print("WARNING: the audit trail did not verify:", *verdict[-10:], sep="\n")

    generator = "wrk" if shutil.which("wrk") else "python load generator"
    header = (
        f"{generator}, {args.connections} connections, {args.rounds} alternating rounds of "
        f"{args.duration:g} s, {args.sessions or args.connections} sessions per caller used in "
        f"turn, one worker each, {os.cpu_count()} CPUs; commit {git_describe()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {load_before:.1f} before, "
        f"{load_after:.1f} after (other work on the machine shares its CPUs)"
    )
    lines = [
        header,
        "",
        "| endpoint | caller | service req/s | floor req/s | ratio | service p50 / p99 ms "
        "| floor p50 / p99 ms | p99 / mean service / floor | non-2xx service / floor |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    rounds_notes = []
    for case in cases:
        if case.key in skipped:
            lines.append(
                f"| `{case.name}` | {label(case)} | - | - | - | - | - | - | skipped (see below) |"
            )
            continue
        s, f = results[(case.key, "service")], results[(case.key, "floor")]
        ratios = [a["rps"] / b["rps"] for a, b in zip(s, f) if b.get("rps")]
        lines.append(
            f"| `{case.name}` | {label(case)} | {median_of(s, 'rps'):.0f} | {median_of(f, 'rps'):.0f} "
            f"| {statistics.median(ratios):.2f}x "
            f"| {median_of(s, 'p50'):.1f} / {median_of(s, 'p99'):.1f} "
            f"| {median_of(f, 'p50'):.1f} / {median_of(f, 'p99'):.1f} "
            f"| {tail_of(s, args.connections):.2f} / {tail_of(f, args.connections):.2f} "
            f"| {sum(r['errors'] for r in s):.0f} / {sum(r['errors'] for r in f):.0f} |"
        )
        rounds_notes.append(f"{case.name} {', '.join(f'{x:.2f}' for x in ratios)}")
    lines += [
        "",
        f"Peak resident memory: service {memory['service']:.0f} MiB, "
        f"floor {memory['floor']:.0f} MiB.",
        "",
        "p99 / mean: a round's p99 over its mean latency, which with a fixed number of "
        "connections each waiting for its answer is connections / (requests/s) (Little's law); "
        "the median over the rounds. Equal figures mean equally shaped tails: a p99 above the "
        "floor's then comes from a lower throughput, not from a longer tail.",
        "",
        "Ratio = median of the rounds' throughput ratios service/floor: "
        + "; ".join(rounds_notes)
        + ".",
    ]
    if seeded.problems or skipped or notes:
        lines += ["", "Problems and notes:", ""]
        lines += [f"- seeding error (the service): {p}" for p in seeded.problems]
        lines += [f"- skipped `{k}`: {why}" for k, why in skipped.items()]
        lines += [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    RESULTS.write_text(text)
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
