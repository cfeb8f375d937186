"""SQL text that owns its parameters, and statements composed of several such parts.

Composing renames each part's parameters after the part (`touch__session_id`), so that two
parts can never share a parameter by accident: a domain query with a parameter called
`session_id` cannot replace the session check it is combined with.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import TextClause, text

# The bind parameter syntax of SQLAlchemy's text(): `:name`, but not `::type`.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


@cache
def parameter_names(sql: str) -> frozenset[str]:
    return frozenset(_BIND.findall(sql))


@dataclass(frozen=True, slots=True)
class Bound:
    """SQL text with a value for exactly each parameter it names (checked: a missing or a
    stray parameter is a programming error, raised at once)."""

    sql: str
    params: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.params.keys() != parameter_names(self.sql):
            names = parameter_names(self.sql)
            raise ValueError(
                f"parameters {sorted(self.params)} do not match the statement's {sorted(names)}"
            )


_SQL_OF = attrgetter("sql")


@cache
def _composed(template: str, names: tuple[str, ...], texts: tuple[str, ...]) -> str:
    if parameter_names(template):
        raise ValueError("the template itself may not name parameters")
    sql = template
    for name, part_sql in zip(names, texts, strict=True):
        if "__" in name or sql.count(f"{{{name}}}") != 1:
            raise ValueError(f"part {name!r} is not a simple name used once in the template")
        renamed = _BIND.sub(lambda m, n=name: f":{n}__{m.group(1)}", part_sql)  # type: ignore[misc]
        sql = sql.replace(f"{{{name}}}", renamed)
    return sql


class _Renamed(Mapping[str, Any]):
    """A composed statement's parameters: each part's own, renamed `part__name`, read through to
    the parts rather than copied into a new dictionary for each statement (a read by id composes
    twice, the audit event's 17 values among them)."""

    __slots__ = ("_parts",)

    def __init__(self, parts: Mapping[str, Bound]) -> None:
        self._parts = parts

    def __getitem__(self, key: str) -> Any:
        name, renamed, own = key.partition("__")
        part = self._parts.get(name) if renamed else None
        if part is None:
            raise KeyError(key)
        return part.params[own]

    def __iter__(self) -> Iterator[str]:
        for name, part in self._parts.items():
            for key in part.params:
                yield f"{name}__{key}"

    def __len__(self) -> int:
        return sum(len(part.params) for part in self._parts.values())

    def values_of(self, names: tuple[str, ...]) -> list[Any]:
        """The values of these renamed parameters, in order (see `arguments`): each part's
        taken together, as the part's text holds them together."""
        parts = self._parts
        values: list[Any] = []
        for name, own, take in _runs(names):
            params = parts[name].params
            if type(params) is _Renamed:
                values += params.values_of(own)
            elif take is None:
                values.append(params[own[0]])
            else:
                values += take(params)
        return values


@cache
def _runs(names: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...], Any], ...]:
    """Renamed parameters as runs of one part's own: (the part, its names, a getter of their
    values, None for one name)."""
    runs: list[tuple[str, list[str]]] = []
    for renamed in names:
        name, _, own = renamed.partition("__")
        if runs and runs[-1][0] == name:
            runs[-1][1].append(own)
        else:
            runs.append((name, [own]))
    return tuple(
        (name, tuple(own), itemgetter(*own) if len(own) > 1 else None) for name, own in runs
    )


def _as_dict(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """A statement's parameters as a dictionary for SQLAlchemy (a composed one's flattened)."""
    return dict(params) if type(params) is _Renamed else params


def compose(template: str, **parts: Bound) -> Bound:
    """`template` with each `{name}` replaced by that part's SQL, each part's parameters
    renamed `name__param` (so composed parts nest). The text is built once per shape."""
    sql = _composed(template, tuple(parts), tuple(map(_SQL_OF, parts.values())))
    # Each part bound exactly its own parameters (checked when it was made), so the whole
    # binds exactly the renamed ones: no need to check again.
    composed = object.__new__(Bound)
    object.__setattr__(composed, "sql", sql)
    object.__setattr__(composed, "params", _Renamed(parts))
    return composed


@cache
def _text(sql: str) -> TextClause:
    return text(sql)


def statement(query: Bound) -> tuple[TextClause, Mapping[str, Any]]:
    """What to execute: the (cached) text clause and its parameters."""
    return _text(query.sql), _as_dict(query.params)


def arguments(query: Bound) -> tuple[str, list[Any]]:
    """The driver's form of a statement (`positional`) and its values in that order."""
    sql, names = positional(query.sql)
    params = query.params
    if type(params) is _Renamed:
        return sql, params.values_of(names)
    return sql, [params[name] for name in names]


@cache
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """The driver's form of a statement: each `:name` replaced by `$n` (a name used twice is one
    `$n`), and the names in the order of their numbers. Built once per statement text."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _BIND.sub(number, sql), tuple(names)


def as_clause(condition: Bound) -> TextClause:
    """A condition for a SQLAlchemy statement (an ORM load that locks its row, say)."""
    return text(condition.sql).bindparams(**_as_dict(condition.params))
