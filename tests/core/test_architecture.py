"""The architecture's own checks: what import-linter cannot see by itself."""

from __future__ import annotations

import configparser
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from app.core.route_handler import is_planned
from app.core.routing import DomainRouter
from app.core.unit_of_work import AUDIT_ACTION, UnitOfWorkRoute, uses_unit
from app.main import ROUTERS, create_app
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = ("models", "repository", "service", "router")
# Routes that are not about anyone's records: health, readiness, metrics, the documentation.
UNAUDITED = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def test_every_domains_private_modules_are_protected_by_a_contract():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    protected = {
        line.strip()
        for section in config.sections()
        if config[section].get("type") == "protected"
        for line in config[section]["protected_modules"].split()
    }
    expected = {
        f"app.{path.parent.name}.{path.stem}"
        for path in (ROOT / "app").glob("*/*.py")
        if path.stem in PRIVATE and path.parent.name not in ("core", "ops", "accounts")
    }
    assert expected - protected == set(), "add the module to its domain's contract"


def test_every_route_names_its_audit_action(database_url):
    app = create_app(make_settings(database_url))
    # FastAPI keeps included routers as route contexts: walk them down to their routes
    routes = [(c.original_route, c.path) for c in iter_route_contexts(app.routes)]
    api = [(route, path) for route, path in routes if isinstance(route, APIRoute)]
    assert len(api) > 30, "the walk no longer finds the app's routes"
    missing = [
        f"{sorted(route.methods)} {path}"
        for route, path in api
        if path not in UNAUDITED and AUDIT_ACTION not in (route.openapi_extra or {})
    ]
    assert missing == [], "declare openapi_extra=audited_as(...) on these routes"


def test_every_route_that_takes_the_unit_of_work_runs_inside_it(database_url):
    """A route whose dependencies take `UnitOfWork` must be a UnitOfWorkRoute (its router's
    route_class), which opens and finishes the unit around it; else the unit is missing."""
    app = create_app(make_settings(database_url))
    routes = [(c.original_route, c.path) for c in iter_route_contexts(app.routes)]
    api = [(route, path) for route, path in routes if isinstance(route, APIRoute)]
    assert len(api) > 30, "the walk no longer finds the app's routes"
    assert sum(uses_unit(route.dependant) for route, _ in api) > 30
    outside = [
        f"{sorted(route.methods)} {path}"
        for route, path in api
        if uses_unit(route.dependant) and not isinstance(route, UnitOfWorkRoute)
    ]
    assert outside == [], "give these routes' routers route_class=UnitOfWorkRoute"


def test_the_audited_reads_are_served_by_the_planned_handler(database_url):
    """Every read by id and every list of the records' domains takes the planned handler
    (app/core/route_handler.py), not FastAPI's general one: a dependency or a return type
    that disqualifies one of them would otherwise slow it down silently."""
    app = create_app(make_settings(database_url))
    routes = [(c.original_route, c.path) for c in iter_route_contexts(app.routes)]
    reads = {
        path: route
        for route, path in routes
        if isinstance(route, APIRoute)
        and route.methods == {"GET"}
        and path.split("/")[1]
        in {"quotes", "applications", "policies", "claims-notices", "exemptions", "users"}
        and path.count("/") <= 2
        and not path.endswith("access-review")
    }
    reads["/audit-events"] = next(r for r, p in routes if p == "/audit-events")
    assert len(reads) >= 12, sorted(reads)
    unplanned = [
        path
        for path, route in reads.items()
        if not is_planned(route.dependant, route.body_field is not None)
    ]
    assert unplanned == []


def test_every_route_lies_under_its_routers_prefix(database_url):
    """A domain router turns away a path without its prefix before looking at its routes
    (app/core/routing.py): that holds only while each route's path starts with the prefix and
    the router is included without a prefix of its own inclusion."""
    app = create_app(make_settings(database_url))
    declared = set()
    for router in ROUTERS:
        assert isinstance(router, DomainRouter)
        for route in router.routes:
            path = getattr(route, "path", "")
            assert path == router.prefix or path.startswith(router.prefix + "/"), path
            declared.add(path)
    served = {
        c.path for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)
    }
    assert declared <= served, sorted(declared - served)


async def test_a_path_that_only_begins_like_a_prefix_matches_no_domain(client):
    for path in ("/quotesx", "/quotes-and-more/1", "/usersme", "/payments_x/accounts"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
    # the route under the prefix is found: refused for want of a session, not unknown
    assert (await client.get("/users/me")).status_code == 401
    assert (await client.get("/quotes")).status_code == 401


def _sample_path(path: str) -> str:
    import re
    import uuid

    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


async def test_the_express_lane_chooses_the_route_fastapi_chooses(app, client):
    """app/core/express.py: every GET of every domain router, and paths near them, answered
    the same with the lane as without it (the lane is off while the app has a dependency
    override), for a caller with no session (401), a malformed id (422 or 404), an unknown
    path (404); and each planned read is served by the lane."""
    from app.core.express import ExpressLane

    paths = ["/quotesx", "/quotes/", "/users/me/", "/payments/accounts", "/claims-notices/x/y"]
    for router in ROUTERS:
        for route in router.routes if router.prefix else ():  # /metrics' answer changes
            if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
                paths += [_sample_path(route.path), route.path.replace("{", "").replace("}", "")]

    async def answers():
        found = []
        for path in paths:
            response = await client.get(path)
            json_answer = response.headers.get("content-type", "").endswith("json")
            body = response.json() if json_answer else response.text
            if isinstance(body, dict):
                body.pop("request_id", None)
                detail = body.get("detail")
                if isinstance(detail, str) and "request id" in detail:
                    body.pop("detail")
            found.append((path, response.status_code, response.headers.get("location"), body))
        return found

    with_lane = await answers()
    lane = next(layer for layer in _layers(app.middleware_stack) if isinstance(layer, ExpressLane))
    assert lane._table is not None
    served = [path for path in paths if lane._table.find(path, "GET") is not None]
    assert len(served) >= 12, served
    app.dependency_overrides[_sample_path] = lambda: None  # any override turns the lane off
    try:
        without_lane = await answers()
    finally:
        app.dependency_overrides.clear()
    assert with_lane == without_lane


def _layers(app):
    while app is not None:
        yield app
        app = getattr(app, "app", None)


async def test_the_express_lane_answers_a_signed_in_caller_as_fastapi_does(app, client):
    from tests.factories import bearer, user_token

    _, token = await user_token(app, client)
    me = bearer(token)
    quote = await client.post(
        "/quotes", json={"program_year": 2025, "effective_date": "2025-01-01"}, headers=me
    )
    paths = [
        "/quotes",
        f"/quotes/{quote.json()['id']}",
        f"/quotes/{quote.json()['id']}?bogus=1",
        "/quotes/not-a-uuid",
        "/quotes?limit=0",
        "/users/me",
        "/applications",
        "/policies",
        "/claims-notices?status=nonsense",
        "/audit-events",
    ]

    async def answers():
        found = []
        for path in paths:
            response = await client.get(path, headers=me)
            body = response.json()
            if isinstance(body, dict):
                body.pop("request_id", None)
            found.append((path, response.status_code, response.headers.get("etag"), body))
        return found

    with_lane = await answers()
    app.dependency_overrides[_sample_path] = lambda: None
    try:
        without_lane = await answers()
    finally:
        app.dependency_overrides.clear()
    assert with_lane == without_lane
    assert {status for _, status, _, _ in with_lane} >= {200, 403, 422}
