from __future__ import annotations

from app.core.errors import AppError, Forbidden, InvalidInput, NotAuthenticated


class InvalidCredentials(NotAuthenticated):
    """One answer for unknown user, wrong password, locked and disabled accounts."""

    slug = "invalid-credentials"
    title = "Invalid credentials"
    commit_work = True  # the failure count and the audit event must stay

    def __init__(self) -> None:
        super().__init__("The username or password is incorrect, or the account cannot log in now.")


class SessionExpired(NotAuthenticated):
    ends_session = True
    slug = "session-expired"
    title = "Your session has expired"


class SessionRevoked(NotAuthenticated):
    ends_session = True
    slug = "session-revoked"
    title = "Your session has ended"


class InvalidToken(NotAuthenticated):
    ends_session = True
    slug = "invalid-token"
    title = "The access token is not valid"


class CsrfHeaderMissing(Forbidden):
    slug = "csrf-header-missing"
    title = "X-Requested-With is required with cookie authentication"


class WrongCurrentPassword(InvalidInput):
    commit_work = True  # counts towards the lockout like a failed login


class InvalidResetToken(InvalidInput):
    pass


class UnsupportedGrant(AppError):
    status = 400
    slug = "unsupported-grant-type"
    title = "grant_type must be password or client_credentials"
