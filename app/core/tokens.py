"""The one place JWTs are made and checked. The accepted algorithm is pinned here,
never taken from the token (python-jose would let the header choose)."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

ALGORITHM = "HS256"
TOKEN_USE = "access"


class TokenInvalid(Exception):
    """The token is malformed, forged, of another kind or for another audience."""


class TokenExpired(TokenInvalid):
    """The token's own `exp` has passed."""


class AccessClaims(NamedTuple):
    """Who the session belongs to. Role, firm and scopes are copied in at login; a change to any
    of them ends the user's sessions, and the server checks them against the user on every
    request, so a token never carries stale rights. Read for every request: a named tuple, as
    the request's facts are (app/core/requestctx.py)."""

    user_id: UUID
    session_id: UUID
    username: str
    role: str
    firm_id: UUID | None
    scopes: tuple[str, ...]


def issue_access_token(
    *,
    key: str,
    issuer: str,
    audience: str,
    subject: AccessClaims,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(subject.user_id),
        "sid": str(subject.session_id),
        "preferred_username": subject.username,
        "role": subject.role,
        "firm": str(subject.firm_id) if subject.firm_id else None,
        "scope": " ".join(subject.scopes),
        "token_use": TOKEN_USE,
        "iat": int(issued_at.timestamp()),
        "nbf": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    token: str = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": "JWT"})
    return token


_verified: OrderedDict[tuple[str, str, str, str], tuple[AccessClaims, int]] = OrderedDict()
_VERIFIED_MAX = 10_000


def read_access_token(token: str, *, key: str, issuer: str, audience: str) -> AccessClaims:
    """Check a token; a token already verified with the same key is not verified again, but
    its expiry still is. (Whether its session is alive is the server's row's business.)"""
    cache_key = (token, key, issuer, audience)
    cached = _verified.get(cache_key)
    if cached is not None:
        claims, expires = cached
        if time.time() >= expires:
            raise TokenExpired("token expired")
        return claims
    claims, expires = _verify(token, key=key, issuer=issuer, audience=audience)
    _verified[cache_key] = (claims, expires)
    if len(_verified) > _VERIFIED_MAX:
        _verified.popitem(last=False)
    return claims


def _verify(token: str, *, key: str, issuer: str, audience: str) -> tuple[AccessClaims, int]:
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
            # python-jose skips the audience check when the token has no `aud`: require it.
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_aud": True,
                "require_iss": True,
            },
        )
    except ExpiredSignatureError as exc:
        raise TokenExpired("token expired") from exc
    except JOSEError as exc:
        raise TokenInvalid("token rejected") from exc
    if claims.get("token_use") != TOKEN_USE:
        raise TokenInvalid("not an access token")
    try:
        firm = claims.get("firm")
        subject = AccessClaims(
            user_id=UUID(claims["sub"]),
            session_id=UUID(claims["sid"]),
            username=str(claims["preferred_username"]),
            role=str(claims["role"]),
            firm_id=UUID(firm) if firm else None,
            scopes=tuple(str(claims.get("scope", "")).split()),
        )
        return subject, int(claims["exp"])
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenInvalid("token claims malformed") from exc
