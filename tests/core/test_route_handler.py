"""The planned handler reads a route's parameters as FastAPI does: for every parameter of every
planned route of the app, the values and errors of `_Params.read` are those of FastAPI's own
`request_params_to_args`, whatever the request holds."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any
from uuid import UUID

from fastapi import Cookie, Header, Path, Query
from fastapi.dependencies.utils import get_dependant, request_params_to_args
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import AliasChoices, Json
from starlette.datastructures import Headers, QueryParams

from app.core.route_handler import _Params, _Plan, _planned
from app.main import create_app
from tests.conftest import make_settings


def _groups(plan: _Plan) -> list[tuple[str, _Params]]:
    found = list(plan.params)
    for sub in plan.subs:
        found += _groups(sub)
    return found


@cache  # one app for every example
def _planned_groups(database_url: str) -> list[tuple[str, str, _Params]]:
    app = create_app(make_settings(database_url))
    groups = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        plan = _planned(route.dependant, route.body_field is not None)
        if plan is not None:
            groups += [(context.path, source, params) for source, params in _groups(plan)]
    return groups


# Values a client may send: numbers, dates, ids, words, empty, out-of-range, garbage.
VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "50",
            "101",
            "-1",
            "2025",
            "2025-03-01",
            "2025-03-01T00:00:00Z",
            "true",
            "no",
            "submitted",
            "draft",
            "1c1e4e3e-8c5f-4f59-9a0e-7f1f2d3c4b5a",
            "not-an-id",
            "100.00",
            "x" * 300,
        ]
    ),
    st.text(max_size=12),
)


def _keys(params: _Params) -> list[str]:
    keys = [key for param in params.params or () for key in param.keys]
    return [*keys, "unrelated"]


def _received(source: str, pairs: list[tuple[str, str]]) -> Any:
    if source == "query_params":
        return QueryParams(pairs)
    if source == "headers":
        return Headers(raw=[(k.lower().encode(), v.encode("latin-1", "replace")) for k, v in pairs])
    return dict(pairs)  # path parameters and cookies: one value a key


def test_planned_routes_have_parameters_to_compare(database_url):
    groups = _planned_groups(database_url)
    sources = {source for _, source, _ in groups}
    assert {"path_params", "query_params"} <= sources
    assert len(groups) > 20


def _comparable(read: tuple[dict[str, Any], list[Any]]) -> Any:
    """Values and errors, an error's exception (a validator's ValueError) by class and text."""
    values, errors = read
    return values, [
        {
            **error,
            "ctx": {
                k: (type(v), str(v)) if isinstance(v, Exception) else v
                for k, v in error.get("ctx", {}).items()
            },
        }
        for error in errors
    ]


# Every example reads every planned route's parameters; a failure names its route and input
# (no shrinking: it would build hundreds of requests again for each step).
@settings(
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_parameters_are_read_as_fastapi_reads_them(database_url, data):
    for path, source, params in _planned_groups(database_url):
        keys = _keys(params)
        pairs = data.draw(
            st.lists(st.tuples(st.sampled_from(keys), VALUES), max_size=2 * len(keys)),
            label=f"{path} {source}",
        )
        received = _received(source, pairs)
        ours = _comparable(params.read(received))
        fastapi = _comparable(request_params_to_args(params.fields, received))
        assert ours == fastapi, (path, source, pairs)


async def _every_kind(
    thing_id: Annotated[UUID, Path()],
    ids: Annotated[list[int], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
    status: Annotated[list[str] | None, Query()] = None,
    search: Annotated[str, Query(validation_alias=AliasChoices("q", "search"))] = "",
    size: Annotated[int, Query(ge=1, le=10)] = 5,
    day: Annotated[date | None, Query()] = None,
    doc: Annotated[Json[list[int]] | None, Query()] = None,
    x_token: Annotated[str | None, Header()] = None,
    x_tags: Annotated[list[str] | None, Header()] = None,
    session: Annotated[str | None, Cookie()] = None,
) -> None:
    """Parameters of every kind the app's routes do not (yet) have: lists, alias choices,
    JSON, list headers."""


EVERY_KIND = get_dependant(path="/things/{thing_id}", call=_every_kind)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_parameters_of_every_kind_are_read_as_fastapi_reads_them(data):
    for source, fields in (
        ("path_params", EVERY_KIND.path_params),
        ("query_params", EVERY_KIND.query_params),
        ("headers", EVERY_KIND.header_params),
        ("cookies", EVERY_KIND.cookie_params),
    ):
        params = _Params.of(fields)
        assert params.params is not None
        keys = _keys(params)
        values = st.one_of(VALUES, st.sampled_from(["[1, 2]", "[]", "{", "3", "a,b"]))
        pairs = data.draw(st.lists(st.tuples(st.sampled_from(keys), values), max_size=12))
        received = _received(source, pairs)
        ours = _comparable(params.read(received))
        assert ours == _comparable(request_params_to_args(params.fields, received)), pairs
