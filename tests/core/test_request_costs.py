"""Two costs of every request made cheaper without changing what they give: the request metrics,
kept as plain numbers (app/core/middleware.py RequestMetrics), print what prometheus_client's
Counter and Histogram printed; the access log's buffered lines (app/core/logging.py
JsonLinesHandler) reach the stream whole, once, in order, and when they should."""

import asyncio
import io
import json
import logging
import re
import threading
import time
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    enable_created_metrics,
    generate_latest,
)
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from app.core.logging import ACCESS_BUFFER_BYTES, ACCESS_FLUSH_SECONDS, JsonLinesHandler
from app.core.middleware import RequestMetrics

# --- metrics ------------------------------------------------------------------------------

# The buckets the middleware's Histogram had, written out: a change to ours shows here.
FORMER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _former_text(observations, generate):
    """What the middleware's former Counter and Histogram printed for these observations."""
    registry = CollectorRegistry()
    requests = Counter(
        "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["method", "route"],
        buckets=FORMER_BUCKETS,
        registry=registry,
    )
    for method, route, status, elapsed in observations:
        requests.labels(method, route, str(status)).inc()
        latency.labels(method, route).observe(elapsed)
    return generate(registry).decode()


def _our_text(observations, generate):
    registry = CollectorRegistry()
    metrics = RequestMetrics()
    registry.register(metrics)
    for observation in observations:
        metrics.observe(*observation)
    return generate(registry).decode()


_CREATED = re.compile(r"^(\S+_created\{.*\}) (\S+)$", re.MULTILINE)


def _created_masked(text):
    """The text with each `_created` value (when its series was made) left out."""
    return _CREATED.sub(r"\1 <created>", text)


OBSERVATIONS = st.lists(
    st.tuples(
        st.sampled_from(["GET", "POST", "PATCH"]),
        # a template, the unmatched route, and one that needs escaping in the text format
        st.sampled_from(["/healthz", "/users/{user_id}", "unmatched", 'a "quoted"\\route\n']),
        st.sampled_from([200, 401, 404, 500]),
        # on every bound (each counted in its own bucket), between them, and above the last
        st.one_of(st.sampled_from((0.0, *FORMER_BUCKETS)), st.floats(0, 10)),
    ),
    max_size=30,
)


@pytest.mark.parametrize("generate", [generate_latest, generate_openmetrics])
@given(observations=OBSERVATIONS)
def test_request_metrics_print_what_prometheus_clients_metrics_printed(generate, observations):
    made_from = time.time()
    ours = _our_text(observations, generate)
    made_until = time.time()
    assert _created_masked(ours) == _created_masked(_former_text(observations, generate))
    # each `_created` is when its series was made, in this call
    for _, created in _CREATED.findall(ours):
        assert made_from <= float(created) <= made_until


def test_request_metrics_leave_out_created_series_as_prometheus_client_does():
    observations = [("GET", "/healthz", 200, 0.003), ("GET", "/healthz", 404, 0.2)]
    was = prometheus_metrics._use_created
    disable_created_metrics()
    try:
        ours = _our_text(observations, generate_latest)
        former = _former_text(observations, generate_latest)
    finally:
        if was:
            enable_created_metrics()
    assert "_created" not in ours and ours == former
    assert "http_request_duration_seconds_sum" in ours


# --- the access log's buffer --------------------------------------------------------------


