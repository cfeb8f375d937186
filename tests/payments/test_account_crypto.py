"""Account numbers encrypted at rest: the key setting, the token, tampering, contexts, rotation,
masks."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.payments.account_crypto import (
    DataKey,
    current_key,
    decrypt,
    encrypt,
    mask,
    needs_rotation,
    parse_keys,
    rotate,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
A64 = base64.b64encode(KEY_A).decode()
B64 = base64.b64encode(KEY_B).decode()
CONTEXT = b"authorization:6f1c2a9e-0d44-4c1b-9a57-3f0e8b7c1d22"
OTHER = b"authorization:0b5e7d1f-8c2a-4e6b-b0d3-9a4c5e6f7a81"
ACCOUNT = "123456789"


def test_one_bare_key_is_k1():
    keys = parse_keys(A64)
    assert list(keys) == ["k1"]
    assert keys["k1"] == DataKey("k1", KEY_A)


def test_listed_keys_keep_their_order_and_the_first_is_current():
    keys = parse_keys(f"k2:{B64}, k1:{A64}")
    assert list(keys) == ["k2", "k1"]
    assert keys["k2"].key == KEY_B
    assert keys["k1"].key == KEY_A
    assert current_key(keys).key_id == "k2"


def test_a_url_safe_or_unpadded_key_is_read():
    urlsafe = base64.urlsafe_b64encode(KEY_B).decode().rstrip("=")
    assert "-" in urlsafe or "_" in urlsafe  # the test is about the alphabet
    assert parse_keys(f"k9:{urlsafe}")["k9"].key == KEY_B


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "no key is set"),
        ("   ", "no key is set"),
        (base64.b64encode(b"x" * 16).decode(), "must be 32 bytes, not 16"),
        (f"k1:{base64.b64encode(b'x' * 33).decode()}", "entry 1 ('k1'): the key must be 32 bytes"),
        (f"k1:{A64},k1:{B64}", "entry 2: key id 'k1' is listed twice"),
        (f"k1:{A64},,k2:{B64}", "entry 2 is empty"),
        (f"k1:{A64},{B64}", "entry 2: expected key_id:base64key"),
        (f"k.1:{A64}", "a key id is 1 to 32 letters"),
        (f":{A64}", "a key id is 1 to 32 letters"),
        ("k1:not base64 at all!", "entry 1 ('k1'): the key is not valid base64"),
    ],
)
def test_bad_settings_are_refused_naming_the_problem(setting, message):
    with pytest.raises(ValueError, match="PAYMENT_DATA_KEY") as raised:
        parse_keys(setting)
    assert message in str(raised.value)


def test_an_error_never_shows_the_key():
    short = base64.b64encode(b"secret-key-material!").decode()
    for setting in (short, f"k1:{A64},k1:{A64}", f"k1:{A64}x"):
        with pytest.raises(ValueError) as raised:
            parse_keys(setting)
        assert short not in str(raised.value) and A64 not in str(raised.value)
        error = raised.value  # and no chained error (a decoder's) shows it either
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__


def test_a_key_is_never_in_a_repr():
    assert repr(DataKey("k1", KEY_A)) == "DataKey(key_id='k1')"


def test_round_trip():
    keys = parse_keys(A64)
    token = encrypt(keys, ACCOUNT, context=CONTEXT)
    assert token.startswith("v1.k1.")
    assert ACCOUNT not in token
    assert decrypt(keys, token, context=CONTEXT) == ACCOUNT


def test_the_token_layout():
    token = encrypt(parse_keys(A64), ACCOUNT, context=CONTEXT)
    version, key_id, payload = token.split(".")
    assert (version, key_id) == ("v1", "k1")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert len(raw) == 12 + len(ACCOUNT) + 16  # nonce, ciphertext, tag


def test_each_encryption_has_a_fresh_nonce():
    keys = parse_keys(A64)
    tokens = {encrypt(keys, ACCOUNT, context=CONTEXT) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {base64.urlsafe_b64decode(t.split(".")[2] + "==")[:12] for t in tokens}
    assert len(nonces) == 50


def _flip(token: str, index: int) -> str:
    version, key_id, payload = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[index] ^= 0x01
    return f"{version}.{key_id}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


@pytest.mark.parametrize("index", [0, 11, 12, 20, -1])  # nonce, ciphertext, tag
def test_tampering_with_one_byte_fails(index):
    keys = parse_keys(A64)
    token = encrypt(keys, ACCOUNT, context=CONTEXT)
    with pytest.raises(ValueError, match="does not decrypt") as raised:
        decrypt(keys, _flip(token, index), context=CONTEXT)
    assert ACCOUNT not in str(raised.value)


def test_another_context_fails():
    keys = parse_keys(A64)
    token = encrypt(keys, ACCOUNT, context=CONTEXT)
    with pytest.raises(ValueError, match="another context"):
        decrypt(keys, token, context=OTHER)
    with pytest.raises(ValueError):
        decrypt(keys, token, context=b"")


def test_another_key_under_the_same_id_fails():
    token = encrypt(parse_keys(f"k1:{A64}"), ACCOUNT, context=CONTEXT)
    with pytest.raises(ValueError, match="does not decrypt"):
        decrypt(parse_keys(f"k1:{B64}"), token, context=CONTEXT)


def test_the_key_id_is_bound_to_the_token():
    """Relabelling a token with another listed key's id fails, even if both ids held one key."""
    keys = parse_keys(f"k1:{A64},k2:{A64}")
    token = encrypt(keys, ACCOUNT, context=CONTEXT)
    with pytest.raises(ValueError, match="does not decrypt"):
        decrypt(keys, token.replace("v1.k1.", "v1.k2.", 1), context=CONTEXT)


