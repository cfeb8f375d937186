"""Lockout: the pure rule of what one login attempt does to an account's failure count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class AttemptOutcome(StrEnum):
    success = "success"
    bad_credentials = "bad_credentials"
    locked = "locked"  # the account was already locked: the attempt is refused and not counted
    locked_now = "locked_now"  # this failure reached the threshold
    disabled = "disabled"


@dataclass(frozen=True)
class LockoutState:
    failed_count: int
    locked_until: datetime | None


def apply_attempt(
    state: LockoutState,
    *,
    credentials_ok: bool,
    now: datetime,
    threshold: int,
    lock_for: timedelta,
) -> tuple[LockoutState, AttemptOutcome]:
    """Consecutive failures lock the account at `threshold` for `lock_for`; a success resets
    the count; an expired lock starts the count afresh; attempts while locked change nothing."""
    if state.locked_until is not None and state.locked_until > now:
        return state, AttemptOutcome.locked
    count = 0 if state.locked_until is not None else state.failed_count
    if credentials_ok:
        return LockoutState(0, None), AttemptOutcome.success
    count += 1
    if count >= threshold:
        return LockoutState(count, now + lock_for), AttemptOutcome.locked_now
    return LockoutState(count, None), AttemptOutcome.bad_credentials
