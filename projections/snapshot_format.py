"""The snapshot file: pointlog's own format, versioned and checksummed.

    PLSNAP1\\n | u32 header length | header (JSON) | body

The header says which collection, at which checkpoint (operations applied), with which config,
and the body's length and SHA-256. The body is a zlib stream of chunks, each some entries of
one projection key, named by its suffix (the part after `pl:{<cid>}:`), so a snapshot can be
restored under any cid:

    u8 kind | u16 suffix length | suffix | u32 entries | entries

An entry of a hash is two length-prefixed strings (field, value), of a sorted set a string
and a float64 score, of a set a string, of a string key the value. Nothing is restored before
the whole body has been checked against the header.
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from typing import IO, cast

import orjson

from projections.errors import WrongInput
from projections.jsontypes import JsonObject

MAGIC = b"PLSNAP1\n"
FULL_MAGIC = b"PLFULL1\n"  # a full snapshot (full_snapshots.py)
SHARDS_MAGIC = b"PLSHRD1\n"  # a collection of several shards: each shard's snapshot file
FORMAT = 1
HASH, ZSET, SET, STRING = 1, 2, 3, 4
KINDS = {"hash": HASH, "zset": ZSET, "set": SET, "string": STRING}
READ_SIZE = 1 << 20
TAR_MAGIC_AT, TAR_MAGIC = 257, b"ustar"
SPOOL_BYTES = 64 << 20  # a contained file stays in memory up to this size

Entry = bytes | tuple[bytes, bytes] | tuple[bytes, float]


@dataclass(frozen=True)
class Chunk:
    kind: int
    suffix: str
    entries: list[Entry]


@dataclass(frozen=True)
class Header:
    collection: str
    cid: int  # of the collection it was taken from: its log goes on after `checkpoint`
    checkpoint: int  # operations applied to the projection the snapshot holds
    config: JsonObject  # the collection's config at that checkpoint
    created: str  # ISO time, UTC, without an offset (as Qdrant shows `creation_time`)
    body_bytes: int
    sha256: str
    format: int = FORMAT


class NotASnapshot(WrongInput):
    """A file that is no pointlog snapshot, or a damaged one."""


class BodyWriter:
    """Streams chunks into a compressed body, counting its bytes and their SHA-256."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._zip = zlib.compressobj(1)
        self._hash = hashlib.sha256()
        self.bytes = 0

    def chunk(self, chunk: Chunk) -> None:
        self._emit(self._zip.compress(_encode(chunk)))

    def finish(self) -> str:
        """Flush the body; its SHA-256 (hex)."""
        self._emit(self._zip.flush())
        return self._hash.hexdigest()

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._hash.update(data)
        self.bytes += len(data)


def write_file(out: IO[bytes], header: Header, body: IO[bytes]) -> None:
    """The whole file: magic, header, then the body copied from `body`."""
    encoded = orjson.dumps(asdict(header))
    out.write(MAGIC + struct.pack("<I", len(encoded)) + encoded)
    while data := body.read(READ_SIZE):
        out.write(data)


def peek_header(source: IO[bytes]) -> JsonObject:
    """The JSON header of a collection's or a full snapshot file (as a store lists them)."""
    magic = source.read(len(MAGIC))
    if magic not in (MAGIC, FULL_MAGIC, SHARDS_MAGIC):
        raise NotASnapshot("not a pointlog snapshot")
    (length,) = struct.unpack("<I", source.read(4))
    header: JsonObject = orjson.loads(source.read(length))
    return header


def read_header(source: IO[bytes]) -> Header:
    """The header, leaving `source` at the body's start."""
    start = source.read(max(len(MAGIC), TAR_MAGIC_AT + len(TAR_MAGIC)))
    if not start.startswith(MAGIC):
        if start[TAR_MAGIC_AT : TAR_MAGIC_AT + len(TAR_MAGIC)] == TAR_MAGIC:
            raise NotASnapshot(
                "this is a Qdrant snapshot (a tar file): pointlog recovers only its own "
                "snapshots; load the points through the API instead"
            )
        raise NotASnapshot("not a pointlog snapshot")
    source.seek(len(MAGIC))
    (length,) = struct.unpack("<I", source.read(4))
    try:
        fields = orjson.loads(source.read(length))
        header = Header(**fields)
    except (orjson.JSONDecodeError, TypeError) as error:
        raise NotASnapshot(f"the snapshot's header does not read: {error}") from None
    if header.format > FORMAT:
        raise NotASnapshot(f"a snapshot of format {header.format}, newer than this pointlog's")
    return header


# ---- containers: a file of snapshot files -------------------------------------------------
#
#     magic | u32 header length | header (JSON) | the files, back to back
#
# The header says each file's length (and what else its kind of container needs to say).


