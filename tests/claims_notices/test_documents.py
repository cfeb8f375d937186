"""Documents attached to a claims notice: multipart uploads recognised by content, bounded,
streamed back as attachments, every upload and download audited, need to know."""

from __future__ import annotations

import hashlib

from tests.claims_notices.support import MATTER, claims_staff, key
from tests.documents.test_content import MINIMAL_JPEG, MINIMAL_PDF
from tests.factories import audit_events, bearer, user_token

LIMIT = 10 * 1024 * 1024


async def _notice(app, client):
    lawyer, token = await user_token(app, client)
    me = bearer(token)
    response = await client.post("/claims-notices", json=MATTER, headers={**me, **key()})
    assert response.status_code == 201, response.text
    return lawyer, me, f"/claims-notices/{response.json()['id']}"


async def test_upload_list_and_download(app, client):
    lawyer, me, url = await _notice(app, client)
    uploaded = await client.post(
        f"{url}/documents",
        files={"file": ("demand letter.pdf", MINIMAL_PDF, "application/octet-stream")},
        data={"description": "The client's demand letter"},
        headers=me,
    )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    assert document["content_type"] == "application/pdf"
    assert document["size_bytes"] == len(MINIMAL_PDF)
    assert document["sha256"] == hashlib.sha256(MINIMAL_PDF).hexdigest()
    assert uploaded.headers["location"] == f"{url}/documents/{document['id']}"
    photo = await client.post(
        f"{url}/documents",
        files={"file": ("scan.pdf", MINIMAL_JPEG, "application/pdf")},
        headers=me,
    )
    assert photo.status_code == 201 and photo.json()["content_type"] == "image/jpeg"
    listed = await client.get(f"{url}/documents", headers=me)
    assert [d["id"] for d in listed.json()] == [photo.json()["id"], document["id"]]
    download = await client.get(f"{url}/documents/{document['id']}", headers=me)
    assert download.status_code == 200
    assert download.content == MINIMAL_PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "demand" in download.headers["content-disposition"]
    # claims staff read it too; the upload and the download are in the trail
    staff = await claims_staff(app, client)
    assert (await client.get(f"{url}/documents/{document['id']}", headers=staff)).status_code == 200
    uploads = await audit_events(app, action="claims_notice.document_upload")
    assert {e["resource_id"] for e in uploads} == {document["id"], photo.json()["id"]}
    assert all(e["subject_ids"] == [lawyer["id"]] for e in uploads)
    downloads = await audit_events(app, action="claims_notice.document_download")
    assert len(downloads) == 2 and downloads[0]["resource_id"] == document["id"]


async def test_what_is_not_a_pdf_png_or_jpeg_is_refused(app, client):
    _, me, url = await _notice(app, client)
    cases = [
        ("claim.pdf", b"<html><body>not a pdf</body></html>", "unsupported_type"),
        ("logo.pdf", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "unsupported_type"),
        ("empty.pdf", b"", "empty"),
    ]
    for name, content, code in cases:
        refused = await client.post(
            f"{url}/documents", files={"file": (name, content, "application/pdf")}, headers=me
        )
        assert refused.status_code == 422, (name, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("file", code)]
    no_file = await client.post(f"{url}/documents", data={"description": "x"}, headers=me)
    assert no_file.status_code == 422
    assert (await client.get(f"{url}/documents", headers=me)).json() == []


async def test_the_size_limit(app, client):
    _, me, url = await _notice(app, client)
    at_limit = MINIMAL_PDF + b"0" * (LIMIT - len(MINIMAL_PDF))
    accepted = await client.post(
        f"{url}/documents", files={"file": ("big.pdf", at_limit, "application/pdf")}, headers=me
    )
    assert accepted.status_code == 201, accepted.text
    refused = await client.post(
        f"{url}/documents",
        files={"file": ("big.pdf", at_limit + b"0", "application/pdf")},
        headers=me,
    )
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert len((await client.get(f"{url}/documents", headers=me)).json()) == 1


async def test_documents_are_need_to_know(app, client):
    _, me, url = await _notice(app, client)
    uploaded = await client.post(
        f"{url}/documents", files={"file": ("a.pdf", MINIMAL_PDF, "application/pdf")}, headers=me
    )
    document_url = f"{url}/documents/{uploaded.json()['id']}"
    _, stranger = await user_token(app, client)
    for role in ("lawyer", "underwriter", "auditor"):
        _, token = await user_token(app, client, role=role)
        assert (await client.get(document_url, headers=bearer(token))).status_code == 404, role
        assert (await client.get(f"{url}/documents", headers=bearer(token))).status_code == 404
    refused = await client.post(
        f"{url}/documents",
        files={"file": ("b.pdf", MINIMAL_PDF, "application/pdf")},
        headers=bearer(stranger),
    )
    assert refused.status_code == 404
