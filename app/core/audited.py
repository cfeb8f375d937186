"""The one audited read path: a record by id, and a page of a list, for every domain.

A domain describes what it reads once (a `Source`), states who may see what with one SQL
condition on the rows (aliased `r`; see `app/users/acting_for.py` for lawyers' records), and
calls `read_record` or `read_page`. Both:
- run one SELECT, the caller's visibility part of it, so another's record is simply not found;
- record the read as an audit event naming the record(s) and their data subjects (the lawyers
  whose records they are), so that "who saw this?" and "everything about lawyer X" can be
  answered, list reads included;
- leave the session's slide and the event's insert to the unit of work, which does both in
  one statement before anything is answered.
As a request's first work the SELECT runs in autocommit (see `Unit.read`): two round trips in
all. Parameters of every part are namespaced by `app.core.sql.compose`, so none can collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping

from app.core.errors import NotFound
from app.core.pagination import Keyset, TimeKeyset, split_page
from app.core.sql import Bound, compose, statement
from app.core.unit_of_work import Row, Unit

ALL = Bound("TRUE", {})


@dataclass(frozen=True, slots=True)
class Visibility(Bound):
    """Who may see which rows, as an SQL condition on them; `subject` when it pins the one data
    subject the caller can see (a lawyer sees only their own records), so that a read's audit
    event is known before the read and the read is one statement."""

    subject: UUID | None = None


@dataclass(frozen=True)
class Source:
    """What a domain's audited reads select: `SELECT <columns> FROM <from_>`, its table
    aliased `r` (joins allowed), newest first by `keyset`; `subject` names the column holding
    the data subject's id (None when the rows have none)."""

    resource_type: str
    from_: str
    columns: str = "r.*"
    subject: str | None = "owner_id"
    keyset: Keyset = field(default_factory=TimeKeyset)

    # Made once each (the same text each time, whose hash Python keeps for `compose`'s cache).
    @cached_property
    def select(self) -> str:
        return f"SELECT {self.columns} FROM {self.from_}"  # noqa: S608 (constants)

    @cached_property
    def by_id(self) -> str:
        """The template of a read by id."""
        return f"{self.select} WHERE r.id = {{id}} AND {{visible}}"

    @cached_property
    def page(self) -> str:
        """The template of a page of a list, newest first."""
        return (
            f"{self.select} WHERE {{where}} AND {{visible}} AND {{after}}"
            f" ORDER BY {self.keyset.order} LIMIT {{limit}}"
        )


def _subjects(source: Source, rows: Sequence[Row]) -> list[Any]:
    return [row[source.subject] for row in rows] if source.subject else []


def _pinned_subject(source: Source, record_id: object, visible: Bound) -> UUID | None:
    if source.subject == "id" and isinstance(record_id, UUID):
        return record_id  # the record is its own subject (a user account)
    return visible.subject if isinstance(visible, Visibility) else None


async def read_record(
    unit: Unit, source: Source, record_id: object, visible: Bound, *, action: str
) -> Row:
    """The record with this id if the caller may see it (else 404), its read recorded: in one
    statement with the session's slide when the data subject is known beforehand."""
    row = await read_record_unless(unit, source, record_id, visible, action=action)
    if row is None:
        raise NotFound(
            f"No such {source.resource_type.replace('_', ' ')}.",
            resource_type=source.resource_type,
            resource_id=str(record_id),
        )
    return row


async def read_record_unless(
    unit: Unit,
    source: Source,
    record_id: object,
    visible: Bound,
    *,
    action: str,
    unless: str | None = None,
) -> Row | None:
    """`read_record`, None for a record not found; with `unless` (a boolean column of the
    source), also None for a record where it is true, which is then neither recorded nor
    answered and leaves the unit as it was (`Unit.hold_back`): the caller does what the record
    is waiting for, then reads it again."""
    query = compose(source.by_id, id=Bound(":value", {"value": record_id}), visible=visible)
    subject = _pinned_subject(source, record_id, visible)
    if subject is not None or source.subject is None:
        event = unit.audit.event(
            action,
            resource_type=source.resource_type,
            resource_id=record_id,
            subjects=[subject] if subject else [],
        )
        return await unit.read_recorded(query, event, unless=unless)
    rows = unit.hold_back(await unit.read(query), unless)
    if not rows:
        return None
    unit.audit.record(
        action,
        resource_type=source.resource_type,
        resource_id=record_id,
        subjects=_subjects(source, rows),
    )
    return rows[0]


async def read_page(
    unit: Unit,
    source: Source,
    visible: Bound,
    *,
    action: str,
    cursor: str | None,
    limit: int,
    where: Bound = ALL,
    filters: Mapping[str, Any] | None = None,
) -> tuple[Sequence[Row], str | None]:
    """One page of the records the caller may see that match `where`, newest first, and the
    cursor of the next page; the read is recorded with the ids it returned."""
    query = compose(
        source.page,
        where=where,
        visible=visible,
        after=source.keyset.after(cursor),
        limit=Bound(":value", {"value": limit + 1}),
    )
    rows = await unit.read(query)
    page, next_cursor = split_page(rows, limit, source.keyset)
    unit.audit.record(
        action,
        resource_type=source.resource_type,
        resource_ids=[row["id"] for row in page],
        subjects=_subjects(source, page),
        details={
            "filters": {k: v for k, v in (filters or {}).items() if v is not None},
            "cursor": cursor,
            "count": len(page),
        },
    )
    return page, next_cursor


async def reread(unit: Unit, source: Source, record_id: object) -> RowMapping:
    """The record as `source` reads it, in the request's transaction after a change (the change
    is what the audit trail records): one statement, so a change answers what a read would."""
    await unit.db.flush()
    query = compose(f"{source.select} WHERE r.id = {{id}}", id=Bound(":v", {"v": record_id}))
    sql, params = statement(query)
    return (await unit.db.execute(sql, params)).mappings().one()


def contains(text: str | None) -> str | None:
    """A value for `ILIKE :v` matching `text` anywhere, its own % and _ taken literally."""
    if text is None:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Records created or changed at or after a time (`updated_since`; see UpdatedSince).
UPDATED_SINCE = "r.updated_at >= CAST(:v AS timestamptz)"
# A lawyer's records by the lawyer's Law Society number (their username).
BY_LAW_SOCIETY_NUMBER = (
    "{owner} IN (SELECT member.id FROM app_user AS member WHERE member.username = :v)"
)


def conditions(**terms: tuple[str, Any]) -> Bound:
    """A `where` of the filters given: `conditions(lawyer_id=("r.owner_id = :v", value))`
    keeps each term whose value is not None, all of them required."""
    present = {name: (sql, value) for name, (sql, value) in terms.items() if value is not None}
    if not present:
        return ALL
    return compose(
        " AND ".join(f"{{{name}}}" for name in present),
        **{name: Bound(sql, {"v": value}) for name, (sql, value) in present.items()},
    )
