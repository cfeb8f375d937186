"""Per-request facts (id, client address, user agent) kept in context variables."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple


class RequestMeta(NamedTuple):
    """Made for every request: a named tuple (immutable, and made in a fraction of a frozen
    dataclass's time)."""

    request_id: str
    client_ip: str | None
    user_agent: str | None
    client_request_id: str | None = None


_meta: ContextVar[RequestMeta | None] = ContextVar("request_meta", default=None)


def set_request_meta(meta: RequestMeta) -> object:
    return _meta.set(meta)


def reset_request_meta(token: object) -> None:
    _meta.reset(token)  # type: ignore[arg-type]


def current_request_meta() -> RequestMeta:
    return _meta.get() or RequestMeta(request_id="-", client_ip=None, user_agent=None)


def current_request_id() -> str | None:
    meta = _meta.get()
    return meta.request_id if meta else None


def current_request_meta_or_none() -> RequestMeta | None:
    return _meta.get()


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The first value of a request header (`name` in lower case, as ASGI servers give them),
    read from the ASGI scope: Starlette's `request.headers.get` builds the headers' mapping and,
    for a header not sent, raises and catches KeyError (Mapping.get), about a microsecond."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None
