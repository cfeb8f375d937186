"""Logins, sessions, logout and passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AppUser
from app.accounts.roles import Role
from app.auth import repository as repo
from app.auth.errors import (
    InvalidCredentials,
    InvalidResetToken,
    InvalidToken,
    SessionExpired,
    SessionRevoked,
    WrongCurrentPassword,
)
from app.auth.passwords import password_problems
from app.auth.principal import Principal
from app.auth.rules import AttemptOutcome, LockoutState, apply_attempt
from app.core import tokens
from app.core.audit_trail import Actor, Outcome
from app.core.config import Settings
from app.core.errors import AppError, FieldError, InvalidInput
from app.core.requestctx import current_request_meta
from app.core.security import digest_token, hash_password, new_secret, verify_password
from app.core.sql import Bound
from app.core.unit_of_work import Unit

PASSWORD_GRANT = "password"
CLIENT_CREDENTIALS_GRANT = "client_credentials"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    session_id: UUID


def _actor(user: AppUser) -> Actor:
    return Actor(id=user.id, role=user.role, label=user.username)


async def login(unit: Unit, *, grant_type: str, username: str, secret: str) -> IssuedToken:
    """Check credentials and open a session. Every attempt is an audit event; failures count
    towards the lockout; every failure answers the same, after the same hashing work."""
    user = await repo.find_user_by_username(unit.db, username)
    usable = user is not None and (
        (grant_type == CLIENT_CREDENTIALS_GRANT) == (user.role == Role.integration)
    )
    ok = await verify_password(secret, user.password_hash if user and usable else None)
    if user is None or not usable:
        unit.audit.record(
            "auth.login",
            resource_type="user",
            resource_id=user.id if user else None,
            subjects=[user.id] if user else [],
            outcome=Outcome.failure,
            details={
                "grant_type": grant_type,
                "reason": "unknown_user",
                "username": username[:150],
            },
            actor=Actor(id=None, role=None, label=username[:150]),
        )
        raise InvalidCredentials()

    settings = unit.settings
    state, outcome = await _count_attempt(unit, user.id, credentials_ok=ok)
    actor = _actor(user)
    if outcome is not AttemptOutcome.success:
        unit.audit.record(
            "auth.login",
            resource_type="user",
            resource_id=user.id,
            subjects=[user.id],
            outcome=Outcome.failure,
            details={
                "grant_type": grant_type,
                "reason": outcome.value,
                "failed_count": state.failed_count,
            },
            actor=actor,
        )
        if outcome is AttemptOutcome.locked_now:
            unit.audit.record(
                "auth.lockout",
                resource_type="user",
                resource_id=user.id,
                subjects=[user.id],
                details={"locked_until": state.locked_until, "failed_count": state.failed_count},
                actor=actor,
            )
        raise InvalidCredentials()

    meta = current_request_meta()
    session = await repo.create_session(
        unit.db,
        user_id=user.id,
        grant_type=grant_type,
        absolute=timedelta(seconds=settings.session_absolute_timeout_seconds),
        client_ip=meta.client_ip,
        user_agent=meta.user_agent,
    )
    subject = tokens.AccessClaims(
        user_id=user.id,
        session_id=session.id,
        username=user.username,
        role=user.role,
        firm_id=user.firm_id,
        scopes=tuple(sorted(user.scopes or [])),
    )
    token = tokens.issue_access_token(
        key=settings.signing_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        subject=subject,
        issued_at=session.created_at,
        expires_at=session.absolute_expires_at,
    )
    unit.audit.record(
        "auth.login",
        resource_type="session",
        resource_id=session.id,
        details={"grant_type": grant_type},
        actor=actor,
    )
    return IssuedToken(token, settings.session_idle_timeout_seconds, session.id)


async def _count_attempt(
    unit: Unit, user_id: UUID, *, credentials_ok: bool
) -> tuple[LockoutState, AttemptOutcome]:
    """Apply one credential check to the account's lockout state, under its row lock, so that
    concurrent attempts are counted one after another."""
    state, now, disabled = await repo.lock_login_state(unit.db, user_id)
    if disabled:
        return state, AttemptOutcome.disabled
    state, outcome = apply_attempt(
        state,
        credentials_ok=credentials_ok,
        now=now,
        threshold=unit.settings.lockout_threshold,
        lock_for=timedelta(seconds=unit.settings.lockout_duration_seconds),
    )
    await repo.save_login_state(
        unit.db, user_id, state, logged_in=outcome is AttemptOutcome.success
    )
    return state, outcome


async def authenticate(unit: Unit, token: str, *, via_cookie: bool) -> Principal:
    """The principal of a live session; slides its idle clock. Raises 401 problems that say why."""
    claims = read_claims(unit.settings, token)
    principal = principal_from(claims, via_cookie=via_cookie)
    unit.audit.actor = principal.as_actor()
    idle = timedelta(seconds=unit.settings.session_idle_timeout_seconds)
    # Checked and slid when the unit of work finishes, in the statement that writes the
    # request's audit events: one round trip instead of two.
    unit.session_guard = LiveSession(claims, idle)
    return principal


def identify(unit: Unit, token: str) -> None:
    """Name the token's user as the actor of what is recorded (a refusal), when the token is
    genuine; it is not authenticated by this (its session is not checked)."""
    try:
        claims = read_claims(unit.settings, token)
        unit.audit.actor = principal_from(claims, via_cookie=True).as_actor()
    except AppError:
        return


@dataclass(frozen=True)
class LiveSession:
    """The caller's session, for the unit of work to check and slide when it finishes."""

    claims: tokens.AccessClaims
    idle: timedelta

    def touch(self) -> Bound:
        return Bound(repo.TOUCH_SESSION_SQL, repo.touch_params(self.claims, self.idle))

    async def ended_error(self, db: AsyncSession) -> AppError:
        """Why the session did not slide: revoked (logout, disable, rights changed) or expired."""
        if await repo.session_is_revoked(db, self.claims.session_id, self.idle):
            return SessionRevoked("The session was ended; log in again.")
        return SessionExpired(
            "The session expired after inactivity or its time limit; log in again."
        )


