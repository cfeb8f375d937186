"""Every operation of the committed contract (openapi/openapi.json), fuzzed by schemathesis as
each caller (no one, a lawyer, a firm admin, an integration with every scope, an underwriter, an
auditor, an admin) against a real server process over HTTP: no answer is a server error, and
every answer is one the contract declares, by status, content type and body.

Reproducible: hypothesis runs derandomized (the same cases every run, the same on every machine),
a few examples per operation and caller; valid (positive) and invalid (negative) requests both.
Path parameters name a seeded record (a quote, a draft and a decided application, a policy, a
firm, a user) in about half the cases, random ids in the others; If-Match is "*" in about half
the cases that send it, so that changes get past the precondition to the domain.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

from tests.hostile.conftest import ROLES, LiveServer

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(CONTRACT)


def _operations() -> list[Any]:
    """Every operation of the contract: one the loader cannot read fails the module."""
    operations = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()
PROBLEM = "application/problem+json"
# Every problem+json body is checked against the contract's one Problem schema (its nested
# field errors resolved within the contract's components), whatever the status.
PROBLEM_SCHEMA = jsonschema_rs.Draft202012Validator(
    {
        "$ref": "#/components/schemas/Problem",
        "components": json.loads(CONTRACT.read_text())["components"],
    }
)
# Enough to run the whole file in well under a minute on two cores (~2,000 requests).
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))


def problem_is_problem_json(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx and 5xx answer is a problem document (RFC 9457), declared as such, of the
    contract's Problem schema, with the status of the response."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM, (
        f"{response.status_code} answered as {content_type!r}, not {PROBLEM}"
    )
    declared = case.operation.responses.find_by_status_code(response.status_code)
    assert declared is not None and PROBLEM in declared.definition.get("content", {}), (
        f"{response.status_code} is not declared as {PROBLEM} for {case.operation.label}"
    )
    body = response.json()
    errors = [str(error) for error in PROBLEM_SCHEMA.iter_errors(body)]
    assert not errors, f"the problem body is not a Problem: {errors}"
    assert body["status"] == response.status_code, f"problem status {body['status']}"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_is_problem_json,
]


def _operation_id(operation: Any) -> str:
    return str(operation.definition.raw["operationId"])


def _has_inputs(operation: Any) -> bool:
    """Whether there is anything to make invalid (else negative generation has no cases)."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def _path_parameters(operation: Any) -> list[str]:
    return [p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"]


def _sends_if_match(operation: Any) -> bool:
    return any(
        p["in"] == "header" and p["name"].lower() == "if-match"
        for p in operation.definition.raw.get("parameters", [])
    )


@pytest.mark.fuzz
@pytest.mark.xdist_group("fuzz")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=_operation_id)
def test_every_answer_is_declared_and_none_is_a_server_error(
    live_server: LiveServer, operation: Any, role: str, record_property: Any
) -> None:
    modes = [GenerationMode.POSITIVE]
    if _has_inputs(operation):
        modes.append(GenerationMode.NEGATIVE)
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])
    # None: keep what was generated; otherwise put a seeded record's id in that parameter.
    records = st.fixed_dictionaries(
        {
            name: st.sampled_from([None, *live_server.known.get(name, [])])
            for name in _path_parameters(operation)
        }
    )
    any_version = st.booleans() if _sends_if_match(operation) else st.just(False)
    ends_the_session = operation.label == "POST /auth/logout"
    session = requests.Session()
    generated = 0

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=cases, record=records, if_match_any=any_version)
    def fuzz(case: Any, record: dict[str, str | None], if_match_any: bool) -> None:
        nonlocal generated
        generated += 1
        for name, value in record.items():
            if value is not None:
                case.path_parameters[name] = value
        if if_match_any:
            case.headers = {**(case.headers or {}), "If-Match": "*"}
        # a logout ends a session of its own, not the one the other operations use
        token = live_server.login(role) if ends_the_session and role != "anonymous" else None
        session.cookies.clear()
        response = case.call(
            base_url=live_server.base_url,
            session=session,
            headers=live_server.headers(role, token),
            timeout=30,
        )
        case.validate_response(response, checks=CHECKS)

    try:
        fuzz()
    finally:
        session.close()
        record_property("fuzz_cases", generated)
        live_server.cases += generated
