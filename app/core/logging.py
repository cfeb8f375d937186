"""Structured JSON logs. Only fields named here are written: no request bodies, tokens,
passwords or personal data reach the log."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from app.core.requestctx import current_request_meta_or_none

_EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "path", "data_dir", "event_count")

access_log = logging.getLogger("app.access")


def _entry(
    created: float, level: str, logger: str, message: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """A log line's fields: when, how severe, whose, what, the request's ids and `fields`
    (only names of _EXTRA_FIELDS)."""
    entry: dict[str, Any] = {
        # A datetime, which orjson writes as isoformat() does, without C's printf.
        "time": datetime.fromtimestamp(created, UTC),
        "level": level,
        "logger": logger,
        "message": message,
    }
    meta = current_request_meta_or_none()
    if meta is not None:
        entry["request_id"] = meta.request_id
        if meta.client_request_id:
            entry["client_request_id"] = meta.client_request_id
    entry.update(fields)
    return entry


def _line(entry: Mapping[str, Any]) -> str:
    return orjson.dumps(entry, default=str).decode()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(
            record.created,
            record.levelname.lower(),
            record.name,
            record.getMessage(),
            {name: record.__dict__[name] for name in _EXTRA_FIELDS if name in record.__dict__},
        )
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _line(entry)


# How long the access log's lines may wait in JsonLinesHandler's buffer, and how much of them:
# at most PIPE_BUF bytes (Linux: 4,096), the most one write() to a pipe writes whole, so that the
# lines of several workers sharing one stderr pipe (`serve --workers N`, a container's log) never
# interleave inside a line.
ACCESS_FLUSH_SECONDS = 0.1
ACCESS_BUFFER_BYTES = 4096


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs: JSON lines on a stream (JsonFormatter), and the
    access log's lines written without building a LogRecord (see `log_request`).

    The access log's lines are buffered, as nginx's `access_log ... buffer=4k flush=100ms`:
    written and flushed one by one, a 280-byte line cost write_entry 2.9 µs; buffered, 1.2 µs
    (timeit, to a file). Lines buffered on a running event loop are written together
    ACCESS_FLUSH_SECONDS after the first of them, or before the buffer would pass
    ACCESS_BUFFER_BYTES (each write whole lines, at most that many bytes, unless one line is
    longer); a line written with no running loop is written at once, after the buffer's. Any
    other record this handler emits is written after the lines buffered before it (an error
    logged after requests comes after their lines), and flush() and close() write them, so
    logging.shutdown() at the process's normal exit does.

    The price: the lines of the last ~100 ms are lost if the process is killed without its exit
    running (SIGKILL, the OOM killer), and a line may reach the stream up to 100 ms after
    something written to it another way (print, a second handler). Every step holds the
    handler's lock, as logging's own handlers do."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self._buffer: list[str] = []
        self._buffered_bytes = 0
        # The loop on which a flush of the buffer is scheduled, if any.
        self._flush_loop: asyncio.AbstractEventLoop | None = None

    def write_entry(self, entry: Mapping[str, Any]) -> bool:
        """`entry` as a line of the access log, buffered (see the class). False when it could
        not be written (the caller then logs it the usual way, whose handler reports the
        failure as logging does)."""
        try:
            data = orjson.dumps(entry, default=str)
            line, size = data.decode() + self.terminator, len(data) + 1  # bytes, as written
            with self.lock:  # type: ignore[union-attr]
                if self._buffered_bytes + size > ACCESS_BUFFER_BYTES:
                    self.flush()  # the lines so far in one write of at most the buffer's size
                self._buffer.append(line)
                self._buffered_bytes += size
                if self._buffered_bytes >= ACCESS_BUFFER_BYTES or not self._flush_scheduled():
                    self.flush()
        except Exception:
            return False
        return True

    def _flush_scheduled(self) -> bool:
        """Whether a flush of the buffer is due on the running loop, scheduling one if need be;
        False without a running loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self._flush_loop is not loop:
            # Checked against this loop, not a flag: a loop closed before its flush came (a
            # test's) must not leave later lines waiting for it.
            loop.call_later(ACCESS_FLUSH_SECONDS, self._scheduled_flush)
            self._flush_loop = loop
        return True

    def _scheduled_flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._flush_loop = None
            if self._buffer:  # not written meanwhile (by a record, the size, a flush())
                self.flush()

    def _write_buffer(self) -> None:
        """The buffered lines in one write (the lock held). The buffer is emptied first, so
        that a failed write is reported once, not again with the next record."""
        if self._buffer:
            text = "".join(self._buffer)
            self._buffer.clear()
            self._buffered_bytes = 0
            self.stream.write(text)

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds the lock here.
        if self._buffer:
            try:
                self._write_buffer()
            except Exception:
                self.handleError(record)
        super().emit(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_buffer()
            super().flush()

    def close(self) -> None:
        try:
            with self.lock:  # type: ignore[union-attr]
                if self._buffer:
                    self.flush()
        finally:
            super().close()  # which takes logging's module lock: not under our own


def _sole_json_handler() -> JsonLinesHandler | None:
    """The JSON lines handler, when it alone receives the access log's INFO records as
    configure_logging set it up (no handler or filter of the access log's own or of a logger
    between it and the root; no filter or higher level on the handler): writing its line
    directly then gives the line the record would have given. Anything else configured (a
    test's capturing handler, another level): None, and the record goes the usual way."""
    if access_log.filters or not access_log.isEnabledFor(logging.INFO):
        return None
    logger: logging.Logger | None = access_log
    while logger is not None and logger.parent is not None:
        if logger.handlers or not logger.propagate:
            return None
        logger = logger.parent
    handlers = logger.handlers if logger is not None else ()
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    if (
        type(handler) is not JsonLinesHandler
        or handler.filters
        or handler.level > logging.INFO
        or type(handler.formatter) is not JsonFormatter
    ):
        return None
    return handler


def log_request(method: str, route: str, status: int, duration_ms: float) -> None:
    """The access log's line for a request (`app.access`, INFO, "request")."""
    fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
    handler = _sole_json_handler()
    if handler is not None and handler.write_entry(
        _entry(time.time(), "info", access_log.name, "request", fields)
    ):
        return
    if access_log.isEnabledFor(logging.INFO):
        # Logger.info without looking up its caller's file and line in the stack, which the
        # JSON lines do not show.
        access_log.handle(
            access_log.makeRecord(
                access_log.name, logging.INFO, __file__, 0, "request", (), None, extra=fields
            )
        )


def configure_logging(level: str = "INFO") -> None:
    # A record need not look up its thread, process and process name: no line shows them (the
    # logging HOWTO's "Optimization"; a sixth of the access log's cost per request).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [JsonLinesHandler(sys.stderr)]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
