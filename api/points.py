"""Points endpoints: every write becomes an event in the log; reads come from the projection."""

from __future__ import annotations

from collections.abc import Callable

import falcon
import numpy as np

from api.context import Context
from api.http import ok, read_json
from api.params import WriteParams, read_params, write_params
from api.writes import Submitted, UpdateResult
from projections import events, ids, reads, search, vectors
from projections.collections import Collection
from projections.datetimes import parse_datetime, to_micros
from projections.errors import BadRequest, FormatError, NotFound, ValidationFailed, WrongInput
from projections.events import Builder, Event
from projections.filters import Filter, compile_filter
from projections.jsontypes import JsonObject
from projections.payloads import compile_selector
from projections.reads import OrderBy, Projection
from projections.vectors import Floats


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
            projection = _projection(collection, body, default_payload=False)
            return reads.retrieve(self._ctx.reader(collection, timeout), keys, projection)

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
            reader = self._ctx.reader(collection, timeout)
            return reads.retrieve(reader, [ids.to_key(point)], everything)

        found = self._ctx.using(name, get)
        if not found:
            raise NotFound(f"Point with id {point} does not exists!")
        ok(req, resp, found[0])


class Scroll(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        body = self._body(req)
        limit = _limit(body.get("limit"), default=10)
        offset = body.get("offset")
        start = None if offset is None else ids.to_key(ids.parse_id(offset))
        order = _order_by(body.get("order_by"))
        flt = _filter(body)
        if order is not None and offset is not None:
            raise WrongInput(
                "Cannot use an `offset` when using `order_by`. The alternative for paging is "
                "to use `order_by.start_from` and a filter to exclude the IDs that you've "
                "already seen for the `order_by.start_from` value"
            )

        def scroll(collection: Collection) -> JsonObject:
            projection = _projection(collection, body, default_payload=True)
            reader = self._ctx.reader(collection, timeout)
            if order is not None:
                points = reads.scroll_ordered(reader, order, limit, flt, projection)
                return {"points": points, "next_page_offset": None}
            points, next_key = reads.scroll(reader, start, limit, flt, projection)
            next_offset = None if next_key is None else ids.from_key(next_key)
            return {"points": points, "next_page_offset": next_offset}

        ok(req, resp, self._ctx.using(name, scroll))


class Count(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        body = self._body(req)
        if not isinstance(body.get("exact", True), bool):
            raise FormatError("exact: invalid type, expected a boolean")
        flt = _filter(body)

        def count(collection: Collection) -> int:
            return reads.count(self._ctx.reader(collection, timeout), flt)

        ok(req, resp, {"count": self._ctx.using(name, count)})


class Query(Resource):
    """Nearest points to a vector (or to a point's vector), exact; without a query, points in
    id order with score 1.0, as Qdrant answers."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        run = _query_runner(self._ctx, self._body(req), timeout)
        ok(req, resp, self._ctx.using(name, run))


class QueryBatch(Resource):
    """Several queries in one request, answered in order."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        searches = self._body(req).get("searches")
        if not isinstance(searches, list) or not all(isinstance(q, dict) for q in searches):
            raise FormatError("searches: missing field or invalid type, expected a sequence")
        runs = [_query_runner(self._ctx, body, timeout) for body in searches]
        ok(req, resp, self._ctx.using(name, lambda c: [run(c) for run in runs]))


def _query_runner(
    ctx: Context, body: JsonObject, timeout: float | None
) -> Callable[[Collection], JsonObject]:
    """Check a query request's body; returns what answers it on the collection."""
    raw = body.get("query")
    if body.get("prefetch"):
        raise BadRequest("`prefetch` is not supported")
    if raw is None and body.get("score_threshold") is not None:
        raise BadRequest(
            "A query is needed to use the score_threshold. Please provide a query in order "
            "to use the score_threshold parameter"
        )
    limit, offset = _limit(body.get("limit"), 10), _count(body.get("offset"), "offset")
    threshold = _number(body.get("score_threshold"), "score_threshold")
    using = body.get("using") or ""
    if not isinstance(using, str):
        raise FormatError("using: invalid type, expected a vector name")
    flt = _filter(body)
    params = _search_params(body.get("params"))

    def run(collection: Collection) -> JsonObject:
        projection = _projection(collection, body, default_payload=False)
        reader = ctx.reader(collection, timeout)
        if raw is None:
            points, _ = reads.scroll(reader, None, offset + limit, flt, projection)
            return {"points": [{**p, "version": 0, "score": 1.0} for p in points[offset:]]}
        vector, exclude = _query_vector(reader, using, raw)
        query = search.Query(using, vector, limit, offset, threshold, exclude, params)
        model = ctx.vectors.of(collection)
        return {"points": search.nearest(reader, query, flt, projection, model)}

    return run


def _query_vector(reader: reads.Reader, using: str, raw: object) -> tuple[Floats, str | None]:
    """The query as an array shaped like the stored vectors, and the point to leave out when
    the query is a point id. Only dense and multi-dense queries are supported."""
    collection = reader.collection
    if isinstance(raw, dict) and set(raw) == {"nearest"}:
        raw = raw["nearest"]
    spec = collection.vectors.get(using)
    if spec is None:
        raise WrongInput(f"Not existing vector name error: {using}")
    if spec.sparse or isinstance(raw, dict):
        raise BadRequest("only dense and multi-dense nearest queries are supported")
    if isinstance(raw, list):
        data, exclude = vectors.encode_vector(collection, using, raw, "query"), None
    else:
        point = ids.parse_id(raw)
        exclude = ids.to_key(point)
        stored = reads.vector_of(reader, using, exclude)
        if stored is None:
            raise NotFound(f"No point with id {point} found")
        data = stored
    array = np.frombuffer(data, dtype=np.float32)
    return (array.reshape(-1, spec.size) if spec.multi else array), exclude


SEARCH_PARAMS = {"hnsw_ef", "exact", "indexed_only", "quantization", "acorn"}


def _search_params(raw: object) -> search.SearchParams:
    """`params`: `hnsw_ef`, `exact`, `indexed_only` (quantization and ACORN settings are
    accepted and have no effect: vectors are held unquantized)."""
    if raw is None:
        return search.SearchParams()
    if not isinstance(raw, dict):
        raise FormatError("params: invalid type, expected struct SearchParams")
    unknown = sorted(set(raw) - SEARCH_PARAMS)
    if unknown:
        raise FormatError(f"params: unknown field `{unknown[0]}`")
    hnsw_ef = raw.get("hnsw_ef")
    if hnsw_ef is not None:
        hnsw_ef = _count(hnsw_ef, "params.hnsw_ef")
    flags = {name: raw.get(name) for name in ("exact", "indexed_only")}
    for name, value in flags.items():
        if value is not None and not isinstance(value, bool):
            raise FormatError(f"params.{name}: invalid type, expected a boolean")
    return search.SearchParams(hnsw_ef, bool(flags["exact"]), bool(flags["indexed_only"]))


def _count(raw: object, name: str) -> int:
    if raw is None:
        return 0
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise FormatError(f"{name}: invalid value {raw}, expected an unsigned integer")
    return raw


def _number(raw: object, name: str) -> float | None:
    if raw is not None and (not isinstance(raw, (int, float)) or isinstance(raw, bool)):
        raise FormatError(f"{name}: invalid type, expected a number")
    return raw


def _filter(body: JsonObject) -> Filter | None:
    raw = body.get("filter")
    return None if raw is None else compile_filter(raw)


def _order_by(raw: object) -> OrderBy | None:
    """`"field"` or `{"key", "direction": "asc"|"desc", "start_from": number | datetime}`."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return OrderBy(raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        raise FormatError("order_by: expected a field name or {key, direction, start_from}")
    direction = raw.get("direction") or "asc"
    if direction not in ("asc", "desc"):
        raise FormatError(f"order_by.direction: unknown variant `{direction}`")
    return OrderBy(raw["key"], direction == "desc", _start_from(raw.get("start_from")))


def _start_from(raw: object) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    moment = parse_datetime(raw) if isinstance(raw, str) else None
    if moment is None:
        raise FormatError(
            f"order_by.start_from: '{raw}' does not match accepted datetime format (RFC3339). "
            "Example: 2014-01-01T00:00:00Z"
        )
    return to_micros(moment)


def _limit(raw: object, default: int) -> int:
    if raw is None:
        return default
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise FormatError(f"limit: invalid value {raw}, expected an unsigned integer")
    if raw == 0:
        raise ValidationFailed("limit: value 0 invalid, must be 1 or larger")
    return raw


def _projection(collection: Collection, body: JsonObject, default_payload: bool) -> Projection:
    with_payload = body.get("with_payload")
    payload = compile_selector(default_payload if with_payload is None else with_payload)
    with_vector = body.get("with_vector", body.get("with_vectors", False))
    return Projection(payload, reads.vector_selection(collection, with_vector))
