"""Logs cannot leak: failures driven with marker values (a password, a name, a card-like
number, a token) through the error paths leave none of them in the captured logs."""

from __future__ import annotations

from sqlalchemy import text

from tests.core.test_operations import _captured_logs, _json_lines
from tests.factories import bearer, user_token

PASSWORD_MARK = "marker-password-horse-staple-9184"
NAME_MARK = "Zebulon Markerfield"
# card-like but failing the Luhn check: a real card number is refused before any route (see
# test_card_numbers.py); this one reaches the failing statement's parameters
CARD_MARK = "4111111111111112"
TOKEN_MARK = "eyJmarker.token.value-77341"


async def _refuse_updates(app) -> None:
    """A database error of our own making, on a statement whose parameters carry the form."""
    async with app.state.database.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION lpl_test_refuse() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER lpl_test_refuse BEFORE UPDATE ON application "
                "FOR EACH ROW EXECUTE FUNCTION lpl_test_refuse()"
            )
        )


async def _allow_updates(app) -> None:
    async with app.state.database.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER IF EXISTS lpl_test_refuse ON application"))
        await conn.execute(text("DROP FUNCTION IF EXISTS lpl_test_refuse()"))


async def test_no_marker_reaches_the_logs_through_any_error_path(app, client):
    lawyer, token = await user_token(app, client)
    draft = await client.post("/applications", json={"program_year": 2025}, headers=bearer(token))
    url, etag = f"/applications/{draft.json()['id']}", draft.headers["etag"]
    await _refuse_updates(app)
    try:
        with _captured_logs() as stream:
            statuses = [
                (
                    await client.post(
                        "/auth/token",
                        data={"username": lawyer["username"], "password": PASSWORD_MARK},
                    )
                ).status_code,
                (
                    await client.post(
                        "/auth/token", data={"username": NAME_MARK, "password": PASSWORD_MARK}
                    )
                ).status_code,
                (
                    await client.post(
                        "/auth/password",
                        json={"current_password": PASSWORD_MARK, "new_password": PASSWORD_MARK},
                        headers=bearer(token),
                    )
                ).status_code,
                (await client.get("/users/me", headers=bearer(TOKEN_MARK))).status_code,
                (
                    await client.patch(
                        url,
                        json={"form": {"a": {"name": NAME_MARK, "home_phone": CARD_MARK}}},
                        headers={**bearer(token), "If-Match": etag},
                    )
                ).status_code,
                (
                    await client.post(
                        "/quotes",
                        json={"program_year": 2025, "effective_date": CARD_MARK},
                        headers=bearer(token),
                    )
                ).status_code,
            ]
    finally:
        await _allow_updates(app)
    assert statuses == [401, 401, 422, 401, 500, 422], statuses
    raw = stream.getvalue()
    assert _json_lines(stream), "the failures were logged"
    assert any(e.get("status") == 500 for e in _json_lines(stream))
    for marker in (PASSWORD_MARK, NAME_MARK, CARD_MARK, TOKEN_MARK, token):
        assert marker not in raw, marker
