"""Rate tables as published data: which years can be quoted, and staff publishing 2026 from a
file (validated by the same strict model; refused if it changes an active year's figures)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from app.quotes.rate_tables import set_published
from tests.core.test_cli import _cli
from tests.factories import bearer, user_token

SHIPPED = resources.files("app.quotes").joinpath("rates/2025.json").read_text()


def _table(year: int, version: str, base: str = "3250.00") -> str:
    data = json.loads(SHIPPED)
    data.update(program_year=year, version=version, base_premium=base)
    return json.dumps(data, indent=2)


@pytest.fixture
def forget_published():
    """The tables this test publishes are its database's: the process forgets them after."""
    yield
    set_published({})


async def test_a_year_without_a_table_and_publishing_one(
    app, client, database_url, tmp_path, forget_published
):
    _, token = await user_token(app, client)
    me = bearer(token)
    listed = await client.get("/rate-tables", headers=me)
    assert listed.status_code == 200
    assert [(t["program_year"], t["status"], t["shipped"]) for t in listed.json()] == [
        (2025, "active", True)
    ]
    quote_2026 = {"program_year": 2026, "effective_date": "2026-01-01"}
    refused = await client.post("/quotes", json=quote_2026, headers=me)
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["field"] == "program_year" and "2025" in error["message"]

    draft = tmp_path / "2026-draft.json"
    draft.write_text(_table(2026, "2026.0-draft", base="3300.00"))
    assert (await _cli(database_url, "rates", "publish", str(draft), "--draft")).returncode == 0
    await client.get("/rate-tables", headers=me)  # reads the published tables at once
    assert (await client.post("/quotes", json=quote_2026, headers=me)).status_code == 422

    table = tmp_path / "2026.json"
    table.write_text(_table(2026, "2026.1", base="3300.00"))
    published = await _cli(database_url, "rates", "publish", str(table))
    assert published.returncode == 0, published.stderr
    listed = (await client.get("/rate-tables", headers=me)).json()
    assert [(t["program_year"], t["version"], t["status"]) for t in listed] == [
        (2025, "2025.1", "active"),
        (2026, "2026.1", "active"),
    ]
    quoted = await client.post("/quotes", json=quote_2026, headers=me)
    assert quoted.status_code == 201, quoted.text
    assert quoted.json()["rate_table_version"] == "2026.1"
    assert quoted.json()["lines"][0] == {
        "code": "base_premium",
        "description": quoted.json()["lines"][0]["description"],
        "amount": "3300.00",
    }

    # an active year's figures never change; the same table again changes nothing
    changed = tmp_path / "2026-changed.json"
    changed.write_text(_table(2026, "2026.2", base="3400.00"))
    refused_change = await _cli(database_url, "rates", "publish", str(changed))
    assert refused_change.returncode == 2 and "cannot change" in refused_change.stderr
    assert (await _cli(database_url, "rates", "publish", str(table))).returncode == 0
    shipped_change = tmp_path / "2025.json"
    shipped_change.write_text(_table(2025, "2025.9", base="1.00"))
    assert (await _cli(database_url, "rates", "publish", str(shipped_change))).returncode == 2
    broken = tmp_path / "broken.json"
    broken.write_text(_table(2027, "2027.1").replace('"3250.00"', "3250"))
    invalid = await _cli(database_url, "rates", "publish", str(broken))
    assert invalid.returncode == 2 and "base_premium" in invalid.stderr
