"""Input the database or the domain cannot hold, refused before any route sees it, for every
route at once (new domains included):
- a body larger than MAX_BODY_BYTES: 413 as soon as its Content-Length says so, or as soon as the
  bytes received pass the limit, so a huge body is never read whole nor parsed;
- a NUL or another C0 control character (tab, line feed and carriage return excepted) in a query
  parameter, a form field or a JSON string: 422 naming the field (PostgreSQL cannot store NUL in
  text or JSONB; the other controls have no business in an insurance form).
The common case costs one scan of the raw bytes; the field is only looked for when one is found.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import FieldError, problem_response

# In a URL-encoded query or form: %00-%1F but %09, %0A, %0D.
_ENCODED_CONTROL = re.compile(rb"%(?:0[0-8bcefBCEF]|1[0-9a-fA-F])")
# In JSON text: the escapes \u0000-\u001F but \t, \n, \r (raw controls are not valid JSON).
_ESCAPED_CONTROL = re.compile(rb"\\u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F])")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class BodyTooLarge(Exception):
    pass


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


def _too_large(limit: int) -> ASGIApp:
    return problem_response(
        413,
        "payload-too-large",
        "Request body too large",
        f"Request bodies are limited to {limit} bytes.",
    )


class InputGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

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
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(self.limit)(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and length is None:
            await self.app(scope, receive, send)  # no body to look at
            return
        try:
            body, connected = await self._read(receive)
        except BodyTooLarge:
            await _too_large(self.limit)(scope, receive, send)
            return
        if not connected:
            return  # the client went away before sending its whole body
        bad = _bad_body_fields(body, headers.get(b"content-type", b""))
        if bad:
            await _control_character_problem(bad)(scope, receive, send)
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


def _bad_body_fields(body: bytes, content_type: bytes) -> list[str]:
    if b"\x00" in body:
        return ["body"]
    kind = content_type.split(b";")[0].strip().lower()
    if kind == b"application/x-www-form-urlencoded" and _ENCODED_CONTROL.search(body):
        return _bad_fields_in_pairs(body)
    if _ESCAPED_CONTROL.search(body):  # maybe: `\\u0000` is a backslash and text, not a NUL
        try:
            return _bad_fields_in_json(json.loads(body))
        except ValueError:
            return []  # not JSON: the route's own parsing answers
    return []


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
