"""Queries over the audit trail: the filtered list, and the sealer's and verifier's reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.audit_chain import MAC_FIELDS, OPTIONAL_MAC_FIELDS
from app.core.audited import conditions
from app.core.db import fetch_on_connection
from app.core.sql import Bound

SEALER_LOCK_ID = 0x4C504C_A0D17  # one sealer at a time across workers and replicas


@dataclass(frozen=True)
class EventFilter:
    actor_id: UUID | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    subject_id: UUID | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def event_filter(f: EventFilter) -> Bound:
    """The filters as one condition; each is served by an index (see AuditEvent)."""
    return conditions(
        actor_id=("r.actor_id = :v", f.actor_id),
        action=("r.action = :v", f.action),
        resource_type=("r.resource_type = :v", f.resource_type),
        # the record itself, or a list read that returned it
        resource_id=(
            "(r.resource_id = :v OR r.resource_ids @> ARRAY[CAST(:v AS varchar)])",
            f.resource_id,
        ),
        subject_id=("r.subject_ids @> ARRAY[CAST(:v AS uuid)]", f.subject_id),
        outcome=("r.outcome = :v", f.outcome),
        since=("r.occurred_at >= :v", f.since),
        until=("r.occurred_at < :v", f.until),
    )


@dataclass(frozen=True)
class SealHead:
    xid_to: int
    chain_hash: str


async def try_sealer_lock(conn: AsyncConnection) -> bool:
    got = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEALER_LOCK_ID})
    return bool(got)


async def seal_head(conn: AsyncConnection) -> SealHead | None:
    row = (
        await conn.execute(
            text("SELECT xid_to::text, chain_hash FROM audit_seal ORDER BY seq DESC LIMIT 1")
        )
    ).first()
    return SealHead(int(row[0]), row[1]) if row else None


# The lowest transaction id still running *in this database* (as a 64-bit id: a running
# transaction's 32-bit id is within 2^31 below the snapshot's xmax), or xmax when none is:
# transactions of other databases on the same server cannot write our events, so they must
# not hold the seal back.
_HORIZON_SQL = """
WITH s AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax)
SELECT least(s.xmax, min(s.xmax - (((s.xmax % 4294967296)
         - a.backend_xid::text::bigint + 4294967296) % 4294967296)))::text
FROM s LEFT JOIN pg_stat_activity AS a
  ON a.datname = current_database() AND a.backend_xid IS NOT NULL
 AND a.pid <> pg_backend_pid()
GROUP BY s.xmax
"""


async def finished_xid_horizon(conn: AsyncConnection) -> int:
    """Every transaction of this database with a lower id has ended: its events can no
    longer appear."""
    value = await conn.scalar(text(_HORIZON_SQL))
    return int(value)


# The events of transactions in [lo, hi).
_IN_BATCH = "xid >= CAST(:lo AS text)::xid8 AND xid < CAST(:hi AS text)::xid8"
_MACS_BETWEEN_SQL = f"SELECT seq, mac FROM audit_event WHERE {_IN_BATCH} ORDER BY seq"  # noqa: S608


async def event_macs_between(conn: AsyncConnection, lo: int, hi: int) -> list[tuple[int, str]]:
    """The numbers and MACs of the events written by transactions in [lo, hi), in order."""
    rows = await fetch_on_connection(conn, Bound(_MACS_BETWEEN_SQL, {"lo": str(lo), "hi": str(hi)}))
    return [(int(r[0]), r[1]) for r in rows]


@dataclass(frozen=True)
class SealBatch:
    """The events of finished transactions in [lo, hi): how many, the first and last numbers,
    and their MACs in order as one text, each preceded by "|" (see `fold_joined`)."""

    count: int
    first_seq: int | None
    last_seq: int | None
    joined_macs: str


_SEAL_BATCH_SQL = (
    "SELECT count(*), min(seq), max(seq), coalesce(string_agg('|' || mac, '' ORDER BY seq), '')"  # noqa: S608 (constants)
    f" FROM audit_event WHERE {_IN_BATCH}"
)
_INSERT_SEAL_SQL = (
    "INSERT INTO audit_seal (sealed_at, xid_from, xid_to, event_count, first_event_seq,"  # noqa: S608 (constants)
    " last_event_seq, event_seqs, prev_hash, chain_hash) SELECT now(),"
    " CAST(:lo AS text)::xid8, CAST(:hi AS text)::xid8, :event_count, :first_event_seq,"
    " :last_event_seq, coalesce((SELECT array_agg(seq ORDER BY seq) FROM audit_event"
    f" WHERE {_IN_BATCH}), CAST('{{}}' AS bigint[])), :prev_hash, :chain_hash"
)


async def seal_batch(conn: AsyncConnection, lo: int, hi: int) -> SealBatch:
    """The batch a seal folds, summed up by the database: a seal of 24,000 events read them
    as rows and joined and folded them in Python, stalling the event loop for 87 ms."""
    rows = await fetch_on_connection(conn, Bound(_SEAL_BATCH_SQL, {"lo": str(lo), "hi": str(hi)}))
    count, first, last, joined = rows[0]
    return SealBatch(int(count), first, last, joined)


async def insert_seal(
    conn: AsyncConnection, lo: int, hi: int, batch: SealBatch, prev_hash: str, chain_hash: str
) -> None:
    """The seal of `batch`, naming every event's number (gathered by the database)."""
    await conn.execute(
        text(_INSERT_SEAL_SQL),
        {
            "lo": str(lo),
            "hi": str(hi),
            "event_count": batch.count,
            "first_event_seq": batch.first_seq,
            "last_event_seq": batch.last_seq,
            "prev_hash": prev_hash,
            "chain_hash": chain_hash,
        },
    )


async def stream_events(conn: AsyncConnection, batch: int = 5000) -> AsyncIterator[dict[str, Any]]:
    """Every event in sequence order, with the fields its MAC covers."""
    columns = ", ".join(("seq", "mac", *MAC_FIELDS, *OPTIONAL_MAC_FIELDS))
    last = 0
    while True:
        rows = (
            (
                await conn.execute(
                    text(
                        f"SELECT {columns} FROM audit_event WHERE seq > :last ORDER BY seq LIMIT :n"  # noqa: S608
                    ).columns(details=JSONB),
                    {"last": last, "n": batch},
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = int(rows[-1]["seq"])


async def all_seals(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        text(
            "SELECT seq, xid_from::text AS xid_from, xid_to::text AS xid_to, event_count, "
            "first_event_seq, last_event_seq, event_seqs, prev_hash, chain_hash FROM audit_seal "
            "ORDER BY seq"
        )
    )
    return [dict(r) for r in rows.mappings()]
