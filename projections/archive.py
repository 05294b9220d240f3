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
from dataclasses import dataclass

import fsspec
from fsspec.implementations.local import LocalFileSystem

from projections import segment_index, segments
from projections.errors import QdrantError
from projections.kept import Kept
from projections.segment_index import SegmentIndex
from projections.segments import DamagedSegment, Entry, Segment, Span

CACHED_SEGMENTS = 2  # decoded segments kept, so a reader going through one reads it once
CACHED_INDEXES = 256  # segment indexes kept (point history reads every one of a collection)
IMMUTABLE = 0  # the stamp of what is kept: a stored file never changes


class ArchiveUnavailable(QdrantError):
    """Storage failed to answer: an archived operation cannot be read just now."""

    http_status = 503
    prefix = "Service unavailable: the archive cannot be read: "


class MissingSegment(ArchiveUnavailable):
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
        # A client of its own: fsspec's shared instances would keep the endpoint and keys of
        # the environment the first one was made in.
        self._fs, self._root = fsspec.core.url_to_fs(url, skip_instance_cache=True)
        self._local = isinstance(self._fs, LocalFileSystem)
        self._decoded: Kept[tuple[int, Span], Segment] = Kept(CACHED_SEGMENTS)
        self._indexes: Kept[tuple[int, Span], SegmentIndex] = Kept(CACHED_INDEXES)
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
        except Exception as error:  # whatever the storage's client raises
            raise ArchiveUnavailable(f"{self.url}: {error!r}") from error
        listed = ((Span.parse(item["name"].rsplit("/", 1)[-1]), item["size"]) for item in found)
        return {span: size for span, size in listed if span is not None}

    def holdings(self, cid: int) -> Holdings:
        listing = self._listing(cid)
        last = max((span.last for span in listing), default=-1)
        return Holdings(len(listing), last + 1, sum(listing.values()))

    def write(self, cid: int, first: int, entries: list[Entry]) -> Segment:
        """Store a segment of `entries` (starting at operation `first`) durably, and check
        that storage gives back exactly its bytes."""
        span = Span(first, entries[-1][0] - 1)
        self._store(self._path(cid, span), segments.encode(first, entries))
        return Segment(span, entries, segments.raw_bytes(entries))

    def write_index(self, cid: int, span: Span, index: SegmentIndex) -> None:
        """Store the index of the segment `span` (segment_index.py) beside it."""
        self._store(self._index_path(cid, span), segment_index.encode(index))
        self._indexes.put((cid, span), IMMUTABLE, index)

    def index(self, cid: int, span: Span) -> SegmentIndex:
        """The index of the segment `span` (`DamagedSegment` if it does not decode)."""
        index = self._indexes.get((cid, span), IMMUTABLE)
        if index is None:
            index = segment_index.decode(self._fetch(self._index_path(cid, span)))
            self._indexes.put((cid, span), IMMUTABLE, index)
        return index

    def _fetch(self, path: str) -> bytes:
        try:
            data: bytes = self._fs.cat_file(path)
        except Exception as error:  # whatever the storage's client raises
            raise ArchiveUnavailable(f"{path}: {error!r}") from error
        return data

    def _index_path(self, cid: int, span: Span) -> str:
        return self._path(cid, span).removesuffix(segments.SUFFIX) + segment_index.SUFFIX

    def _store(self, path: str, data: bytes) -> None:
        """Write durably, then check that storage gives back exactly these bytes."""
        if self._local:
            self._write_local(path, data)
        else:
            self._fs.pipe_file(path, data)  # an object store's put is all or nothing
        if self._fs.cat_file(path) != data:
            raise DamagedSegment(f"{path} does not read back as written")

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
        segment = None if fresh else self._decoded.get((cid, span), IMMUTABLE)
        if segment is None:
            segment = segments.decode(self._fetch(self._path(cid, span)))
            self._decoded.put((cid, span), IMMUTABLE, segment)
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
