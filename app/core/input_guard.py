"""Input the database or the domain cannot hold, refused before any route sees it, for every
route at once (new domains included):
- a body larger than MAX_BODY_BYTES (an upload's limit is its own, below): 413 as soon as its
  Content-Length says so, or as soon as the bytes received pass the limit, so a huge body is
  never read whole nor parsed;
- a NUL or another C0 control character (tab, line feed and carriage return excepted) in a query
  parameter, a form field or a JSON string: 422 naming the field (PostgreSQL cannot store NUL in
  text or JSONB; the other controls have no business in an insurance form).
The common case costs one scan of the raw bytes; the field is only looked for when one is found.

A multipart/form-data body (a file upload) is not buffered here: it streams through to the
route, counted, up to MAX_UPLOAD_BYTES plus an allowance for the multipart envelope (413 at once
when its Content-Length says more, or as soon as its bytes pass that), and its text fields are
scanned for control characters as they pass (422 naming the field; a file's bytes are not text
and are not looked at). Such a refusal is raised from the route's `receive`: whatever the route
answers to that is replaced by the refusal, sent if the response has not started.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.card_numbers import find_card_numbers
from app.core.errors import FieldError, PayloadTooLarge, problem_response

# In a URL-encoded query or form: %00-%1F but %09, %0A, %0D.
_ENCODED_CONTROL = re.compile(rb"%(?:0[0-8bcefBCEF]|1[0-9a-fA-F])")
# In JSON text: the escapes \u0000-\u001F but \t, \n, \r (raw controls are not valid JSON).
_ESCAPED_CONTROL = re.compile(rb"\\u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F])")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The same in raw bytes: in UTF-8 (and Latin-1) these bytes are only ever those characters.
_FORBIDDEN_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What a multipart body may hold beyond the file itself: boundaries, part headers, small fields.
MULTIPART_ENVELOPE_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


class _Refused(Exception):
    """Raised from an upload's `receive` once the guard has refused the body."""


def _bad_fields_in_pairs(raw: bytes) -> list[str]:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return [name for name, value in pairs if _FORBIDDEN.search(name) or _FORBIDDEN.search(value)]


def _bad_fields_in_json(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "body"] if _FORBIDDEN.search(value) else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if _FORBIDDEN.search(str(key)):
                found.append(child)
            found += _bad_fields_in_json(item, child)
        return found
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in _bad_fields_in_json(item, f"{path}.{i}")]
    return []


def _control_character_problem(fields: list[str]) -> ASGIApp:
    return problem_response(
        422,
        "invalid-input",
        "Invalid input",
        "Text may not contain NUL or other control characters; see errors.",
        errors=[
            FieldError(f, "control_character", "Must not contain NUL or control characters.")
            for f in dict.fromkeys(fields)
        ],
    )


def _too_large(limit: int, what: str = "Request bodies") -> ASGIApp:
    return problem_response(
        413,
        PayloadTooLarge.slug,
        PayloadTooLarge.title,
        f"{what} are limited to {limit} bytes.",
    )


def _media_type(content_type: bytes) -> bytes:
    return content_type.split(b";")[0].strip().lower()


class InputGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes
        self.upload_bytes = max_upload_bytes
        self.upload_limit = max_upload_bytes + MULTIPART_ENVELOPE_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if _ENCODED_CONTROL.search(query):
            bad = _bad_fields_in_pairs(query)
            if bad:
                await _control_character_problem(bad)(scope, receive, send)
                return
        headers = dict(scope.get("headers", ()))
        length = headers.get(b"content-length")
        content_type = headers.get(b"content-type", b"")
        if _media_type(content_type) == b"multipart/form-data":
            await self._stream_upload(scope, receive, send, length, content_type)
            return
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(self.limit)(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and length is None:
            cards = _card_number_fields(query, b"", b"") if query else None
            if cards:
                await _card_number_problem(cards)(scope, receive, send)
                return
            await self.app(scope, receive, send)  # no body to look at
            return
        try:
            body, connected = await self._read(receive)
        except BodyTooLarge:
            await _too_large(self.limit)(scope, receive, send)
            return
        if not connected:
            return  # the client went away before sending its whole body
        bad = _bad_body_fields(body, content_type)
        if bad:
            await _control_character_problem(bad)(scope, receive, send)
            return
        cards = _card_number_fields(query, body, content_type)
        if cards:
            await _card_number_problem(cards)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> tuple[bytes, bool]:
        """The whole body (at most the limit), and whether the client went away meanwhile."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _stream_upload(
        self, scope: Scope, receive: Receive, send: Send, length: bytes | None, content_type: bytes
    ) -> None:
        """A multipart body, passed through as it arrives (see the module's docstring)."""
        too_large = _too_large(self.upload_bytes, "Uploads")
        if length is not None and (not length.isdigit() or int(length) > self.upload_limit):
            await too_large(scope, receive, send)
            return
        fields = _TextFieldScanner.of(content_type)
        received = 0
        refusal: ASGIApp | None = None
        started = False

        async def counted() -> Message:
            nonlocal received, refusal
            if refusal is not None:
                raise _Refused
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.upload_limit:
                    refusal = too_large
                    raise _Refused
                if fields is not None and fields.feed(chunk):
                    refusal = (
                        _control_character_problem(fields.bad)
                        if fields.bad
                        else _card_number_problem(fields.cards)
                    )
                    raise _Refused
            return message

        async def sent(message: Message) -> None:
            nonlocal started
            if refusal is not None and not started:
                return  # the route's answer to a refused body: ours is sent instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sent)
        except Exception:
            if refusal is None or started:
                raise
        if refusal is not None and not started:
            await refusal(scope, receive, send)


class _TextFieldScanner:
    """The text fields (parts without a filename) of a multipart body, scanned for control
    characters and card numbers as the body streams past (a field is refused as soon as it has
    ended, before the route has read the body to its end); files are skipped. A body the
    scanner cannot parse is left to the route's own parser to refuse."""

    def __init__(self, boundary: bytes) -> None:
        self.bad: list[str] = []
        self.cards: list[str] = []
        self._text = bytearray()  # the current text field so far (the envelope bounds it)
        self._broken = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._field: str | None = None  # the current part's name when it is a text field
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    @classmethod
    def of(cls, content_type: bytes) -> _TextFieldScanner | None:
        boundary = parse_options_header(content_type)[1].get(b"boundary")
        return cls(boundary) if boundary else None

    def feed(self, chunk: bytes) -> bool:
        """Scan the next bytes; True once a text field holds a control character or a card
        number."""
        if not self._broken and chunk:
            try:
                self._parser.write(chunk)
            except Exception:
                self._broken = True
        return bool(self.bad or self.cards)

    def _part_begin(self) -> None:
        self._disposition = b""
        self._field = None
        self._text.clear()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        options = parse_options_header(self._disposition)[1]
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if _FORBIDDEN.search(name):
            self.bad.append(name)
        self._field = None if b"filename" in options else name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        field = self._field
        if field is None:
            return
        if _FORBIDDEN_BYTES.search(data, start, end):
            self.bad.append(field)
            self._field = None  # named once
            return
        self._text += data[start:end]

    def _part_end(self) -> None:
        if self._field is not None and self._text:
            text = self._text.decode("utf-8", "replace")
            if _MAYBE_CARD.search(text) and find_card_numbers(text):
                self.cards.append(self._field)
        self._text.clear()


def _bad_body_fields(body: bytes, content_type: bytes) -> list[str]:
    if b"\x00" in body:
        return ["body"]
    kind = _media_type(content_type)
    if kind == b"application/x-www-form-urlencoded" and _ENCODED_CONTROL.search(body):
        return _bad_fields_in_pairs(body)
    if _ESCAPED_CONTROL.search(body):  # maybe: `\\u0000` is a backslash and text, not a NUL
        try:
            return _bad_fields_in_json(json.loads(body))
        except ValueError:
            return []  # not JSON: the route's own parsing answers
    return []


# 13 or more digits, maybe in groups joined by single spaces or dashes (any script's digits), or
# a JSON escape that could spell one: only then is the input parsed and searched in earnest.
_MAYBE_CARD = re.compile(r"\d(?:[ -]?\d){12}|\\u00[3]")


def _card_number_fields(query: bytes, body: bytes, content_type: bytes) -> list[str]:
    """The fields of the query and the body holding something that looks like a payment card
    number (app/core/card_numbers.py). Card data is never accepted (RULES.md §5, §6)."""
    found: list[str] = []
    if query and _MAYBE_CARD.search(unquote_plus(query.decode("latin-1"))):
        found += find_card_numbers(dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)))
    text = body.decode("utf-8", "replace") if body else ""
    if _media_type(content_type) == b"application/x-www-form-urlencoded":
        if not _MAYBE_CARD.search(unquote_plus(text)):
            return found
        return found + find_card_numbers(dict(parse_qsl(text, keep_blank_values=True)))
    if not text or not _MAYBE_CARD.search(text):
        return found
    try:
        return found + find_card_numbers(json.loads(text))
    except ValueError:
        return found + (["body"] if find_card_numbers(text) else [])


def _card_number_problem(fields: list[str]) -> ASGIApp:
    """422 naming the fields, never their values (the number is neither echoed nor logged)."""
    return problem_response(
        422,
        "card-number-refused",
        "Card numbers are never accepted",
        "Send the payment processor's token instead of a card number; nothing was saved.",
        errors=[
            FieldError(
                f or "body",
                "card_number",
                "Looks like a payment card number: card data is never accepted.",
            )
            for f in dict.fromkeys(fields)
        ],
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then whatever the server says next (the disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
