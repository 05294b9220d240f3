"""The key layout. All keys of one collection share the hash tag `{cid}`, so every script and
transaction of a collection touches one Redis Cluster slot. The cid is assigned at creation:
a re-created collection starts a fresh keyspace and stale jobs for the old cid find nothing."""

from __future__ import annotations

from dataclasses import dataclass

COLLECTIONS = "pl:collections"  # hash: name -> collection config JSON (with its cid)
NEXT_CID = "pl:next_cid"  # string: last assigned collection id
APPLIED_CHANNEL_PATTERN = "pl:*:applied"


@dataclass(frozen=True)
class Keys:
    cid: int

    def _key(self, suffix: str) -> str:
        return f"pl:{{{self.cid}}}:{suffix}"

    @property
    def seq(self) -> str:
        """Operations appended so far (the next operation_id); exists while the collection does."""
        return self._key("seq")

    @property
    def log(self) -> str:
        """The stream of events; an event's entry id is `<seq after it>-1`."""
        return self._key("log")

    @property
    def applied(self) -> str:
        """The checkpoint: number of operations applied to the projection."""
        return self._key("applied")

    @property
    def errors(self) -> str:
        """Hash: operation_id -> the error it met when applied (only failed ones)."""
        return self._key("errors")

    @property
    def payload(self) -> str:
        """Hash: point key -> payload JSON. Every live point has an entry."""
        return self._key("payload")

    @property
    def ids(self) -> str:
        """Sorted set (all scores 0): point keys in Qdrant's id order, for scroll."""
        return self._key("ids")

    @property
    def indexes(self) -> str:
        """Hash: payload index field -> its schema JSON (part of the projection)."""
        return self._key("indexes")

    @property
    def index_points(self) -> str:
        """Hash: payload index field -> number of points that have a value for it."""
        return self._key("index_points")

    def ranged(self, field: str) -> str:
        """Sorted set of an integer/float/datetime index: `<point key>|<n>` scored by value."""
        return self._key(f"range:{field}")

    @property
    def stats(self) -> str:
        """Hash of counters kept with each commit: `ops` applied, `batches` committed."""
        return self._key("stats")

    @property
    def kick(self) -> str:
        """Set while a catch-up job is queued or running, so writes don't pile up jobs."""
        return self._key("kick")

    @property
    def lease(self) -> str:
        """Held by the one worker applying this collection's log."""
        return self._key("lease")

    @property
    def channel(self) -> str:
        """Pub/sub channel announcing each new checkpoint."""
        return self._key("applied")

    def vectors(self, name: str) -> str:
        """Hash: point key -> the vector `name` as bytes (unnamed vector: name "")."""
        return self._key(f"vec:{name}")

    def all_keys(self, vector_names: list[str], index_fields: list[str]) -> list[str]:
        fixed = [self.seq, self.log, self.applied, self.errors, self.payload, self.ids, self.stats]
        fixed += [self.indexes, self.index_points, self.kick, self.lease]
        return (
            fixed + [self.vectors(n) for n in vector_names] + [self.ranged(f) for f in index_fields]
        )


def cid_of_channel(channel: bytes) -> int:
    """The cid in a channel name `pl:{<cid>}:applied`."""
    return int(channel[channel.index(b"{") + 1 : channel.index(b"}")])