def _written(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class _TimedStream(io.StringIO):
    """A stream that notes when each write came."""

    def __init__(self):
        super().__init__()
        self.writes = []

    def write(self, text):
        self.writes.append(time.monotonic())
        return super().write(text)


async def test_buffered_lines_reach_the_stream_together_after_the_flush_delay():
    stream = _TimedStream()
    handler = JsonLinesHandler(stream)
    first = time.monotonic()
    for n in range(3):
        assert handler.write_entry({"n": n})
    await asyncio.sleep(0)
    assert stream.getvalue() == ""
    await asyncio.sleep(ACCESS_FLUSH_SECONDS * 1.5)  # its flush, due first, comes first
    assert [e["n"] for e in _written(stream)] == [0, 1, 2]
    [written_at] = stream.writes  # one write for the three lines
    assert written_at - first >= ACCESS_FLUSH_SECONDS * 0.99
    handler.write_entry({"n": 3})  # a flush is scheduled again for the next line
    await asyncio.sleep(ACCESS_FLUSH_SECONDS * 1.5)
    assert [e["n"] for e in _written(stream)] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "finish",
    [
        JsonLinesHandler.flush,
        JsonLinesHandler.close,
        lambda handler: logging.shutdown([weakref.ref(handler)]),  # as at the process's exit
    ],
    ids=["flush", "close", "logging.shutdown"],
)
async def test_buffered_lines_are_written_by_flush_close_and_shutdown(finish):
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)
    handler.write_entry({"n": 1})
    handler.write_entry({"n": 2})
    assert stream.getvalue() == ""
    finish(handler)
    assert [e["n"] for e in _written(stream)] == [1, 2]


async def test_a_record_emitted_after_buffered_lines_is_written_after_them():
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)
    handler.write_entry({"message": "request", "n": 1})
    handler.write_entry({"message": "request", "n": 2})
    error = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "boom", (), None)
    handler.handle(error)
    # written at once, and the lines buffered before it first
    assert [(e["message"], e.get("n")) for e in _written(stream)] == [
        ("request", 1),
        ("request", 2),
        ("boom", None),
    ]
    handler.write_entry({"message": "request", "n": 3})
    handler.flush()
    assert [e.get("n") for e in _written(stream)] == [1, 2, None, 3]


def test_a_line_is_written_at_once_without_a_running_loop():
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)
    assert handler.write_entry({"n": 1})
    assert [e["n"] for e in _written(stream)] == [1]


def test_lines_left_by_a_loop_closed_before_their_flush_do_not_wait_for_it():
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)

    async def write(n):
        handler.write_entry({"n": n})

    closed = asyncio.new_event_loop()
    closed.run_until_complete(write(1))  # its flush scheduled, and never run
    closed.close()
    assert stream.getvalue() == ""
    later = asyncio.new_event_loop()
    try:
        later.run_until_complete(write(2))  # schedules a flush of its own
        later.run_until_complete(asyncio.sleep(ACCESS_FLUSH_SECONDS * 1.5))
    finally:
        later.close()
    assert [e["n"] for e in _written(stream)] == [1, 2]


class _Writes(io.StringIO):
    """A stream that keeps each write's text."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


async def test_the_buffer_is_written_in_whole_lines_of_at_most_a_pipes_atomic_write():
    """Each write is whole lines and at most PIPE_BUF bytes, so that workers sharing a pipe
    never interleave inside a line; a buffer about to pass it is written without waiting."""
    stream = _Writes()
    handler = JsonLinesHandler(stream)
    entries = [{"message": "request", "n": n, "padding": "é" * 100} for n in range(100)]
    for entry in entries:
        handler.write_entry(entry)
    assert stream.writes  # written before the flush delay: the buffer filled
    handler.flush()
    writes = [w for w in stream.writes if w]
    assert all(len(w.encode()) <= ACCESS_BUFFER_BYTES and w.endswith("\n") for w in writes)
    assert len(writes) > 1 and sum(len(w.encode()) for w in writes[:1]) > ACCESS_BUFFER_BYTES / 2
    assert [e["n"] for e in _written(stream)] == list(range(100))


async def test_lines_from_several_threads_arrive_whole_once_and_in_order():
    """The loop's thread buffers while other threads (no loop: written at once, the buffer's
    lines first) write: every line arrives whole and once, each thread's in its order."""
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)

    def write_lines(thread):
        for n in range(300):
            handler.write_entry({"thread": thread, "n": n})

    threads = [threading.Thread(target=write_lines, args=(t,)) for t in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for n in range(300):
        handler.write_entry({"thread": 0, "n": n})
        if n % 10 == 0:
            await asyncio.sleep(0)
    for thread in threads:
        await asyncio.to_thread(thread.join)
    handler.flush()
    lines = _written(stream)
    assert len(lines) == 5 * 300
    for thread in range(5):
        assert [e["n"] for e in lines if e["thread"] == thread] == list(range(300))
