"""The architecture's own checks: what import-linter cannot see by itself."""

from __future__ import annotations

import configparser
from pathlib import Path

from app.core.unit_of_work import AUDIT_ACTION
from app.main import create_app
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
    missing = [
        f"{sorted(route.methods)} {route.path}"
        for route in app.routes
        if getattr(route, "methods", None)
        and route.path not in UNAUDITED
        and AUDIT_ACTION not in (getattr(route, "openapi_extra", None) or {})
    ]
    assert missing == [], "declare openapi_extra=audited_as(...) on these routes"
