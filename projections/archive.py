"""The archive: where a collection's log entries go once the hot log in Redis has had enough
of them. Any fsspec URL: a folder (`file://...`) or object storage (`s3://bucket/prefix`, for
platforms whose disks do not outlive a restart).

Each collection has a folder named by its cid, holding immutable segments (segments.py). A
segment is written, flushed and read back before the log is trimmed, so an entry is always in
Redis or in a complete, checked segment.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import fsspec
from fsspec.implementations.local import LocalFileSystem

from projections import segments
from projections.segments import Entry, Segment, Span

CACHED_SEGMENTS = 2  # decoded segments kept, so a reader going through one reads it once


class MissingSegment(Exception):
    """An operation the log says is archived that no segment holds."""


@dataclass(frozen=True)
class Holdings:
    segments: int
    operations: int  # operations the segments hold (0..last+1 when nothing is missing)
    bytes: int  # their size in storage


def open_archive(url: str | None) -> Archive | None:
    """The archive at `url`, or None when none is configured."""
    return None if url is None else Archive(url)


class Archive:
    def __init__(self, url: str) -> None:
        self.url = url
        self._fs, self._root = fsspec.core.url_to_fs(url)
        self._local = isinstance(self._fs, LocalFileSystem)
        self._lock = threading.Lock()
        self._decoded: OrderedDict[tuple[int, Span], Segment] = OrderedDict()
        self._listed: dict[int, list[Span]] = {}  # each collection's spans, as last listed

    def _folder(self, cid: int) -> str:
        return f"{self._root.rstrip('/')}/{cid}"

    def _path(self, cid: int, span: Span) -> str:
        return f"{self._folder(cid)}/{span.name}"

    def spans(self, cid: int) -> list[Span]:
        """The collection's segments, oldest first, as storage lists them right now."""
        return sorted(self._listing(cid), key=lambda span: span.first)

    def _listing(self, cid: int) -> dict[Span, int]:
        """Each segment with its size in storage."""
        folder = self._folder(cid)
        self._fs.invalidate_cache(folder)  # another process may have added one
        try:
            found = self._fs.ls(folder, detail=True)
        except FileNotFoundError:
            return {}
        listed = ((Span.parse(item["name"].rsplit("/", 1)[-1]), item["size"]) for item in found)
        return {span: size for span, size in listed if span is not None}

    def holdings(self, cid: int) -> Holdings:
        listing = self._listing(cid)
        last = max((span.last for span in listing), default=-1)
        return Holdings(len(listing), last + 1, sum(listing.values()))

    def write(self, cid: int, first: int, entries: list[Entry]) -> Segment:
        """Store a segment of `entries` (starting at operation `first`) durably, then read it
        back: what is returned is what storage holds, checked."""
        data = segments.encode(first, entries)
        span = Span(first, entries[-1][0] - 1)
        path = self._path(cid, span)
        if self._local:
            self._write_local(path, data)
        else:
            self._fs.pipe_file(path, data)  # an object store's put is all or nothing
        return self.read(cid, span, fresh=True)

    def _write_local(self, path: str, data: bytes) -> None:
        """Write beside, flush to disk, then rename: the name never shows a partial file."""
        folder = path.rsplit("/", 1)[0]
        self._fs.makedirs(folder, exist_ok=True)
        partial = path + ".partial"
        with open(partial, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)  # the rename itself survives a crash
        finally:
            os.close(descriptor)

    def read(self, cid: int, span: Span, fresh: bool = False) -> Segment:
        """A segment, checked (`DamagedSegment` otherwise); `fresh` reads storage again."""
        key = (cid, span)
        with self._lock:
            cached = None if fresh else self._decoded.get(key)
        if cached is not None:
            return cached
        segment = segments.decode(self._fs.cat_file(self._path(cid, span)))
        with self._lock:
            self._decoded[key] = segment
            while len(self._decoded) > CACHED_SEGMENTS:
                self._decoded.popitem(last=False)
        return segment

    def entries_after(self, cid: int, applied: int, count: int, until: int | None) -> list[Entry]:
        """Up to `count` entries after the checkpoint `applied` (the next operation is
        `applied`), from the one segment that holds it, not beyond seq `until`."""
        segment = self.read(cid, self._span_holding(cid, applied))
        start = bisect.bisect_right(segment.seqs, applied)
        end = len(segment.seqs) if until is None else bisect.bisect_right(segment.seqs, until)
        return segment.entries[start : min(end, start + count)]

    def _span_holding(self, cid: int, op: int) -> Span:
        """The segment holding operation `op`: from the last listing, else a new one."""
        for listed in (self._listed.get(cid), None):
            spans = listed if listed is not None else self._list_again(cid)
            found = next((s for s in spans if s.first <= op <= s.last), None)
            if found is not None:
                return found
        raise MissingSegment(f"the archive at {self.url} holds no operation {op}")

    def _list_again(self, cid: int) -> list[Span]:
        spans = self.spans(cid)
        self._listed[cid] = spans
        return spans
