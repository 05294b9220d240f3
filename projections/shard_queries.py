"""Queries over a collection's shards, merged as Qdrant merges its shards' answers.

- A stage over the collection (no prefetch) runs on every shard for its best `offset +
  limit` points; the answers merge by score (by id without a query, by value for order_by,
  at random for sample), then the stage's page is taken.
- Prefetches run the same way, each merged before the stage above uses them: a fusion fuses
  the merged lists and a formula scores the merged points, so both rank as on one shard.
  Another query rescores the merged points on each shard, and those answers merge again.
- The points a query names (recommend's examples, a nearest point id) are read from the
  shards holding them, once a request. MMR picks among the merged candidates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from projections import ids
from projections.collections import Collection
from projections.jsontypes import JsonObject
from projections.query_plan import (
    PREFETCHED,
    Answering,
    FormulaQuery,
    FusionQuery,
    NearestQuery,
    OrderByQuery,
    SampleQuery,
    Stage,
    VectorsById,
    answer,
    both_filters,
    diversified,
    formula_ranking,
    fused_ranking,
    higher_first,
    page,
    scorer_of,
    stored_vectors,
)
from projections.reads import Projection
from projections.shard_reads import by_shard, retrieve


@dataclass
class Shards:
    """A collection of several shards, each answering as a collection of one."""

    collection: Collection
    parts: list[Answering]  # in shard order
    _vectors: dict[tuple[str, str], bytes | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parts = [replace(part, by_id=self.read_vectors) for part in self.parts]

    def vectors(self) -> VectorsById:
        return self.read_vectors

    def read_vectors(self, vector: str, keys: list[str]) -> dict[str, bytes | None]:
        """The stored vectors of these points, each from its shard (kept for the request)."""
        wanted = [key for key in keys if (vector, key) not in self._vectors]
        for shard, mine in by_shard(wanted, len(self.parts)).items():
            own = self.parts[shard]
            self._vectors.update(
                ((vector, key), data)
                for key, data in stored_vectors(own.reader, own.model)(vector, mine).items()
            )
        return {key: self._vectors[(vector, key)] for key in keys}

    def retrieve(self, keys: list[str], projection: Projection) -> list[JsonObject]:
        return retrieve([part.reader for part in self.parts], keys, projection)

    @property
    def waits(self) -> bool:
        return self.parts[0].reader.waits

    def run(self, stage: Stage, projection: Projection) -> list[JsonObject]:
        return self._stage(stage, None, projection)

    def _stage(
        self, stage: Stage, above: JsonObject | None, projection: Projection
    ) -> list[JsonObject]:
        raw = both_filters(above, stage.filter)
        if not stage.prefetch:
            return self._leaf(stage, raw, projection)
        found = [self._stage(inner, raw, PREFETCHED) for inner in stage.prefetch]
        query = stage.query
        if isinstance(query, FusionQuery):
            ranked = fused_ranking(stage, found)
            return page(self.retrieve, self.waits, stage, ranked, projection)
        if isinstance(query, FormulaQuery):
            ranked = formula_ranking(self.retrieve, self.collection, query.formula, found)
            return page(self.retrieve, self.waits, stage, ranked, projection)
        points = list(dict.fromkeys(p["id"] for part in found for p in part))
        if not points:
            return []
        return self._leaf(stage, both_filters(raw, {"must": [{"has_id": points}]}), projection)

    def _leaf(
        self, stage: Stage, raw: JsonObject | None, projection: Projection
    ) -> list[JsonObject]:
        query = stage.query
        if isinstance(query, NearestQuery) and query.mmr is not None:
            return self._diverse(stage, raw, projection)
        wide = replace(stage, prefetch=(), filter=raw, offset=0, limit=stage.offset + stage.limit)
        if isinstance(query, SampleQuery):
            drawn = [p for part in self.parts for p in answer(part, wide, projection)]
            return random.sample(drawn, min(stage.limit, len(drawn)))
        answers = [answer(part, wide, projection) for part in self.parts]
        merged = [(ids.to_key(point["id"]), point) for found in answers for point in found]
        # As one shard orders them: equal scores by id; equal values as Qdrant merges them.
        if query is None:
            merged.sort(key=lambda entry: entry[0])
        elif isinstance(query, OrderByQuery):
            descending = query.order.descending
            merged.sort(key=lambda entry: (entry[1]["order_value"], entry[0]), reverse=descending)
        else:
            sign = -1.0 if higher_first(self.parts[0], wide) else 1.0
            merged.sort(key=lambda entry: (sign * entry[1]["score"], entry[0]))
        return [point for _, point in merged[stage.offset : stage.offset + stage.limit]]

    def _diverse(
        self, stage: Stage, raw: JsonObject | None, projection: Projection
    ) -> list[JsonObject]:
        """MMR over the candidates of every shard, merged."""
        query = stage.query
        assert isinstance(query, NearestQuery) and query.mmr is not None
        mmr = query.mmr
        candidates = stage.limit if mmr.candidates_limit is None else mmr.candidates_limit
        if candidates == 0:
            return []
        plain = replace(stage, query=replace(query, mmr=None), offset=0, limit=candidates)
        found = self._leaf(plain, raw, projection)
        scorer, _ = scorer_of(self.parts[0], plain)
        spec = self.collection.vectors[stage.using]
        return diversified(spec, scorer, mmr, stage, found, self.read_vectors)
