"""Fixed-window rate limits shared by every worker: in memory (one process) or in Redis."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int


class RateLimiter(Protocol):
    async def hit(self, key: str) -> Decision: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str) -> Decision:
        now = time.time()
        window = int(now // self.window)
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        retry_after = max(1, math.ceil((window + 1) * self.window - now))
        return Decision(count <= self.limit, retry_after)

    async def close(self) -> None:
        self._counts.clear()


class RedisRateLimiter:
    def __init__(self, url: str, limit: int, window_seconds: int) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self.limit = limit
        self.window = window_seconds

    async def hit(self, key: str) -> Decision:
        now = time.time()
        window = int(now // self.window)
        name = f"lpl:ratelimit:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window + 1)
            count, _ = await pipe.execute()
        retry_after = max(1, math.ceil((window + 1) * self.window - now))
        return Decision(int(count) <= self.limit, retry_after)

    async def close(self) -> None:
        await self._redis.aclose()


def rate_limiter_from(storage: str, limit: int, window_seconds: int) -> RateLimiter:
    if storage.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(storage, limit, window_seconds)
    if storage.startswith("memory://"):
        return MemoryRateLimiter(limit, window_seconds)
    raise ValueError("RATE_LIMIT_STORAGE must be memory:// or redis://...")
