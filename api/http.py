"""HTTP plumbing shared by every route: JSON bodies in, Qdrant's envelopes out."""

from __future__ import annotations

import time
import traceback
from typing import Any

import falcon
import orjson
import redis

from projections import store
from projections.consistency import STALE
from projections.errors import FormatError, QdrantError
from projections.memory import StoreFull

JSON = "application/json"
DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def read_json(req: falcon.Request, limit: int) -> object:
    """The request body as JSON (an absent body is `None`)."""
    length = req.content_length
    if length is not None and length > limit:
        raise falcon.HTTPContentTooLarge(description=f"body larger than {limit} bytes")
    data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise falcon.HTTPContentTooLarge(description=f"body larger than {limit} bytes")
    if not data.strip():
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise FormatError(str(error)) from None


def ok(req: falcon.Request, resp: falcon.Response, result: object) -> None:
    """Qdrant's success envelope: `{"result": ..., "status": "ok", "time": seconds}`."""
    resp.content_type = JSON
    req.context.operation_id = _operation_id(result)
    elapsed = time.perf_counter() - req.context.started
    resp.data = orjson.dumps(
        {"result": result, "status": "ok", "time": elapsed}, option=DUMP_OPTIONS
    )


def _operation_id(result: object) -> object:
    """A write's (first) operation id, for the request log; None for anything else."""
    first = result[0] if isinstance(result, list) and result else result
    return first.get("operation_id") if isinstance(first, dict) else None


def error_body(message: str, elapsed: float) -> bytes:
    return orjson.dumps({"status": {"error": message}, "time": elapsed})


class Timing:
    """Middleware: stamps each request's start, for the envelope's `time`."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()


class StaleWarning:
    """Middleware: a read answered from what is applied after its wait ran out
    (STALE_READS=warn) says so in a Warning header."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        STALE.set(None)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        problem = STALE.get()
        if problem is not None:
            resp.set_header("Warning", f'110 pointlog "{problem}"')


def _elapsed(req: falcon.Request) -> float:
    started_at = getattr(req.context, "started", None)
    return 0.0 if started_at is None else time.perf_counter() - started_at


def _fail(req: falcon.Request, resp: falcon.Response, status: int | str, message: str) -> None:
    """Qdrant's error envelope; the request log (request_log.py) shows the message too."""
    req.context.error = message
    resp.status = status
    resp.content_type = JSON
    resp.data = error_body(message, _elapsed(req))


def handle_qdrant_error(
    req: falcon.Request, resp: falcon.Response, error: QdrantError, params: dict[str, Any]
) -> None:
    _fail(req, resp, error.http_status, error.message)


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: dict[str, Any]
) -> None:
    _fail(req, resp, error.status, error.description or error.title)
    if error.headers:  # a dict, or a list of (name, value) pairs
        resp.set_headers(error.headers)


def handle_redis_error(
    req: falcon.Request,
    resp: falcon.Response,
    error: Exception,
    params: dict[str, Any],
) -> None:
    if isinstance(error, redis.OutOfMemoryError):  # a write other than an append: see memory.py
        full = StoreFull(f"the store is full: Redis refused the write ({error})")
        _fail(req, resp, full.http_status, full.message)
        return
    _fail(req, resp, 503, f"Service unavailable: the store cannot be reached ({error})")


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    req.context.traceback = "".join(traceback.format_exception(error))
    _fail(req, resp, 500, f"Service internal error: {error}")


def install(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    # Falcon looks handlers up by the most specific class: order does not matter.
    app.add_error_handler(Exception, handle_unexpected)
    for failure in store.FAILURES:
        app.add_error_handler(failure, handle_redis_error)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(QdrantError, handle_qdrant_error)
