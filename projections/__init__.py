"""The domain core: events, the log, the projection, and the queries served from it. It knows
Redis (and RQ's queue, in `jobs.py` only), never HTTP.

Where a write goes:
1. **validated**: `events.py` turns a request body into an event, checked against the
   collection (`collections.py`: configs and the registry), with ids (`ids.py`), vectors
   (`vectors.py`), payload paths (`jsonpath.py`), filters (`filters.py`) and index
   definitions (`indexes.py`). Bad input raises an error of `errors.py`; nothing is appended.
2. **appended**: `log.py` gives the event its operation ids and adds it to the collection's
   stream in one script (then, with APPEND_REPLICAS, waits for replicas: `replication.py`);
   `jobs.py` queues the catch-up job that the append's kick asks for.
3. **applied**: a worker's `apply.py` computes a batch of events against `staging.py` (the
   projection as the batch changes it) and commits writes and checkpoint in one MULTI/EXEC,
   with the payload indexes' data (`index_data.py`). `keys.py` is the key layout of all of it.
4. **read**: `reads.py` (by id, scroll, count) and `search.py` (nearest points) read the
   projection after read-your-writes, as do `facets.py` (points per value of an indexed key)
   and `distance_matrix.py` (a random sample's nearest pairs); `progress.py` wakes whoever
   waits for a checkpoint.
   `planner.py` serves filters from the payload indexes (reads and the workers' operations by
   filter alike), from what the compiled filter tells it (`hints.py`; `geo_index.py` for geo).
   Each commit also records what it changed in the change feed (`changes.py`); a web process
   follows it to keep its vector read model (`vector_model.py`: a `vector_table.py` per vector
   name, or a `sparse_table.py` inverted index per sparse one, an HNSW graph of `hnsw.py` past
   the full-scan threshold; `lowest.py` picks a search's best rows), and keeps what it derived
   from the projection while it holds (`kept.py`: a filter's candidates, and the rows a
   filter matches in the read model, `filter_rows.py`).

The log over time: `event_format.py` versions each stored entry and upcasts old ones;
`retention.py` moves old applied entries out of the stream into the archive (`archive.py`,
any fsspec URL) as checked segment files (`segments.py`), each with an index of the points
its operations touched (`segment_index.py`); `operations_feed.py` (the users' change feed)
and `point_history.py` read the archive, then the stream. `memory.py` keeps Redis from
evicting or filling up; `consistency.py` says what a read that waited too long answers.
Other names for collections: `aliases.py`; `slices.py` is the `slice` condition's hash.

A collection of several shards (`shard_number`): `shard_placement.py` picks its shards' cids
(on a cluster, on different primaries) and the shard of each point; `shard_events.py` splits
an event into one per shard; `shard_reads.py` (by id, scroll, count, facets) and
`shard_queries.py` (the universal query, groups) merge the shards' answers.

The connection: `store.py` connects to one server or, asking it first, to the Redis Cluster
it belongs to (`cluster_client.py`: redis-py's cluster client adjusted for commands of one
slot); `packer.py` writes commands to the wire with hiredis.

Operating collections: `config_changes.py` turns a PATCH, or a vector name added or removed,
into the config it leaves (appended as an event, `log.py`); `strict_mode.py` enforces a
collection's strict mode; `snapshots.py` takes and recovers snapshots (`snapshot_format.py`,
kept by `snapshot_store.py`; every collection at once: `full_snapshots.py`); `issues.py`
keeps what `GET /issues` reports; `figures.py` says where each collection and shard stands
(appended, applied, points), for status, metrics and the workers' sweep.

The filter language is `filters.py`, with its parts: `ranges.py` (numeric bounds, compared
as f64), `datetimes.py`, `geo.py`, `text.py` (full-text tokens), `prechecks.py` (byte-level
tests, made by the compiler, that skip parsing payloads that cannot match); `payloads.py`
edits payloads and selects what a read returns; `jsontypes.py` names JSON types as Qdrant's
errors do.
"""
