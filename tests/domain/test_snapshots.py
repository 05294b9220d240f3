"""Snapshots: a projection at a checkpoint, stored and recovered whole; a recovered collection
goes on from the snapshot's checkpoint, and a replay of it starts from its base."""

from __future__ import annotations

import threading

import orjson
import pytest

from projections import collections, events, snapshots
from projections import keys as K
from projections.apply import apply_batch
from projections.collections import Collection
from projections.errors import NotFound
from projections.keys import Keys
from projections.snapshot_format import NotASnapshot
from projections.snapshot_store import SnapshotStore
from tests.domain.writes import settle, write
from workers.replay import compare


def fill(r, col: Collection, first: int, n: int) -> None:
    points = [
        {"id": i, "vector": {"a": [i, 1], "b": [1, -i]}, "payload": {"city": f"c{i % 3}", "n": i}}
        for i in range(first, first + n)
    ]
    write(r, col, events.add_upsert, {"points": points})


@pytest.fixture
def indexed(r, col: Collection) -> Collection:
    """The collection with payload indexes and points, all applied."""
    write(r, col, events.add_create_index, {"field_name": "city", "field_schema": "keyword"})
    write(r, col, events.add_create_index, {"field_name": "n", "field_schema": "integer"})
    fill(r, col, 0, 30)
    write(r, col, events.add_delete, {"points": [3]})
    settle(r, col)
    return col


def rebuilt_until(r, col: Collection, checkpoint: int) -> Keys:
    """The projection as the log says it was at `checkpoint` (a replay up to there)."""
    keys = col.keys.rebuild()
    r.set(keys.applied, 0)
    while apply_batch(r, col, 64, keys, until=checkpoint) is not None:
        pass
    return keys


def test_a_recovered_snapshot_is_the_projection_at_its_checkpoint(r, indexed, kept) -> None:
    taken = snapshots.take(r, indexed, kept)
    fill(r, indexed, 100, 5)  # later writes are not in it
    settle(r, indexed)
    with kept.open(indexed.name, taken.name) as source:
        recovered = snapshots.recover(r, f"{indexed.name}-copy", source, kept)
    assert taken.checkpoint == int(r.get(recovered.keys.applied)) == 4
    assert compare(r, indexed, rebuilt_until(r, indexed, taken.checkpoint), recovered.keys) == []
    assert r.keys(f"pl:{{{indexed.cid}}}:snap:*") == []  # its copies are gone
    assert [d.name for d in kept.listed(indexed.name)] == [taken.name]


def test_a_recovered_collection_goes_on_from_the_checkpoint(r, indexed, kept) -> None:
    taken = snapshots.take(r, indexed, kept)
    with kept.open(indexed.name, taken.name) as source:
        recovered = snapshots.recover(r, indexed.name, source, kept)  # in place
    assert recovered.cid != indexed.cid and r.get(indexed.keys.seq) is None
    appended = write(r, recovered, events.add_delete, {"points": [0]})
    assert appended.first_op == taken.checkpoint
    settle(r, recovered)
    assert r.zcard(recovered.keys.ids) == 28
    base = recovered.keys.rebuild()
    start = snapshots.seed(r, recovered, 0, base, kept, latest=False)  # what a replay starts from
    assert start == taken.checkpoint
    r.set(base.applied, start)
    while apply_batch(r, recovered, 64, base) is not None:
        pass
    assert compare(r, recovered, recovered.keys, base) == []


def test_a_replay_may_start_from_the_latest_own_snapshot(r, indexed, kept) -> None:
    early = snapshots.take(r, indexed, kept)
    fill(r, indexed, 50, 3)
    settle(r, indexed)
    late = snapshots.take(r, indexed, kept)
    assert late.checkpoint > early.checkpoint
    keys = indexed.keys.rebuild()
    assert snapshots.seed(r, indexed, 0, keys, kept, latest=True) == late.checkpoint
    assert snapshots.seed(r, collections.load(r, indexed.name), 0, Keys(999), kept, False) == 0


def test_a_damaged_snapshot_changes_nothing(r, indexed, kept, tmp_path) -> None:
    taken = snapshots.take(r, indexed, kept)
    with kept.open(indexed.name, taken.name) as source:
        data = bytearray(source.read())
    data[-3] ^= 0xFF
    damaged = tmp_path / "damaged.snapshot"
    damaged.write_bytes(bytes(data))
    registry = r.hgetall("pl:collections")
    with damaged.open("rb") as source, pytest.raises(NotASnapshot, match="damaged"):
        snapshots.recover(r, indexed.name, source, kept)
    assert r.hgetall("pl:collections") == registry


def test_snapshots_are_listed_described_and_deleted(r, indexed, kept: SnapshotStore) -> None:
    taken = snapshots.take(r, indexed, kept)
    [listed] = kept.listed(indexed.name)
    assert listed == taken and listed.size > 0 and len(listed.checksum or "") == 64
    assert orjson.loads(orjson.dumps(listed.shown()))["name"] == taken.name
    kept.delete(indexed.name, taken.name)
    assert kept.listed(indexed.name) == []
    with pytest.raises(NotFound):
        kept.delete(indexed.name, taken.name)


def test_a_snapshot_taken_while_a_worker_commits_holds_one_checkpoint(r, indexed, kept) -> None:
    for start in range(200, 500, 2):
        fill(r, indexed, start, 2)
        write(r, indexed, events.add_set_payload, {"payload": {"k": start}, "points": [0, 1]})
    done = threading.Event()

    def worker() -> None:  # applies one event per commit, as fast as it can
        while apply_batch(r, indexed, max_events=1) is not None:
            pass
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    taken = []
    while not done.is_set() or len(taken) < 3:
        taken.append(snapshots.take(r, indexed, kept))
    thread.join()
    for description in taken:
        with kept.open(indexed.name, description.name) as source:
            copy = snapshots.recover(r, f"{indexed.name}-{description.checkpoint}", source, kept)
        expected = rebuilt_until(r, indexed, description.checkpoint)
        assert compare(r, indexed, expected, copy.keys) == [], description.checkpoint
        r.delete(*r.keys(f"pl:{{{indexed.cid}}}:rebuild:*"))


def test_recovering_into_an_alias_name_is_refused_and_leaves_nothing(r, indexed, kept) -> None:
    taken = snapshots.take(r, indexed, kept)
    r.hset(K.ALIASES, "nick", indexed.name)
    before = set(r.keys("pl:{*"))
    with kept.open(indexed.name, taken.name) as source, pytest.raises(Exception, match="Alias"):
        snapshots.recover(r, "nick", source, kept)
    assert set(r.keys("pl:{*")) == before
    assert kept.listed("nick") == []
