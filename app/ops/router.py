"""Liveness, readiness and metrics for the load balancer and monitoring."""

from __future__ import annotations

import hmac

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from app.core.config import AppEnv
from app.core.errors import NotAuthenticated, NotFound, ServiceUnavailable, problem_responses
from app.core.routing import DomainRouter

router = DomainRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    rate_limits: str = Field(description="ok, or degraded: counted per process (Redis is down)")


@router.get(
    "/healthz", operation_id="getHealth", summary="The process is alive", response_model=Health
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="The database is reachable and migrated to head",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def readyz(request: Request) -> Readiness:
    state = request.app.state
    try:
        revision = await state.database.ping()
    except Exception as exc:
        raise ServiceUnavailable(
            "The database is not reachable.", headers={"Retry-After": "5"}
        ) from exc
    if revision != state.migration_head:
        raise ServiceUnavailable(
            "The database is not migrated to the current revision.", headers={"Retry-After": "5"}
        )
    # Serving without shared rate limits is still serving: said, not refused.
    limits = "degraded" if state.auth_rate_limiter.degraded else "ok"
    return Readiness(status="ready", database="ok", migration=revision, rate_limits=limits)


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **problem_responses(401, 404),
    },
)
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), settings.metrics_token.encode()):
            raise NotAuthenticated("Send the metrics token as a bearer token.")
    elif settings.app_env is AppEnv.production:
        raise NotFound("Metrics are not exposed without METRICS_TOKEN in production.")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
