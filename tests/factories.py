"""Test data: users, firms and logins, made through the same services the API uses."""

from __future__ import annotations

import secrets
import uuid
from functools import cache
from typing import Any

import httpx
from passlib.context import CryptContext
from sqlalchemy import insert, text

from app.accounts.models import AppUser
from app.core.security import hash_password_sync
from app.firms.models import Firm

PASSWORD = "correct horse battery staple 42"

# Users made here get an argon2id hash of the lightest parameters (8 KiB, 1 pass): logging them in
# goes through the same verification as any login, in a fraction of a millisecond instead of the
# ~16 ms that the service's own parameters (19 MiB, 2 passes) cost. Every password the service
# hashes itself (users created through the API, changed or reset passwords) has its real
# parameters, and so does the dummy hash checked for unknown users. Tests that time logins
# (marked `real_password_cost`, see tests/conftest.py) get hashes made by the service itself.
_LIGHT = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=8,
    argon2__time_cost=1,
    argon2__parallelism=1,
)
real_password_cost = False  # set for each test by tests/conftest.py


@cache
def _hash(password: str, real_cost: bool) -> str:
    return hash_password_sync(password) if real_cost else str(_LIGHT.hash(password))


def password_hash(password: str = PASSWORD) -> str:
    return _hash(password, real_password_cost)


async def make_firm(
    app: Any, *, name: str = "Example LLP", firm_number: str | None = None
) -> uuid.UUID:
    firm_id = uuid.uuid4()
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            insert(Firm).values(
                id=firm_id,
                name=name,
                firm_number=firm_number or f"F{secrets.token_hex(4)}",
                version=1,
            )
        )
    return firm_id


async def make_user(
    app: Any,
    *,
    role: str = "lawyer",
    username: str | None = None,
    password: str = PASSWORD,
    firm_id: uuid.UUID | None = None,
    email: str | None = None,
    scopes: list[str] | None = None,
    full_name: str | None = None,
) -> dict[str, Any]:
    """A user row (bypassing the admin API, which has its own tests)."""
    user_id = uuid.uuid4()
    username = username or f"{role[:3]}{secrets.token_hex(4)}".upper()
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            insert(AppUser).values(
                id=user_id,
                username=username,
                role=role,
                firm_id=firm_id,
                email=email,
                full_name=full_name,
                scopes=scopes or [],
                password_hash=password_hash(password),
                version=1,
            )
        )
    return {"id": user_id, "username": username, "password": password, "role": role}


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def user_token(
    app: Any, client: httpx.AsyncClient, **kwargs: Any
) -> tuple[dict[str, Any], str]:
    user = await make_user(app, **kwargs)
    return user, await login(client, user["username"], user["password"])


async def audit_events(app: Any, **where: Any) -> list[dict[str, Any]]:
    """Audit rows, oldest first, filtered by equal columns."""
    clauses = " AND ".join(f"{k} = :{k}" for k in where) or "TRUE"
    async with app.state.database.engine.connect() as conn:
        rows = await conn.execute(
            text(f"SELECT * FROM audit_event WHERE {clauses} ORDER BY seq"),  # noqa: S608
            {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in where.items()},
        )
        return [dict(r) for r in rows.mappings()]


def version_of(etag: str) -> int:
    """The record's version in an ETag (`"3.<digest of the answer>"` -> 3)."""
    assert etag.startswith('"') and etag.endswith('"'), etag
    version, _, digest = etag[1:-1].partition(".")
    assert len(digest) == 16, etag  # the answer's digest is always there
    return int(version)
