"""Liveness, readiness and metrics for the load balancer and monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.core.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None


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
        raise ServiceUnavailable("The database is not reachable.") from exc
    if revision != state.migration_head:
        raise ServiceUnavailable("The database is not migrated to the current revision.")
    return Readiness(status="ready", database="ok", migration=revision)


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}
    },
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
