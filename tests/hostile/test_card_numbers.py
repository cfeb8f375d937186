"""No card numbers, anywhere (RULES.md §5, §6): a request to any endpoint whose query, JSON or
form body holds something that looks like a payment card number is refused (422
`card-number-refused`, naming the field, never echoing the number) before anything is stored;
the number reaches neither the database, nor the logs, nor the audit event, nor the answer."""

from __future__ import annotations

from sqlalchemy import text

from app.models import Base
from tests.claims_notices.support import MATTER, key
from tests.core.test_operations import _captured_logs
from tests.factories import bearer, user_token

CARD = "4111 1111 1111 1111"
DIGITS = "4111111111111111"


async def _everything_stored(app) -> str:
    """Every row of every table, as text: a dump of the database to search."""
    parts = []
    async with app.state.database.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = await conn.execute(text(f"SELECT t::text FROM {table.name} AS t"))  # noqa: S608
            parts += [row[0] for row in rows]
    return "\n".join(parts)


async def test_a_card_number_is_refused_everywhere_and_kept_nowhere(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    with _captured_logs() as stream:
        answers = {
            "claims notice text": await client.post(
                "/claims-notices",
                json={**MATTER, "alleged_error": f"Paid with card {CARD} exp 12/27"},
                headers={**me, **key()},
            ),
            "nested list": await client.post(
                "/claims-notices",
                json={**MATTER, "chronology": [{"date": "2025-01-02", "event": f"card {DIGITS}"}]},
                headers={**me, **key()},
            ),
            "a JSON number": await client.post(
                "/applications",
                json={"program_year": 2025, "form": {"a": {"work_phone": int(DIGITS)}}},
                headers=me,
            ),
            "dashes": await client.post(
                "/quotes",
                json={
                    "program_year": 2025,
                    "effective_date": "2025-01-01",
                    "note": "5555-5555-5555-4444",
                },
                headers=me,
            ),
            "query": await client.get("/quotes", params={"cursor": DIGITS}, headers=me),
            "form body": await client.post(
                "/auth/password-reset", data={"username": f"card {CARD}"}
            ),
        }
    fields = {}
    for name, answer in answers.items():
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["type"] == "/problems/card-number-refused", name
        assert DIGITS not in answer.text and CARD not in answer.text, name
        fields[name] = [e["field"] for e in answer.json()["errors"]]
    assert fields["claims notice text"] == ["alleged_error"]
    assert fields["nested list"] == ["chronology.0.event"]
    assert fields["a JSON number"] == ["form.a.work_phone"]
    assert fields["query"] == ["cursor"]
    assert fields["form body"] == ["username"]
    logs = stream.getvalue()
    stored = await _everything_stored(app)
    for needle in (DIGITS, CARD, "5555555555554444", "5555-5555-5555-4444"):
        assert needle not in logs
        assert needle not in stored
    assert (await client.get("/claims-notices", headers=me)).json()["items"] == []


async def test_ordinary_numbers_pass(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    ordinary = {
        **MATTER,
        "client_name": "Client 98765A",
        "alleged_error": "Transit 12345, institution 001, account 1234567; call 416-555-0100",
        "potential_damages": "1755.00",
    }
    answer = await client.post("/claims-notices", json=ordinary, headers={**me, **key()})
    assert answer.status_code == 201, answer.text


async def test_a_document_description_with_a_card_number_is_refused(app, client):
    _, token = await user_token(app, client)
    me = bearer(token)
    notice = await client.post("/claims-notices", json=MATTER, headers={**me, **key()})
    from tests.documents.test_content import MINIMAL_PDF

    refused = await client.post(
        f"/claims-notices/{notice.json()['id']}/documents",
        files={"file": ("a.pdf", MINIMAL_PDF, "application/pdf")},
        data={"description": f"receipt for card {CARD}"},
        headers=me,
    )
    assert refused.status_code == 422
    assert [e["code"] for e in refused.json()["errors"]] == ["card_number"]
    assert DIGITS not in await _everything_stored(app)


async def test_any_multipart_text_field_with_a_card_number_is_refused_by_the_guard(app, client):
    """Not only the fields a route reads: the input guard scans every text part as it streams
    past, so a field added later, or one a route ignores, is covered too."""
    _, token = await user_token(app, client)
    me = bearer(token)
    notice = await client.post("/claims-notices", json=MATTER, headers={**me, **key()})
    from tests.documents.test_content import MINIMAL_PDF

    for spelled in (CARD, CARD.replace(" ", "-"), CARD.replace(" ", "")):
        refused = await client.post(
            f"/claims-notices/{notice.json()['id']}/documents",
            files={"file": ("a.pdf", MINIMAL_PDF, "application/pdf")},
            data={"description": "a receipt", "memo": f"paid with {spelled} yesterday"},
            headers=me,
        )
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["type"] == "/problems/card-number-refused"
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("memo", "card_number")]
        assert spelled not in refused.text
    listed = await client.get(f"/claims-notices/{notice.json()['id']}/documents", headers=me)
    assert listed.status_code == 200 and listed.json() == []
    assert DIGITS not in await _everything_stored(app)
