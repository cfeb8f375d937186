from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from app.accounts.roles import STAFF_ROLES, Role
from app.core.audit_trail import Actor


class Principal(NamedTuple):
    """Who is calling, as established by a live session (made for every request: a named
    tuple, as the request's facts are)."""

    user_id: UUID
    username: str
    role: Role
    firm_id: UUID | None
    scopes: frozenset[str]
    session_id: UUID
    via_cookie: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def as_actor(self) -> Actor:
        return Actor(id=self.user_id, role=self.role.value, label=self.username)
