"""The express lane: a GET for a route with the planned handler (app/core/route_handler.py) is
handed to that handler directly, past the layers that such a request never needs.

Between the input guard and the route, FastAPI passes every request through its exception
middleware, its exit-stack middleware, the router (each included router matched in turn, the
chosen one twice, see app/core/routing.py) and the route's request/response wrapper, with the
response sent back through each of their `send` wrappers: about a tenth of an audited read's CPU.
A planned route needs none of what they provide (no dependency with `yield`, no body, no
background task), so the lane does what they would have done for it, and nothing else:

- the route FastAPI would choose: the domain router whose prefix the path has, then its routes
  in their order, the first whose path matches and that takes the method (a path matched with
  another method is only a partial match, as FastAPI keeps looking past it); any other request,
  or a route without the planned handler, goes the usual way;
- the scope FastAPI would give the route (`route`, `endpoint`, `path_params`);
- an exception answered by the app's own exception handlers, looked up as Starlette's
  exception middleware looks them up (by status for an HTTPException with a status handler,
  else by the exception's class and its bases); an unhandled one rises to the server-error
  middleware above, as before.

Requests traced by FastAPI's OpenTelemetry integration, and every request while the app has
dependency overrides (tests), go the usual way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.route_handler import Handler, is_planned
from app.core.routing import DomainRouter, under_prefix
from app.core.unit_of_work import UnitOfWorkRoute

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _Lane:
    route: APIRoute
    handler: Handler | None  # None: the route keeps FastAPI's way


@dataclass(frozen=True, slots=True)
class _Table:
    prefixes: tuple[tuple[str, tuple[_Lane, ...]], ...]
    by_class: Mapping[type[BaseException], ExceptionHandler]
    by_status: Mapping[int, ExceptionHandler]

    def find(self, path: str, method: str) -> tuple[_Lane, dict[str, Any]] | None:
        for prefix, lanes in self.prefixes:
            if not under_prefix(path, prefix):
                continue
            for lane in lanes:
                matched = lane.route.path_regex.match(path)
                if matched is None:
                    continue
                if method not in (lane.route.methods or ()):
                    continue  # a partial match: FastAPI looks further for a full one
                if lane.handler is None:
                    return None
                convertors = lane.route.param_convertors
                params = {k: convertors[k].convert(v) for k, v in matched.groupdict().items()}
                return lane, params
            return None  # no route of the router whose prefix it is: FastAPI's answer
        return None

    def handler_for(self, exc: Exception) -> ExceptionHandler | None:
        if isinstance(exc, HTTPException) and exc.status_code in self.by_status:
            return self.by_status[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in self.by_class:
                return self.by_class[cls]
        return None


def _table(app: Any, routers: tuple[DomainRouter, ...]) -> _Table:
    prefixes = []
    for router in routers:
        if not router.prefix:
            continue  # routes at the root (health, metrics) go the usual way
        lanes = []
        for route in router.routes:
            handler = None
            if (
                isinstance(route, UnitOfWorkRoute)
                and route.methods == {"GET"}
                and is_planned(route.dependant, route.body_field is not None)
            ):
                handler = route.get_route_handler()
            if isinstance(route, APIRoute):
                lanes.append(_Lane(route, handler))
        prefixes.append((router.prefix, tuple(lanes)))
    handlers = dict(app.exception_handlers)
    by_class = {
        key: value
        for key, value in handlers.items()
        if isinstance(key, type) and key is not Exception  # Exception: the server-error layer's
    }
    by_status = {
        key: value for key, value in handlers.items() if isinstance(key, int) and key != 500
    }
    return _Table(tuple(prefixes), by_class, by_status)


class ExpressLane:
    """ASGI middleware, innermost (just above FastAPI's exception middleware)."""

    def __init__(self, app: ASGIApp, routers: tuple[DomainRouter, ...]) -> None:
        self.app = app
        self.routers = routers
        self._table: _Table | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        fastapi_app = scope["app"]
        if fastapi_app.dependency_overrides or scope.get("fastapi.telemetry") is not None:
            await self.app(scope, receive, send)
            return
        table = self._table
        if table is None:
            table = self._table = _table(fastapi_app, self.routers)
        found = table.find(scope["path"], "GET")
        if found is None:
            await self.app(scope, receive, send)
            return
        lane, params = found
        scope["route"] = lane.route
        scope["endpoint"] = lane.route.endpoint
        scope["path_params"] = params
        request = Request(scope, receive, send)
        assert lane.handler is not None
        try:
            response = await lane.handler(request)
        except Exception as exc:
            handler = table.handler_for(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)
