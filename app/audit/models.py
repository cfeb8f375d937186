from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from app.core.db import Base


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (read and compared as a number)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


class AuditEvent(Base):
    """One append-only record of a read, a change, a login attempt or a refusal.

    `mac` is an HMAC over the event's fields, made by the application; `xid` (set by a trigger
    to the writing transaction's id) lets the sealer chain events in commit-safe batches.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ix_audit_event_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_event_resource", "resource_type", "resource_id", "seq"),
        Index("ix_audit_event_action_seq", "action", "seq"),
        Index("ix_audit_event_xid", "xid"),
        Index("ix_audit_event_subject_ids", "subject_ids", postgresql_using="gin"),
        Index("ix_audit_event_resource_ids", "resource_ids", postgresql_using="gin"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_role: Mapped[str | None] = mapped_column(String(32))
    actor_label: Mapped[str | None] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))  # ours, one per request
    client_request_id: Mapped[str | None] = mapped_column(String(64))  # the client's X-Request-ID
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The people whose records the event concerns (the lawyer a quote is for), and for a list
    # read the ids of the records it returned: "who saw this?" finds list reads too.
    subject_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()), server_default=text("'{}'"))
    resource_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    xid: Mapped[int] = mapped_column(Xid8(), server_default=text("pg_current_xact_id()"))
    mac: Mapped[str] = mapped_column(String(64))


class AuditSeal(Base):
    """A link of the chain over the audit trail: every event written by transactions with ids in
    [xid_from, xid_to), in sequence order, folded into `chain_hash` after the previous seal's."""

    __tablename__ = "audit_seal"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    xid_from: Mapped[int] = mapped_column(Xid8())
    xid_to: Mapped[int] = mapped_column(Xid8(), unique=True)
    event_count: Mapped[int] = mapped_column(Integer)
    first_event_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_event_seq: Mapped[int | None] = mapped_column(BigInteger)
    # Every sealed event's number, so that verify can name the one that went missing.
    event_seqs: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
