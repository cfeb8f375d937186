"""No card numbers anywhere (RULES.md §5, §6): the client sends a payment processor's token, and a
request carrying anything that looks like a card number is refused, neither stored nor logged.

What looks like a card number: 13 to 19 digits, written together or in groups separated by single
spaces or by single dashes, that pass the Luhn check. The readings that keep ordinary values out:
- digits glued to a letter or another digit, directly or by a dash, belong to an identifier or a
  longer number (a UUID's hex groups, a Law Society number such as 98765A, a reference such as
  INV-2025-0001, a 24-digit number) and are not looked at; a space does not glue;
- written in groups, every group but the last has at least 4 digits, as on every card (4-4-4-4,
  4-6-5, 4-6-4, 4-4-4-4-3), and one kind of separator joins them: so a phone number
  (416-555-0100), a date, or an institution, transit and account number written together
  (001-12345-1234567) are not card numbers, even when their digits happen to pass the Luhn check;
- a number is read in whole groups: the first 16 digits of "4111 1111 1111 1111 12/27" are found,
  a 13-digit slice of an unbroken 20-digit number is not;
- a UUID written in digits only (8-4-4-4-12) is a UUID;
- a dot ends a number, so an amount (1755.00) stays short.
Integers are read as their digits; a float only when it holds a whole number."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum import luhn

REDACTED = "[card number removed]"
MIN_DIGITS = 13
MAX_DIGITS = 19
MIN_GROUP = 4  # digits in each group but the last, when written in groups

# Digits in groups joined by one space or one dash, not glued to a letter or digit at either end,
# directly or by a dash. ([^\W_] is a letter or a digit, in any script.)
_RUN = re.compile(r"(?<![^\W_])(?<![^\W_]-)\d+(?:[ -]\d+)*(?!-?[^\W_])")
_GROUP = re.compile(r"\d+")
_DIGITS_ONLY_UUID = re.compile(r"\d{8}-\d{4}-\d{4}-\d{4}-\d{12}")
_KEY_HOLDS_ONE = object()  # stands, in the walk, for a key that holds a card number


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str  # ASCII digits
    separator: str  # the character before it; "" for a run's first group


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in text)


def _groups(run: str, offset: int) -> list[_Group]:
    return [
        _Group(
            offset + m.start(),
            offset + m.end(),
            _ascii_digits(m.group()),
            run[m.start() - 1] if m.start() else "",
        )
        for m in _GROUP.finditer(run)
    ]


def _card_at(groups: list[_Group], first: int) -> int | None:
    """The index of the last group of the longest card number starting at `first`, if any."""
    found = None
    digits = ""
    for last in range(first, len(groups)):
        if last > first and len(groups[last - 1].digits) < MIN_GROUP:
            break  # only the last group may be short
        if last > first + 1 and groups[last].separator != groups[first + 1].separator:
            break  # one kind of separator per number
        digits += groups[last].digits
        if len(digits) > MAX_DIGITS:
            break
        if len(digits) >= MIN_DIGITS and bool(luhn.is_valid(digits)):
            found = last
    return found


def _card_spans(text: str) -> Iterator[tuple[int, int]]:
    for run in _RUN.finditer(text):
        if _DIGITS_ONLY_UUID.fullmatch(run.group()):
            continue
        groups = _groups(run.group(), run.start())
        first = 0
        while first < len(groups):
            last = _card_at(groups, first)
            if last is None:
                first += 1
                continue
            yield groups[first].start, groups[last].end
            first = last + 1


def looks_like_card_number(text: str) -> bool:
    """Whether `text` holds anything that looks like a payment card number."""
    return next(_card_spans(text), None) is not None


def redact_card_numbers(text: str) -> str:
    """`text` with each card number replaced by "[card number removed]", for logs."""
    parts: list[str] = []
    kept = 0
    for start, end in _card_spans(text):
        parts += [text[kept:start], REDACTED]
        kept = end
    return "".join(parts) + text[kept:]


def _scalar_text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def find_card_numbers(value: object) -> list[str]:
    """The paths ("payor.note", "items.2.memo"; "" for `value` itself) of the strings and numbers
    in a JSON-like value that hold a card number, in document order. A key that holds one is
    reported by its entry's path, with the number removed: a path never carries a card number."""
    found: list[str] = []
    stack: list[tuple[str, object]] = [("", value)]
    while stack:  # depth first without recursion: nesting depth is the sender's choice
        path, item = stack.pop()
        children: list[tuple[str, object]] = []
        if isinstance(item, dict):
            for key, child in item.items():
                key_text = str(key)
                child_path = _join(path, redact_card_numbers(key_text))
                if looks_like_card_number(key_text):
                    children.append((child_path, _KEY_HOLDS_ONE))
                children.append((child_path, child))
        elif isinstance(item, list | tuple):
            children = [(_join(path, str(i)), child) for i, child in enumerate(item)]
        elif item is _KEY_HOLDS_ONE:
            found.append(path)
        else:
            text = _scalar_text(item)
            if text is not None and looks_like_card_number(text):
                found.append(path)
        stack.extend(reversed(children))
    return list(dict.fromkeys(found))  # a key and its value may both hold one: one path


def _join(path: str, step: str) -> str:
    return f"{path}.{step}" if path else step
