"""SQL text that owns its parameters, and statements composed of several such parts.

Composing renames each part's parameters after the part (`touch__session_id`), so that two
parts can never share a parameter by accident: a domain query with a parameter called
`session_id` cannot replace the session check it is combined with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
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


@cache
def _composed(template: str, parts: tuple[tuple[str, str], ...]) -> str:
    if parameter_names(template):
        raise ValueError("the template itself may not name parameters")
    sql = template
    for name, part_sql in parts:
        if "__" in name or sql.count(f"{{{name}}}") != 1:
            raise ValueError(f"part {name!r} is not a simple name used once in the template")
        renamed = _BIND.sub(lambda m, n=name: f":{n}__{m.group(1)}", part_sql)  # type: ignore[misc]
        sql = sql.replace(f"{{{name}}}", renamed)
    return sql


def compose(template: str, **parts: Bound) -> Bound:
    """`template` with each `{name}` replaced by that part's SQL, each part's parameters
    renamed `name__param` (so composed parts nest). The text is built once per shape."""
    sql = _composed(template, tuple((name, part.sql) for name, part in parts.items()))
    params = {
        f"{name}__{key}": value
        for name, part in parts.items()
        for key, value in part.params.items()
    }
    # Each part bound exactly its own parameters (checked when it was made), so the whole
    # binds exactly the renamed ones: no need to check again.
    composed = object.__new__(Bound)
    object.__setattr__(composed, "sql", sql)
    object.__setattr__(composed, "params", params)
    return composed


@cache
def _text(sql: str) -> TextClause:
    return text(sql)


def statement(query: Bound) -> tuple[TextClause, Mapping[str, Any]]:
    """What to execute: the (cached) text clause and its parameters."""
    return _text(query.sql), query.params


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
    return text(condition.sql).bindparams(**condition.params)
