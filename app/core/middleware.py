"""Plain ASGI middleware (cheaper than BaseHTTPMiddleware on every request): request ids and
client facts, security headers, the JSON access log and Prometheus metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.requestctx import RequestMeta, reset_request_meta, set_request_meta

access_log = logging.getLogger("app.access")

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
    def __init__(self, app: ASGIApp, trusted_proxies: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The request id is always ours (unique per request); the client's own, when it sends a
        # well-formed one, is kept beside it for correlation.
        incoming = _header(scope, b"x-request-id")
        request_id = uuid.uuid4().hex
        meta = RequestMeta(
            request_id=request_id,
            client_request_id=incoming if incoming and _REQUEST_ID.match(incoming) else None,
            client_ip=client_ip(scope, self.trusted_proxies),
            user_agent=_header(scope, b"user-agent"),
        )
        token = set_request_meta(meta)
        path = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else API_CSP
        started = time.perf_counter()
        status_holder = [500]
        started_response = [False]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                started_response[0] = True
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append(csp)
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Logged here, where the request id is still known; the client gets a bare 500.
            access_log.exception("unhandled error", extra={"route": _route_of(scope)})
            if status_holder[0] == 500 and not started_response[0]:
                await _internal_error(request_id)(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            template = _route_of(scope)
            method = scope.get("method", "")
            REQUESTS.labels(method, template, str(status_holder[0])).inc()
            LATENCY.labels(method, template).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": template,
                    "status": status_holder[0],
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            reset_request_meta(token)


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
