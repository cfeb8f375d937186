"""Refusals of requests that name nobody (no token, or one that is not ours), bounded.

Each such refusal would otherwise be one permanent audit event, so one client could grow the
append-only trail without bound. Instead they are counted per client address and action over a
short window: the first refusal of a window is recorded at once, and the others of that window
as one event that says how many there were, when the window has closed (at the next refusal of
that client and action, or by the periodic drain). The events stay in the chain like any other.
A client past ANONYMOUS_RATE_LIMIT refusals in a window is answered 429 before anything else.
Authenticated refusals are not affected: they stay one event each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Window:
    started: float
    count: int = 1


@dataclass(frozen=True)
class Closed:
    """A window that ended with more refusals than the one recorded at its start."""

    client_ip: str
    action: str
    started: float
    ended: float
    more: int  # refusals beyond the first, not yet recorded


@dataclass
class AnonymousRefusals:
    window_seconds: float
    limit: int
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _per_client: dict[str, _Window] = field(default_factory=dict)

    def over_limit(self, client_ip: str) -> int | None:
        """Seconds to wait when the client is past the limit in its current window, else None."""
        window = self._per_client.get(client_ip)
        now = self.clock()
        if window is None or now - window.started >= self.window_seconds:
            return None
        if window.count < self.limit:
            return None
        return max(1, int(self.window_seconds - (now - window.started)) + 1)

    def note(self, client_ip: str, action: str) -> tuple[bool, list[Closed]]:
        """Count one refusal: (record it now, windows of this key that closed meanwhile)."""
        now = self.clock()
        per_client = self._per_client.get(client_ip)
        if per_client is None or now - per_client.started >= self.window_seconds:
            self._per_client[client_ip] = _Window(now)
        else:
            per_client.count += 1
        key = (client_ip, action)
        window = self._windows.get(key)
        closed: list[Closed] = []
        if window is not None and now - window.started < self.window_seconds:
            window.count += 1
            return False, closed
        if window is not None and window.count > 1:
            closed.append(self._closed(key, window))
        self._windows[key] = _Window(now)
        return True, closed

    def drain(self, *, everything: bool = False) -> list[Closed]:
        """Windows that have ended (all of them when `everything`), forgotten once returned."""
        now = self.clock()
        done = [
            key
            for key, w in self._windows.items()
            if everything or now - w.started >= self.window_seconds
        ]
        closed = [self._closed(k, self._windows[k]) for k in done if self._windows[k].count > 1]
        for key in done:
            del self._windows[key]
        stale = [ip for ip, w in self._per_client.items() if now - w.started >= self.window_seconds]
        for ip in stale:
            del self._per_client[ip]
        return closed

    def _closed(self, key: tuple[str, str], window: _Window) -> Closed:
        started = self.wall() - (self.clock() - window.started)
        return Closed(
            client_ip=key[0],
            action=key[1],
            started=started,
            ended=started + self.window_seconds,
            more=window.count - 1,
        )
