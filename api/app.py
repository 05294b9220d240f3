"""The Falcon application: `create_app()` is what `waitress-serve --call` runs."""

from __future__ import annotations

from datetime import UTC, datetime

import falcon
import redis

from api import http, unsupported
from api.aliases import AliasChanges, AliasList, CollectionAliases
from api.auth import ApiKeys
from api.changes import Changes
from api.collections import (
    CollectionCluster,
    CollectionExists,
    CollectionItem,
    CollectionList,
)
from api.config import VectorName
from api.context import Context
from api.facet import Facet
from api.history import PointHistory
from api.issues import Issues
from api.matrix import MatrixOffsets, MatrixPairs
from api.metrics import Metrics
from api.optimizations import Optimizations
from api.points import (
    Batch,
    ClearPayload,
    Count,
    DeletePayload,
    DeletePoints,
    DeleteVectors,
    Index,
    Payload,
    Point,
    Points,
    Scroll,
    Vectors,
)
from api.queries import Classic, Groups, Query, QueryBatch
from api.query_body import discover_stage, query_stage, recommend_stage, search_stage
from api.request_log import RequestLog
from api.request_stats import RequestStats
from api.service import Cluster, Live, Ready, Root
from api.snapshots import (
    CollectionSnapshot,
    CollectionSnapshots,
    FullSnapshot,
    FullSnapshots,
    SnapshotRecover,
    SnapshotUpload,
)
from api.telemetry import Telemetry
from api.unsupported import NotServed
from api.writes import Writer
from projections import aliases, collections, jobs, json_logging, memory, reads, store
from projections.archive import open_archive
from projections.memory import WriteLimit
from projections.progress import Progress
from projections.replication import Replication
from projections.settings import Settings
from projections.snapshot_store import SnapshotStore
from projections.vector_model import VectorModels


def create_app(
    settings: Settings | None = None, r: redis.Redis | None = None
) -> falcon.App[falcon.Request, falcon.Response]:
    """The WSGI app. Without `r` it connects to `settings.redis_url`; tests may pass a client
    of their own (any Redis-compatible one, fakeredis included)."""
    settings = settings or Settings.from_env()
    json_logging.configure()
    if r is None:
        # Every web thread may hold two connections (a query asks for its collection's
        # position ahead on one: reads.py), plus the progress subscriber and kicks.
        r = store.connect(
            settings.redis_url, 2 * settings.web_threads + 8, settings.redis_ssl_cert_reqs
        )
    aliases.move_former_key(r)
    memory.refuse_eviction(r, settings.allow_eviction)
    progress = Progress(r)
    vectors = VectorModels(r, settings.vector_cache_mb * 1024 * 1024)
    limit = WriteLimit(r, settings.memory_write_limit, settings.allow_eviction)
    stats = RequestStats()
    metrics = Metrics(r, vectors, limit, stats)
    queue = jobs.queue(jobs.queue_store(settings, r, settings.web_threads + 8), settings.queue_name)
    replication = None
    if settings.append_replicas:
        replication = Replication(settings.append_replicas, settings.append_replicas_timeout_ms)
    writer = Writer(
        r, queue, progress, settings.default_wait_seconds, metrics.waits, limit, replication
    )
    candidates = reads.kept_candidates()
    ctx = Context(r, settings, progress, writer, collections.Cache(r), vectors, candidates)

    keys = ApiKeys(settings.api_key, settings.read_only_api_key)
    requests = RequestLog(settings.request_log, settings.request_log_min_ms)
    app = falcon.App(middleware=(http.Timing(), http.StaleWarning(), keys, metrics, requests))
    app.req_options.strip_url_path_trailing_slash = True
    http.install(app)
    app.add_route("/", Root())
    app.add_route("/healthz", Live())
    app.add_route("/livez", Live())
    app.add_route("/readyz", Ready(ctx, limit))
    app.add_route("/metrics", metrics)
    app.add_route("/telemetry", Telemetry(ctx, stats, datetime.now(UTC)))
    app.add_route("/issues", Issues(ctx))
    app.add_route("/collections", CollectionList(ctx))
    app.add_route("/collections/aliases", AliasChanges(ctx))
    app.add_route("/aliases", AliasList(ctx))
    app.add_route("/collections/{name}/aliases", CollectionAliases(ctx))
    app.add_route("/collections/{name}", CollectionItem(ctx))
    app.add_route("/collections/{name}/exists", CollectionExists(ctx))
    app.add_route("/collections/{name}/cluster", CollectionCluster(ctx))
    app.add_route("/collections/{name}/vectors/{vector}", VectorName(ctx))
    app.add_route("/collections/{name}/optimizations", Optimizations(ctx))
    kept = SnapshotStore(settings.snapshot_store_url)
    app.add_route("/collections/{name}/snapshots", CollectionSnapshots(ctx, kept))
    app.add_route("/collections/{name}/snapshots/{snapshot}", CollectionSnapshot(ctx, kept))
    app.add_route("/collections/{name}/snapshots/recover", SnapshotRecover(ctx, kept))
    app.add_route("/collections/{name}/snapshots/upload", SnapshotUpload(ctx, kept))
    app.add_route("/snapshots", FullSnapshots(ctx, kept))
    app.add_route("/snapshots/{snapshot}", FullSnapshot(kept))
    app.add_route("/cluster", Cluster())
    archive = open_archive(settings.archive_url)
    app.add_route("/collections/{name}/changes", Changes(ctx, archive))
    points = "/collections/{name}/points"
    app.add_route(points, Points(ctx))
    app.add_route(points + "/{point_id}", Point(ctx))
    app.add_route(points + "/{point_id}/history", PointHistory(ctx, archive))
    app.add_route(points + "/delete", DeletePoints(ctx))
    app.add_route(points + "/payload", Payload(ctx))
    app.add_route(points + "/payload/delete", DeletePayload(ctx))
    app.add_route(points + "/payload/clear", ClearPayload(ctx))
    app.add_route(points + "/vectors", Vectors(ctx))
    app.add_route(points + "/vectors/delete", DeleteVectors(ctx))
    app.add_route(points + "/batch", Batch(ctx))
    index = Index(ctx)
    app.add_route("/collections/{name}/index", index)
    app.add_route("/collections/{name}/index/{field}", index, suffix="field")
    app.add_route(points + "/scroll", Scroll(ctx))
    app.add_route(points + "/count", Count(ctx))
    app.add_route("/collections/{name}/facet", Facet(ctx))
    app.add_route(points + "/search/matrix/pairs", MatrixPairs(ctx))
    app.add_route(points + "/search/matrix/offsets", MatrixOffsets(ctx))
    app.add_route(points + "/query", Query(ctx))
    app.add_route(points + "/query/batch", QueryBatch(ctx))
    app.add_route(points + "/query/groups", Groups(ctx, query_stage, classic=False))
    search = Classic(ctx, search_stage)
    app.add_route(points + "/search", search)
    app.add_route(points + "/search/batch", search, suffix="batch")
    app.add_route(points + "/search/groups", Groups(ctx, search_stage, classic=True))
    recommend = Classic(ctx, recommend_stage)
    app.add_route(points + "/recommend", recommend)
    app.add_route(points + "/recommend/batch", recommend, suffix="batch")
    app.add_route(points + "/recommend/groups", Groups(ctx, recommend_stage, classic=True))
    discover = Classic(ctx, discover_stage)
    app.add_route(points + "/discover", discover)
    app.add_route(points + "/discover/batch", discover, suffix="batch")
    for template, what in unsupported.ROUTES.items():
        app.add_route(template, NotServed(what))
    return app
