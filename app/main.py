"""create_app(): settings, database, middleware, error handlers and routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi._body_limit import AppBodyLimitMiddleware
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from starlette.types import ASGIApp

from app.api_docs import install_docs
from app.applications.router import router as applications_router
from app.audit import service as audit_service
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.claims_notices.router import router as claims_notices_router
from app.core.anonymous import AnonymousRefusals
from app.core.audit_chain import audit_key_from
from app.core.audit_trail import AuditTrail
from app.core.config import Settings
from app.core.db import Database, resolve_database_url
from app.core.errors import ANY_ROUTE_PROBLEMS, install_error_handlers, problem_responses
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.migrations import head_revision
from app.core.ratelimit import rate_limiter_from
from app.core.requestctx import RequestMeta
from app.core.unit_of_work import repeated_refusals_event, write_events
from app.exemptions.router import router as exemptions_router
from app.firms.router import router as firms_router
from app.ops.router import router as ops_router
from app.payments.router import router as payments_router
from app.policies.router import router as policies_router
from app.quotes.rate_tables import validate_all as validate_rate_tables
from app.quotes.router import rate_tables_router
from app.quotes.router import router as quotes_router
from app.users.router import router as users_router

log = logging.getLogger(__name__)

# The cyclic collector's young generation is collected after this many allocations instead of
# Python's 700: a page of 50 records allocates about a thousand containers, so the default ran
# a collection for nearly every list request (measured: about 2,150 collections for 2,000 pages
# of quotes, 170-270 us of CPU per page; with 10,000, 13 collections and about 20 us). A
# request's objects are freed by reference counting when it ends; the collector only finds
# cycles, and at most this many more objects wait for it.
GC_YOUNG_THRESHOLD = 10_000

API_DESCRIPTION = """
The back end of the lawyers' professional liability insurance portal.

Authenticate with `POST /auth/token` and send `Authorization: Bearer <token>`, or (the web app)
rely on the session cookie and send `X-Requested-With` on every change. Errors are
`application/problem+json` (RFC 9457). Every read and change is recorded in the audit trail.
"""


async def _seal_periodically(app: FastAPI, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await audit_service.seal(app.state.database.engine, app.state.audit_key)
        except Exception:
            log.exception("audit sealing failed; will retry")


async def record_repeated_refusals(app: FastAPI, *, everything: bool = False) -> int:
    """Write the counted refusals of windows that have closed (all of them at shutdown)."""
    closed = app.state.anonymous_refusals.drain(everything=everything)
    if not closed:
        return 0
    meta = RequestMeta(
        request_id=f"refusals-{uuid.uuid4().hex[:12]}", client_ip=None, user_agent=None
    )
    trail = AuditTrail(app.state.audit_key, meta)
    for window in closed:
        trail.queue(repeated_refusals_event(trail, window))
    await write_events(app.state.database, trail)
    return len(closed)


async def _drain_periodically(app: FastAPI, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await record_repeated_refusals(app)
        except Exception:
            log.exception("recording counted refusals failed; will retry")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if app.state.database is None:  # no DATABASE_URL: the embedded server, started now
        url = await asyncio.to_thread(resolve_database_url, settings)
        app.state.database = Database.connect(url, pool_size=settings.db_pool_size)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # way, so that full collections stay short under load (fewer latency spikes).
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    drainer = asyncio.create_task(_drain_periodically(app, settings.anonymous_window_seconds))
    sealer = None
    if settings.audit_seal_interval_seconds > 0:
        sealer = asyncio.create_task(_seal_periodically(app, settings.audit_seal_interval_seconds))
    try:
        yield
    finally:
        for task in (drainer, sealer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(Exception):
            await record_repeated_refusals(app, everything=True)
        await app.state.auth_rate_limiter.close()
        await app.state.database.dispose()


# Routes are matched in this order, router by router: the busiest domains first. A router
# whose prefix a path lacks is passed over at once (app/core/routing.py).
ROUTERS = (
    quotes_router,
    applications_router,
    policies_router,
    claims_notices_router,
    exemptions_router,
    payments_router,
    users_router,
    auth_router,
    firms_router,
    audit_router,
    rate_tables_router,
    ops_router,
)


class PortalAPI(FastAPI):
    """FastAPI without the two layers it puts around every request that have nothing to do
    here: its exception telemetry (while its OpenTelemetry integration is off) and its request
    body limit (no limit is set on the app or a route; the input guard limits bodies). Each is a
    coroutine every request passes through, about 1 µs apiece."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        outer: Any = stack
        while (inner := getattr(outer, "app", None)) is not None:
            if self._inert(inner):
                outer.app = inner.app
            else:
                outer = inner
        return stack

    def _inert(self, layer: object) -> bool:
        if isinstance(layer, ExceptionTelemetryMiddleware):
            return not self.state.settings.fastapi_telemetry
        if isinstance(layer, AppBodyLimitMiddleware):
            return self.max_body_size is None and not any(
                getattr(route, "max_body_size", None) is not None for route in self.routes
            )
        return False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    validate_rate_tables()  # a broken rate table stops the service here, not at a quote
    app = PortalAPI(
        title="Lawyers' Professional Liability Insurance Portal API",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        responses=problem_responses(*ANY_ROUTE_PROBLEMS),
        docs_url=None,
        redoc_url=None,
        # Off unless asked for: on (FastAPI's default), every request looks up the process's
        # OpenTelemetry providers although none is configured (3 % of a read's CPU, profiled).
        telemetry=None
        if settings.fastapi_telemetry
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = (
        Database.connect(resolve_database_url(settings), pool_size=settings.db_pool_size)
        if settings.database_url
        else None
    )
    app.state.audit_key = (
        settings.audit_key.encode() if settings.audit_key else audit_key_from(settings.signing_key)
    )
    app.state.auth_rate_limiter = rate_limiter_from(
        settings.rate_limit_storage, settings.auth_rate_limit, settings.auth_rate_window_seconds
    )
    app.state.migration_head = head_revision()
    app.state.anonymous_refusals = AnonymousRefusals(
        window_seconds=settings.anonymous_window_seconds, limit=settings.anonymous_rate_limit
    )

    app.add_middleware(
        RequestContextMiddleware,
        trusted_proxies=settings.trusted_proxy_list,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        express_routers=ROUTERS,
        cors={
            "allow_origins": settings.cors_origin_list,
            "allow_credentials": True,
            "allow_methods": ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            "allow_headers": [
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Requested-With",
                "X-Request-ID",
            ],
            "expose_headers": ["ETag", "Location", "Retry-After", "X-Request-ID"],
        },
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_docs(app)
    return app
