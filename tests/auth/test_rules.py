"""Pure rules, no database: the lockout arithmetic of one attempt and the password policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.passwords import MAX_LENGTH, MIN_LENGTH, common_passwords, is_common
from app.auth.passwords import password_problems as problems
from app.auth.rules import AttemptOutcome, LockoutState, apply_attempt
from app.core.errors import FieldError

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LOCK = timedelta(minutes=30)
SOON = NOW + timedelta(minutes=5)
PAST = NOW - timedelta(seconds=1)

S = LockoutState
Out = AttemptOutcome

# (state before, credentials ok, threshold) -> (state after, outcome)
ATTEMPTS = [
    pytest.param(S(0, None), False, 5, S(1, None), Out.bad_credentials, id="first-failure"),
    pytest.param(S(3, None), False, 5, S(4, None), Out.bad_credentials, id="below-threshold"),
    pytest.param(S(4, None), False, 5, S(5, NOW + LOCK), Out.locked_now, id="reaches-threshold"),
    pytest.param(S(0, None), False, 1, S(1, NOW + LOCK), Out.locked_now, id="threshold-one"),
    pytest.param(S(9, None), False, 5, S(10, NOW + LOCK), Out.locked_now, id="already-past"),
    pytest.param(S(0, None), True, 5, S(0, None), Out.success, id="success"),
    pytest.param(S(4, None), True, 5, S(0, None), Out.success, id="success-resets-count"),
    pytest.param(S(5, SOON), True, 5, S(5, SOON), Out.locked, id="locked-right-password"),
    pytest.param(S(5, SOON), False, 5, S(5, SOON), Out.locked, id="locked-wrong-password"),
    pytest.param(S(5, PAST), False, 5, S(1, None), Out.bad_credentials, id="expired-lock-fresh"),
    pytest.param(S(5, PAST), True, 5, S(0, None), Out.success, id="expired-lock-success"),
    pytest.param(S(5, PAST), False, 1, S(1, NOW + LOCK), Out.locked_now, id="expired-relock"),
    pytest.param(S(5, NOW), False, 5, S(1, None), Out.bad_credentials, id="lock-ends-at-its-time"),
]


@pytest.mark.parametrize(("before", "ok", "threshold", "after", "outcome"), ATTEMPTS)
def test_apply_attempt(before, ok, threshold, after, outcome):
    assert apply_attempt(
        before, credentials_ok=ok, now=NOW, threshold=threshold, lock_for=LOCK
    ) == (
        after,
        outcome,
    )


def test_a_run_of_attempts_locks_at_the_threshold_and_only_then():
    state = LockoutState(0, None)
    outcomes = []
    for ok in (False, False, True, False, False, False, False, True):
        state, outcome = apply_attempt(
            state, credentials_ok=ok, now=NOW, threshold=3, lock_for=LOCK
        )
        outcomes.append(outcome)
    assert outcomes == [
        Out.bad_credentials,
        Out.bad_credentials,
        Out.success,
        Out.bad_credentials,
        Out.bad_credentials,
        Out.locked_now,
        Out.locked,
        Out.locked,
    ]
    assert state == LockoutState(3, NOW + LOCK)
    # half an hour on, the lock is over and a failure starts from one
    later = NOW + LOCK + timedelta(seconds=1)
    assert apply_attempt(state, credentials_ok=False, now=later, threshold=3, lock_for=LOCK) == (
        LockoutState(1, None),
        Out.bad_credentials,
    )


def test_the_lock_duration_is_taken_from_the_argument():
    _, outcome = apply_attempt(
        LockoutState(1, None), credentials_ok=False, now=NOW, threshold=2, lock_for=LOCK
    )
    state, _ = apply_attempt(
        LockoutState(1, None),
        credentials_ok=False,
        now=NOW,
        threshold=2,
        lock_for=timedelta(seconds=2),
    )
    assert outcome is Out.locked_now and state.locked_until == NOW + timedelta(seconds=2)


# --- the password policy ---

GOOD = [
    "correct horse battery staple",
    "Très long mot de passe à retenir",
    "日本語のパスフレーズはとても長いです",
    "🦉 owls 🦉 hoot at midnight 🌙",
    "an unusual phrase about herons",
    "x7$Lq!9vR#2mZ@4w",
]


@pytest.mark.parametrize("password", GOOD)
def test_good_passphrases_pass(password):
    assert problems(password, username="98765A") == []
    assert not is_common(password)


CASES = [
    ("a" * (MIN_LENGTH - 1), {"too_short"}),
    ("short", {"too_short"}),
    ("", {"too_short"}),
    ("x" * (MAX_LENGTH + 1), {"too_long"}),
    ("passwordpassword", {"common_password"}),
    ("PASSWORDPASSWORD", {"common_password"}),
    ("123456789012345", {"common_password"}),
    ("qwertyuiopasdfghjkl", {"common_password"}),
    ("abcdefghijklmnop", {"common_password"}),
    ("zyxwvutsrqponmlk", {"common_password"}),
    ("aaaaaaaaaaaaaaaaaaa", {"common_password"}),
    ("password1234567", {"common_password"}),
    ("letmein letmein letmein", {"common_password"}),
    ("iloveyouiloveyou", {"common_password"}),
    ("trustno1trustno1", {"common_password"}),
    ("my number is 98765A and I like it", {"contains_username"}),
    ("my number is 98765a and i like it", {"contains_username"}),
    ("98765A", {"too_short", "contains_username"}),
]


@pytest.mark.parametrize(("password", "codes"), CASES)
def test_password_problems(password, codes):
    found = problems(password, username="98765A", field="new_password")
    assert {p.code for p in found} == codes
    assert all(p.field == "new_password" and p.message for p in found)


@pytest.mark.parametrize(
    ("length", "codes"),
    [
        (MIN_LENGTH - 1, {"too_short"}),
        (MIN_LENGTH, set()),
        (MAX_LENGTH, set()),
        (MAX_LENGTH + 1, {"too_long"}),
    ],
)
def test_length_limits_are_15_and_128_code_points(length, codes):
    phrase = ("heron marsh tide lantern " * 10)[:length]
    assert len(phrase) == length
    assert {p.code for p in problems(phrase, username=None)} == codes
    # non-ASCII characters count as one each, not as their UTF-8 bytes
    accented = "é" + phrase[1:]
    assert {p.code for p in problems(accented, username=None)} == codes


def test_bounds_are_the_nist_figures():
    assert (MIN_LENGTH, MAX_LENGTH) == (15, 128)


def test_the_default_field_name_is_password():
    [problem] = problems("short", username=None)
    assert isinstance(problem, FieldError)
    assert (problem.field, problem.code) == ("password", "too_short")


@pytest.mark.parametrize("username", [None, "", "ab"])
def test_no_username_check_for_a_missing_or_tiny_username(username):
    assert problems("ab cd ef gh ij kl mn", username=username) == []


def test_a_long_username_is_found_anywhere_in_any_case():
    found = problems("the firm of SMITH.jones law office", username="smith.JONES")
    assert [p.code for p in found] == ["contains_username"]


def test_the_common_list_is_bundled_lower_cased_and_large():
    words = common_passwords()
    assert len(words) > 10_000
    assert "password" in words and "123456" in words
    assert all(w == w.lower() for w in list(words)[:2000])


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "Password",
        "passwordpassword",
        "password!!!!!!!",
        "  password  ",
        "1234567890",
        "0987654321",
        "qwertyuiop",
        "zzzzzzzzzzzzzzzz",
        "abcabcabcabcabc",
        "dragon dragon dragon",
    ],
)
def test_is_common(password):
    assert is_common(password)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "an unusual phrase about herons",
        "Très long mot de passe à retenir",
        "blue cheese under the willow",
    ],
)
def test_is_not_common(password):
    assert not is_common(password)
