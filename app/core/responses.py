"""Answering with a model already validated by the service: serialized once, not validated
again against the route's response_model (which still documents it in OpenAPI)."""

from __future__ import annotations

from typing import Protocol

from starlette.responses import Response


class JsonModel(Protocol):
    def model_dump_json(self) -> str: ...


def model_response(
    model: JsonModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
