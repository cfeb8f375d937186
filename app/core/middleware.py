"""The one middleware of the app, plain ASGI (cheaper than BaseHTTPMiddleware, and one layer
instead of three on every request): request ids and client facts, security headers, the JSON
access log and Prometheus metrics around CORS and the input guard. A request without an
`Origin` header skips CORS, whose only work for it is adding `Vary: Origin`, done here alike."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.express import ExpressLane
from app.core.input_guard import InputGuard
from app.core.logging import access_log, log_request
from app.core.requestctx import RequestMeta, reset_request_meta, set_request_meta
from app.core.routing import DomainRouter

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    b"https://fastapi.tiangolo.com; frame-ancestors 'none'",
)
DOCS_PATHS = ("/docs", "/redoc")
NO_STORE = (b"cache-control", b"no-store")
# The headers added to an answer that sets none of them itself (nearly every answer), by CSP.
_ADDED = {csp: (*SECURITY_HEADERS, csp, NO_STORE) for csp in (API_CSP, DOCS_CSP)}
_ADDED_NAMES = frozenset(name for name, _ in _ADDED[API_CSP])


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def client_ip(scope: Scope, trusted_proxies: Iterable[str]) -> str | None:
    """The peer's address, or the first untrusted hop of X-Forwarded-For behind a trusted proxy."""
    peer = scope.get("client")
    ip = peer[0] if peer else None
    if ip is not None and ip in trusted_proxies:
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in trusted_proxies:
                    return hop[:64]
    return ip


class RequestContextMiddleware:
    """Outermost: the request's context, then CORS (only for a request with an `Origin`) and the
    input guard (`max_body_bytes`, `max_upload_bytes`), then the express lane of the domain
    routers' planned reads (app/core/express.py), then the app."""

    def __init__(
        self,
        app: ASGIApp,
        trusted_proxies: frozenset[str] = frozenset(),
        *,
        cors: dict[str, Any] | None = None,
        max_body_bytes: int | None = None,
        max_upload_bytes: int = 10_485_760,
        express_routers: tuple[DomainRouter, ...] = (),
    ) -> None:
        if express_routers:
            app = ExpressLane(app, express_routers)
        guarded = (
            app
            if max_body_bytes is None
            else InputGuard(app, max_body_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes)
        )
        self.app = guarded
        self.cors = None if cors is None else CORSMiddleware(guarded, **cors)
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await (self.cors or self.app)(scope, receive, send)
            return
        incoming = user_agent = origin = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                incoming = incoming or value.decode("latin-1")
            elif key == b"user-agent":
                user_agent = user_agent or value.decode("latin-1")
            elif key == b"origin":
                origin = value
        # The request id is always ours (unique per request); the client's own, when it sends a
        # well-formed one, is kept beside it for correlation.
        request_id = uuid.uuid4().hex
        meta = RequestMeta(
            request_id=request_id,
            client_request_id=incoming if incoming and _REQUEST_ID.match(incoming) else None,
            client_ip=client_ip(scope, self.trusted_proxies),
            user_agent=user_agent,
        )
        token = set_request_meta(meta)
        path = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else API_CSP
        # CORS answers a request with an Origin; for one without, it only adds `Vary: Origin`.
        app = self.app if origin is None or self.cors is None else self.cors
        vary = origin is None and self.cors is not None
        started = time.perf_counter()
        status_holder = [500]
        started_response = [False]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                started_response[0] = True
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                if vary:
                    _add_vary_origin(headers)
                present = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                if present.isdisjoint(_ADDED_NAMES):
                    headers += _ADDED[csp]
                else:
                    headers.extend(h for h in _ADDED[csp] if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        except Exception:
            # Logged here, where the request id is still known; the client gets a bare 500.
            access_log.exception("unhandled error", extra={"route": _route_of(scope)})
            if status_holder[0] == 500 and not started_response[0]:
                await _internal_error(request_id)(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            template = _route_of(scope)
            method = scope.get("method", "")
            _observe(method, template, status_holder[0], elapsed)
            log_request(method, template, status_holder[0], round(elapsed * 1000, 2))
            reset_request_meta(token)


def _add_vary_origin(headers: list[tuple[bytes, bytes]]) -> None:
    """`Vary: Origin` as Starlette's CORSMiddleware adds it to an answer to a request without
    an Origin: joined to the response's own Vary values, in the first one's place."""
    at = [i for i, (k, _) in enumerate(headers) if k.lower() == b"vary"]
    if not at:
        headers.append((b"vary", b"Origin"))
        return
    joined = b", ".join([*(headers[i][1] for i in at), b"Origin"])
    headers[at[0]] = (b"vary", joined)
    for i in reversed(at[1:]):
        del headers[i]


_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _observe(method: str, route: str, status: int, elapsed: float) -> None:
    """The request's metrics; each label set's children looked up once."""
    children = _children.get((method, route, status))
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        _children[(method, route, status)] = children
    children[0].inc()
    children[1].observe(elapsed)


def _route_of(scope: Scope) -> str:
    return str(getattr(scope.get("route"), "path", "unmatched"))


def _internal_error(request_id: str) -> ASGIApp:
    from app.core.errors import problem_response

    return problem_response(
        500,
        "internal-error",
        "Internal server error",
        f"Something went wrong on our side. Quote request id {request_id} when you contact us.",
    )
