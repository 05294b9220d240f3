"""Differential test: random sequences of writes, applied through qdrant-client to pointlog (REST,
wait=True) and to qdrant-client's local mode (`QdrantClient(":memory:")`, Qdrant's reference
semantics in Python), must leave both in the same state.

Each sequence (seeded `random.Random`, see tests/e2e/ops.py) runs on a fresh collection with two
named dense vectors (`a`: 3-d Cosine, `b`: 2-d Dot) and a sparse one (`s`, with the `idf`
modifier), and mixes: upserts (points and batch forms, int and
UUID ids in every spelling, nested payloads with arrays and nulls, `update_mode`,
`update_filter`), delete by ids / filter, set payload (with and without `key` paths, null
deletes), overwrite / delete (nested paths) / clear payload by ids / filter, update vectors (with
`update_filter`), delete vectors, batch updates of 2-5 of these, payload index creation. Filters
draw from match value/any/except, range, is_empty, is_null, has_id, values_count, nested,
has_vector and sub-filters under must/should/must_not/min_should.

After every CHECK_EVERY operations and at the end, the states are compared: points_count; every
page of a scroll with payload and vectors, unfiltered and with a random filter (ids, payloads,
vectors within 1e-6 since Cosine normalisation may differ in the last bit, next_page_offset);
count and filtered scroll for random filters; retrieve of random ids (missing ones, duplicates,
other UUID spellings) with random with_payload / with_vectors selectors; order_by scrolls once a
range index exists; queries over every point, with or without a filter, compared as the set of
points and their scores (ties are unspecified in Rust): nearest points on any vector (exact or
default params), a recommendation on any vector (every strategy, ids or vectors as examples,
negatives alone), a dense query rescoring a sparse prefetch; rrf or dbsf fusion of a dense and a
sparse prefetch; MMR on any vector (ids in the order picked, where no candidate's score
ties); discover and context on any vector, relevance feedback on a dense one (ids or vectors
as examples); a formula over a
dense prefetch (its score, a decay, a random filter as a condition, a default); and groups
by a random key, every group compared as its points and scores.

EXCLUDED (cases where the Rust server (1.19) and local mode (qdrant-client 1.20) are known to
differ, or where local mode has no way to match Rust):
- `match.text` / `text_any` / `phrase` are never generated: without a text index Rust 1.19
  matches case-sensitive substrings, local mode lowercase word tokens (as servers after 1.19 do).
- `order_by` is only compared once the sequence created a range index on its key: without one Rust
  answers 400, local mode orders anyway. Ties are unspecified in Rust and by id in local mode:
  order_by results are compared as lists sorted by (order_value, id), plus a check that
  pointlog's order_values are monotonic in the requested direction.
- `is_null` never targets `nl`, the only key that may hold `[null]`: false in Rust (unindexed),
  true in local mode.
- `set_payload` with a top-level `null` (delete) only names points whose current payload is
  non-empty, never a filter and never a batch: on a point with no stored payload Rust may store
  the null literally, local mode drops it. With `key` no nulls at all (what Rust does with a null
  merged at a path is not established).
- Point-targeted updates (set / overwrite / delete / clear payload, update / delete vectors by
  ids) only name ids that exist (at that step of a batch, too; after a delete by filter inside a
  batch no id is named): Rust answers 404 and keeps the updates of found ids (a request is not
  atomic across points), local mode raises a Python KeyError part-way. The 404 itself is covered
  by test_errors.py.
- Failing batches are not generated (local mode's KeyError again); test_batch.py covers
  "stops at the first failure, earlier operations stay".
- `payload_schema` is not compared: local mode's create_payload_index is a no-op (found by running
  it: its payload_schema stays `{}`), and operation ids are not compared: local mode answers 0.
- Payload key order is not compared: Rust keeps payloads in insertion order (serde_json's
  preserve_order), but there `Map::remove` is a `swap_remove`, so after deletions Rust's order
  need not be a Python dict's; values, including int vs float vs bool types, are compared
  strictly.
- retrieve with a duplicated id: local mode returns the record once per occurrence, Rust
  collapses duplicates to the first occurrence: local mode's answer is compared with its
  duplicates collapsed.
- Context pairs (discover, context), and best_score's negatives beside positives, are vectors
  drawn from a continuous distribution, never ids or the generator's discrete components:
  local mode normalises the stored vectors again, in place, while it scores, so a point equally
  close to a positive and a negative example (the same point twice, two points with one
  vector, both orthogonal) may count as closer to one of them: a rank, or a sign, apart.
- relevance feedback over a sparse vector: local mode has none (it scores the query as a
  dense one and raises); Qdrant has it, and tests/domain/test_search.py checks pointlog's.
- MMR's query vectors (a sparse one's values) are drawn from a continuous distribution: with
  the generator's discrete components two candidates' MMR scores may tie exactly, and a tie in
  Rust's f32 arithmetic is not one in local mode's f64 (nor the reverse).
- A fusion is compared only when local mode's answers to its prefetches (and the point after
  each) have no tied scores: a fused score depends on ranks within each prefetch, and tied
  points rank in any order in Rust. MMR likewise, over its candidates.
- `should: []` inside `nested` is never generated (matches nothing in Rust, from code only); no
  `with_payload` omission (the client always sends it; Rust's default is false).

The same sequences run, fewer of them, on a collection of 3 shards (`shard_number`), whose
answers merge its shards': there `s` has no `idf` modifier, since IDF counts the documents of
each shard, as in Qdrant.

Environment: POINTLOG_DIFF_SEQUENCES (default 40), POINTLOG_DIFF_SHARDED_SEQUENCES (default 12),
POINTLOG_DIFF_OPS (operations per sequence,
default 25), POINTLOG_DIFF_SEED (first seed, default 20251124), POINTLOG_DIFF_CHECK_EVERY
(default 5), POINTLOG_DIFF_SHRINK (failing sequences to minimise before reporting, default 2).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.ops import NAMES, SPARSE, SPARSE_DIMS, VECTORS, Op, OpGenerator, canonical, short

pytestmark = [
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect in the local Qdrant"),
    pytest.mark.filterwarnings("ignore:Local mode performs exact"),
]

SEQUENCES = int(os.environ.get("POINTLOG_DIFF_SEQUENCES", "40"))
OPS = int(os.environ.get("POINTLOG_DIFF_OPS", "25"))
SEED = int(os.environ.get("POINTLOG_DIFF_SEED", "20251124"))
CHECK_EVERY = max(1, int(os.environ.get("POINTLOG_DIFF_CHECK_EVERY", "5")))
SHRINK = int(os.environ.get("POINTLOG_DIFF_SHRINK", "2"))
SHARDED_SEQUENCES = int(os.environ.get("POINTLOG_DIFF_SHARDED_SEQUENCES", "12"))
SHARDED_SEED = SEED + 100_000
SHARDS = 3
PLAIN_SPARSE = {"s": models.SparseVectorParams()}
MAX_SHRINK_REPLAYS = 80
ALL = 1000  # a query's limit: every point


class Mismatch(AssertionError):
    def __init__(self, message: str, local_raised: bool = False) -> None:
        super().__init__(message)
        self.local_raised = local_raised


@dataclass
class Stats:
    sequences: int = 0
    operations: int = 0
    batch_operations: int = 0
    state_checks: int = 0
    reads: int = 0
    failed: list = field(default_factory=list)
    shrinks_left: int = SHRINK
    started: float = field(default_factory=time.monotonic)


@dataclass
class Differ:
    remote: QdrantClient
    local: QdrantClient
    stats: Stats


@pytest.fixture(scope="module")
def differ(base_url: str, request: pytest.FixtureRequest) -> Iterator[Differ]:
    stats = Stats()
    yield Differ(QdrantClient(url=base_url, timeout=60), QdrantClient(":memory:"), stats)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    line = (
        f"differential: {stats.sequences} sequences, {stats.operations} operations "
        f"({stats.batch_operations} more inside batches), {stats.state_checks} state checks, "
        f"{stats.reads} compared reads, {len(stats.failed)} failing sequences "
        f"{stats.failed or ''} in {time.monotonic() - stats.started:.1f}s"
    )
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


# -- comparing ---------------------------------------------------------------------------------


def difference(a: object, b: object, path: str = "", loose: bool = False) -> str | None:
    """Where two JSON-like values differ: strict types (1 != 1.0 != True) except for numbers
    under a vector (`loose`, 1e-6), dict key order ignored."""
    if path.endswith(".vector"):
        loose = True
    numbers = (int, float)
    if (
        loose
        and isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return None if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6) else f"{path}: {a} != {b}"
    if type(a) is not type(b):
        return f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            found = difference(a[key], b[key], f"{path}.{key}", loose)
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}[{n}]", loose)
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def plain(value: object) -> object:
    if isinstance(value, models.SparseVector):
        return {"indices": list(value.indices), "values": list(value.values)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def record(r: models.Record) -> dict:
    out: dict = {"id": r.id}
    if r.payload is not None:
        out["payload"] = r.payload
    if r.vector is not None:
        out["vector"] = plain(r.vector)
    if r.order_value is not None:
        out["order_value"] = r.order_value
    return out


def fused(points: list[models.ScoredPoint]) -> list[tuple[float, str]]:
    """Fused scores, best first, ties by id (their order is unspecified)."""
    return sorted((-round(p.score, 4), str(canonical(p.id))) for p in points)


def dump(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) < 1500 else text[:1500] + "..."


class Sequence:
    """One sequence on one collection name, on both sides."""

    def __init__(self, differ: Differ, name: str, seed: int, shards: int = 1) -> None:
        self.d = differ
        self.name = name
        self.seed = seed
        self.shards = shards
        self.ops: list[Op] = []
        self.checker = OpGenerator(random.Random(seed * 7919 + 1))

    def both(self, what: str, call: object) -> tuple[object, object]:
        results = []
        for side in (self.d.remote, self.d.local):
            try:
                results.append(call(side))
            except Exception as error:
                raise Mismatch(
                    f"{what} raised on {'pointlog' if side is self.d.remote else 'local mode'}: "
                    f"{type(error).__name__}: {str(error)[:600]}"
                ) from error
        self.d.stats.reads += 1
        return results[0], results[1]

    def same(self, what: str, remote: object, local: object) -> None:
        found = difference(remote, local)
        if found:
            raise Mismatch(
                f"{what} differs at {found}\n"
                f"  pointlog:   {dump(remote)}\n  local mode: {dump(local)}"
            )

    # -- writes ------------------------------------------------------------------------------------

    def apply(self, op: Op) -> None:
        outcomes = []
        for side in (self.d.remote, self.d.local):
            try:
                result = op.apply(side, self.name)
            except Exception as error:
                outcomes.append(f"{type(error).__name__}: {str(error)[:600]}")
                continue
            results = result if isinstance(result, list) else [result]
            outcomes.append([r.status.value for r in results])
        remote, local = outcomes
        if isinstance(local, str):
            raise Mismatch(f"local mode raised {local} (pointlog: {remote})", local_raised=True)
        if remote != local:
            raise Mismatch(f"pointlog answered {remote}, local mode {local}")

    def state(self) -> dict:
        page = self.d.local.scroll(self.name, limit=1000, with_payload=True)[0]
        return {canonical(r.id): r.payload for r in page}

    # -- reads -------------------------------------------------------------------------------------

    def compare(self) -> None:
        self.d.stats.state_checks += 1
        rng = self.checker.rng
        remote, local = self.both("get_collection", lambda c: c.get_collection(self.name))
        self.same("points_count", remote.points_count, local.points_count)
        self.compare_pages(rng.choice([1, 3, 4, 7, 100]))
        self.compare_pages(rng.choice([1, 2, 3]), self.checker.filter())
        for _ in range(4):
            flt = self.checker.filter()
            remote, local = self.both("count", lambda c, f=flt: c.count(self.name, f).count)
            self.same(f"count({short(flt)})", remote, local)
            remote, local = self.both(
                "scroll",
                lambda c, f=flt: [
                    r.id for r in c.scroll(self.name, f, limit=1000, with_payload=False)[0]
                ],
            )
            self.same(f"scroll ids ({short(flt)})", remote, local)
        self.compare_retrieve()
        self.compare_order_by()
        self.compare_query()

    def compare_query(self) -> None:
        """Queries over every point (so that ties at a cut-off do not matter), with or without
        a filter: nearest points to a random dense or sparse vector (exact or default params),
        a recommendation, a dense query rescoring a sparse prefetch, and a fusion."""
        rng = self.checker.rng
        flt = self.checker.filter() if rng.random() < 0.5 else None
        using = rng.choice(NAMES)
        vector = self.checker.vector(using)
        params = models.SearchParams(exact=rng.random() < 0.5)
        self.compare_scored(
            f"query_points(using={using}, {vector}, filter={short(flt)}, {params})",
            {"query": vector, "using": using, "query_filter": flt, "search_params": params},
        )
        recommend = self.recommend()
        if recommend is not None:
            self.compare_scored(
                f"recommend {short(recommend)}, filter={short(flt)}",
                {"query": recommend[1], "using": recommend[0], "query_filter": flt},
            )
        rescored = [models.Prefetch(query=self.checker.sparse(), using="s", limit=ALL)]
        self.compare_scored(
            f"rescoring {short(rescored)}, filter={short(flt)}",
            {"prefetch": rescored, "query": self.checker.vector("a"), "using": "a",
             "query_filter": flt},
        )  # fmt: skip
        self.compare_fusion(flt)
        self.compare_mmr(flt)
        self.compare_by_examples(flt)
        self.compare_formula(flt)
        self.compare_groups(flt)

    def examples(self, using: str) -> Callable[[], object] | None:
        """A source of random examples on a vector: ids of points that have it, or vectors;
        None when no point has one."""
        rng = self.checker.rng
        holders = [
            r.id for r in self.d.local.scroll(self.name, limit=1000, with_vectors=[using])[0]
            if r.vector
        ]  # fmt: skip
        if not holders:
            return None
        return lambda: rng.choice(holders) if rng.random() < 0.5 else self.checker.vector(using)

    def continuous(self, using: str) -> list[float] | models.SparseVector:
        """A vector drawn from a continuous distribution (see EXCLUDED)."""
        rng = self.checker.rng
        if using in SPARSE:
            indices = sorted(rng.sample(range(SPARSE_DIMS), rng.randint(1, 4)))
            return models.SparseVector(indices=indices, values=[rng.gauss(0, 1) for _ in indices])
        return [rng.gauss(0, 1) for _ in range(VECTORS[using].size)]

    def recommend(self) -> tuple[str, models.RecommendQuery] | None:
        """A recommendation on any vector from 1-2 examples of either sign (ids of points
        that have the vector, or vectors); None when no point has one."""
        rng = self.checker.rng
        using = rng.choice(NAMES)
        example = self.examples(using)
        if example is None:
            return None
        strategy = rng.choice(list(models.RecommendStrategy))
        positive = [example() for _ in range(rng.randint(1, 2))]
        negative = [example() for _ in range(rng.randint(0, 2))]
        if strategy == models.RecommendStrategy.BEST_SCORE and positive:  # see EXCLUDED
            negative = [self.continuous(using) for _ in negative]
        if strategy != models.RecommendStrategy.AVERAGE_VECTOR and rng.random() < 0.3:
            positive = []  # negatives alone score with these strategies
            negative = negative or [example()]
        query = models.RecommendInput(positive=positive, negative=negative, strategy=strategy)
        return using, models.RecommendQuery(recommend=query)

    def compare_by_examples(self, flt: models.Filter | None) -> None:
        """discover, context and relevance feedback (dense vectors only: see EXCLUDED) on any
        vector, over every point."""
        rng = self.checker.rng
        using = rng.choice(NAMES)
        example = self.examples(using)
        if example is None:
            return
        pairs = [  # continuous vectors: see EXCLUDED
            models.ContextPair(positive=self.continuous(using), negative=self.continuous(using))
            for _ in range(rng.randint(1, 2))
        ]
        feedback = [
            models.FeedbackItem(example=example(), score=rng.choice([0.1, 0.5, 0.9]))
            for _ in range(rng.randint(1, 3))
        ]
        naive = models.NaiveFeedbackStrategyParams(a=1.0, b=rng.choice([0.5, 1.0, 2.0]), c=0.5)
        feedback_query = models.RelevanceFeedbackQuery(
            relevance_feedback=models.RelevanceFeedbackInput(
                target=example(),
                feedback=feedback,
                strategy=models.NaiveFeedbackStrategy(naive=naive),
            )
        )
        for query in (
            models.DiscoverQuery(discover=models.DiscoverInput(target=example(), context=pairs)),
            models.ContextQuery(context=pairs),
            *([] if using in SPARSE else [feedback_query]),
        ):
            self.compare_scored(
                f"{short(query)} using {using}, filter={short(flt)}",
                {"query": query, "using": using, "query_filter": flt},
            )

    def compare_formula(self, flt: models.Filter | None) -> None:
        """A formula over a dense prefetch of every point: its score, a decay of it, a random
        filter as a condition, and a payload variable only its default gives."""
        formula = models.SumExpression(
            sum=[
                "$score",
                models.MultExpression(mult=[0.5, self.checker.filter()]),
                models.GaussDecayExpression(
                    gauss_decay=models.DecayParamsExpression(x="$score", target=0.5, scale=0.7)
                ),
                models.MultExpression(mult=["missing", 0.1]),
            ]
        )
        prefetch = models.Prefetch(query=self.checker.vector("a"), using="a", limit=ALL)
        query = models.FormulaQuery(formula=formula, defaults={"missing": 2.0})
        self.compare_scored(
            f"formula {short(query)} over {short(prefetch)}, filter={short(flt)}",
            {"prefetch": prefetch, "query": query, "query_filter": flt},
        )

    def compare_groups(self, flt: models.Filter | None) -> None:
        """Every group of every point by a random key (arrays, mixed types, nested paths):
        each group's points and scores (which group comes first is unspecified among equal
        best scores)."""
        rng = self.checker.rng
        using = rng.choice(sorted(VECTORS))
        key = rng.choice(["k", "n", "z", "obj.x", "items[].c", "nl"])
        vector = self.checker.vector(using)
        what = f"groups by {key} of query_points(using={using}, {vector}, filter={short(flt)})"
        remote, local = self.both(
            "query_points_groups",
            lambda c: c.query_points_groups(
                self.name, key, query=vector, using=using, query_filter=flt, limit=ALL,
                group_size=ALL, with_payload=False,
            ).groups,
        )  # fmt: skip
        grouped = [
            {repr(g.id): {str(canonical(h.id)): h.score for h in g.hits} for g in groups}
            for groups in (remote, local)
        ]
        self.same(what, *[{g: sorted(hits) for g, hits in one.items()} for one in grouped])
        for group, hits in grouped[0].items():
            for point, score in hits.items():
                if not math.isclose(score, grouped[1][group][point], rel_tol=1e-4, abs_tol=1e-5):
                    raise Mismatch(f"{what}: score of {point} in group {group}: {score}")

    def compare_scored(self, what: str, kwargs: dict) -> None:
        """The same points with the same scores, best first on pointlog's side."""
        remote, local = self.both(
            "query_points",
            lambda c: c.query_points(self.name, limit=ALL, with_payload=False, **kwargs).points,
        )
        scores = [p.score for p in remote]
        if scores != sorted(scores, reverse=True):  # every query here scores higher first
            raise Mismatch(f"{what}: pointlog's scores are not best first: {scores}")
        remote_scores = {canonical(p.id): p.score for p in remote}
        local_scores = {canonical(p.id): p.score for p in local}
        self.same(what + " points", sorted(map(str, remote_scores)), sorted(map(str, local_scores)))
        for point, score in remote_scores.items():
            if not math.isclose(score, local_scores[point], rel_tol=1e-4, abs_tol=1e-5):
                raise Mismatch(f"{what}: score of {point}: {score} != {local_scores[point]}")

    def compare_fusion(self, flt: models.Filter | None) -> None:
        """rrf or dbsf over a dense and a sparse prefetch. A fused score depends on the ranks
        within each prefetch, and ties there are unspecified in Rust: compared only when local
        mode's prefetch answers (and the next point after each) have no tied scores (and tied
        fused scores in any order)."""
        rng = self.checker.rng
        prefetch = [
            models.Prefetch(query=self.checker.vector("a"), using="a", filter=flt, limit=5),
            models.Prefetch(query=self.checker.sparse(), using="s", limit=5),
        ]
        for one in prefetch:
            found = self.d.local.query_points(
                self.name, one.query, using=one.using, query_filter=flt, limit=one.limit + 1
            ).points  # one more: a tie at the cut-off counts too
            if len({round(p.score, 4) for p in found}) < len(found):  # ties, to float error
                return
        fusion = rng.choice([models.Fusion.RRF, models.Fusion.DBSF])
        what = f"{fusion} of {short(prefetch)}, filter={short(flt)}"
        remote, local = self.both(
            "query_points",
            lambda c: (
                c.query_points(
                    self.name,
                    prefetch=prefetch,
                    query=models.FusionQuery(fusion=fusion),
                    query_filter=flt,
                    limit=ALL,
                    with_payload=False,
                ).points
            ),
        )
        self.same(what, fused(remote), fused(local))

    def compare_mmr(self, flt: models.Filter | None) -> None:
        """MMR over up to 20 candidates on a random vector: the points in the order picked,
        with their nearest-search scores. Which candidate is picked among equals depends on the
        candidates' order, unspecified for tied scores in Rust: compared only when local mode's
        candidates have no tied scores."""
        rng = self.checker.rng
        using = rng.choice(NAMES)
        vector = self.checker.vector(using)
        if isinstance(vector, models.SparseVector):  # continuous values: see EXCLUDED
            vector.values = [rng.gauss(0, 1) for _ in vector.values]
        else:
            vector = [rng.gauss(0, 1) for _ in vector]
        candidates = self.d.local.query_points(
            self.name, vector, using=using, query_filter=flt, limit=21
        ).points  # one more: a tie at the cut-off counts too
        if len({round(p.score, 4) for p in candidates}) < len(candidates):
            return
        mmr = models.Mmr(diversity=round(rng.random(), 2), candidates_limit=20)
        query = models.NearestQuery(nearest=vector, mmr=mmr)
        what = f"mmr {short(query)} using {using}, filter={short(flt)}"
        remote, local = self.both(
            "query_points",
            lambda c: (
                c.query_points(
                    self.name, query, using=using, query_filter=flt, limit=8, with_payload=False
                ).points
            ),
        )
        self.same(what, *[[str(canonical(p.id)) for p in one] for one in (remote, local)])
        for mine, theirs in zip(remote, local, strict=True):
            if not math.isclose(mine.score, theirs.score, rel_tol=1e-4, abs_tol=1e-5):
                raise Mismatch(f"{what}: score of {mine.id}: {mine.score} != {theirs.score}")

    def compare_pages(self, limit: int, flt: models.Filter | None = None) -> None:
        offsets: tuple = (None, None)
        for _ in range(200):
            remote, local = self.both(
                "scroll page",
                lambda c, o=offsets: c.scroll(
                    self.name,
                    flt,
                    limit=limit,
                    offset=o[0] if c is self.d.remote else o[1],
                    with_payload=True,
                    with_vectors=True,
                ),
            )
            what = (
                f"scroll(filter={short(flt)}, limit={limit}, offset={offsets[0]!r}) "
                "with payload and vectors"
            )
            self.same(what, [record(r) for r in remote[0]], [record(r) for r in local[0]])
            self.same(f"next_page_offset of {what}", remote[1], local[1])
            if remote[1] is None:
                return
            offsets = (remote[1], local[1])
        raise Mismatch("scroll does not end")

    def compare_retrieve(self) -> None:
        rng = self.checker.rng
        ids = self.checker.ids(2, 8)
        with_payload = rng.choice(
            [
                True,
                False,
                ["k", "obj.x"],
                [],
                models.PayloadSelectorInclude(include=["items[].c", "obj", "missing"]),
                models.PayloadSelectorExclude(exclude=["items[].x", "nl", "obj.arr"]),
            ]
        )
        with_vectors = rng.choice([True, False, ["a"], ["b"]])
        remote, local = self.both(
            "retrieve",
            lambda c: c.retrieve(
                self.name, ids, with_payload=with_payload, with_vectors=with_vectors
            ),
        )
        what = f"retrieve({ids!r}, with_payload={short(with_payload)}, with_vectors={with_vectors})"
        # Local mode returns a duplicated id once per occurrence; Rust collapses duplicates to
        # the first occurrence: compare with local mode's duplicates collapsed.
        first: dict = {}
        for r in local:
            first.setdefault(r.id, r)
        self.same(what, [record(r) for r in remote], [record(r) for r in first.values()])

    def compare_order_by(self) -> None:
        rng = self.checker.rng
        ranged = {
            op.kwargs["field_name"]
            for op in self.ops
            if op.method == "create_payload_index"
            and op.kwargs["field_schema"]
            in (models.PayloadSchemaType.INTEGER, models.PayloadSchemaType.FLOAT)
        } & {"n", "f"}
        for key in sorted(ranged):
            desc = rng.random() < 0.5
            start = rng.choice([None, None, -1, 0.5, 2, 3.75, 5])
            order = models.OrderBy(
                key=key,
                direction=models.Direction.DESC if desc else models.Direction.ASC,
                start_from=start,
            )
            flt = self.checker.filter() if rng.random() < 0.4 else None
            remote, local = self.both(
                "order_by scroll",
                lambda c, o=order, f=flt: c.scroll(
                    self.name, f, limit=1000, order_by=o, with_payload=True
                )[0],
            )
            values = [r.order_value for r in remote]
            if values != sorted(values, reverse=desc):
                raise Mismatch(f"order_by {short(order)}: pointlog order values {values}")

            def tie_free(records: list) -> list:
                return sorted(
                    (record(r) for r in records), key=lambda x: (x["order_value"], str(x["id"]))
                )

            self.same(
                f"scroll(order_by={short(order)}, filter={short(flt)}) sorted by (value, id)",
                tie_free(remote),
                tie_free(local),
            )

    # -- running -----------------------------------------------------------------------------------

    def run(
        self, count: int, fixed: list[Op] | None = None, check_every: int = CHECK_EVERY
    ) -> None:
        """Generate (or replay `fixed`) operations, applying and comparing as they go."""
        generator = OpGenerator(random.Random(self.seed))
        # IDF counts documents per shard (as in Qdrant): on shards, `s` goes without it.
        sparse = SPARSE if self.shards == 1 else PLAIN_SPARSE
        self.d.remote.create_collection(
            self.name,
            vectors_config=VECTORS,
            sparse_vectors_config=sparse,
            shard_number=self.shards,
        )
        self.d.local.create_collection(
            self.name, vectors_config=VECTORS, sparse_vectors_config=sparse
        )
        try:
            total = count if fixed is None else len(fixed)
            for step in range(total):
                op = generator.next(self.state()) if fixed is None else fixed[step]
                self.ops.append(op)
                if fixed is None:
                    self.d.stats.operations += 1
                    if op.method == "batch_update_points":
                        self.d.stats.batch_operations += len(op.kwargs["update_operations"])
                self.apply(op)
                if (step + 1) % check_every == 0 and step + 1 < total:
                    self.compare()
            self.compare()
        finally:
            for side in (self.d.remote, self.d.local):
                side.delete_collection(self.name)


