"""Password policy (NIST SP 800-63B rev. 4, password used alone): pure checks, no I/O."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from itertools import pairwise

from app.core.errors import FieldError

MIN_LENGTH = 15
MAX_LENGTH = 128
_SEPARATORS = " -_.!?,;:*#@+=/\\|~0123456789"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common and breached passwords, lower-cased."""
    raw = resources.files("app.auth").joinpath("common_passwords.txt.gz").read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def _smallest_period(text: str) -> str:
    """'abcabcabc' -> 'abc'; a string that does not repeat is its own period."""
    n = len(text)
    for size in range(1, n // 2 + 1):
        if n % size == 0 and text[:size] * (n // size) == text:
            return text[:size]
    return text


# Runs people type: counting (wrapping past 9), the alphabet, keyboard rows.
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


def _is_sequence(text: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    if len(steps) == 1 and steps <= {1, -1, 0}:
        return True
    return len(text) >= 6 and any(text in run or text[::-1] in run for run in _RUNS)


def is_common(password: str) -> bool:
    lowered = password.lower()
    blocked = common_passwords()
    candidates = {lowered, lowered.strip(_SEPARATORS)}
    candidates |= {_smallest_period(c) for c in list(candidates)}
    if any(c in blocked or _is_sequence(c) for c in candidates if c):
        return True
    # a single common word repeated or padded: "password1234567", "letmein letmein"
    words = [w for w in _split_words(lowered) if w]
    return len(set(words)) == 1 and words[0] in blocked


def _split_words(text: str) -> list[str]:
    word: list[str] = []
    out: list[str] = []
    for ch in text:
        if ch in _SEPARATORS:
            out.append("".join(word))
            word = []
        else:
            word.append(ch)
    out.append("".join(word))
    return out


def password_problems(
    password: str, *, username: str | None, field: str = "password"
) -> list[FieldError]:
    """Every rule the password breaks, as field errors (empty when it is acceptable)."""
    problems: list[FieldError] = []
    if len(password) < MIN_LENGTH:
        problems.append(
            FieldError(
                field,
                "too_short",
                f"Use at least {MIN_LENGTH} characters; a passphrase works well.",
            )
        )
    if len(password) > MAX_LENGTH:
        problems.append(FieldError(field, "too_long", f"Use at most {MAX_LENGTH} characters."))
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append(
            FieldError(field, "contains_username", "The password must not contain the username.")
        )
    if MIN_LENGTH <= len(password) <= MAX_LENGTH and is_common(password):
        problems.append(
            FieldError(
                field, "common_password", "This password is too common or has appeared in breaches."
            )
        )
    return problems
