from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    """The OAuth2 token request, form-encoded: a person logs in with the password grant
    (`username`, `password`), an integration with client credentials (`client_id`,
    `client_secret`)."""

    grant_type: str = Field(
        default="password",
        description="`password` (people) or `client_credentials` (integrations)",
        json_schema_extra={"enum": ["password", "client_credentials"]},
    )
    username: str | None = Field(
        default=None, max_length=150, description="A lawyer's is the Law Society number"
    )
    password: str | None = Field(default=None, max_length=1024)
    client_id: str | None = Field(default=None, max_length=150)
    client_secret: str | None = Field(default=None, max_length=1024)
    scope: str | None = Field(
        default=None,
        max_length=1000,
        description="Ignored: an integration's scopes are those an admin granted it",
    )


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds of inactivity after which the session ends")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class PasswordChanged(BaseModel):
    other_sessions_ended: int


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        min_length=1, max_length=150, description="Law Society number or username"
    )


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256)
    new_password: str = Field(max_length=1024)


class Accepted(BaseModel):
    detail: str
