"""The one place JWTs are made and checked. The accepted algorithm is pinned here,
never taken from the token (python-jose would let the header choose)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

ALGORITHM = "HS256"
TOKEN_USE = "access"


class TokenInvalid(Exception):
    """The token is malformed, forged, of another kind or for another audience."""


class TokenExpired(TokenInvalid):
    """The token's own `exp` has passed."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID


def issue_access_token(
    *,
    key: str,
    issuer: str,
    audience: str,
    user_id: UUID,
    session_id: UUID,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "token_use": TOKEN_USE,
        "iat": int(issued_at.timestamp()),
        "nbf": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    token: str = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": "JWT"})
    return token


def read_access_token(token: str, *, key: str, issuer: str, audience: str) -> AccessClaims:
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError as exc:
        raise TokenInvalid("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenInvalid("algorithm not accepted")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require_exp": True, "require_iat": True, "require_sub": True},
        )
    except ExpiredSignatureError as exc:
        raise TokenExpired("token expired") from exc
    except JOSEError as exc:
        raise TokenInvalid("token rejected") from exc
    if claims.get("token_use") != TOKEN_USE:
        raise TokenInvalid("not an access token")
    try:
        return AccessClaims(user_id=UUID(claims["sub"]), session_id=UUID(claims["sid"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenInvalid("token claims malformed") from exc
