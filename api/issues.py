"""`GET /issues` lists what the deployment noticed (projections/issues.py); `DELETE /issues`
clears it. `note_slow_read` is where reads report themselves."""

from __future__ import annotations

import time

import falcon

from api.context import Context
from api.http import ok
from projections import issues, reads
from projections.collections import Collection
from projections.jsontypes import JsonObject


class Issues:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ok(req, resp, {"issues": issues.listed(self._ctx.r)})

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        issues.clear(self._ctx.r)
        ok(req, resp, True)


def note_slow_read(
    ctx: Context, collection: Collection, raw_filter: JsonObject | None, started: float
) -> None:
    """After a filtered read: when it took longer than SLOW_QUERY_SECONDS, report the keys
    its filter reads without an index (one more round trip, for slow reads only)."""
    if raw_filter is None or time.perf_counter() - started < ctx.settings.slow_query_seconds:
        return
    issues.note_unindexed(ctx.r, collection, raw_filter, reads.index_definitions(ctx.r, collection))
