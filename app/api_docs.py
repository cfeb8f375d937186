"""The OpenAPI contract as client generators read it, and /docs and /redoc served from assets
bundled in a package (no CDN: they work on a machine without internet access).

What `contract()` adds to FastAPI's document:
- every error answer is `application/problem+json` with the one `Problem` schema (typed
  `errors: [{field, code, message}]`), never an empty schema nor `application/json`;
- `securitySchemes`: OAuth2 (password for people, client credentials for integrations, both at
  `POST /auth/token`), a bearer JWT, and the SPA's session cookie; applied to each operation that
  needs a session (those that can answer 401);
- response headers: `Location` on every 201, `Retry-After` on 409/429/503 (a route that answers
  an ETag declares it itself: `app.core.etag.with_etag`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from app.accounts.roles import INTEGRATION_SCOPES
from app.auth.dependencies import current_principal
from app.core.errors import PROBLEM_JSON, Problem

ASSETS = "/docs/assets"
_BUNDLED = Path(fastapi_offline.__file__).parent / "static"
_OWN = Path(__file__).parent / "docs_assets"
_DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)
SECURITY: list[dict[str, list[str]]] = [{"oauth2": []}, {"bearer": []}, {"session_cookie": []}]
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_HEADER = {
    "Location": {"description": "The URL of the record created", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
}


def contract(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["securitySchemes"] = _security_schemes(app)
    signed_in = _needing_a_session(app)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _shape_operation(operation)
            if (path, method) in signed_in:
                operation["security"] = SECURITY
    for unused in ("HTTPValidationError", "ValidationError"):  # answered as Problem instead
        schemas.pop(unused, None)
    app.openapi_schema = document
    return document


def _security_schemes(app: FastAPI) -> dict[str, Any]:
    cookie = app.state.settings.session_cookie_name
    return {
        "oauth2": {
            "type": "oauth2",
            "description": "People log in with the password flow (a lawyer's username is the "
            "Law Society number); integrations with client credentials and their scopes.",
            "flows": {
                "password": {"tokenUrl": "/auth/token", "scopes": {}},
                "clientCredentials": {
                    "tokenUrl": "/auth/token",
                    "scopes": {scope: scope for scope in sorted(INTEGRATION_SCOPES)},
                },
            },
        },
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "session_cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": cookie,
            "description": "The SPA's session (set by POST /auth/token); a change must also "
            "carry X-Requested-With",
        },
    }


def _needing_a_session(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of the routes whose dependencies identify the caller."""

    def identifies(dependant: Dependant) -> bool:
        return dependant.call is current_principal or any(
            identifies(d) for d in dependant.dependencies
        )

    return {
        (route.path, method.lower())
        for route in _api_routes(app.routes)
        if identifies(route.dependant)
        for method in route.methods or ()
    }


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
    try:  # newer FastAPI keeps included routers as route contexts
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover
        return
    for context in iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute):
            yield context.original_route


def _shape_operation(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        # A header the route checks itself (400 when missing, not FastAPI's 422): required.
        if parameter["name"] == "Idempotency-Key" and parameter.get("description", "").startswith(
            "Required."
        ):
            parameter["required"] = True
            schema = parameter["schema"]
            options = schema.pop("anyOf", [])
            schema.update(next((o for o in options if o.get("type") == "string"), {}))
    responses: dict[str, Any] = operation.get("responses", {})
    for status, response in responses.items():
        code = int(status) if status.isdigit() else 0
        if code >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
        for media in response.get("content", {}).values():
            media.setdefault("schema", {"type": "string"})  # text (metrics): never empty
        if code in (409, 429, 503):
            response.setdefault("headers", {})["Retry-After"] = _HEADER["Retry-After"]
        if code == 201:
            response.setdefault("headers", {})["Location"] = _HEADER["Location"]


def install_docs(app: FastAPI) -> None:
    """The contract at /openapi.json, Swagger UI at /docs (Authorize logs in; every request it
    sends carries X-Requested-With, so a change can be tried with the session cookie too) and
    ReDoc at /redoc, from bundled assets."""
    app.openapi = lambda: contract(app)  # type: ignore[method-assign]
    app.mount(f"{ASSETS}/bundled", StaticFiles(directory=_BUNDLED), name="docs-bundled")
    app.mount(f"{ASSETS}/own", StaticFiles(directory=_OWN), name="docs-own")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            "API documentation",
            f'<link rel="stylesheet" href="{ASSETS}/bundled/swagger-ui.css">',
            '<div id="swagger-ui"></div>'
            f'<script src="{ASSETS}/bundled/swagger-ui-bundle.js"></script>'
            f'<script src="{ASSETS}/own/swagger-init.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(
            "API reference",
            "",
            '<redoc spec-url="/openapi.json"></redoc>'
            f'<script src="{ASSETS}/bundled/redoc.standalone.js"></script>',
        )


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="icon" href="{ASSETS}/bundled/favicon.png">{head}</head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": _DOCS_CSP})
