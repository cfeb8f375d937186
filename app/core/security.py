"""Password hashing: argon2id through passlib, run off the event loop."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import anyio.to_thread
from passlib.context import CryptContext

# OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
ARGON2_MEMORY_KIB = 19456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

_context = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=ARGON2_MEMORY_KIB,
    argon2__time_cost=ARGON2_TIME_COST,
    argon2__parallelism=ARGON2_PARALLELISM,
)

# Verified when the user is unknown, so that an unknown name costs the same as a wrong password.
_DUMMY_HASH = _context.hash(secrets.token_urlsafe(24))


def hash_password_sync(password: str) -> str:
    hashed: str = _context.hash(password)
    return hashed


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password_sync, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-work check: with no hash, a dummy hash is verified and False returned."""
    if password_hash is None:
        await anyio.to_thread.run_sync(_context.verify, password, _DUMMY_HASH)
        return False
    return await anyio.to_thread.run_sync(_context.verify, password, password_hash)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest_token(token: str) -> str:
    """Stored form of a one-time token (reset links): SHA-256, since the token itself is random."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()
