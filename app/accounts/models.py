from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts.roles import Role
from app.core.db import Base, updated_at_column

_ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class AppUser(Base):
    """A person or integration that can log in. Lawyers log in with their Law Society number."""

    __tablename__ = "app_user"
    __table_args__ = (
        Index("uq_app_user_username_lower", func.lower(text("username")), unique=True),
        CheckConstraint(f"role IN ({_ROLE_VALUES})", name="role_known"),
        CheckConstraint(
            "role NOT IN ('firm_admin', 'integration') OR firm_id IS NOT NULL",
            name="firm_roles_have_firm",
        ),
        CheckConstraint("failed_login_count >= 0", name="failed_login_count_non_negative"),
        Index("ix_app_user_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(150))
    email: Mapped[str | None] = mapped_column(String(320))
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firm.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_login_count: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    role_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
