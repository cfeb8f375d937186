"""Domain errors and their one mapping to RFC 9457 problem+json."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.requestctx import current_request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class AppError(Exception):
    """Base of every error a client may see. Subclasses set status, slug and title."""

    # A 401 for a session that has ended (expired, revoked, not a valid token): the session
    # cookie that carried it is cleared with the answer.
    ends_session: ClassVar[bool] = False

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    # True when the work done before the error must still be committed (a failed login
    # counts towards the lockout even though the answer is 401).
    commit_work: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.resource_type = resource_type
        self.resource_id = resource_id

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


class InvalidInput(AppError):
    status = 422
    slug = "invalid-input"
    title = "The request has invalid fields"


class RuleViolation(AppError):
    status = 422
    slug = "rule-violation"
    title = "The request breaks a program rule"


class NotAuthenticated(AppError):
    status = 401
    slug = "not-authenticated"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "Your role does not allow this action"


class NotFound(AppError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "The request conflicts with the current state"


class PreconditionFailed(AppError):
    status = 412
    slug = "precondition-failed"
    title = "The record has changed since you read it"


class PayloadTooLarge(AppError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class PreconditionRequired(AppError):
    status = 428
    slug = "precondition-required"
    title = "If-Match is required to change this record"


class RateLimited(AppError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Try again in {retry_after} seconds.", headers={"Retry-After": str(retry_after)}
        )


class ServiceUnavailable(AppError):
    status = 503
    slug = "service-unavailable"
    title = "A dependency is unavailable"


class ProblemFieldError(BaseModel):
    """One failed field or rule of an invalid request."""

    field: str = Field(description="The field, as a dotted path (`form.c.deductible`)")
    code: str = Field(description="A stable code for the rule (`required`, `in_future`, ...)")
    message: str = Field(description="A sentence for people")


class Problem(BaseModel):
    """The problem+json body (RFC 9457), as documented in OpenAPI."""

    type: str = Field(description="`/problems/<slug>`: what kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = Field(description="Quote it when you contact us")
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="For invalid input: each failed field or rule"
    )


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": current_request_id(),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "code": e.code, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_name(loc: tuple[int | str, ...]) -> str:
    # ("body", "address", "city") -> "address.city"; query/path/header keep their name only.
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie")
        else [str(p) for p in loc]
    )
    return ".".join(parts) or str(loc[0] if loc else "body")


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        message = str(err.get("msg", "invalid"))
        out.append(
            FieldError(_field_name(tuple(err.get("loc", ()))), str(err.get("type")), message)
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        response = problem_response(
            exc.status,
            exc.slug,
            exc.title,
            exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            instance=request.url.path,
        )
        cookie = request.app.state.settings.session_cookie_name
        if (
            exc.ends_session
            and cookie in request.cookies
            and "authorization" not in request.headers
        ):
            # The session the cookie carried has ended: the browser forgets it too.
            response.delete_cookie(cookie, httponly=True, secure=True, samesite="strict", path="/")
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            InvalidInput.slug,
            InvalidInput.title,
            "One or more fields are invalid; see errors.",
            errors=validation_errors(exc),
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        title = str(exc.detail) if isinstance(exc.detail, str) else "HTTP error"
        return problem_response(
            exc.status_code,
            slug,
            title,
            title,
            headers=dict(exc.headers or {}),
            instance=request.url.path,
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.error("dependency unavailable: %s", type(exc).__name__)
        return problem_response(
            503,
            ServiceUnavailable.slug,
            ServiceUnavailable.title,
            "A service this request needs is unavailable; try again shortly.",
            headers={"Retry-After": "5"},
            instance=request.url.path,
        )

    @app.exception_handler(OSError)
    async def _unreachable(request: Request, exc: OSError) -> JSONResponse:
        # The database (the one network dependency of a request) cannot be reached.
        return await _unavailable(request, exc)

    @app.exception_handler(SATimeoutError)
    async def _pool_exhausted(request: Request, exc: SATimeoutError) -> JSONResponse:
        return await _unavailable(request, exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        kind = database_failure(exc)
        if kind == "unavailable":
            return await _unavailable(request, exc)
        if kind == "invalid":
            # A value the database refuses that validation let through: still the client's.
            log.warning("database refused a value: %s", type(exc.orig).__name__)
            return problem_response(
                422,
                InvalidInput.slug,
                InvalidInput.title,
                "A value is out of the range this service can store.",
                instance=request.url.path,
            )
        log.error("database error: %s", type(exc.orig).__name__)  # never its SQL or values
        return problem_response(
            500,
            "internal-error",
            "Internal server error",
            "Something went wrong on our side. Quote the request id when you contact us.",
        )


def database_failure(exc: DBAPIError) -> str:
    """'unavailable' (connection lost, server starting or shutting down, too many connections),
    'invalid' (a data exception: SQLSTATE class 22) or 'error'."""
    if exc.connection_invalidated:
        return "unavailable"
    cause = exc.orig.__cause__ if exc.orig is not None else None
    if isinstance(
        cause,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.TooManyConnectionsError
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError,
    ):
        return "unavailable"
    state = getattr(cause, "sqlstate", None) or ""
    if state.startswith("08") or state.startswith("57P"):
        return "unavailable"
    if state.startswith("22"):
        return "invalid"
    return "error"


# What any route may answer, whatever it does: an unreadable body (400), a body over the limit
# (413), a control character or an out-of-range value (422), too many requests naming nobody
# (429), our error (500), a dependency down (503).
ANY_ROUTE_PROBLEMS = (400, 413, 422, 429, 500, 503)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the problems a route may answer."""
    described = {
        400: "Bad request",
        401: "Not authenticated, or the session ended",
        403: "The role lacks this action",
        404: "Not found, or not yours",
        409: "State conflict",
        412: "If-Match does not match the current ETag",
        413: "The request body is over the size limit",
        422: "Invalid input or a broken rule",
        428: "If-Match is required",
        429: "Rate limited",
        500: "An error on our side (quote the request id)",
        503: "A dependency is unavailable",
    }
    # the content is the one Problem schema, as problem+json (see app/api_docs.py)
    return {s: {"description": described[s], "model": Problem} for s in statuses}