def replay(differ: Differ, seed: int, ops: list[Op], shards: int) -> Mismatch | None:
    sequence = Sequence(differ, f"shrink-{uuid.uuid4().hex[:12]}", seed, shards)
    try:
        sequence.run(len(ops), fixed=ops, check_every=1)
    except Mismatch as mismatch:
        return None if mismatch.local_raised else mismatch
    return None


def shrink(
    differ: Differ, seed: int, ops: list[Op], shards: int
) -> tuple[list[Op], Mismatch | None]:
    """Drop operations one at a time while the replay still shows a difference (local mode
    raising on a replay, because an op lost the point it updates, does not count)."""
    current, last = list(ops), None
    replays, changed = 0, True
    while changed and replays < MAX_SHRINK_REPLAYS:
        changed = False
        index = len(current) - 1
        while index >= 0 and replays < MAX_SHRINK_REPLAYS:
            candidate = current[:index] + current[index + 1 :]
            replays += 1
            found = replay(differ, seed, candidate, shards) if candidate else None
            if found is not None:
                current, last, changed = candidate, found, True
            index -= 1
    return current, last


@pytest.mark.parametrize("index", range(SEQUENCES), ids=lambda i: f"seq{i}")
def test_random_sequence_matches_local_mode(differ: Differ, name: str, index: int) -> None:
    run_sequence(differ, name, SEED + index, 1)


