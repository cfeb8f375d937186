import json
from pathlib import Path

from app.openapi_doc import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_app():
    committed = json.loads(COMMITTED.read_text())
    assert committed == openapi_document(), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_operation_has_a_readable_id_and_a_tag():
    operations = [op for path in openapi_document()["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        assert op["operationId"][0].islower() and "_" not in op["operationId"], op["operationId"]
        assert op.get("tags"), op["operationId"]
