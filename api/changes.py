"""`GET /collections/{name}/changes`: the collection's applied operations after `since` (an
operation id; from the first without it), oldest first, as `{"operations": [...],
"last_operation_id": n}` (the next call's `since`). With `feed=longpoll`, a call that finds
none waits, push-based, up to `timeout` seconds for the next one. With `feed=eventsource`, a
stream of server-sent events (one an operation, its id the operation id) that ends after
`timeout` seconds; an EventSource reconnects and resumes with `Last-Event-ID`. A collection of
several shards has a feed per shard (`shard=N`). pointlog's own endpoint: Qdrant has no change
feed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import falcon
import orjson

from api.context import Context
from api.http import ok
from api.params import int_param
from api.points import Resource
from projections import operations_feed
from projections.archive import Archive
from projections.collections import Collection
from projections.errors import BadRequest, QueryFormatError
from projections.jsontypes import JsonObject

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
DEFAULT_LONGPOLL_SECONDS = 30
MAX_LONGPOLL_SECONDS = 300
FEEDS = ("normal", "longpoll", "eventsource")
RETRY = b"retry: 1000\n\n"


class Changes(Resource):
    def __init__(self, ctx: Context, archive: Archive | None) -> None:
        super().__init__(ctx)
        self._archive = archive  # where the operations moved out of the hot log are

    def _page(self, collection: Collection, since: int, limit: int) -> operations_feed.Page:
        return operations_feed.read(self._ctx.r, collection, since, limit, self._archive)

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        since = int_param(req, "since", -1, minimum=-1)
        resumed = req.get_header("Last-Event-ID")
        if resumed is not None:
            since = _event_id(resumed)
        limit = int_param(req, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        number = int_param(req, "shard", -1, minimum=0)
        feed = req.get_param("feed") or "normal"
        if feed not in FEEDS:
            raise QueryFormatError(f"feed: unknown variant `{feed}`, expected one of {FEEDS}")
        timeout = int_param(
            req, "timeout", DEFAULT_LONGPOLL_SECONDS, minimum=1, maximum=MAX_LONGPOLL_SECONDS
        )
        if feed == "eventsource":
            collection = self._ctx.using(name, lambda found: _shard(found, number))
            resp.content_type = "text/event-stream"
            resp.set_header("Cache-Control", "no-cache")
            resp.stream = self._events(collection, since, limit, timeout)
            return

        def run(found: Collection) -> JsonObject:
            collection = _shard(found, number)
            page = self._page(collection, since, limit)
            if not page.operations and feed == "longpoll":
                # the checkpoint passes operation since + 1 once it reaches since + 2
                self._ctx.progress.wait(collection.keys, since + 2, timeout)
                page = self._page(collection, since, limit)
            return {"operations": page.operations, "last_operation_id": page.last_operation_id}

        ok(req, resp, self._ctx.using(name, run))

    def _events(
        self, collection: Collection, since: int, limit: int, seconds: float
    ) -> Iterator[bytes]:
        """Server-sent events of the operations after `since` as they are applied, for
        `seconds`."""
        ends = time.monotonic() + seconds
        yield RETRY  # sends the headers at once, and how soon a client reconnects
        while True:
            page = self._page(collection, since, limit)
            for operation in page.operations:
                head = f"id: {operation['operation_id']}\nevent: operation\ndata: ".encode()
                yield head + orjson.dumps(operation) + b"\n\n"
            since = page.last_operation_id
            left = ends - time.monotonic()
            if left <= 0:
                return
            if not page.operations:
                self._ctx.progress.wait(collection.keys, since + 2, left)


def _shard(collection: Collection, number: int) -> Collection:
    """The shard whose feed is asked for (`shard`; a collection of one shard needs none):
    each shard has its own log, so its own operation ids."""
    count = len(collection.parts)
    if number == -1 and count > 1:
        raise BadRequest(
            f"Collection `{collection.name}` has {count} shards, each with its own change feed: "
            f"ask for one with `shard` (0 to {count - 1})"
        )
    if number >= count:
        raise BadRequest(f"Collection `{collection.name}` has no shard {number} (0 to {count - 1})")
    return collection.parts[max(number, 0)]


def _event_id(value: str) -> int:
    """`Last-Event-ID`: the last operation id the client received."""
    if not value.isascii() or not value.isdigit():
        raise BadRequest(f"Last-Event-ID: `{value}` is not an operation id")
    return int(value)