@pytest.mark.parametrize("index", range(SHARDED_SEQUENCES), ids=lambda i: f"seq{i}")
def test_random_sequence_on_shards_matches_local_mode(
    differ: Differ, name: str, index: int
) -> None:
    """The same on a collection of SHARDS shards: its answers merged from the shards equal
    local mode's (one collection)."""
    run_sequence(differ, name, SHARDED_SEED + index, SHARDS)


def run_sequence(differ: Differ, name: str, seed: int, shards: int) -> None:
    sequence = Sequence(differ, name, seed, shards)
    differ.stats.sequences += 1
    try:
        sequence.run(OPS)
    except Mismatch as error:
        mismatch = error
    else:
        return
    differ.stats.failed.append(seed)
    trace = "\n".join(f"  #{n} {op}" for n, op in enumerate(sequence.ops))
    report = f"seed {seed} on {shards} shard(s), after {len(sequence.ops)} operations: {mismatch}"
    report += f"\n{trace}"
    if differ.stats.shrinks_left > 0 and not mismatch.local_raised:
        differ.stats.shrinks_left -= 1
        ops, last = shrink(differ, seed, sequence.ops, shards)
        if last is not None:
            minimal = "\n".join(f"  {op}" for op in ops)
            report += f"\nminimised to {len(ops)} operations:\n{minimal}\n  -> {last}"
    pytest.fail(report, pytrace=False)
