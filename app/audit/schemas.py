from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    seq: int
    occurred_at: datetime
    actor_id: UUID | None
    actor_role: str | None = Field(
        description="The actor's role, or `operator` for a command run on the server"
    )
    actor_label: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    outcome: str
    request_id: str | None
    client_request_id: str | None = None
    client_ip: str | None
    user_agent: str | None
    subject_ids: list[UUID] = Field(description="Whose records these are (e.g. the lawyer's)")
    resource_ids: list[str] = Field(description="A list read: the records it returned")
    details: dict[str, Any]
