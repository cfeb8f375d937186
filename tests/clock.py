"""Time travel for tests: let time pass for the database without waiting for it.

Session expiry (idle and absolute) and lockouts are decided in SQL against the database's
now(). Moving every stored instant back by `seconds` is, for those decisions, the same as
`seconds` passing: `travel(app, 2.5)` does in a millisecond what `asyncio.sleep(2.5)` did.

The append-only audit tables are left alone (their triggers refuse changes, and their times
decide nothing), and so is what lives outside the database: a token's own `exp`, and the
in-process rate limiter's window.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

APPEND_ONLY = ("audit_event", "audit_seal")

# Every timestamp column of every other table of the schema, found in the catalog so that tables
# and columns added later travel too; one round trip.
_TRAVEL = """
DO $travel$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS tab,
               string_agg(format('%1$I = %1$I - interval %2$L', a.attname, '{shift}'), ', ')
                   AS assignments
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ({excluded})
          AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype)
        GROUP BY c.oid
    LOOP
        EXECUTE format('UPDATE %s SET %s', item.tab, item.assignments);
    END LOOP;
END
$travel$
"""


async def travel(app: Any, seconds: float) -> None:
    """As if `seconds` passed: every stored instant moves that far into the past."""
    if seconds < 0:
        raise ValueError("time travels forward only")
    statement = _TRAVEL.format(
        shift=f"{float(seconds):.6f} seconds",
        excluded=", ".join(f"'{name}'" for name in APPEND_ONLY),
    )
    async with app.state.database.engine.begin() as conn:
        await conn.execute(text(statement))
