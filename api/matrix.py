"""`POST /collections/{name}/points/search/matrix/pairs` and `/offsets`: the distance matrix of
a random sample of points, as a list of pairs or as a sparse matrix's coordinates."""

from __future__ import annotations

import falcon

from api import fields
from api.http import ok
from api.params import read_params
from api.points import Resource
from projections import distance_matrix
from projections.collections import Collection
from projections.distance_matrix import Neighbours
from projections.errors import FormatError
from projections.jsontypes import JsonObject, json_kind

DEFAULT_SAMPLE = 10
DEFAULT_LIMIT = 3


class _Matrix(Resource):
    """What both forms share: the body read, the sample drawn and its neighbours found."""

    def _neighbours(self, req: falcon.Request, name: str) -> Neighbours:
        timeout = read_params(req)
        body = self._body(req)
        sample = fields.at_least(body.get("sample"), "sample", DEFAULT_SAMPLE, 2)
        limit = fields.at_least(body.get("limit"), "limit", DEFAULT_LIMIT, 1)
        using = body.get("using") or ""
        if not isinstance(using, str):
            raise FormatError(f"using: invalid type: {json_kind(using)}, expected a string")
        fields.filter_of(body)  # refused before the collection is looked up
        raw = body.get("filter")

        def run(collection: Collection) -> Neighbours:
            parts = [
                (self._ctx.reader(part, timeout), self._ctx.vectors.of(part))
                for part in collection.parts
            ]
            return distance_matrix.neighbours(parts, using, sample, limit, raw)

        return self._ctx.using(name, run)


class MatrixPairs(_Matrix):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = self._neighbours(req, name)
        pairs: list[JsonObject] = [
            {"a": found.ids[row], "b": found.ids[col], "score": score}
            for row, col, score in zip(found.rows, found.cols, found.scores, strict=True)
        ]
        ok(req, resp, {"pairs": pairs})


class MatrixOffsets(_Matrix):
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = self._neighbours(req, name)
        ok(
            req,
            resp,
            {
                "offsets_row": found.rows,
                "offsets_col": found.cols,
                "scores": found.scores,
                "ids": found.ids,
            },
        )
