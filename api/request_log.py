"""The request log: one JSON line a request (logger `pointlog.requests`) with its method, route
template, collection, status, duration and, for a write, its first operation id. An error
answer carries its text, and a 500 its traceback.

REQUEST_LOG=errors keeps only 4xx and 5xx answers; REQUEST_LOG_MIN_MS leaves out the other
answers that took less than that. A 500 is always logged."""

from __future__ import annotations

import logging
import time
from typing import Any

import falcon

logger = logging.getLogger("pointlog.requests")


class RequestLog:
    """Middleware."""

    def __init__(self, mode: str, min_ms: float) -> None:
        self._errors_only = mode == "errors"
        self._min_ms = min_ms

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        req.context.collection = params.get("name")

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        status = int(str(resp.status).split()[0])
        started = getattr(req.context, "started", None)
        ms = 0.0 if started is None else (time.perf_counter() - started) * 1000
        if status < 500 and not self._kept(status, ms):
            return
        entry: dict[str, object] = {
            "method": req.method,
            "route": req.uri_template or "unmatched",
            "path": req.path,
            "status": status,
            "ms": round(ms, 2),
        }
        for name in ("collection", "operation_id", "error", "traceback"):
            value = req.context.get(name)
            if value is not None:
                entry[name] = value
        level = logging.ERROR if status >= 500 else logging.INFO
        logger.log(level, "request", extra=entry)

    def _kept(self, status: int, ms: float) -> bool:
        if status >= 400:
            return True
        return not self._errors_only and ms >= self._min_ms
