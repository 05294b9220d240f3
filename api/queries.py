"""Query endpoints: the universal `/points/query` (and its batch), and the classic
`/points/search` and `/points/recommend` (and their batches), which answer a list of scored
points where `/query` answers `{"points": [...]}`; and the `/groups` variant of each."""

from __future__ import annotations

import time
from collections.abc import Callable

import falcon

from api import fields
from api.context import Context
from api.http import ok
from api.issues import note_slow_read
from api.params import read_params
from api.points import Resource
from api.query_body import Lookup, group_by, query_stage, with_lookup
from api.strict import check_query
from projections import ids, shard_reads
from projections.collections import Collection
from projections.errors import FormatError, QdrantError
from projections.groups import grouped, shown
from projections.jsontypes import JsonObject
from projections.query_plan import Answering, OtherCollection, Stage
from projections.shard_queries import Shards

StageOf = Callable[[JsonObject], Stage]
Answer = Callable[[Collection], list[JsonObject]]


class _Queries(Resource):
    """What every query endpoint shares: a body becomes a stage, answered on the collection
    with the parts of each point the body asks for."""

    default_payload = False

    def _answer(self, body: JsonObject, stage_of: StageOf, timeout: float | None) -> Answer:
        stage = stage_of(body)

        def run(collection: Collection) -> list[JsonObject]:
            started = time.perf_counter()
            check_query(self._ctx, collection, stage, timeout)
            projection = fields.projection(collection, body, self.default_payload)
            answered = self._answering(collection, timeout).run(stage, projection)
            note_slow_read(self._ctx, collection, stage.filter, started)
            return answered

        return run

    def _answering(
        self, collection: Collection, timeout: float | None, models: bool = True
    ) -> Answering | Shards:
        """The collection's reader and vector read model (its shards' when it has several),
        and other collections by name (read without their models)."""

        def other(name: str) -> OtherCollection:
            def found(lookup: Collection) -> OtherCollection:
                return OtherCollection(
                    lookup, self._answering(lookup, timeout, models=False).vectors()
                )

            return self._ctx.using(name, found)

        parts = [
            Answering(
                self._ctx.reader(part, timeout),
                self._ctx.vectors.of(part) if models else None,
                other,
            )
            for part in collection.parts
        ]
        return Shards(collection, parts) if collection.sharded else parts[0]

    def _batch(self, req: falcon.Request, stage_of: StageOf) -> list[Answer]:
        timeout = read_params(req)
        searches = self._body(req).get("searches")
        if not isinstance(searches, list) or not all(isinstance(q, dict) for q in searches):
            raise FormatError("searches: missing field or invalid type, expected a sequence")
        return [self._answer(body, stage_of, timeout) for body in searches]


class Query(_Queries):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        run = self._answer(self._body(req), query_stage, read_params(req))
        ok(req, resp, self._ctx.using(name, lambda c: {"points": run(c)}))


class QueryBatch(_Queries):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        runs = self._batch(req, query_stage)
        ok(req, resp, self._ctx.using(name, lambda c: [{"points": run(c)} for run in runs]))


class Classic(_Queries):
    """A classic endpoint (`stage_of` reads its body) and its batch: a list of points for an
    answer."""

    def __init__(self, ctx: Context, stage_of: StageOf) -> None:
        super().__init__(ctx)
        self._stage_of = stage_of

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        run = self._answer(self._body(req), self._stage_of, read_params(req))
        ok(req, resp, self._ctx.using(name, run))

    def on_post_batch(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        runs = self._batch(req, self._stage_of)
        ok(req, resp, self._ctx.using(name, lambda c: [run(c) for run in runs]))


class Groups(_Queries):
    """`/points/query/groups` and the classic `/search/groups` and `/recommend/groups`: the
    stage's points in groups, `{"groups": [{"id", "hits", "lookup"?}]}`."""

    def __init__(self, ctx: Context, stage_of: StageOf, classic: bool) -> None:
        super().__init__(ctx)
        self._stage_of, self._classic = stage_of, classic

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout, body = read_params(req), self._body(req)
        stage, by, lookup = self._stage_of(body), group_by(body, self._classic), with_lookup(body)

        def run(collection: Collection) -> JsonObject:
            started = time.perf_counter()
            check_query(self._ctx, collection, stage, timeout, by.size)
            projection = fields.projection(collection, body, self.default_payload)
            ans = self._answering(collection, timeout)
            answered = shown(ans.retrieve, grouped(ans.run, stage, by), projection)
            if lookup is not None:
                self._look_up(lookup, answered, timeout)
            note_slow_read(self._ctx, collection, stage.filter, started)
            return {"groups": answered}

        ok(req, resp, self._ctx.using(name, run))

    def _look_up(self, lookup: Lookup, groups: list[JsonObject], timeout: float | None) -> None:
        """Each group's `lookup`: the point of the lookup collection whose id is the group's
        (none for a group id that is no point id, or no such point)."""
        keys = {g["id"]: key for g in groups if (key := _point_key(g["id"])) is not None}

        def read(other: Collection) -> dict[str, JsonObject]:
            projection = fields.projection(other, lookup.shown, default_payload=True)
            readers = self._ctx.readers(other, timeout)
            found = shard_reads.retrieve(readers, list(keys.values()), projection)
            return {ids.to_key(record["id"]): record for record in found}

        records = self._ctx.using(lookup.collection, read)
        for group in groups:
            record = records.get(keys.get(group["id"], ""))
            if record is not None:
                group["lookup"] = record


def _point_key(group_id: object) -> str | None:
    """A group id as a point's key; None when it is no point id (a string not a UUID)."""
    try:
        return ids.to_key(ids.parse_id(group_id))
    except QdrantError:
        return None