def write_container(out: IO[bytes], magic: bytes, header: JsonObject, files: IO[bytes]) -> None:
    """A container of the files written to `files` (a temporary file) as `header` lists them."""
    encoded = orjson.dumps({"format": FORMAT, **header})
    out.write(magic + struct.pack("<I", len(encoded)) + encoded)
    files.seek(0)
    while data := files.read(READ_SIZE):
        out.write(data)


def is_container(source: IO[bytes], magic: bytes) -> bool:
    """Whether the file is a container of this kind (`source` left where it was)."""
    start = source.tell()
    found = source.read(len(magic)) == magic
    source.seek(start)
    return found


def read_container(source: IO[bytes], magic: bytes, what: str) -> JsonObject:
    """A container's header, leaving `source` at its first file."""
    if source.read(len(magic)) != magic:
        raise NotASnapshot(f"not a pointlog {what}")
    (length,) = struct.unpack("<I", source.read(4))
    header: JsonObject = orjson.loads(source.read(length))
    if header.get("format", 0) > FORMAT:
        raise NotASnapshot(f"a {what} of format {header['format']}, newer than this pointlog's")
    return header


def contained(source: IO[bytes], lengths: list[int]) -> Iterator[IO[bytes]]:
    """Each file of a container (of these lengths, from where `source` is), in a temporary
    file of its own."""
    for length in lengths:
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as one:
            while length > 0:
                data = source.read(min(length, READ_SIZE))
                if not data:
                    raise NotASnapshot("the file ends inside one of the snapshots it holds")
                one.write(data)
                length -= len(data)
            one.seek(0)
            yield cast("IO[bytes]", one)


def check_body(source: IO[bytes], header: Header) -> None:
    """Read the body through and compare it with the header (length and SHA-256); leaves
    `source` where it was."""
    start, digest, size = source.tell(), hashlib.sha256(), 0
    while data := source.read(READ_SIZE):
        digest.update(data)
        size += len(data)
    source.seek(start)
    if size != header.body_bytes or digest.hexdigest() != header.sha256:
        raise NotASnapshot("the snapshot is damaged: its body does not match its checksum")


def chunks(source: IO[bytes]) -> Iterator[Chunk]:
    """The body's chunks, in order (from a checked body: see `check_body`)."""
    unzip, pending = zlib.decompressobj(), b""
    while data := source.read(READ_SIZE):
        pending += unzip.decompress(data)
        pending = yield from _complete(pending)
    pending += unzip.flush()
    rest = yield from _complete(pending)
    if rest:
        raise NotASnapshot("the snapshot's body ends inside a chunk")


def _complete(data: bytes) -> Generator[Chunk, None, bytes]:
    """Decode the whole chunks at the start of `data`; returns what is left."""
    at = 0
    while True:
        decoded = _decode(data, at)
        if decoded is None:
            return data[at:]
        chunk, at = decoded
        yield chunk


def _encode(chunk: Chunk) -> bytes:
    suffix = chunk.suffix.encode()
    parts = [struct.pack("<BHI", chunk.kind, len(suffix), len(chunk.entries)), suffix]
    if chunk.kind == HASH:
        for field, value in cast("list[tuple[bytes, bytes]]", chunk.entries):
            parts += [_sized(field), _sized(value)]
    elif chunk.kind == ZSET:
        for member, score in cast("list[tuple[bytes, float]]", chunk.entries):
            parts += [_sized(member), struct.pack("<d", score)]
    else:
        parts += [_sized(entry) for entry in cast("list[bytes]", chunk.entries)]
    return b"".join(parts)


def _sized(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


class _Short(Exception):
    """The data ends before the chunk does."""


def _decode(data: bytes, at: int) -> tuple[Chunk, int] | None:
    try:
        kind, length, count = _unpack("<BHI", data, at)
        at += 7
        suffix = _take(data, at, length).decode()
        at += length
        entries: list[Entry] = []
        for _ in range(count):
            first, at = _string(data, at)
            if kind == HASH:
                value, at = _string(data, at)
                entries.append((first, value))
            elif kind == ZSET:
                (score,) = _unpack("<d", data, at)
                at += 8
                entries.append((first, score))
            else:
                entries.append(first)
    except _Short:
        return None
    return Chunk(kind, suffix, entries), at


def _string(data: bytes, at: int) -> tuple[bytes, int]:
    (length,) = _unpack("<I", data, at)
    return _take(data, at + 4, length), at + 4 + length


def _unpack(layout: str, data: bytes, at: int) -> tuple[int, ...]:
    size = struct.calcsize(layout)
    return struct.unpack(layout, _take(data, at, size))


def _take(data: bytes, at: int, length: int) -> bytes:
    if at + length > len(data):
        raise _Short
    return data[at : at + length]
