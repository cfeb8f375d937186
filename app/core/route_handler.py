"""A route handler for the requests without a body (reads, lists, deletes): its dependency tree
planned once when the route is built, then solved per request without FastAPI's general
machinery (per-request classification of every callable, scope bookkeeping, exit stacks, body
parsing and response serialization that such a route never uses). Parameters are validated by
FastAPI's own `request_params_to_args`, so values and errors are exactly FastAPI's.

A route qualifies when it takes no body, its endpoint and every dependency are coroutine
functions without `yield`, no dependency asks for scopes, background tasks, the response or a
websocket, and its endpoint returns a `Response` (as our routes do through `model_response`).
Any other route keeps FastAPI's handler (`lean_handler` answers None), and so does every
request while the app has dependency overrides (tests).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One node of a dependency tree: its call, its own parameters, its sub-dependencies."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    use_cache: bool
    subs: tuple[_Plan, ...]
    path: tuple[Any, ...]
    query: tuple[Any, ...]
    header: tuple[Any, ...]
    cookie: tuple[Any, ...]
    request_name: str | None


def _plan(dependant: Dependant) -> _Plan | None:
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or dependant.body_params
        or dependant.own_oauth_scopes
        or dependant.security_scopes_param_name
        or dependant.background_tasks_param_name
        or dependant.response_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or getattr(dependant, "concurrency", None) is not None
    ):
        return None
    subs = []
    for sub in dependant.dependencies:
        planned = _plan(sub)
        if planned is None:
            return None
        subs.append(planned)
    return _Plan(
        call=call,
        name=dependant.name,
        use_cache=dependant.use_cache,
        subs=tuple(subs),
        path=tuple(dependant.path_params),
        query=tuple(dependant.query_params),
        header=tuple(dependant.header_params),
        cookie=tuple(dependant.cookie_params),
        request_name=dependant.request_param_name,
    )


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    try:
        returned = typing.get_type_hints(endpoint).get("return")
    except Exception:  # an annotation that does not resolve: not ours to plan
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


async def _solve(
    plan: _Plan, request: Request, cache: dict[Any, Any], errors: list[Any]
) -> dict[str, Any]:
    """The values of `plan`'s parameters, in FastAPI's order: the sub-dependencies first (each
    called once per request unless it opts out of the cache), then its own parameters. A
    sub-dependency whose own parameters failed is not called; its errors are collected."""
    values: dict[str, Any] = {}
    for sub in plan.subs:
        if sub.use_cache and sub.call in cache:
            solved = cache[sub.call]
        else:
            before = len(errors)
            sub_values = await _solve(sub, request, cache, errors)
            if len(errors) > before:
                continue
            solved = await sub.call(**sub_values)
            cache.setdefault(sub.call, solved)
        if sub.name is not None:
            values[sub.name] = solved
    for fields, received in (
        (plan.path, request.path_params),
        (plan.query, request.query_params),
        (plan.header, request.headers),
        (plan.cookie, request.cookies),
    ):
        if fields:
            found, failed = request_params_to_args(fields, received)
            values.update(found)
            errors += failed
    if plan.request_name:
        values[plan.request_name] = request
    return values


def _planned(dependant: Dependant, has_body: bool) -> _Plan | None:
    plan = None if has_body else _plan(dependant)
    return plan if plan is not None and _returns_response(plan.call) else None


def is_planned(dependant: Dependant, has_body: bool) -> bool:
    """Whether a route qualifies for the planned handler (see the module)."""
    return _planned(dependant, has_body) is not None


def lean_handler(
    dependant: Dependant, has_body: bool, overrides_provider: Any, fallback: Handler
) -> Handler | None:
    """The planned handler of a route that qualifies (see the module), else None."""
    plan = _planned(dependant, has_body)
    if plan is None:
        return None
    endpoint = plan.call

    async def handler(request: Request) -> Response:
        if overrides_provider is not None and overrides_provider.dependency_overrides:
            return await fallback(request)
        errors: list[Any] = []
        values = await _solve(plan, request, {}, errors)
        if errors:
            raise RequestValidationError(errors)
        response: Response = await endpoint(**values)
        return response

    return handler
