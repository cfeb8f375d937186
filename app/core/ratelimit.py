"""Fixed-window rate limits shared by every worker: in memory (one process) or in Redis."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int


class RateLimiter(Protocol):
    degraded: bool

    async def hit(self, key: str) -> Decision: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    degraded = False

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
    """Shared by every worker and replica. When Redis cannot be reached, each process falls back
    to counting in its own memory (logged; `degraded` says so to /readyz) rather than refusing
    logins, and goes back to Redis as soon as it answers again."""

    def __init__(self, url: str, limit: int, window_seconds: int) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5, retry_on_timeout=False
        )
        self.limit = limit
        self.window = window_seconds
        self._fallback = MemoryRateLimiter(limit, window_seconds)
        self.degraded = False

    async def hit(self, key: str) -> Decision:
        from redis.exceptions import RedisError

        try:
            decision = await self._shared_hit(key)
        except (RedisError, OSError) as exc:
            if not self.degraded:
                log.warning("rate limits fall back to this process's memory: %s", exc)
            self.degraded = True
            return await self._fallback.hit(key)
        if self.degraded:
            log.warning("rate limits are shared in Redis again")
        self.degraded = False
        return decision

    async def _shared_hit(self, key: str) -> Decision:
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
