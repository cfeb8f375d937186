from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class FirmCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    firm_number: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


class FirmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    firm_number: str
    created_at: datetime
