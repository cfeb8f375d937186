"""The OpenAPI document as committed in openapi/openapi.json (no database needed)."""

from __future__ import annotations

from typing import Any


def openapi_document() -> dict[str, Any]:
    from app.core.config import Settings
    from app.main import create_app

    # No connection is made: the engine connects lazily and the schema needs none.
    settings = Settings(database_url="postgresql://openapi@localhost/openapi", secret_key="x" * 40)
    return create_app(settings).openapi()
