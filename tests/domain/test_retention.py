"""Retention: the hot log moves its oldest applied entries to the archive, and everything that
reads the log (a replay, the change feed) still reads all of it, in order."""

from __future__ import annotations

import pytest

from projections import events, log, operations_feed, retention
from projections.apply import apply_batch
from projections.archive import Archive, ArchiveUnavailable
from projections.retention import Limits
from tests.domain.writes import settle, write
from workers.replay import compare

NO_BYTE_LIMIT = 1024.0  # megabytes: only the operations limit applies


def upsert(r, col, point_id: int, x: int) -> None:
    body = {"points": [{"id": point_id, "vector": {"a": [x, 1]}, "payload": {"x": x}}]}
    write(r, col, events.add_upsert, body)


def fill(r, col, count: int) -> None:
    """`count` upserts over 5 points, applied."""
    for i in range(count):
        upsert(r, col, i % 5, i)
    settle(r, col)


def stream_entries(r, col) -> list:
    return log.entries_after(r, col.keys, 0, 10_000)


def everything(r, col, archive) -> list:
    """Every entry of the log: from the archive's segments, then the stream."""
    found = [e for span in archive.spans(col.cid) for e in archive.read(col.cid, span).entries]
    return found + stream_entries(r, col)


def test_the_oldest_applied_entries_move_to_segments_and_nothing_is_lost(r, col, archive):
    fill(r, col, 30)
    before = stream_entries(r, col)
    moved = retention.move_out(r, col.keys, archive, Limits(8, NO_BYTE_LIMIT))
    assert moved == 1
    hot = retention.hot_log(r, col.keys)
    assert hot.operations == 8  # back within the limit
    assert len(stream_entries(r, col)) == 8
    [span] = archive.spans(col.cid)
    assert (span.first, span.last) == (0, 21)
    assert everything(r, col, archive) == before


def test_a_hot_log_within_its_limits_or_just_past_them_stays(r, col, archive):
    fill(r, col, 10)
    assert retention.move_out(r, col.keys, archive, Limits(10, NO_BYTE_LIMIT)) == 0
    # 10 operations against a limit of 9: past it by less than a segment's share
    assert retention.move_out(r, col.keys, archive, Limits(9, NO_BYTE_LIMIT)) == 0
    assert archive.spans(col.cid) == []


def test_entries_not_yet_applied_never_move(r, col, archive):
    fill(r, col, 10)
    for i in range(10):
        upsert(r, col, i, i)  # appended, not applied
    retention.move_out(r, col.keys, archive, Limits(0, NO_BYTE_LIMIT))
    assert retention.hot_log(r, col.keys).archived == 10
    assert len(stream_entries(r, col)) == 10
    settle(r, col)  # the workers still find them
    assert retention.hot_log(r, col.keys).applied == 20


def test_the_byte_limit_moves_entries_out_too(r, col, archive):
    fill(r, col, 40)
    size = retention.hot_log(r, col.keys).bytes
    limits = Limits(10_000, size / 4 / 1024 / 1024)
    retention.move_out(r, col.keys, archive, limits)
    hot = retention.hot_log(r, col.keys)
    assert 0 < hot.bytes <= size / 4
    assert hot.bytes == sum(
        len(f[b"h"]) + len(f[b"b"]) for _, f in stream_entries(r, col)
    )  # the count follows what the stream holds


def test_a_replay_reads_the_archive_then_the_stream_and_equals_the_live_projection(r, col, archive):
    fill(r, col, 40)
    write(r, col, events.add_delete, {"points": [3]})
    settle(r, col)
    retention.move_out(r, col.keys, archive, Limits(5, NO_BYTE_LIMIT))
    rebuilt = col.keys.rebuild()
    r.set(rebuilt.applied, 0)
    while apply_batch(r, col, 7, rebuilt, archive=archive) is not None:
        pass
    assert int(r.get(rebuilt.applied)) == 41
    assert compare(r, col, col.keys, rebuilt) == []


def test_reading_archived_entries_without_the_archive_is_refused(r, col, archive):
    fill(r, col, 20)
    retention.move_out(r, col.keys, archive, Limits(2, NO_BYTE_LIMIT))
    rebuilt = col.keys.rebuild()
    r.set(rebuilt.applied, 0)
    with pytest.raises(log.ArchiveNeeded, match="ARCHIVE_URL"):
        apply_batch(r, col, 7, rebuilt)


def test_an_archiver_stopped_before_its_trim_is_finished_by_the_next(r, col, archive):
    fill(r, col, 30)
    before = stream_entries(r, col)
    archive.write(col.cid, 0, before[:12])  # stored and checked, then the archiver died
    retention.move_out(r, col.keys, archive, Limits(8, NO_BYTE_LIMIT))
    spans = archive.spans(col.cid)
    assert spans[0].last == 11  # the segment left behind was used, not written again
    assert everything(r, col, archive) == before


def test_a_segment_cut_short_by_a_crash_is_written_again(r, col, archive, tmp_path):
    fill(r, col, 30)
    before = stream_entries(r, col)
    segment = archive.write(col.cid, 0, before[:22])
    path = f"{archive._folder(col.cid)}/{segment.span.name}"
    archive._fs.pipe_file(path, archive._fs.cat_file(path)[:100])  # half of it
    retention.move_out(r, col.keys, archive, Limits(8, NO_BYTE_LIMIT))
    assert everything(r, col, archive) == before


def test_the_change_feed_pages_through_archived_and_hot_operations(r, col, archive):
    fill(r, col, 30)
    retention.move_out(r, col.keys, archive, Limits(8, NO_BYTE_LIMIT))
    seen, since = [], -1
    while page := operations_feed.read(r, col, since, 10, archive).operations:
        seen += page
        since = page[-1]["operation_id"]
    assert [op["operation_id"] for op in seen] == list(range(30))
    assert seen[0]["points"] == [0] and seen[29]["points"] == [4]


def test_archived_operations_that_storage_no_longer_holds_answer_a_clear_503(r, col, archive):
    fill(r, col, 30)
    retention.move_out(r, col.keys, archive, Limits(8, NO_BYTE_LIMIT))
    reader = Archive(archive.url)  # another process: nothing of it cached
    for span in archive.spans(col.cid):
        archive._fs.rm(f"{archive._folder(col.cid)}/{span.name}")
    with pytest.raises(ArchiveUnavailable) as raised:
        operations_feed.read(r, col, -1, 10, reader)
    assert raised.value.http_status == 503
    assert raised.value.message.startswith("Service unavailable: the archive cannot be read")
