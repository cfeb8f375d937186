"""Documents through HTTP, as another domain's routes use them: a throwaway router mounted in the
test app takes uploads with `receive_upload` + `attach` and gives them back with
`attached_document` + `download_response`; and the input guard around them."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any
from uuid import UUID

import pytest
from fastapi import APIRouter, Request, Response

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import NotFound
from app.core.responses import model_response
from app.core.unit_of_work import UnitOfWork, UnitOfWorkRoute, audited_as
from app.documents.attachments import (
    Attachment,
    attach,
    attached_document,
    attached_documents,
    download_response,
    receive_upload,
)
from tests.conftest import client_for
from tests.documents.test_content import MINIMAL_JPEG, MINIMAL_PDF, MINIMAL_PNG
from tests.factories import audit_events, bearer, user_token

MiB = 1024 * 1024
PROBLEM = "application/problem+json"
PARENT = "test_parent"


def _router() -> APIRouter:
    router = APIRouter(prefix="/test-parents/{parent_id}/documents", route_class=UnitOfWorkRoute)

    @router.post("", status_code=201, openapi_extra=audited_as("test_parent.document.upload"))
    async def upload(
        parent_id: UUID, request: Request, unit: UnitOfWork, principal: CurrentPrincipal
    ) -> Response:
        received = await receive_upload(request)
        document = await attach(
            unit,
            received,
            owner_id=principal.user_id,
            attached_to=Attachment(PARENT, parent_id),
            uploaded_by_id=principal.user_id,
            action="test_parent.document.upload",
        )
        return model_response(document, status_code=201)

    @router.get("", openapi_extra=audited_as("test_parent.document.list"))
    async def listed(parent_id: UUID, unit: UnitOfWork, principal: CurrentPrincipal) -> Any:
        documents = await attached_documents(unit, Attachment(PARENT, parent_id))
        return [d.model_dump(mode="json") for d in documents]

    @router.get("/{document_id}", openapi_extra=audited_as("test_parent.document.download"))
    async def download(
        parent_id: UUID,
        document_id: UUID,
        request: Request,
        unit: UnitOfWork,
        principal: CurrentPrincipal,
    ) -> Response:
        document = await attached_document(unit, Attachment(PARENT, parent_id), document_id)
        if document is None:
            raise NotFound(resource_type="document", resource_id=str(document_id))
        unit.audit.record(
            "test_parent.document.download",
            resource_type="document",
            resource_id=document.id,
            subjects=[principal.user_id],
        )
        return download_response(request.app.state.database, document)

    return router


def _mounted(app: Any) -> Any:
    app.include_router(_router())
    return app


@pytest.fixture
async def lawyer(app_factory):
    app = _mounted(app_factory())
    async with client_for(app) as client:
        user, token = await user_token(app, client)
        yield app, client, user, bearer(token)


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    return body


def _fields(response) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in _problem(response, 422)["errors"]]


async def _upload(client, headers, parent: UUID, files: Any, data: Any = None):
    return await client.post(
        f"/test-parents/{parent}/documents", files=files, data=data, headers=headers
    )


async def test_an_upload_comes_back_byte_identical_with_safe_headers(lawyer):
    _app, client, user, headers = lawyer
    parent = uuid.uuid4()
    content = MINIMAL_PDF + b"%" + bytes(range(256)) * 4000  # about 1 MiB, with NULs
    response = await _upload(
        client,
        headers,
        parent,
        {"file": ("C:\\scans\\Déclaration été.pdf", content, "text/html")},
        {"description": "Notice letter\nfrom the client"},
    )
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["filename"] == "Déclaration été.pdf"
    assert document["content_type"] == "application/pdf"  # recognised, not as declared
    assert document["size_bytes"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["description"] == "Notice letter\nfrom the client"
    assert document["uploaded_by_id"] == str(user["id"])

    download = await client.get(
        f"/test-parents/{parent}/documents/{document['id']}", headers=headers
    )
    assert download.status_code == 200
    assert download.content == content
    assert hashlib.sha256(download.content).hexdigest() == document["sha256"]
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(content))
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Declaration ete.pdf\"; filename*=UTF-8''"
        "D%C3%A9claration%20%C3%A9t%C3%A9.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "no-store"

    other_parent = await client.get(
        f"/test-parents/{uuid.uuid4()}/documents/{document['id']}", headers=headers
    )
    assert other_parent.status_code == 404


async def test_each_upload_and_download_is_audited_with_its_subject(lawyer):
    app, client, user, headers = lawyer
    parent = uuid.uuid4()
    response = await _upload(client, headers, parent, {"file": ("photo.jpg", MINIMAL_JPEG)})
    assert response.status_code == 201, response.text
    document = response.json()
    [event] = await audit_events(app, action="test_parent.document.upload")
    assert event["resource_type"] == "document" and event["resource_id"] == document["id"]
    assert event["subject_ids"] == [user["id"]] and event["actor_id"] == user["id"]
    assert event["outcome"] == "success"
    assert event["details"]["after"] == {
        "filename": "photo.jpg",
        "content_type": "image/jpeg",
        "size_bytes": len(MINIMAL_JPEG),
        "sha256": hashlib.sha256(MINIMAL_JPEG).hexdigest(),
        "attached_to": {"type": PARENT, "id": str(parent)},
    }
    await client.get(f"/test-parents/{parent}/documents/{document['id']}", headers=headers)
    [read] = await audit_events(app, action="test_parent.document.download")
    assert read["resource_id"] == document["id"] and read["subject_ids"] == [user["id"]]


async def test_a_records_documents_are_listed_newest_first_without_their_bytes(lawyer):
    _app, client, _, headers = lawyer
    parent = uuid.uuid4()
    first = await _upload(client, headers, parent, {"file": ("a.png", MINIMAL_PNG)})
    second = await _upload(client, headers, parent, {"file": ("b.pdf", MINIMAL_PDF)})
    elsewhere = await _upload(client, headers, uuid.uuid4(), {"file": ("c.pdf", MINIMAL_PDF)})
    assert {first.status_code, second.status_code, elsewhere.status_code} == {201}
    listed = await client.get(f"/test-parents/{parent}/documents", headers=headers)
    assert [d["filename"] for d in listed.json()] == ["b.pdf", "a.png"]
    assert set(listed.json()[0]) == {
        "id",
        "filename",
        "content_type",
        "size_bytes",
        "sha256",
        "description",
        "uploaded_by_id",
        "created_at",
    }


async def test_ten_mebibytes_are_accepted_and_one_byte_more_is_413(lawyer):
    _app, client, _, headers = lawyer
    parent = uuid.uuid4()
    exactly = MINIMAL_PDF + b"\x00" * (10 * MiB - len(MINIMAL_PDF))
    accepted = await _upload(client, headers, parent, {"file": ("big.pdf", exactly)})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["size_bytes"] == 10_485_760
    download = await client.get(
        f"/test-parents/{parent}/documents/{accepted.json()['id']}", headers=headers
    )
    assert len(download.content) == 10_485_760 and download.content == exactly

    refused = await _upload(client, headers, parent, {"file": ("big.pdf", exactly + b"\x00")})
    assert "10485760 bytes" in _problem(refused, 413)["detail"]
    listed = await client.get(f"/test-parents/{parent}/documents", headers=headers)
    assert len(listed.json()) == 1  # nothing of the refused one was kept


async def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(lawyer):
    _app, client, _, headers = lawyer
    read = []

    async def body():
        read.append(True)
        yield b"x" * 1024

    response = await client.post(
        f"/test-parents/{uuid.uuid4()}/documents",
        content=body(),
        headers={
            **headers,
            "Content-Type": "multipart/form-data; boundary=b0undary",
            "Content-Length": str(50_000_000),
        },
    )
    assert "10485760 bytes" in _problem(response, 413)["detail"]
    assert read == []  # refused on the header alone


async def test_a_body_passing_the_limit_as_it_streams_is_413(app_factory):
    app = _mounted(app_factory(max_upload_bytes=200_000))
    async with client_for(app) as client:
        _, token = await user_token(app, client)
        sent = []

        async def body():  # no Content-Length: counted as it arrives
            yield b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"'
            yield b"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
            for _ in range(100):
                sent.append(1)
                yield b"\x00" * 10_000

        multipart = {"Content-Type": "multipart/form-data; boundary=b0undary"}
        response = await client.post(
            f"/test-parents/{uuid.uuid4()}/documents",
            content=body(),
            headers={**bearer(token), **multipart},
        )
        assert "200000 bytes" in _problem(response, 413)["detail"]
        assert len(sent) < 100  # not read to its end
        # a route that parses forms itself (FastAPI's Form) answers the same
        login = await client.post("/auth/token", content=body(), headers=multipart)
        _problem(login, 413)


async def test_what_is_not_a_pdf_png_or_jpeg_is_refused_whatever_its_name(lawyer):
    app, client, _, headers = lawyer
    parent = uuid.uuid4()
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    for name, content in (("invoice.pdf", html), ("logo.png", svg), ("x.jpg", b"GIF89a;")):
        response = await _upload(
            client, headers, parent, {"file": (name, content, "application/pdf")}
        )
        assert _fields(response) == [("file", "unsupported_type")]
    empty = await _upload(client, headers, parent, {"file": ("empty.pdf", b"")})
    assert _fields(empty) == [("file", "empty")]
    missing = await _upload(client, headers, parent, None, {"description": "no file"})
    assert _fields(missing) == [("file", "missing")]
    not_multipart = await client.post(
        f"/test-parents/{parent}/documents", json={"file": "x"}, headers=headers
    )
    assert _fields(not_multipart) == [("file", "missing")]
    too_long = await _upload(
        client, headers, parent, {"file": ("a.pdf", MINIMAL_PDF)}, {"description": "x" * 501}
    )
    assert _fields(too_long) == [("description", "too_long")]
    assert (await audit_events(app, action="test_parent.document.upload")) == []


async def test_the_guard_names_a_control_character_in_a_text_part_not_in_a_file(lawyer):
    _app, client, _, headers = lawyer
    parent = uuid.uuid4()
    bad = await _upload(
        client, headers, parent, {"file": ("a.png", MINIMAL_PNG)}, {"description": "a\x00b"}
    )
    assert _fields(bad) == [("description", "control_character")]
    # the same for any route that takes a form, sent as multipart
    login = await client.post(
        "/auth/token", files={"username": (None, "a\x00b"), "password": (None, "x" * 16)}
    )
    assert _fields(login) == [("username", "control_character")]
    # a file's bytes are not text: a PNG holds NULs
    assert b"\x00" in MINIMAL_PNG
    # nor is its name, which is sanitised instead (sent raw: httpx would percent-encode it)
    raw = (
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a\x07.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + MINIMAL_PNG + b"\r\n--b0undary--\r\n"
    )
    ok = await client.post(
        f"/test-parents/{parent}/documents",
        content=raw,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["filename"] == "a.png"


async def test_the_guard_still_refuses_a_nul_in_json_and_a_json_body_over_its_limit(
    app_factory,
):
    app = app_factory(max_body_bytes=1024)
    async with client_for(app) as client:
        nul = await client.post("/quotes", json={"program_year": 2025, "deductible": "a\u0000"})
        assert _fields(nul) == [("deductible", "control_character")]
        big = await client.post("/quotes", json={"padding": "x" * 2000})
        assert "1024 bytes" in _problem(big, 413)["detail"]
