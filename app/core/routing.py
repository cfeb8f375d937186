"""A domain's router: every route of it runs in the unit of work (`UnitOfWorkRoute`), and a
request whose path lies outside the router's prefix is turned away with one string comparison.

FastAPI (0.165) matches a request against each included router in turn by matching every route
of that router, with its per-route scope bookkeeping, and matches the chosen router's routes a
second time to handle the request: the twelfth router's requests paid for some hundred route
matches before their own (a third of the CPU of `GET /healthz`). A route of this router can only
match a path that starts with its prefix (route paths are the prefix and the route's own path,
and routers are included without a prefix of their inclusion), so the answer for any other path
is known without looking at the routes: no match, as FastAPI would have found route by route.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope

from app.core.unit_of_work import UnitOfWorkRoute


def under_prefix(path: str, prefix: str) -> bool:
    """Whether a route path with this prefix can match `path` (the prefix, then "/" or nothing)."""
    return path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/")


class DomainRouter(APIRouter):
    def __init__(self, *, prefix: str = "", **kwargs: Any) -> None:
        super().__init__(prefix=prefix, route_class=UnitOfWorkRoute, **kwargs)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        prefix = self.prefix
        if prefix:
            path: str = scope.get("path", "")
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if not under_prefix(path, prefix):
                return Match.NONE, {}
        return super().matches(scope)
