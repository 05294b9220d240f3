"""Where a collection's shards live, and which shard holds a point.

Each shard is a keyspace of its own cid, whose hash tag `{cid}` puts all its keys in one
slot (keys.py). On a cluster the cids of a new collection's shards are chosen so their slots
sit on different primaries (as evenly as the primaries allow): cids are drawn one after
another and one whose slot lands on a primary already holding its share is passed over.
Chance alone would put three shards on three primaries about a fifth of the time.

When the cluster is resharded later, a shard's slot moves whole to its new node, as any
slot does: the shards stay intact but may come to share a node (`pointlog status` shows each
shard's node). Points never move between shards: a point's shard depends on its id and the
collection's shard count alone.
"""

from __future__ import annotations

import zlib
from collections import Counter

import redis

from projections import keys as K
from projections.cluster_client import node_of
from projections.keys import Keys

# Draws per shard before a cid is taken wherever it lands (a cluster whose slots are very
# unevenly spread may have no free slot of a primary near the next cids).
DRAWS_PER_SHARD = 64


def fresh_cids(r: redis.Redis | redis.RedisCluster, shards: int) -> list[int]:
    """The cids of a new collection's `shards` shards."""
    if shards == 1 or not isinstance(r, redis.RedisCluster):
        last = int(r.incrby(K.NEXT_CID, shards))
        return list(range(last - shards + 1, last + 1))
    primaries = [node.name for node in r.get_primaries()]
    share = -(-shards // len(primaries))  # the most shards a primary is to hold
    held: Counter[str] = Counter()
    cids: list[int] = []
    for _ in range(DRAWS_PER_SHARD * shards):
        cid = int(r.incr(K.NEXT_CID))
        node = node_of(r, Keys(cid).seq)
        if held[node] < share:
            held[node] += 1
            cids.append(cid)
            if len(cids) == shards:
                return cids
    return cids + [int(r.incr(K.NEXT_CID)) for _ in range(shards - len(cids))]


def shard_of(key: str, shards: int) -> int:
    """The shard holding the point of this key (ids.to_key's form): a stable hash of it."""
    return zlib.crc32(key.encode()) % shards if shards > 1 else 0
