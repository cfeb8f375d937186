"""The audit trail: reading it (itself audited), sealing it, and verifying it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit import repository as repo
from app.audit.schemas import AuditEventRead
from app.core.audit_chain import GENESIS, event_mac, fold_chain, fold_joined
from app.core.audited import ALL, Source, read_page
from app.core.pagination import SeqKeyset
from app.core.responses import answered_columns, page_of
from app.core.unit_of_work import Unit

EVENTS = Source(
    "audit_event",
    "audit_event AS r",
    columns=answered_columns(AuditEventRead),  # not its MAC nor its transaction id
    subject=None,
    keyset=SeqKeyset(),
)


async def list_events(
    unit: Unit, f: repo.EventFilter, *, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A page of the trail as `Page[AuditEventRead]` shows it, each event as stored
    (app/core/responses.py)."""
    rows, next_cursor = await read_page(
        unit,
        EVENTS,
        ALL,  # the route admits only auditors and admins, who see the whole trail
        action="audit_event.list",
        cursor=cursor,
        limit=limit,
        where=repo.event_filter(f),
        filters=f.__dict__,
    )
    return page_of([event_answer(row) for row in rows], next_cursor)


def event_answer(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event as `AuditEventRead` shows it, as stored (app/core/responses.py)."""
    return {
        "id": row["id"],
        "seq": row["seq"],
        "occurred_at": row["occurred_at"],
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "actor_label": row["actor_label"],
        "action": row["action"],
        "resource_type": row["resource_type"],
        "resource_id": row["resource_id"],
        "outcome": row["outcome"],
        "request_id": row["request_id"],
        "client_request_id": row["client_request_id"],
        "client_ip": row["client_ip"],
        "user_agent": row["user_agent"],
        "subject_ids": row["subject_ids"],
        "resource_ids": row["resource_ids"],
        "details": row["details"],
    }


@dataclass(frozen=True)
class SealResult:
    sealed: int  # events folded into the new link (0: nothing new, or another sealer was busy)
    xid_to: int | None


async def seal(engine: AsyncEngine, key: bytes) -> SealResult:
    """Fold every event whose transaction has ended since the last seal into a new link.

    Batches are by transaction id, not by sequence: an event with a lower sequence number
    whose transaction commits late still lands in exactly one batch. Request transactions
    take no lock for this; one sealer at a time holds an advisory lock.
    """
    async with engine.begin() as conn:
        if not await repo.try_sealer_lock(conn):
            return SealResult(0, None)
        head = await repo.seal_head(conn)
        lo = head.xid_to if head else 0
        prev = head.chain_hash if head else GENESIS
        hi = await repo.finished_xid_horizon(conn)
        if hi <= lo:
            return SealResult(0, None)
        batch = await repo.seal_batch(conn, lo, hi)
        if not batch.count and head is not None:
            return SealResult(0, None)
        chain = fold_joined(key, prev, batch.joined_macs)
        await repo.insert_seal(conn, lo, hi, batch, prev, chain)
        return SealResult(batch.count, hi)


@dataclass(frozen=True)
class Finding:
    event_seq: int | None
    seal_seq: int | None
    problem: str

    def describe(self) -> str:
        where = f"event {self.event_seq}" if self.event_seq is not None else f"seal {self.seal_seq}"
        return f"{where}: {self.problem}"


async def verify(engine: AsyncEngine, key: bytes) -> tuple[int, list[Finding]]:
    """Check every event's MAC (an edited or forged event) and every seal's chain (a removed
    or inserted event). Returns the number of events checked and the findings in order."""
    findings: list[Finding] = []
    checked = 0
    async with engine.connect() as conn:
        async for row in repo.stream_events(conn):
            checked += 1
            if event_mac(key, row) != row["mac"]:
                findings.append(
                    Finding(int(row["seq"]), None, "altered or forged (its MAC does not match)")
                )
        prev, prev_to = GENESIS, 0
        for s in await repo.all_seals(conn):
            seal_seq = int(s["seq"])
            lo, hi = int(s["xid_from"]), int(s["xid_to"])
            if s["prev_hash"] != prev or lo != prev_to:
                findings.append(
                    Finding(None, seal_seq, "the chain of seals is broken (a seal was removed)")
                )
            events = await repo.event_macs_between(conn, lo, hi)
            chain = fold_chain(key, s["prev_hash"], (mac for _, mac in events))
            if len(events) != s["event_count"] or chain != s["chain_hash"]:
                seqs = {seq for seq, _ in events}
                span = f"events {s['first_event_seq']}..{s['last_event_seq']}"
                culprit = _first_missing(seqs, s)
                kind = "removed" if len(events) < s["event_count"] else "inserted or changed"
                findings.append(
                    Finding(culprit, seal_seq, f"an event was {kind} in the sealed batch ({span})")
                )
            prev, prev_to = s["chain_hash"], hi
    return checked, findings


def _first_missing(seqs: set[int], seal: dict[str, Any]) -> int | None:
    """The first event the seal names that is gone. A seal keeps every event's number; seals
    made before it did name only the first and the last (numbers have gaps: a rolled-back
    insert uses one up), so for them a gap in between cannot be told from a removal."""
    sealed = seal.get("event_seqs")
    if sealed is None:
        sealed = [n for n in (seal["first_event_seq"], seal["last_event_seq"]) if n is not None]
    return next((n for n in sealed if n not in seqs), None)
