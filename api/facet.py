"""`POST /collections/{name}/facet`: the points per value of a payload key, as
`{"hits": [{"value", "count"}, ...]}`."""

from __future__ import annotations

import falcon

from api import fields
from api.http import ok
from api.params import read_params
from api.points import Resource
from api.strict import check_read
from projections import shard_reads
from projections.collections import Collection
from projections.errors import FormatError
from projections.jsonpath import path_arg
from projections.jsontypes import JsonObject

DEFAULT_LIMIT = 10


class Facet(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        timeout = read_params(req)
        body = self._body(req)
        if "key" not in body:
            raise FormatError("missing field `key`")
        key = body["key"]
        path_arg(key)
        limit = fields.limit(body.get("limit"), DEFAULT_LIMIT)
        # Counts are always exact: `exact` is checked and has no other effect.
        if body.get("exact") is not None and not isinstance(body["exact"], bool):
            raise FormatError("exact: invalid type, expected a boolean")
        flt = fields.filter_of(body)

        def run(collection: Collection) -> JsonObject:
            check_read(self._ctx, collection, body, timeout, limit)
            hits = shard_reads.facet(self._ctx.readers(collection, timeout), key, flt, limit)
            return {"hits": [{"value": value, "count": count} for value, count in hits]}

        ok(req, resp, self._ctx.using(name, run))
