"""The committed contract is one client generators can type: valid OpenAPI, every error a
problem+json `Problem` with typed `errors`, no empty schema, security on every operation that
needs a session, and the headers clients read (Location, ETag, Retry-After). /docs and /redoc
work with no network: every asset they load is served by the service itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

from openapi_spec_validator import validate

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())


def _operations():
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_the_document_is_valid_openapi():
    validate(DOCUMENT)


def test_every_error_is_a_typed_problem_and_no_schema_is_empty():
    problem = DOCUMENT["components"]["schemas"]["Problem"]
    field_error = problem["properties"]["errors"]["anyOf"][0]["items"]["$ref"]
    assert field_error.endswith("/ProblemFieldError")
    assert set(DOCUMENT["components"]["schemas"]["ProblemFieldError"]["properties"]) == {
        "field",
        "code",
        "message",
    }
    for path, method, operation in _operations():
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                assert content.get("schema"), (path, method, status, media)
            if int(status) >= 400:
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (path, method, status)


def test_operations_that_need_a_session_declare_it():
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert "claims:write" in schemes["oauth2"]["flows"]["clientCredentials"]["scopes"]
    assert schemes["session_cookie"]["in"] == "cookie"
    public = {
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/auth/token", "post"),
        ("/auth/password-reset", "post"),
        ("/auth/password-reset/confirm", "post"),
        ("/payments/processor-events", "post"),  # the processor signs it; no session
    }
    for path, method, operation in _operations():
        assert bool(operation.get("security")) == ((path, method) not in public), (path, method)


def test_the_headers_clients_read_are_declared():
    created = [
        (path, op["responses"]["201"]) for path, _, op in _operations() if "201" in op["responses"]
    ]
    assert created
    for path, response in created:
        assert "Location" in response.get("headers", {}), path
    assert (
        "ETag"
        in DOCUMENT["paths"]["/claims-notices/{notice_id}"]["get"]["responses"]["200"]["headers"]
    )
    assert (
        "Retry-After" in DOCUMENT["paths"]["/claims-notices"]["post"]["responses"]["409"]["headers"]
    )


def test_a_fixed_set_of_values_is_an_enum():
    schemas = DOCUMENT["components"]["schemas"]
    assert "enum" in schemas["NoticeStatus"] and "enum" in schemas["ExemptionStatus"]
    kind = schemas["ClaimsNoticeRead"]["properties"]["kind"]
    assert any("$ref" in option for option in kind["anyOf"])


async def test_the_docs_need_no_network(app, client):
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text, page
        for asset in re.findall(r'(?:src|href)="([^"]+)"', response.text):
            got = await client.get(asset)
            assert got.status_code == 200 and got.content, asset
    docs = (await client.get("/docs")).text
    init = (await client.get("/docs/assets/own/swagger-init.js")).text
    assert "swagger-init.js" in docs and "X-Requested-With" in init
