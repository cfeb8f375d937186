"""A route handler for the requests without a body (reads, lists, deletes): its dependency tree
planned once when the route is built, then solved per request without FastAPI's general
machinery (per-request classification of every callable, scope bookkeeping, exit stacks, body
parsing and response serialization that such a route never uses). Parameters are read as
FastAPI's `request_params_to_args` reads them, with what depends only on the parameter (its
request keys, whether it takes a list) worked out once instead of on every request (for a list's
nine query parameters, a tenth of its CPU), and validated by FastAPI's own field validation, so
values and errors are exactly FastAPI's (tests/core/test_route_handler.py compares the two).

A route qualifies when it takes no body, its endpoint and every dependency are coroutine
functions without `yield`, no dependency asks for scopes, background tasks, the response or a
websocket, and its endpoint returns a `Response` (as our routes do through `model_response`).
Any other route keeps FastAPI's handler (`lean_handler` answers None), and so does every
request while the app has dependency overrides (tests).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Response
from fastapi._compat import ModelField, Undefined, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    _get_param_aliases,
    _get_param_model,
    _is_json_field,
    _validate_value_with_model_field,
    request_params_to_args,
)
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers, ImmutableMultiDict
from starlette.requests import Request

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class _Param:
    """A parameter as `request_params_to_args` reads it, what depends on it alone worked out."""

    field: ModelField
    keys: tuple[str, ...]  # the request keys it is read from, in FastAPI's order of preference
    kind: str  # "path", "query", "header" or "cookie": the first item of an error's loc
    listed: bool  # a list read from every occurrence of the key (`?status=a&status=b`)
    sequence: bool  # an empty list counts as absent
    # the value when absent, when that is its default as it is (an optional parameter whose
    # default is not validated and is immutable, so that FastAPI's deep copy is the same
    # object): the usual case, a filter not given
    absent: tuple[Any] | None


_IMMUTABLE = (type(None), bool, int, float, str, bytes)


def _param(field: ModelField) -> _Param:
    annotation = field.field_info.annotation
    sequence = field_annotation_is_sequence(annotation)
    info = field.field_info
    plain_default = (
        not info.is_required()
        and not info.validate_default
        and isinstance(field.default, _IMMUTABLE)
    )
    return _Param(
        field=field,
        keys=tuple(key for _, key in _get_param_aliases(field)),
        kind=info.in_.value,  # type: ignore[attr-defined]
        listed=sequence and not _is_json_field(field),
        sequence=sequence,
        absent=(field.default,) if plain_default else None,
    )


@dataclass(frozen=True, slots=True)
class _Params:
    """One kind of parameter of a dependency (its path, query, header or cookie parameters);
    `params` None when one of them is a model of parameters, left to FastAPI's own reading."""

    fields: tuple[ModelField, ...]
    params: tuple[_Param, ...] | None

    @classmethod
    def of(cls, fields: list[ModelField]) -> _Params:
        modelled = any(_get_param_model(field) is not None for field in fields)
        return cls(tuple(fields), None if modelled else tuple(_param(f) for f in fields))

    def read(self, received: Any) -> tuple[dict[str, Any], list[Any]]:
        """`request_params_to_args(self.fields, received)`: the same values and errors."""
        if self.params is None:
            return request_params_to_args(self.fields, received)
        values: dict[str, Any] = {}
        errors: list[Any] = []
        multi = isinstance(received, (ImmutableMultiDict, Headers))
        for param in self.params:
            keys = param.keys
            key = keys[0]
            if len(keys) > 1:
                key = next((k for k in keys if k in received), key)
            value = received.getlist(key) if param.listed and multi else received.get(key, None)
            if value is None or (param.sequence and len(value) == 0):
                if param.absent is not None:
                    values[param.field.name] = param.absent[0]
                    continue
                value = Undefined
            v, failed = _validate_value_with_model_field(
                field=param.field, value=value, values=values, loc=(param.kind, key)
            )
            if failed:
                errors.extend(failed)
            else:
                values[param.field.name] = v
        return values, errors


@dataclass(frozen=True, slots=True)
class _Plan:
    """One node of a dependency tree: its call, its own parameters, its sub-dependencies."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    use_cache: bool
    subs: tuple[_Plan, ...]
    # its own parameters by where the request holds them (an attribute of Request: path_params,
    # query_params, headers, cookies), the kinds it has none of left out
    params: tuple[tuple[str, _Params], ...]
    request_name: str | None


def _plan(dependant: Dependant) -> _Plan | None:
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or dependant.body_params
        or dependant.own_oauth_scopes
        or dependant.security_scopes_param_name
        or dependant.background_tasks_param_name
        or dependant.response_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or getattr(dependant, "concurrency", None) is not None
    ):
        return None
    subs = []
    for sub in dependant.dependencies:
        planned = _plan(sub)
        if planned is None:
            return None
        subs.append(planned)
    return _Plan(
        call=call,
        name=dependant.name,
        use_cache=dependant.use_cache,
        subs=tuple(subs),
        params=tuple(
            (source, _Params.of(fields))
            for source, fields in (
                ("path_params", dependant.path_params),
                ("query_params", dependant.query_params),
                ("headers", dependant.header_params),
                ("cookies", dependant.cookie_params),
            )
            if fields
        ),
        request_name=dependant.request_param_name,
    )


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    try:
        returned = typing.get_type_hints(endpoint).get("return")
    except Exception:  # an annotation that does not resolve: not ours to plan
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


async def _solve(
    plan: _Plan, request: Request, cache: dict[Any, Any], errors: list[Any]
) -> dict[str, Any]:
    """The values of `plan`'s parameters, in FastAPI's order: the sub-dependencies first (each
    called once per request unless it opts out of the cache), then its own parameters. A
    sub-dependency whose own parameters failed is not called; its errors are collected."""
    values: dict[str, Any] = {}
    for sub in plan.subs:
        if sub.use_cache and sub.call in cache:
            solved = cache[sub.call]
        else:
            before = len(errors)
            sub_values = await _solve(sub, request, cache, errors)
            if len(errors) > before:
                continue
            solved = await sub.call(**sub_values)
            cache.setdefault(sub.call, solved)
        if sub.name is not None:
            values[sub.name] = solved
    for source, params in plan.params:
        found, failed = params.read(getattr(request, source))
        values.update(found)
        errors += failed
    if plan.request_name:
        values[plan.request_name] = request
    return values


def _planned(dependant: Dependant, has_body: bool) -> _Plan | None:
    plan = None if has_body else _plan(dependant)
    return plan if plan is not None and _returns_response(plan.call) else None


def is_planned(dependant: Dependant, has_body: bool) -> bool:
    """Whether a route qualifies for the planned handler (see the module)."""
    return _planned(dependant, has_body) is not None


def lean_handler(
    dependant: Dependant, has_body: bool, overrides_provider: Any, fallback: Handler
) -> Handler | None:
    """The planned handler of a route that qualifies (see the module), else None."""
    plan = _planned(dependant, has_body)
    if plan is None:
        return None
    endpoint = plan.call

    async def handler(request: Request) -> Response:
        if overrides_provider is not None and overrides_provider.dependency_overrides:
            return await fallback(request)
        errors: list[Any] = []
        values = await _solve(plan, request, {}, errors)
        if errors:
            raise RequestValidationError(errors)
        response: Response = await endpoint(**values)
        return response

    return handler
