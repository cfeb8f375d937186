"""What an uploaded file is, judged from its bytes (never its name or its declared type), the
name we keep for it, and how that name is given back. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import filetype

from app.core.errors import FieldError, InvalidInput
from app.documents.models import DocumentType

# How much of the beginning of a file the recogniser looks at (the library reads no more).
SIGNATURE_BYTES = 8192
MAX_FILENAME_CHARS = 255
_ACCEPTED = frozenset(t.value for t in DocumentType)
_EXTENSIONS = {DocumentType.pdf: "pdf", DocumentType.png: "png", DocumentType.jpeg: "jpg"}


def recognise(head: bytes, *, field: str = "file") -> DocumentType:
    """The type of a file from its first bytes (at least SIGNATURE_BYTES of them when the file
    is longer): PDF, PNG or JPEG. Anything else, an empty file included, is a 422 naming
    `field`."""
    if not head:
        raise InvalidInput(errors=[FieldError(field, "empty", "The file is empty.")])
    kind = filetype.guess(bytes(head[:SIGNATURE_BYTES]))
    mime = kind.mime if kind is not None else None
    if mime not in _ACCEPTED:
        raise InvalidInput(
            errors=[
                FieldError(
                    field,
                    "unsupported_type",
                    "Only PDF, PNG and JPEG files are accepted"
                    + (f"; this file is {mime}." if mime else "; this file is none of them."),
                )
            ]
        )
    return DocumentType(mime)


# Path separators of every system: the client's name may be a whole path.
_PATH = re.compile(r"[/\\]")


def sanitised_filename(name: str | None, content_type: DocumentType) -> str:
    """The client's file name without its folders, control or formatting characters (bidi
    overrides included), leading dots and surrounding blanks, at most 255 characters (the
    extension kept when cut). A name with nothing left becomes `document.<ext>`."""
    name = unicodedata.normalize("NFC", name or "")
    name = _PATH.split(name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = name.strip().lstrip(".").strip()
    if not name:
        return f"document.{_EXTENSIONS[content_type]}"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip()
    return name


# Printable ASCII that a quoted-string carries safely and no browser decodes: not `"` or `\`
# (quoting), nor `%` (some browsers percent-decode `filename`).
_UNSAFE_IN_FALLBACK = re.compile(r'[^\x20-\x7e]|["\\%]')


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name (RFC 6266): an ASCII `filename` for every client and,
    when the name is not plain ASCII, the exact name as `filename*` (UTF-8, RFC 8187)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_IN_FALLBACK.sub("_", ascii_name).strip()
    stem, dot, extension = fallback.rpartition(".")
    if not (stem if dot else fallback).strip("._ "):  # nothing of the name was ASCII
        fallback = "document" + (dot + extension if dot else "")
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += "; filename*=UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")
    return header
