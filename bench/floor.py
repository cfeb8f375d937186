"""The hand-written floor: raw asyncpg + Starlette doing the same work per request as the
service's audited quote endpoints — verify the JWT, slide the session's idle clock, read (or
write) one owned row, insert one audit row with its HMAC, commit — and nothing else.

Run: python bench/floor.py --port 8101 (DATABASE_URL and SECRET_KEY as for the service).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import uvicorn
from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.audit.chain import audit_key_from, event_mac
from app.quotes.rate_tables import load_rate_table
from app.quotes.rules import (
    Deductible,
    InnocentPartySublimit,
    PaymentPlan,
    QuoteInput,
    compute_quote,
)

SECRET = os.environ["SECRET_KEY"]
AUDIT_KEY = audit_key_from(SECRET)
IDLE = timedelta(seconds=int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", "3600")))

SLIDE = """
UPDATE auth_session SET last_seen_at = now() FROM app_user u
WHERE auth_session.id = $1 AND auth_session.user_id = $2 AND auth_session.revoked_at IS NULL
  AND auth_session.last_seen_at > now() - $3::interval AND auth_session.absolute_expires_at > now()
  AND u.id = auth_session.user_id AND u.disabled_at IS NULL
RETURNING u.role, u.username
"""
READ = """
SELECT id, owner_id, program_year, effective_date, inputs, lines, premium, tax, total,
       instalments, rate_table_version, created_at
FROM quote WHERE id = $1 AND owner_id = $2
"""
AUDIT = """
INSERT INTO audit_event (id, occurred_at, actor_id, actor_role, actor_label, action, resource_type,
  resource_id, outcome, request_id, client_ip, user_agent, details, mac)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'success', $9, $10, $11, $12::jsonb, $13)
"""
INSERT_QUOTE = """
INSERT INTO quote (id, owner_id, firm_id, created_by_id, program_year, rate_table_version,
  rate_table_digest, effective_date, inputs, lines, premium, tax, total, instalments)
VALUES ($1, $2, NULL, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12::jsonb)
RETURNING created_at
"""

pool: asyncpg.Pool | None = None


def principal(request: Request) -> tuple[uuid.UUID, uuid.UUID] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:]
    try:
        if jwt.get_unverified_header(token).get("alg") != "HS256":
            return None
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"], audience="lpl-portal-api", issuer="lpl-portal"
        )
    except Exception:
        return None
    return uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])


async def audit(
    conn: asyncpg.Connection,
    request: Request,
    user: uuid.UUID,
    row: asyncpg.Record,
    action: str,
    resource_id: uuid.UUID,
) -> None:
    event = {
        "id": uuid.uuid4(),
        "occurred_at": datetime.now(UTC),
        "actor_id": user,
        "actor_role": row["role"],
        "actor_label": row["username"],
        "action": action,
        "resource_type": "quote",
        "resource_id": str(resource_id),
        "outcome": "success",
        "request_id": uuid.uuid4().hex,
        "client_ip": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent"),
        "details": {},
    }
    await conn.execute(
        AUDIT,
        event["id"],
        event["occurred_at"],
        user,
        event["actor_role"],
        event["actor_label"],
        action,
        "quote",
        event["resource_id"],
        event["request_id"],
        event["client_ip"],
        event["user_agent"],
        "{}",
        event_mac(AUDIT_KEY, event),
    )


def money(v: object) -> str:
    return f"{v:.2f}"


def quote_json(row: asyncpg.Record) -> dict[str, object]:
    return {
        "id": str(row["id"]),
        "lawyer_id": str(row["owner_id"]),
        **json.loads(row["inputs"]),
        "lines": json.loads(row["lines"]),
        "premium": money(row["premium"]),
        "tax": money(row["tax"]),
        "total": money(row["total"]),
        "instalments": json.loads(row["instalments"]),
        "rate_table_version": row["rate_table_version"],
        "created_at": row["created_at"].isoformat(),
    }


async def get_quote(request: Request) -> Response:
    who = principal(request)
    if who is None:
        return JSONResponse({"status": 401}, status_code=401)
    user, sid = who
    quote_id = uuid.UUID(request.path_params["quote_id"])
    assert pool is not None
    async with pool.acquire() as conn, conn.transaction():
        session = await conn.fetchrow(SLIDE, sid, user, IDLE)
        if session is None:
            return JSONResponse({"status": 401}, status_code=401)
        row = await conn.fetchrow(READ, quote_id, user)
        if row is None:
            return JSONResponse({"status": 404}, status_code=404)
        await audit(conn, request, user, session, "quote.read", quote_id)
    return JSONResponse(quote_json(row))


async def create_quote(request: Request) -> Response:
    who = principal(request)
    if who is None:
        return JSONResponse({"status": 401}, status_code=401)
    user, sid = who
    body = await request.json()
    inp = QuoteInput(
        program_year=body["program_year"],
        effective_date=date.fromisoformat(body["effective_date"]),
        years_in_practice=body.get("years_in_practice", 0),
        deductible=Deductible(body.get("deductible", "5000_combined")),
        restricted_practice=body.get("restricted_practice", False),
        part_time=body.get("part_time", False),
        real_estate=body.get("real_estate", False),
        innocent_party_sublimit=InnocentPartySublimit(
            body.get("innocent_party_sublimit", "250000")
        ),
        risk_management_programs=body.get("risk_management_programs", 0),
        indian_status_certificate=body.get("indian_status_certificate", False),
        payment_plan=PaymentPlan(body.get("payment_plan", "lump_sum")),
    )
    table = load_rate_table(inp.program_year)
    result = compute_quote(inp, table)
    quote_id = uuid.uuid4()
    inputs = {
        k: (
            v.isoformat() if isinstance(v, date) else str(v) if not isinstance(v, bool | int) else v
        )
        for k, v in inp.__dict__.items()
    }
    lines = [
        {"code": ln.code, "description": ln.description, "amount": money(ln.amount)}
        for ln in result.lines
    ]
    inst = [
        {"due_date": i.due_date.isoformat(), "amount": money(i.amount)} for i in result.instalments
    ]
    assert pool is not None
    async with pool.acquire() as conn, conn.transaction():
        session = await conn.fetchrow(SLIDE, sid, user, IDLE)
        if session is None:
            return JSONResponse({"status": 401}, status_code=401)
        created = await conn.fetchval(
            INSERT_QUOTE,
            quote_id,
            user,
            inp.program_year,
            table.version,
            table.digest,
            inp.effective_date,
            json.dumps(inputs),
            json.dumps(lines),
            result.premium,
            result.tax,
            result.total,
            json.dumps(inst),
        )
        await audit(conn, request, user, session, "quote.create", quote_id)
    return JSONResponse(
        {
            "id": str(quote_id),
            "lawyer_id": str(user),
            **inputs,
            "lines": lines,
            "premium": money(result.premium),
            "tax": money(result.tax),
            "total": money(result.total),
            "instalments": inst,
            "rate_table_version": table.version,
            "created_at": created.isoformat(),
        },
        status_code=201,
    )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(url, min_size=5, max_size=10)
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/quotes/{quote_id}", get_quote),
        Route("/quotes", create_quote, methods=["POST"]),
    ],
    lifespan=lifespan,
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
