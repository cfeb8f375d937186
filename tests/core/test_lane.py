"""The lane of connections for statements in autocommit (app/core/db.py `Lane`): at most its
size at once, the rest waiting for one handed back, as asyncpg's own pool makes them wait."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import TimeoutError as SATimeoutError

from app.core.db import Lane


class _Pooled:
    def __init__(self) -> None:
        self.info: dict[str, Any] = {}
        self.is_valid = True
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def invalidate(self, error: BaseException) -> None:
        self.is_valid = False


class _Engine:
    """What the lane uses of SQLAlchemy's engine: its dialect and a pooled connection."""

    dialect = SimpleNamespace(loaded_dbapi=SimpleNamespace(Error=RuntimeError))

    def __init__(self) -> None:
        self.checkouts = 0

    async def raw_connection(self) -> _Pooled:
        self.checkouts += 1
        return _Pooled()


async def test_more_statements_than_the_lane_has_connections_wait_for_one():
    lane, engine = Lane(size=2, recycle=60), _Engine()
    running = most = 0

    async def statement() -> None:
        nonlocal running, most
        pooled = await lane.take(engine)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        await lane.give_back(pooled)

    await asyncio.gather(*(statement() for _ in range(12)))
    assert most == 2  # never more at once than the lane's size
    assert engine.checkouts == 2  # the same two, handed from one statement to the next
    assert len(lane) == 2


async def test_a_statement_waits_at_most_the_lanes_timeout():
    lane, engine = Lane(size=1, recycle=60, timeout=0.05), _Engine()
    held = await lane.take(engine)
    with pytest.raises(SATimeoutError):  # answered 503, as the pool's own checkout timeout
        await lane.take(engine)
    await lane.give_back(held)
    assert await lane.take(engine) is held  # the timed-out wait took nothing with it


async def test_a_cancelled_wait_passes_the_connection_on():
    lane, engine = Lane(size=1, recycle=60), _Engine()
    held = await lane.take(engine)
    waiting = asyncio.create_task(lane.take(engine))
    await asyncio.sleep(0)
    waiting.cancel()
    await lane.give_back(held)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await lane.take(engine) is held
    assert engine.checkouts == 1


async def test_a_closed_connection_frees_its_place_for_a_waiting_statement():
    lane, engine = Lane(size=1, recycle=60), _Engine()
    held = await lane.take(engine)
    waiting = asyncio.create_task(lane.take(engine))
    await asyncio.sleep(0)
    await lane.discard(held, RuntimeError("lost"))
    fresh = await waiting
    assert held.closed and fresh is not held
    assert engine.checkouts == 2
