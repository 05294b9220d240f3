"""The key layout. All keys of one collection share the hash tag `{cid}`, so every script and
transaction of a collection touches one Redis Cluster slot. The cid is assigned at creation:
a re-created collection starts a fresh keyspace and stale jobs for the old cid find nothing.

The projection's keys (and its checkpoint) can live under a prefix: `replay` builds a second
projection under `rebuild:` beside the live one, then renames it over the live keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The registry's keys, used together by its scripts and transactions, share one slot on a
# Redis Cluster: the aliases' hash tag is the registry's own name. They are global by design
# (every process reads them), so they live on one node whatever the cluster's size.
COLLECTIONS = "pl:collections"  # hash: name -> collection config JSON (with its cid)
ALIASES = "{pl:collections}:aliases"  # hash: alias -> collection name (aliases.py)
FORMER_ALIASES = "pl:aliases"  # where the aliases lived before: moved at a process's start
NEXT_CID = "pl:next_cid"  # string: last assigned collection id
ISSUES = "pl:issues"  # hash: issue id -> the issue (JSON), as `GET /issues` shows it (issues.py)
INSTANCE = "pl:instance"  # string: this deployment's id (a UUID), shown by /telemetry
APPLIED_CHANNEL_PATTERN = "pl:*:applied"
REBUILD = "rebuild:"


@dataclass(frozen=True)
class Keys:
    cid: int
    projection: str = ""  # "" for the live projection, REBUILD for one being replayed

    def _key(self, suffix: str) -> str:
        return f"pl:{{{self.cid}}}:{suffix}"

    def suffix_of(self, key: str) -> str:
        """A projection key's name without its collection and projection prefixes (how a
        snapshot names it, to restore it under any cid)."""
        return key.removeprefix(self._projected(""))

    def projected(self, suffix: str) -> str:
        """The projection's key of a suffix (`suffix_of`'s inverse)."""
        return self._projected(suffix)

    def copy(self, token: str) -> Keys:
        """The keys of a copy of this projection (a snapshot being taken)."""
        return Keys(self.cid, f"snap:{token}:")

    def _projected(self, suffix: str) -> str:
        return self._key(self.projection + suffix)

    @property
    def live(self) -> bool:
        return self.projection == ""

    def rebuild(self) -> Keys:
        return Keys(self.cid, REBUILD)

    # ---- the log and its bookkeeping (one per collection) ----------------------------------

    @property
    def seq(self) -> str:
        """Operations appended so far (the next operation_id); exists while the collection does."""
        return self._key("seq")

    @property
    def log(self) -> str:
        """The stream of events; an event's entry id is `<seq after it>-1`."""
        return self._key("log")

    @property
    def log_bytes(self) -> str:
        """The size of the events the stream holds (segments.raw_size), for retention."""
        return self._key("log_bytes")

    @property
    def archived(self) -> str:
        """Operations below this id are in the archive, no longer in the stream (absent: 0)."""
        return self._key("archived")

    @property
    def archiver(self) -> str:
        """Held by the one worker moving this collection's old entries to the archive."""
        return self._key("archiver")

    @property
    def config(self) -> str:
        """String: the collection's config as changed since creation, JSON
        `{"version": n, "config": {...}}` (config_changes.py); absent: as created."""
        return self._key("config")

    @property
    def version(self) -> str:
        """How many times the config changed (absent: 0). Every append checks it against the
        config its event was validated with, and every read against the config it plans with."""
        return self._key("version")

    @property
    def kick(self) -> str:
        """Set while a catch-up job is queued or running, so writes don't pile up jobs."""
        return self._key("kick")

    @property
    def lease(self) -> str:
        """Held by the one worker applying this collection's log."""
        return self._key("lease")

    @property
    def pause(self) -> str:
        """Set while `replay` needs the lease: workers do not take it meanwhile."""
        return self._key("pause")

    @property
    def changes(self) -> str:
        """Stream: what each commit of the live projection changed (see changes.py)."""
        return self._key("changes")

    @property
    def resolved(self) -> str:
        """Hash: operation_id -> the points (JSON) an operation selecting them by a filter
        touched, as applied; for point history, until the archive holds the operation."""
        return self._key("resolved")

    @property
    def channel(self) -> str:
        """Pub/sub channel announcing each new checkpoint of the live projection."""
        return self._key("applied")

    # ---- the projection -----------------------------------------------------------------------

    @property
    def applied(self) -> str:
        """The checkpoint: number of operations applied to the projection."""
        return self._projected("applied")

    @property
    def schema(self) -> str:
        """The config as of the checkpoint (absent: the config the collection was created
        with): what the worker applies the next events with."""
        return self._projected("schema")

    @property
    def errors(self) -> str:
        """Hash: operation_id -> the error it met when applied (only failed ones)."""
        return self._projected("errors")

    @property
    def payload(self) -> str:
        """Hash: point key -> payload JSON. Every live point has an entry."""
        return self._projected("payload")

    @property
    def ids(self) -> str:
        """Sorted set (all scores 0): point keys in Qdrant's id order, for scroll."""
        return self._projected("ids")

    @property
    def indexes(self) -> str:
        """Hash: payload index field -> its schema JSON."""
        return self._projected("indexes")

    @property
    def index_points(self) -> str:
        """Hash: payload index field -> number of points that have a value for it."""
        return self._projected("index_points")

    @property
    def stats(self) -> str:
        """Hash of counters kept with each commit: `ops` applied, `batches` committed."""
        return self._projected("stats")

    def vectors(self, name: str) -> str:
        """Hash: point key -> the vector `name` as bytes (unnamed vector: name "")."""
        return self._projected(f"vec:{name}")

    @property
    def indexed(self) -> str:
        """Set: the index fields whose data (index_data.py) is complete. The planner serves
        filters from no other index: one built by an older layout, without this data, scans."""
        return self._projected("indexed")

    @property
    def builds(self) -> str:
        """Hash: field -> `[last point key built, points counted]` of an index being built, a
        slice per commit (index_data.py); the field has no definition in `indexes` meanwhile."""
        return self._projected("builds")

    # ---- a payload index's data (index_data.py says what each kind keeps) -------------------
    # A field name never makes two of these keys equal: a valid path has `:` only inside a
    # quoted key, so no prefix of one path ending just before a `:` is itself a valid path.

    def ranged(self, field: str) -> str:
        """Sorted set of an integer/float/datetime index: `<point key>|<n>` scored by value."""
        return self._projected(f"range:{field}")

    def strays(self, field: str) -> str:
        """Sorted set of an integer index with `range`: the field's other (float) numbers,
        `<point key>|<n>` scored by value, for range filters (order_by never reads it)."""
        return self._projected(f"strays:{field}")

    def term(self, field: str, term: str) -> str:
        """Set: the points whose value (or text token) `term`, as JSON, the index holds."""
        return self._projected(f"term:{field}:{term}")

    def terms(self, field: str) -> str:
        """Set: the terms of the field whose `term` set is not empty (enumerates them)."""
        return self._projected(f"terms:{field}")

    def geo(self, field: str) -> str:
        """GEO set of a geo index: `<point key>|<n>` at the point's n-th location."""
        return self._projected(f"geo:{field}")

    def geo_outside(self, field: str) -> str:
        """Set: `<point key>|<n>` of the locations the GEO set cannot place (poles, |lon| > 180)."""
        return self._projected(f"geo_outside:{field}")

    def index_keys(self, field: str, terms: Iterable[str] = ()) -> list[str]:
        """Every key of one index's data, given the terms its `terms` set holds."""
        own = [self.ranged(field), self.strays(field), self.geo(field), self.geo_outside(field)]
        return [*own, self.terms(field), *(self.term(field, t) for t in terms)]

    def projection_keys(
        self, vector_names: list[str], indexes: Mapping[str, Iterable[str]]
    ) -> list[str]:
        """Every key of the projection except the checkpoint; `indexes`: the fields with index
        data, each with its terms."""
        fixed = [self.errors, self.payload, self.ids, self.indexes, self.index_points, self.stats]
        data = [k for f, terms in indexes.items() for k in self.index_keys(f, terms)]
        own = [*fixed, self.schema, self.indexed, self.builds]
        return [*own, *(self.vectors(n) for n in vector_names), *data]

    def all_keys(self, vector_names: list[str], indexes: Mapping[str, Iterable[str]]) -> list[str]:
        own = [self.seq, self.log, self.log_bytes, self.archived, self.archiver, self.kick]
        own += [self.lease, self.pause, self.changes, self.resolved, self.applied]
        own += [self.config, self.version]
        return own + self.projection_keys(vector_names, indexes)


def cid_of_channel(channel: bytes) -> int:
    """The cid in a channel name `pl:{<cid>}:applied`."""
    return int(channel[channel.index(b"{") + 1 : channel.index(b"}")])
