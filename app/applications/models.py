from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, known_values, updated_at_column


class ApplicationStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    information_requested = "information_requested"
    approved = "approved"
    declined = "declined"


APPLICATION_STATUSES = tuple(ApplicationStatus)
# The edition of RULES.md §2 a submission is judged by; earlier submissions keep their outcome.
RULES_EDITION = "2026-11-25"


class Application(Base):
    """A lawyer's annual application: a draft until submitted, then frozen with its quote."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(known_values("status", APPLICATION_STATUSES), name="status_known"),
        # one live application per lawyer and program year (a declined one may be followed)
        Index(
            "uq_application_owner_year_live",
            "owner_id",
            "program_year",
            unique=True,
            postgresql_where=text("status <> 'declined'"),
        ),
        Index("ix_application_firm_id_program_year", "firm_id", "program_year"),
        Index("ix_application_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firm.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    program_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), server_default="draft")
    form: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # the version of the form's model that wrote `form` (its schema's fingerprint); a form
    # written by the current version is answered as stored (app/core/responses.py)
    form_schema: Mapped[str | None] = mapped_column(String(16))
    quote_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quote.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # which edition of the eligibility rules judged the submission (None: before editions)
    rules_edition: Mapped[str | None] = mapped_column(String(16))
    # staff confirmed a copy of the Certificate of Indian Status or TCRD is on file (form A.2)
    tax_certificate_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tax_certificate_confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
