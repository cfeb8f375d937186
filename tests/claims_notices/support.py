"""Filing claims notices through the API, for the tests of this domain and of the rules of
other domains that read the claims history."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import bearer, user_token

MATTER = {
    "kind": "claim",
    "awareness_date": "2025-05-01",
    "client_name": "Northwind Holdings",
    "matter_description": "Share purchase; closing documents",
    "retainer_date": "2024-11-02",
    "claimant": "Northwind Holdings",
    "alleged_error": "Missed a limitation period on an indemnity claim",
    "potential_damages": "180000.00",
    "chronology": [
        {"date": "2024-11-02", "event": "Retained"},
        {"date": "2025-04-20", "event": "Limitation period expired"},
        {"date": "2025-05-01", "event": "Client's demand letter received"},
    ],
}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def claims_staff(app: Any, client: httpx.AsyncClient) -> dict[str, str]:
    _, token = await user_token(app, client, role="claims")
    return bearer(token)


async def paper_notice(
    client: httpx.AsyncClient,
    staff: dict[str, str],
    lawyer_id: Any,
    received_on: str,
    **fields: Any,
) -> dict[str, Any]:
    """A notice claims staff enter from paper, received on `received_on`."""
    body = {
        **MATTER,
        "awareness_date": received_on,
        "chronology": [],
        "lawyer_id": str(lawyer_id),
        "channel": "paper",
        "received_on": received_on,
        **fields,
    }
    response = await client.post("/claims-notices", json=body, headers={**staff, **key()})
    assert response.status_code == 201, response.text
    return response.json()