def test_an_unknown_key_id_fails():
    token = encrypt(parse_keys(f"k0:{A64}"), ACCOUNT, context=CONTEXT)
    with pytest.raises(ValueError, match="key id 'k0' is not configured"):
        decrypt(parse_keys(f"k1:{A64}"), token, context=CONTEXT)


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v1.k1", "v2.k1.AAAA", "v1.k1.AAAA", "v1..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
     "v1.k1.AAAA.AAAA", "v1.k1.not+url/safe=", "v1.k1.A"],
)  # fmt: skip
def test_malformed_tokens_fail(token):
    with pytest.raises(ValueError, match="not a v1 payment data token"):
        decrypt(parse_keys(A64), token, context=CONTEXT)


def test_rotation_re_encrypts_under_the_new_current_key():
    old_keys = parse_keys(f"k1:{A64}")
    old_token = encrypt(old_keys, ACCOUNT, context=CONTEXT)
    assert not needs_rotation(old_keys, old_token)

    new_keys = parse_keys(f"k2:{B64},k1:{A64}")  # k2 is added first; k1 stays listed
    assert needs_rotation(new_keys, old_token)
    assert decrypt(new_keys, old_token, context=CONTEXT) == ACCOUNT  # old tokens still read

    new_token = rotate(new_keys, old_token, context=CONTEXT)
    assert new_token.startswith("v1.k2.")
    assert not needs_rotation(new_keys, new_token)
    assert decrypt(new_keys, new_token, context=CONTEXT) == ACCOUNT
    assert decrypt(parse_keys(f"k2:{B64}"), new_token, context=CONTEXT) == ACCOUNT

    with pytest.raises(ValueError, match="key id 'k1' is not configured"):
        decrypt(parse_keys(f"k2:{B64}"), old_token, context=CONTEXT)  # once k1 is dropped


def test_rotating_a_current_token_returns_it_unchanged():
    keys = parse_keys(f"k2:{B64},k1:{A64}")
    token = encrypt(keys, ACCOUNT, context=CONTEXT)
    assert rotate(keys, token, context=CONTEXT) == token


def test_rotation_refuses_a_token_of_another_context():
    old_token = encrypt(parse_keys(f"k1:{A64}"), ACCOUNT, context=CONTEXT)
    with pytest.raises(ValueError, match="another context"):
        rotate(parse_keys(f"k2:{B64},k1:{A64}"), old_token, context=OTHER)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("123456789", "••••6789"),
        ("1234567", "••••4567"),
        ("123456789012", "••••9012"),
        ("1234-567 89", "••••6789"),
        ("12345", "••••2345"),
        ("1234", "••••"),
        ("12", "••••"),
        ("", "••••"),
    ],
)
def test_masks(number, shown):
    assert mask(number) == shown
    assert mask(number).startswith("\u2022\u2022\u2022\u2022")


@given(st.text(), st.binary(max_size=64))
def test_any_text_round_trips_in_its_own_context(plaintext, context):
    keys = parse_keys(f"k2:{B64},k1:{A64}")
    token = encrypt(keys, plaintext, context=context)
    assert decrypt(keys, token, context=context) == plaintext
    with pytest.raises(ValueError):
        decrypt(keys, token, context=context + b"x")
