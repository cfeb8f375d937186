"""The architecture's own checks: what import-linter cannot see by itself."""

from __future__ import annotations

import configparser
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from app.core.route_handler import lean_handler
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
        if lean_handler(route.dependant, route.body_field is not None, None, None) is None
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
