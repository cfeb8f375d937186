"""The one middleware of the app, plain ASGI (cheaper than BaseHTTPMiddleware, and one layer
instead of three on every request): request ids and client facts, security headers, the JSON
access log and Prometheus metrics around CORS and the input guard. A request without an
`Origin` header skips CORS, whose only work for it is adding `Vary: Origin`, done here alike."""

from __future__ import annotations

import re
import time
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.express import ExpressLane
from app.core.input_guard import InputGuard
from app.core.logging import access_log, log_request
from app.core.requestctx import RequestMeta, header, reset_request_meta, set_request_meta
from app.core.routing import DomainRouter

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


def client_ip(scope: Scope, trusted_proxies: Iterable[str]) -> str | None:
    """The peer's address, or the first untrusted hop of X-Forwarded-For behind a trusted proxy."""
    peer = scope.get("client")
    ip = peer[0] if peer else None
    if ip is not None and ip in trusted_proxies:
        forwarded = header(scope, b"x-forwarded-for")
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
                present = {k.lower() for k, _ in headers}
                if vary:
                    _add_vary_origin(headers, present)
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


def _add_vary_origin(headers: list[tuple[bytes, bytes]], present: set[bytes]) -> None:
    """`Vary: Origin` as Starlette's CORSMiddleware adds it to an answer to a request without
    an Origin: joined to the response's own Vary values, in the first one's place. `present`:
    the headers' names in lower case (kept so)."""
    if b"vary" not in present:  # the usual answer: no pass over the headers
        headers.append((b"vary", b"Origin"))
        present.add(b"vary")
        return
    at = [i for i, (k, _) in enumerate(headers) if k.lower() == b"vary"]
    joined = b", ".join([*(headers[i][1] for i in at), b"Origin"])
    headers[at[0]] = (b"vary", joined)
    for i in reversed(at[1:]):
        del headers[i]


# The latency histogram's upper bounds in seconds; +Inf above them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Their `le` labels, written as prometheus_client writes them (repr of the float).
_LE = (*(repr(bound) for bound in LATENCY_BUCKETS), "+Inf")


class _LatencySeries:
    """One (method, route)'s latency: observations per bucket (each bucket its own, the last
    above every bound; cumulative only when collected), their sum, and when it was made."""

    __slots__ = ("buckets", "created", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * len(_LE)
        self.sum = 0.0
        self.created = time.time()


class _RequestSeries:
    """One (method, route, status)'s request count and when it was made, with its (method,
    route)'s latency series, so that a request costs one dictionary look-up."""

    __slots__ = ("count", "created", "latency")

    def __init__(self, latency: _LatencySeries) -> None:
        self.count = 0
        self.created = time.time()
        self.latency = latency


class RequestMetrics(Collector):
    """`http_requests_total` (a counter by method, route and status) and
    `http_request_duration_seconds` (a histogram by method and route), kept as plain numbers and
    handed to prometheus_client when /metrics is collected.

    Why not prometheus_client's Counter and Histogram: each increment takes a lock, 1.35 µs a
    request for the two. Every request is observed here on the event loop's thread, one after
    another, so plain additions need no lock: 0.22 µs (timeit). A scrape from another thread (none
    today: /metrics is served on the loop) reads copies of the dictionaries, which CPython makes
    whole under the GIL, and at worst misses an observation in progress, as it could before.

    /metrics shows what those metrics showed: the same names, types, labels, buckets and
    samples (`_total` and `_created` per label set of the counter; `_bucket`, `_count`, `_sum` and
    `_created` of the histogram), the series in the order they were first observed, `_created`
    being when that was (tests/core/test_request_costs.py compares the two)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], _RequestSeries] = {}
        self.latency: dict[tuple[str, str], _LatencySeries] = {}

    def observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        """A request answered with `status` after `elapsed` seconds."""
        series = self.requests.get((method, route, status))
        if series is None:
            series = self._new_series(method, route, status)
        series.count += 1
        latency = series.latency
        latency.sum += elapsed
        # The first bucket whose bound is at least `elapsed`, as Histogram.observe chooses.
        latency.buckets[bisect_left(LATENCY_BUCKETS, elapsed)] += 1

    def _new_series(self, method: str, route: str, status: int) -> _RequestSeries:
        latency = self.latency.get((method, route))
        if latency is None:
            latency = self.latency[(method, route)] = _LatencySeries()
        series = _RequestSeries(latency)
        self.requests[(method, route, status)] = series
        return series

    def collect(self) -> Iterator[Metric]:
        # The switch prometheus_client's own metrics obey (PROMETHEUS_DISABLE_CREATED_SERIES,
        # disable_created_metrics()).
        created = prometheus_metrics._use_created
        requests = CounterMetricFamily(
            "http_requests_total", "HTTP requests", labels=("method", "route", "status")
        )
        for (method, route, status), series in self.requests.copy().items():
            requests.add_metric(
                (method, route, str(status)),
                series.count,
                created=series.created if created else None,
            )
        yield requests
        latency = HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request latency", labels=("method", "route")
        )
        for (method, route), histogram in self.latency.copy().items():
            latency.add_metric(
                (method, route),
                list(zip(_LE, accumulate(histogram.buckets), strict=True)),
                histogram.sum,
            )
            if created:  # HistogramMetricFamily has no argument for it
                latency.add_sample(
                    latency.name + "_created",
                    {"method": method, "route": route},
                    histogram.created,
                )
        yield latency


# Registered once, when this module is first imported: an app made again in the same process
# (tests make many) adds to the same series rather than registering a second set.
HTTP_METRICS = RequestMetrics()
REGISTRY.register(HTTP_METRICS)
_observe = HTTP_METRICS.observe  # the middleware's call, bound once


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
