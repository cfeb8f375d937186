"""Card numbers are recognised wherever they hide in a request, and ordinary values are not taken
for them. Every "lookalike" below passes the Luhn check, so only the reading rules keep it out."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from app.core.card_numbers import find_card_numbers, looks_like_card_number, redact_card_numbers

VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
DISCOVER = "6011111111111117"


@pytest.mark.parametrize(
    "text",
    [
        VISA,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        MASTERCARD,
        "5555 5555 5555 4444",
        "5555-5555-5555-4444",
        AMEX,
        "3782 822463 10005",  # as printed on the card: 4-6-5
        "3782-822463-10005",
        DISCOVER,
        "6011 1111 1111 1117",
        "4222222222222",  # a 13-digit Visa test number
        "6011 1111 1111 1117 000",  # 19 digits, 4-4-4-4-3, passes the Luhn check
        "Please debit 4111 1111 1111 1111, exp 12/27",
        "card:4111111111111111",
        "(4111-1111-1111-1111)",
        "pay_4111111111111111",  # an underscore does not glue
        "4111 1111 1111 1111 12/27",  # the first four groups are a card number
        "416-555-0100 4111111111111111",  # a phone number then a card number
        "4111111111111111.00",  # a dot ends a number
        "".join(chr(0xFF10 + int(d)) for d in VISA),  # in full-width digits
    ],
)
def test_card_numbers_are_recognised(text):
    assert looks_like_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # 16 digits, fails the Luhn check
        "4111 1111 1111 1112",
        "123456782",  # a 9-digit account number (passes the Luhn check)
        "001",  # institution
        "12345",  # transit
        "001-12345-1234560",  # institution, transit, account together: 15 digits, Luhn-valid
        "12345-001-1234563",  # transit, institution, account: 15 digits, Luhn-valid
        "123e4567-e89b-12d3-a456-426614174000",  # a UUID
        "12345670-1234-4234-a234-426614174000",  # a UUID whose first 16 digits pass Luhn
        "12345676-1234-1234-1234-123456789012",  # a UUID of digits only, same
        "2025-01-15",  # an ISO date
        "2025-01-15T10:30:00-05:00",
        "416-555-0100",  # a phone number
        "1-800-410-1013",
        "2025-01-15 416-555-0105",  # a date then a phone number: 18 digits, Luhn-valid
        "1755.00",  # an amount
        "1,755.00",
        "98765A",  # a Law Society number
        "LSO 98765A",
        "x4111111111111111",  # glued to a letter: an identifier
        "ref-4111111111111111",  # glued to a word by a dash: an identifier
        "INV-4111-1111-1111-1111",
        "41111111111111111234",  # 20 digits unbroken: a longer number, not a card in it
        "411111111111",  # 12 digits
        "",
        "no digits at all",
    ],
)
def test_ordinary_values_are_not_card_numbers(text):
    assert not looks_like_card_number(text)


def test_the_lookalikes_do_pass_the_luhn_check():
    """The tests above are only worth something if the digits would pass on their own."""
    for digits in (
        "123456782",
        "001123451234560",
        "123450011234563",
        "1234567012344234",
        "1234567612341234",
        "202501154165550105",
        "4111111111111111",
    ):
        assert luhn.is_valid(digits), digits
    assert not luhn.is_valid("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", "[card number removed]"),
        (
            "Visa 4111-1111-1111-1111 exp 12/27, call 416-555-0100",
            "Visa [card number removed] exp 12/27, call 416-555-0100",
        ),
        (
            f"two: {MASTERCARD} and {AMEX}.",
            "two: [card number removed] and [card number removed].",
        ),
        ("4111 1111 1111 1111 12/27", "[card number removed] 12/27"),
        ("paid 1755.00 on 2025-01-15", "paid 1755.00 on 2025-01-15"),
        ("4111111111111112", "4111111111111112"),
        ("", ""),
    ],
)
def test_redact_card_numbers(text, expected):
    assert redact_card_numbers(text) == expected


def test_find_card_numbers_names_the_paths_in_document_order():
    body = {
        "payor": {"name": "Jane Doe", "note": "use my card 4111 1111 1111 1111"},
        "items": [
            {"memo": "fine"},
            {"memo": "also fine", "amount": "1755.00"},
            {"memo": "5555-5555-5555-4444"},
        ],
        "card": 378282246310005,  # an integer
        "nested": [[["6011 1111 1111 1117"]]],
        "institution_number": "001",
        "transit_number": "12345",
        "account_number": "123456782",
        "law_society_number": "98765A",
        "id": "123e4567-e89b-12d3-a456-426614174000",
        "phone": "416-555-0100",
        "due_on": "2025-01-15",
        "count": 3,
        "flag": True,
        "nothing": None,
        "ratio": 0.5,
    }
    assert find_card_numbers(body) == ["payor.note", "items.2.memo", "card", "nested.0.0.0"]


def test_find_card_numbers_in_keys_reports_the_path_without_the_number():
    body = {"a": {VISA: "x", "b": [{"4111-1111-1111-1111": VISA}]}}
    found = find_card_numbers(body)
    assert found == ["a.[card number removed]", "a.b.0.[card number removed]"]
    assert not any(looks_like_card_number(path) for path in found)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (VISA, [""]),
        (int(VISA), [""]),
        (float(MASTERCARD), [""]),  # a float holding a whole number is read as one
        (4111111111111112, []),
        ([1, 2, 3], []),
        ({}, []),
        ([], []),
        (True, []),
        (None, []),
        ((VISA,), ["0"]),
    ],
)
def test_find_card_numbers_top_level_values(value, expected):
    assert find_card_numbers(value) == expected


def test_find_card_numbers_in_a_parsed_request_body():
    raw = (
        '{"payment": {"method": "card", "token": "tok_1N3T00LkdIwHu7ix", "memo": 5105105105105100}}'
    )
    assert find_card_numbers(json.loads(raw)) == ["payment.memo"]


def test_deep_nesting_does_not_recurse():
    value: object = "4111 1111 1111 1111"
    for _ in range(5000):
        value = [value]
    assert find_card_numbers(value) == [".".join(["0"] * 5000)]


def _with_check_digit(body: str) -> str:
    return body + luhn.calc_check_digit(body)


card_digits = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n).map(_with_check_digit)
)


@given(card_digits, st.sampled_from(["", " ", "-"]), st.sampled_from(["", "paid with ", "x: "]))
def test_any_luhn_valid_number_in_groups_of_four_is_found_and_redacted(digits, sep, prefix):
    grouped = sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    text = f"{prefix}{grouped} thanks"
    assert looks_like_card_number(text)
    redacted = redact_card_numbers(text)
    assert redacted == f"{prefix}[card number removed] thanks"
    assert not looks_like_card_number(redacted)
    assert find_card_numbers({"a": [text]}) == ["a.0"]


digit_heavy = st.lists(
    st.one_of(card_digits, st.text("0123456789 -a._", max_size=8)), max_size=8
).map("".join)


@given(st.one_of(st.text(), digit_heavy))
def test_redacted_text_never_holds_a_card_number(text):
    redacted = redact_card_numbers(text)
    assert not looks_like_card_number(redacted)
    assert looks_like_card_number(text) == (redacted != text)


@given(st.text(st.characters(blacklist_categories=["Nd"])))
def test_text_without_digits_is_left_alone(text):
    assert not looks_like_card_number(text)
    assert redact_card_numbers(text) == text
