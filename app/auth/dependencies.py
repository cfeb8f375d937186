"""Authentication and role checks as dependencies, so routes read as what they allow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from app.accounts.roles import Role
from app.auth import service
from app.auth.errors import CsrfHeaderMissing, InvalidToken
from app.auth.principal import Principal
from app.core.audit_trail import Outcome
from app.core.errors import AppError, Forbidden, NotAuthenticated, RateLimited
from app.core.requestctx import current_request_meta
from app.core.requestctx import header as request_header
from app.core.unit_of_work import Unit, UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _credentials(request: Request) -> tuple[str | None, bool]:
    header = request_header(request.scope, b"authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        return None, False
    cookie = request.cookies.get(request.app.state.settings.session_cookie_name)
    return (cookie, True) if cookie else (None, False)


def _anonymous(request: Request, refusal: NotAuthenticated) -> AppError:
    """A request naming nobody is refused 401, or 429 once its client is past the limit."""
    client = current_request_meta().client_ip or "unknown"
    wait = request.app.state.anonymous_refusals.over_limit(client)
    return RateLimited(wait) if wait is not None else refusal


async def current_principal(request: Request, unit: UnitOfWork) -> Principal:
    token, via_cookie = _credentials(request)
    if token is None:
        raise _anonymous(request, NotAuthenticated("Send a bearer token or the session cookie."))
    if (
        via_cookie
        and request.method not in SAFE_METHODS
        and not request.headers.get("x-requested-with")
    ):
        # Refused without touching the session (a forged cross-site request must not keep
        # it alive), but recorded with the user its cookie names.
        service.identify(unit, token)
        raise CsrfHeaderMissing(
            "A change authenticated by the session cookie must carry the X-Requested-With header."
        )
    try:
        return await service.authenticate(unit, token, via_cookie=via_cookie)
    except InvalidToken as exc:
        raise _anonymous(request, exc) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def caller_if_any(request: Request, unit: UnitOfWork) -> None:
    """For a route that authenticates something else (a processor's signed callback): the user
    a genuine token names, if one is sent, is the actor of what is recorded; nothing is
    required or checked."""
    token, _ = _credentials(request)
    if token is not None:
        service.identify(unit, token)


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"This action needs one of the roles: {', '.join(sorted(allowed))}.")
        return principal

    return check


def require_access(
    scope: str, roles: frozenset[Role]
) -> Callable[[Principal], Awaitable[Principal]]:
    """The roles that may take an action at all, and the scope an integration needs for it:
    checked before any record is looked up, so a refusal never tells whether an id exists."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"This action needs one of the roles: {', '.join(sorted(roles))}.")
        if principal.role is Role.integration and scope not in principal.scopes:
            raise Forbidden(f"This integration lacks the scope {scope}.")
        return principal

    return check


class LoginRateLimited(RateLimited):
    commit_work = True  # the refused attempt's audit event stays


def client_rate_limit(bucket: str, action: str) -> Callable[[Request, Unit], Awaitable[None]]:
    """A per-client limit (AUTH_RATE_LIMIT per window) on an unauthenticated endpoint, shared by
    every worker when kept in Redis; a refused attempt is an audit event."""

    async def limit(request: Request, unit: UnitOfWork) -> None:
        limiter = request.app.state.auth_rate_limiter
        client = current_request_meta().client_ip or "unknown"
        decision = await limiter.hit(f"{bucket}:{client}")
        if not decision.allowed:
            unit.audit.record(action, outcome=Outcome.failure, details={"reason": "rate_limited"})
            raise LoginRateLimited(decision.retry_after)

    return limit


limit_token_requests = client_rate_limit("auth-token", "auth.login")
limit_reset_requests = client_rate_limit("password-reset", "auth.password_reset_request")