def read_claims(settings: Settings, token: str) -> tokens.AccessClaims:
    """The token's claims, checked (signature, algorithm, audience, issuer, expiry, kind)."""
    try:
        return tokens.read_access_token(
            token,
            key=settings.signing_key,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except tokens.TokenExpired as exc:
        raise SessionExpired("The session reached its time limit; log in again.") from exc
    except tokens.TokenInvalid as exc:
        raise InvalidToken() from exc


def principal_from(claims: tokens.AccessClaims, *, via_cookie: bool) -> Principal:
    try:
        role = Role(claims.role)
    except ValueError as exc:
        raise InvalidToken() from exc
    return Principal(
        user_id=claims.user_id,
        username=claims.username,
        role=role,
        firm_id=claims.firm_id,
        scopes=frozenset(claims.scopes),
        session_id=claims.session_id,
        via_cookie=via_cookie,
    )


async def logout(unit: Unit, principal: Principal) -> None:
    await unit.check_session_now()
    await repo.revoke_session(unit.db, principal.session_id, "logout")
    unit.audit.record("auth.logout", resource_type="session", resource_id=principal.session_id)


def check_new_password(password: str, username: str, field: str) -> None:
    problems = password_problems(password, username=username, field=field)
    if problems:
        raise InvalidInput("The new password does not meet the password policy.", errors=problems)


async def change_password(unit: Unit, principal: Principal, *, current: str, new: str) -> int:
    """Change one's own password; every other session ends. Returns how many ended."""
    # Checked first: a lockout reached here ends this session too, and must still commit.
    await unit.check_session_now()
    user = await unit.db.get(AppUser, principal.user_id)
    assert user is not None
    ok = await verify_password(current, user.password_hash)
    if not ok:
        state, outcome = await _count_attempt(unit, user.id, credentials_ok=False)
        unit.audit.record(
            "auth.password_change",
            resource_type="user",
            resource_id=user.id,
            subjects=[user.id],
            outcome=Outcome.failure,
            details={"reason": "wrong_current_password", "failed_count": state.failed_count},
        )
        if outcome is AttemptOutcome.locked_now:
            unit.audit.record(
                "auth.lockout", resource_type="user", resource_id=user.id, subjects=[user.id]
            )
            await repo.revoke_user_sessions(unit.db, user.id, "locked")
        raise WrongCurrentPassword(
            "The current password is incorrect.",
            errors=[
                FieldError("current_password", "incorrect", "The current password is incorrect.")
            ],
        )
    check_new_password(new, user.username, "new_password")
    if new == current:
        raise InvalidInput(
            errors=[
                FieldError(
                    "new_password",
                    "unchanged",
                    "The new password must differ from the current one.",
                )
            ]
        )
    await _set_password(unit, user, new)
    ended = await repo.revoke_user_sessions(
        unit.db, user.id, "password_change", keep=principal.session_id
    )
    unit.audit.record(
        "auth.password_change",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        details={"other_sessions_ended": ended},
    )
    return ended


async def _set_password(unit: Unit, user: AppUser, password: str) -> None:
    user.password_hash = await hash_password(password)
    user.password_changed_at = func.now()
    await unit.db.flush()


async def request_password_reset(unit: Unit, username: str) -> None:
    """Queue a one-time reset link by e-mail when the account exists and has an address.
    The answer never tells whether it did."""
    user = await repo.find_user_by_username(unit.db, username)
    if (
        user is None
        or user.disabled_at is not None
        or not user.email
        or user.role == Role.integration
    ):
        unit.audit.record(
            "auth.password_reset_request",
            resource_type="user",
            resource_id=user.id if user else None,
            subjects=[user.id] if user else [],
            outcome=Outcome.failure,
            details={"reason": "no_eligible_account"},
            actor=Actor(id=None, role=None, label=username[:150]),
        )
        return
    token = new_secret()
    ttl = timedelta(seconds=unit.settings.password_reset_ttl_seconds)
    await repo.add_reset_token(unit.db, user_id=user.id, digest=digest_token(token), ttl=ttl)
    minutes = unit.settings.password_reset_ttl_seconds // 60
    await repo.queue_email(
        unit.db,
        to=user.email,
        subject="Reset your password",
        body=(
            "A password reset was requested for your account. Use this one-time code within "
            f"{minutes} minutes:\n\n{token}\n\nIf you did not ask for this, ignore this message."
        ),
        template="password_reset",
    )
    unit.audit.record(
        "auth.password_reset_request",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        actor=Actor(id=None, role=None, label=username[:150]),
    )


async def confirm_password_reset(unit: Unit, *, token: str, new_password: str) -> None:
    reset = await repo.take_reset_token(unit.db, digest_token(token))
    user = await unit.db.get(AppUser, reset.user_id) if reset else None
    if reset is None or user is None or user.disabled_at is not None:
        raise InvalidResetToken(
            "The reset code is unknown, used or expired.",
            errors=[FieldError("token", "invalid", "The reset code is unknown, used or expired.")],
        )
    check_new_password(new_password, user.username, "new_password")
    await _set_password(unit, user, new_password)
    user.failed_login_count = 0
    user.locked_until = None
    ended = await repo.revoke_user_sessions(unit.db, user.id, "password_reset")
    unit.audit.record(
        "auth.password_reset",
        resource_type="user",
        resource_id=user.id,
        subjects=[user.id],
        details={"sessions_ended": ended},
        actor=_actor(user),
    )
