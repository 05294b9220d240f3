"""HTTP plumbing shared by every route: JSON bodies in, Qdrant's envelopes out."""

from __future__ import annotations

import logging
import time
from typing import Any

import falcon
import orjson
import redis

from projections.consistency import STALE
from projections.errors import FormatError, QdrantError
from projections.memory import StoreFull

logger = logging.getLogger("pointlog.api")
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
    elapsed = time.perf_counter() - req.context.started
    resp.data = orjson.dumps(
        {"result": result, "status": "ok", "time": elapsed}, option=DUMP_OPTIONS
    )


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


def handle_qdrant_error(
    req: falcon.Request, resp: falcon.Response, error: QdrantError, params: dict[str, Any]
) -> None:
    resp.status = error.http_status
    resp.content_type = JSON
    resp.data = error_body(error.message, _elapsed(req))


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: dict[str, Any]
) -> None:
    resp.status = error.status
    resp.content_type = JSON
    text = error.description or error.title
    resp.data = error_body(text, _elapsed(req))
    if error.headers:  # a dict, or a list of (name, value) pairs
        resp.set_headers(error.headers)


def handle_redis_error(
    req: falcon.Request, resp: falcon.Response, error: redis.RedisError, params: dict[str, Any]
) -> None:
    resp.content_type = JSON
    if isinstance(error, redis.OutOfMemoryError):  # a write other than an append: see memory.py
        logger.warning("store full: %s", error)
        full = StoreFull(f"the store is full: Redis refused the write ({error})")
        resp.status = full.http_status
        resp.data = error_body(full.message, _elapsed(req))
        return
    logger.warning("store unavailable: %s", error)
    resp.status = 503
    resp.data = error_body(
        f"Service unavailable: the store cannot be reached ({error})", _elapsed(req)
    )


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    logger.exception("unexpected error on %s %s", req.method, req.path)
    resp.status = 500
    resp.content_type = JSON
    resp.data = error_body(f"Service internal error: {error}", _elapsed(req))


def install(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    # Falcon looks handlers up by the most specific class: order does not matter.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(redis.RedisError, handle_redis_error)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(QdrantError, handle_qdrant_error)
