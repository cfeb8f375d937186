"""Answering with data the service has already checked: serialized once, not validated again
against the route's response_model (which still documents it in OpenAPI).

`model_response` answers with a model. `json_response` answers with plain data already in the
shape of the route's response model: a record read back from our own tables, every value of
which was validated when it was written. Building a model only to validate it again cost more
than the read itself (a page of 50 quotes: 20 us a quote against 9). orjson writes each value as
the model's serializer would for these types: UUIDs (the driver's own included) and dates as
strings, datetimes in UTC with `Z`, Decimals as their digits (money read from a numeric(12,2)
column or stored as a string keeps its two places), enumerations as their values, and a model
inside the data by its own serializer. It is the fastest of the serializers measured on a page
of 50 policies: 1.7 us a policy, pydantic-core's inferring `to_json` 8.3, the validated model 9.4.
Each domain that answers this way has a test comparing the two answers byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any, Protocol
from uuid import UUID

import orjson
from pydantic import BaseModel
from starlette.responses import Response


class Columns(Protocol):
    """A stored record's values by name: a row, or an ORM object's attributes."""

    def __getitem__(self, name: str, /) -> Any: ...


class JsonModel(Protocol):
    def model_dump_json(self) -> str: ...


def model_response(
    model: JsonModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


_AS_TEXT = (UUID, Decimal)


def json_default(value: Any) -> Any:
    """What orjson does not write by itself: a Decimal and the driver's UUID (a subclass) as
    their text, a model by its own serializer."""
    if isinstance(value, _AS_TEXT):  # a tuple: isinstance of a union type takes twice as long
        return str(value)
    if isinstance(value, BaseModel):
        return orjson.Fragment(value.model_dump_json())
    raise TypeError(f"{type(value).__name__} is not JSON")


def to_json(content: Any) -> bytes:
    """`content` as the JSON its response model's serializer would write (see the module)."""
    return orjson.dumps(content, default=json_default, option=orjson.OPT_UTC_Z)


def json_response(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        to_json(content), status_code=status_code, headers=headers, media_type="application/json"
    )


def page_of(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """A `Page` of answers built as plain data (see `json_response`)."""
    return {"items": items, "next_cursor": next_cursor}


@cache
def field_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The model's fields in their order (pydantic computes `model_fields` on each access)."""
    return tuple(model.model_fields)


def answered_columns(model: type[BaseModel], *, besides: tuple[str, ...] = ()) -> str:
    """The columns (of the row aliased `r`) a read selects to answer `model` through
    `fields_of`: one per field of the model, except `besides` (fields the answer computes).
    Not `r.*`: a column nobody answers (a password hash, a stored document) is neither sent
    nor decoded (a page of 50 policies: half the driver's time went to columns not answered)."""
    return ", ".join(f"r.{name}" for name in field_names(model) if name not in besides)


@cache
def _answer_plan(
    model: type[BaseModel], given: tuple[str, ...]
) -> tuple[dict[str, None], tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """For answers of `model` given `given`: an empty answer with the model's fields in order
    (copied, its order kept by the updates), the fields read from the row, and one getter."""
    names = tuple(name for name in field_names(model) if name not in given)
    if len(names) == 1:  # itemgetter of one name gives the value, not a tuple of one
        get: Callable[[Any], tuple[Any, ...]] = lambda row: (row[names[0]],)  # noqa: E731
    elif names:
        get = itemgetter(*names)
    else:
        get = lambda row: ()  # noqa: E731
    return dict.fromkeys(field_names(model)), names, get


def fields_of(model: type[BaseModel], row: Columns, **values: Any) -> dict[str, Any]:
    """An answer as `model` shows it, as plain data (see `json_response`): its fields in its
    order, each from `values` when given there, else from the row's column of the same name
    (read at once, by one getter: a page of 50 accounts took a seventh of its CPU field by
    field)."""
    if not values:  # every field from the row: one dict made at once
        _, names, get = _answer_plan(model, ())
        return dict(zip(names, get(row), strict=True))
    empty, names, get = _answer_plan(model, tuple(values))
    answer = empty.copy()
    answer.update(zip(names, get(row), strict=True))
    answer.update(values)
    return answer


@cache
def schema_fingerprint(model: type[BaseModel]) -> str:
    """The version of `model` that writes a stored document: a digest of its JSON Schema (every
    field, type, constraint and default). A document stored with the current fingerprint is
    exactly what validating it again and writing it out would give (it was written by
    `model_dump(mode="json")` of a validated model), so it may be answered as stored; any other
    (written before the model changed) is validated again, taking the fields added since with
    their defaults. A change to how a validator normalizes a value, which the schema does not
    show, must change the model's schema too (its description will do)."""
    schema = json.dumps(model.model_json_schema(mode="serialization"), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16]


def stored_document(model: type[BaseModel], document: Any, fingerprint: str | None) -> Any:
    """A stored document to answer: as stored when the current `model` wrote it (see
    `schema_fingerprint`), else validated again (a model, written by its own serializer)."""
    if fingerprint == schema_fingerprint(model):
        return document
    return model.model_validate(document)
