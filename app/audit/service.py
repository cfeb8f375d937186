"""The audit trail: reading it (itself audited), sealing it, and verifying it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit import repository as repo
from app.audit.chain import GENESIS, event_mac, fold_chain
from app.audit.schemas import AuditEventRead
from app.core.errors import FieldError, InvalidInput
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.unit_of_work import Unit


async def list_events(
    unit: Unit, f: repo.EventFilter, *, cursor: str | None, limit: int
) -> Page[AuditEventRead]:
    position = decode_cursor(cursor)
    try:  # a forged cursor is invalid input, not a crash
        before = int(position[0]) if position else None
        if before is not None and not 0 < before < 2**63:
            raise ValueError(before)
    except (TypeError, ValueError) as exc:
        invalid = FieldError("cursor", "invalid", "The cursor is not valid.")
        raise InvalidInput(errors=[invalid]) from exc
    rows = await repo.list_events(unit.db, f, before_seq=before, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    unit.audit.record(
        "audit_event.list",
        resource_type="audit_event",
        details={
            "filters": {k: v for k, v in f.__dict__.items() if v is not None},
            "cursor": cursor,
            "ids": [e.id for e in page],
        },
    )
    return Page(
        items=[AuditEventRead.model_validate(e) for e in page],
        next_cursor=encode_cursor([page[-1].seq]) if more and page else None,
    )


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
        events = await repo.event_macs_between(conn, lo, hi)
        if not events and head is not None:
            return SealResult(0, None)
        await repo.insert_seal(
            conn,
            {
                "xid_from": lo,
                "xid_to": hi,
                "event_count": len(events),
                "first_event_seq": events[0][0] if events else None,
                "last_event_seq": events[-1][0] if events else None,
                "prev_hash": prev,
                "chain_hash": fold_chain(key, prev, (mac for _, mac in events)),
            },
        )
        return SealResult(len(events), hi)


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
                missing = _first_gap(seqs, s["first_event_seq"], s["last_event_seq"])
                # Sequence numbers have gaps, so an event gone from inside the batch cannot be
                # named: the finding names the seal then, never an intact event.
                culprit = missing
                kind = "removed" if len(events) < s["event_count"] else "inserted or changed"
                findings.append(
                    Finding(culprit, seal_seq, f"an event was {kind} in the sealed batch ({span})")
                )
            prev, prev_to = s["chain_hash"], hi
    return checked, findings


def _first_gap(seqs: set[int], first: int | None, last: int | None) -> int | None:
    if first is None or last is None:
        return None
    for seq in (first, last):
        if seq not in seqs:
            return seq
    return None
