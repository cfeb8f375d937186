from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts.roles import Role, Scope
from app.core.fields import Email
from app.core.pagination import UPDATED_AT

Username = Field(min_length=2, max_length=150, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Username
    role: Role
    email: Email | None = None
    full_name: str | None = Field(default=None, max_length=200)
    firm_id: UUID | None = None
    scopes: list[Scope] = Field(default_factory=list, description="Integrations only")
    password: str | None = Field(
        default=None,
        max_length=1024,
        description=(
            "Optional for people: without it a set-up code is e-mailed. Never for integrations."
        ),
    )

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[Scope]) -> list[Scope]:
        return sorted(set(scopes))


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    email: Email | None = None
    full_name: str | None = Field(default=None, max_length=200)
    firm_id: UUID | None = None
    scopes: list[Scope] | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[Scope] | None) -> list[Scope] | None:
        if scopes is None:
            return None
        return UserCreate._known_scopes(scopes)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    username: str
    role: Role
    email: str | None
    full_name: str | None
    firm_id: UUID | None
    scopes: list[Scope]
    disabled: bool
    locked: bool
    last_login_at: datetime | None
    role_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime = Field(description=UPDATED_AT)
    version: int


class UserCreated(UserRead):
    client_secret: str | None = Field(
        default=None, description="Integrations only: shown once, store it now"
    )


class AccessReviewUser(BaseModel):
    id: UUID
    username: str
    full_name: str | None
    firm_id: UUID | None
    disabled: bool
    last_login_at: datetime | None
    role_changed_at: datetime | None


class AccessReviewRole(BaseModel):
    role: Role
    users: list[AccessReviewUser]


class AccessReview(BaseModel):
    generated_at: datetime
    roles: list[AccessReviewRole]
