"""Recognising an upload from its bytes, and the names we keep and give back. No database."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from app.core.errors import InvalidInput
from app.documents.content import (
    MAX_FILENAME_CHARS,
    content_disposition,
    recognise,
    sanitised_filename,
)
from app.documents.models import DocumentType

MINIMAL_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
    b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 72 72]>> endobj\n"
    b"trailer <</Root 1 0 R>>\n"
    b"%%EOF\n"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# One grey pixel: signature, header, the compressed scanline, end.
MINIMAL_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    + _png_chunk(b"IEND", b"")
)

# One grey pixel, baseline JFIF (159 bytes, as an encoder writes it).
MINIMAL_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e121110131828"
    "1a181616183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d7179"
    "7064785c656763ffc0000b080001000101011100ffc4001400010000000000000000000000000000"
    "0000ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9"
)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.pdf", MINIMAL_PDF)
    return buffer.getvalue()


def _refusal(data: bytes, field: str = "file") -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        recognise(data, field=field)
    [error] = caught.value.errors
    assert caught.value.status == 422
    return error.field, error.code


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (MINIMAL_PDF, DocumentType.pdf),
        (MINIMAL_PNG, DocumentType.png),
        (MINIMAL_JPEG, DocumentType.jpeg),
    ],
)
def test_pdf_png_and_jpeg_are_recognised_from_their_bytes(data, expected):
    assert recognise(data) is expected
    assert recognise(data + b"\x00" * 10_000) is expected  # only the beginning matters


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<!DOCTYPE html><html><body>Invoice</body></html>", id="html"),
        pytest.param(b"<html><script>alert(1)</script></html>", id="html-bare"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', id="svg"),
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', id="svg-xml"
        ),
        pytest.param(b"Statement of claim, page 1\n", id="text"),
        pytest.param(_zip(), id="zip"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00;", id="gif"),
        pytest.param(bytes.fromhex("0000000c6a5020200d0a870a") + b"\x00" * 20, id="jpeg2000"),
        pytest.param(b"\\x89PNG written out as text", id="png-as-text"),
        pytest.param(b" %PDF-1.4\n", id="pdf-not-at-the-start"),
    ],
)
def test_other_content_is_refused_as_an_unsupported_type(data):
    assert _refusal(data) == ("file", "unsupported_type")


def test_an_empty_file_is_refused_naming_the_field():
    assert _refusal(b"") == ("file", "empty")
    assert _refusal(b"", field="proof") == ("proof", "empty")
    assert _refusal(b"<svg/>", field="proof") == ("proof", "unsupported_type")


def test_the_content_wins_over_the_name():
    """A PDF named `.png` (and sent as image/png) is a PDF; its name is kept as given."""
    kind = recognise(MINIMAL_PDF)
    assert kind is DocumentType.pdf
    assert sanitised_filename("scan.png", kind) == "scan.png"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\jane\\Documents\\report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/home/jane/scan.png", "scan.png"),
        ("re\x00po\x1frt\x7f.pdf", "report.pdf"),
        ("\u202egpj.exe", "gpj.exe"),  # a right-to-left override would disguise the name
        ("  .hidden.pdf  ", "hidden.pdf"),
        ("Déclaration d\u2019assurance.pdf", "Déclaration d\u2019assurance.pdf"),
        ("", "document.pdf"),
        (None, "document.pdf"),
        ("...", "document.pdf"),
        ("folder/", "document.pdf"),
    ],
)
def test_file_names_lose_their_folders_and_control_characters(given, kept):
    assert sanitised_filename(given, DocumentType.pdf) == kept


def test_long_file_names_are_cut_to_255_characters_keeping_the_extension():
    name = sanitised_filename("é" * 400 + ".pdf", DocumentType.pdf)
    assert len(name) == MAX_FILENAME_CHARS and name.endswith("é.pdf")
    no_extension = sanitised_filename("x" * 400, DocumentType.pdf)
    assert no_extension == "x" * MAX_FILENAME_CHARS
    assert sanitised_filename("", DocumentType.jpeg) == "document.jpg"
    assert sanitised_filename("", DocumentType.png) == "document.png"


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        (
            "Déclaration été.pdf",
            "attachment; filename=\"Declaration ete.pdf\"; filename*=UTF-8''"
            "D%C3%A9claration%20%C3%A9t%C3%A9.pdf",
        ),
        (
            "報告.pdf",
            "attachment; filename=\"document.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf",
        ),
        (
            'a"b\\c%d.pdf',
            "attachment; filename=\"a_b_c_d.pdf\"; filename*=UTF-8''a%22b%5Cc%25d.pdf",
        ),
    ],
)
def test_the_content_disposition_names_the_file_for_every_client(filename, header):
    assert content_disposition(filename) == header
    assert content_disposition(filename).isascii()
