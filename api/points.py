"""Points endpoints: every write becomes an event in the log; reads come from the projection."""

from __future__ import annotations

import time
from collections.abc import Callable

import falcon

from api import fields
from api.context import Context
from api.http import ok, read_json
from api.issues import note_slow_read
from api.params import WriteParams, read_params, write_params
from api.strict import check_read, check_write
from api.writes import Submitted, UpdateResult
from projections import events, ids, shard_reads
from projections.collections import Collection
from projections.errors import FormatError, NotFound, WrongInput
from projections.events import Builder, Event
from projections.jsontypes import JsonObject
from projections.payloads import compile_selector
from projections.reads import Projection


class Resource:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def _body(self, req: falcon.Request) -> JsonObject:
        body = read_json(req, self._ctx.settings.max_body_bytes)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise FormatError("invalid type: expected a JSON object")
        return body


class Write(Resource):
    """What every write endpoint shares: its body becomes one event (of one or more
    operations), checked against the collection, appended, and answered as `wait` asks."""

    def _submit(
        self, req: falcon.Request, resp: falcon.Response, name: str, build: Builder
    ) -> None:
        params = write_params(req)
        body = read_json(req, self._ctx.settings.max_body_bytes)
        ok(req, resp, self._write(name, params, lambda event, c: build(event, c, body))[0])

    def _write(
        self, name: str, params: WriteParams, build: Callable[[Event, Collection], None]
    ) -> list[UpdateResult]:
        def append(collection: Collection) -> Submitted:
            # Safe to run again on a fresh look-up (see collections.Cache): it either fails
            # before appending anything or appends as its last step.
            event = Event()
            build(event, collection)
            check_write(self._ctx, collection, event, params.timeout)
            return self._ctx.writer.append(collection, event, params)

        return self._ctx.writer.answer(self._ctx.using(name, append), params)


class Points(Write):
    """PUT upserts; POST retrieves points by id."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_upsert)

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        body = self._body(req)
        if "ids" not in body:
            raise FormatError("missing field `ids`")
        keys = [ids.to_key(i) for i in ids.parse_ids(body["ids"])]

        def retrieve(collection: Collection) -> list[JsonObject]:
            projection = fields.projection(collection, body, default_payload=False)
            return shard_reads.retrieve(self._ctx.readers(collection, timeout), keys, projection)

        ok(req, resp, self._ctx.using(name, retrieve))


class DeletePoints(Write):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_delete)


class Payload(Write):
    """POST sets payload keys; PUT overwrites the whole payload."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_set_payload)

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_overwrite_payload)


class DeletePayload(Write):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_delete_payload)


class ClearPayload(Write):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_clear_payload)


class Vectors(Write):
    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_update_vectors)


class DeleteVectors(Write):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_delete_vectors)


class Batch(Write):
    """A batch update: one event, one result per operation."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        params = write_params(req)
        body = read_json(req, self._ctx.settings.max_body_bytes)
        if isinstance(body, dict) and body.get("operations") == []:
            ok(req, resp, [])  # as Qdrant: not even the collection is looked up
            return
        ok(req, resp, self._write(name, params, lambda event, c: events.add_batch(event, c, body)))


class Index(Write):
    """PUT /index creates a payload index; DELETE /index/{field} drops one. Both are events."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._submit(req, resp, name, events.add_create_index)

    def on_delete_field(
        self, req: falcon.Request, resp: falcon.Response, name: str, field: str
    ) -> None:
        params = write_params(req)
        results = self._write(name, params, lambda event, c: events.add_delete_index(event, field))
        ok(req, resp, results[0])


class Point(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, point_id: str) -> None:
        point = ids.parse_path_id(point_id)
        timeout = read_params(req)

        def get(collection: Collection) -> list[JsonObject]:
            everything = Projection(compile_selector(True), tuple(collection.vectors))
            readers = self._ctx.readers(collection, timeout)
            return shard_reads.retrieve(readers, [ids.to_key(point)], everything)

        found = self._ctx.using(name, get)
        if not found:
            raise NotFound(f"Point with id {point} does not exists!")
        ok(req, resp, found[0])


class Scroll(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        body = self._body(req)
        limit = fields.limit(body.get("limit"), default=10)
        offset = body.get("offset")
        start = None if offset is None else ids.to_key(ids.parse_id(offset))
        order = fields.order_by(body.get("order_by"))
        flt = fields.filter_of(body)
        if order is not None and offset is not None:
            raise WrongInput(
                "Cannot use an `offset` when using `order_by`. The alternative for paging is "
                "to use `order_by.start_from` and a filter to exclude the IDs that you've "
                "already seen for the `order_by.start_from` value"
            )

        def scroll(collection: Collection) -> JsonObject:
            started = time.perf_counter()
            check_read(self._ctx, collection, body, timeout, limit)
            projection = fields.projection(collection, body, default_payload=True)
            readers = self._ctx.readers(collection, timeout)
            if order is not None:
                points = shard_reads.scroll_ordered(readers, order, limit, flt, projection)
                return {"points": points, "next_page_offset": None}
            points, next_key = shard_reads.scroll(readers, start, limit, flt, projection)
            note_slow_read(self._ctx, collection, body.get("filter"), started)
            next_offset = None if next_key is None else ids.from_key(next_key)
            return {"points": points, "next_page_offset": next_offset}

        ok(req, resp, self._ctx.using(name, scroll))


class Count(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        body = self._body(req)
        exact = body.get("exact", True)
        if not isinstance(exact, bool):
            raise FormatError("exact: invalid type, expected a boolean")
        flt = fields.filter_of(body)

        def count(collection: Collection) -> int:
            started = time.perf_counter()
            check_read(self._ctx, collection, body, timeout, exact=exact)
            counted = shard_reads.count(self._ctx.readers(collection, timeout), flt)
            note_slow_read(self._ctx, collection, body.get("filter"), started)
            return counted

        ok(req, resp, {"count": self._ctx.using(name, count)})
