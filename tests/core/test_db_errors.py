"""violated_constraint: the constraint a statement broke, read from the driver's error (not from
its message), against a real PostgreSQL and a throwaway table."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import violated_constraint

TABLE = """CREATE TEMPORARY TABLE throwaway (
    n int CONSTRAINT uq_throwaway_n UNIQUE,
    name text,
    size int CONSTRAINT ck_throwaway_size CHECK (size >= 0)
)"""


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("INSERT INTO throwaway (n) VALUES (1)", "uq_throwaway_n"),
        # a unique index on an expression, as uq_app_user_username_lower is
        ("INSERT INTO throwaway (name) VALUES ('ALICE')", "uq_throwaway_name_lower"),
        ("INSERT INTO throwaway (size) VALUES (-1)", "ck_throwaway_size"),
    ],
)
async def test_the_violated_constraint_is_named(database_url, statement, constraint):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(TABLE))
            await conn.execute(
                text("CREATE UNIQUE INDEX uq_throwaway_name_lower ON throwaway (lower(name))")
            )
            await conn.execute(text("INSERT INTO throwaway (n, name) VALUES (1, 'alice')"))
            with pytest.raises(IntegrityError) as violation:
                await conn.execute(text(statement))
            await conn.rollback()
    finally:
        await engine.dispose()
    assert violated_constraint(violation.value) == constraint
    assert constraint in str(violation.value.orig)  # the message agrees with the name


def test_no_name_without_a_driver_error():
    assert violated_constraint(IntegrityError("INSERT ...", {}, Exception("no driver"))) is None
