"""The archive's segment files: a run of consecutive log entries, compressed and checksummed.

A segment holds the entries whose operations are `first`..`last` (operation ids, inclusive),
exactly as the log stored them (each entry's fields, whatever its format version: decoding
upcasts them as it does for the stream). It is named by that range, so a listing says which
file holds an operation, and it is never changed once written.

Layout: `PLSEG1\\n`, one JSON header line (the range, the entry count, the raw and compressed
sizes and the compressed body's SHA-256), then the zlib-compressed body: per entry, the seq
after it (u64), its field count (u16), then each field as a name (u16 length) and a value
(u32 length).
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass
from functools import cached_property

import orjson

from projections.errors import QdrantError

MAGIC = b"PLSEG1\n"
SUFFIX = ".seg"
# zlib's fastest level: vectors (most of a log's bytes) barely compress at any level, and
# the archiver must not slow the workers down.
LEVEL = 1
_NAME = re.compile(r"^(\d{12})-(\d{12})\.seg$")
_ENTRY = struct.Struct(">QH")
_NAME_LEN = struct.Struct(">H")
_VALUE_LEN = struct.Struct(">I")

Entry = tuple[int, dict[bytes, bytes]]  # (seq after the entry, its fields)


class DamagedSegment(QdrantError):
    """A segment whose bytes do not match its checksum or its header."""

    http_status = 503
    prefix = "Service unavailable: the archive is damaged: "


@dataclass(frozen=True)
class Span:
    """The operations a segment holds: `first`..`last`, inclusive."""

    first: int
    last: int

    @property
    def name(self) -> str:
        return f"{self.first:012d}-{self.last:012d}{SUFFIX}"

    @classmethod
    def parse(cls, name: str) -> Span | None:
        """The span a file name says; None for any other file."""
        found = _NAME.match(name)
        return None if found is None else cls(int(found[1]), int(found[2]))


@dataclass(frozen=True)
class Segment:
    span: Span
    entries: list[Entry]
    raw_bytes: int  # the entries' sizes, as the hot log's byte count has them (raw_size)

    @cached_property
    def seqs(self) -> list[int]:
        """Each entry's seq after it, in order (for bisecting)."""
        return [seq_after for seq_after, _ in self.entries]


def raw_size(fields: dict[bytes, bytes]) -> int:
    """An entry's size as the hot log's byte count measures it: its event's operations and
    blob, in every format so far."""
    return len(fields.get(b"h", b"")) + len(fields.get(b"b", b""))


def raw_bytes(entries: list[Entry]) -> int:
    return sum(raw_size(fields) for _, fields in entries)


def encode(first: int, entries: list[Entry]) -> bytes:
    """A segment of `entries`, the first of which starts at operation `first`."""
    parts = []
    for seq_after, fields in entries:
        parts.append(_ENTRY.pack(seq_after, len(fields)))
        for name, value in fields.items():
            parts += [_NAME_LEN.pack(len(name)), name, _VALUE_LEN.pack(len(value)), value]
    body = zlib.compress(b"".join(parts), LEVEL)
    header = {
        "first": first,
        "last": entries[-1][0] - 1,
        "entries": len(entries),
        "raw_bytes": raw_bytes(entries),
        "body_bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return MAGIC + orjson.dumps(header) + b"\n" + body


def decode(data: bytes) -> Segment:
    """The segment in `data`, checked against its checksum and header."""
    if not data.startswith(MAGIC):
        raise DamagedSegment("not a pointlog segment")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise DamagedSegment("the header is cut short")
    header = orjson.loads(data[len(MAGIC) : end])
    body = data[end + 1 :]
    if len(body) != header["body_bytes"] or hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise DamagedSegment("the body does not match its checksum")
    entries = _entries(zlib.decompress(body))
    span = Span(header["first"], header["last"])
    if len(entries) != header["entries"] or entries[-1][0] - 1 != span.last:
        raise DamagedSegment("the entries do not match the header")
    return Segment(span, entries, header["raw_bytes"])


def _entries(raw: bytes) -> list[Entry]:
    entries: list[Entry] = []
    at = 0
    while at < len(raw):
        seq_after, count = _ENTRY.unpack_from(raw, at)
        at += _ENTRY.size
        fields = {}
        for _ in range(count):
            (size,) = _NAME_LEN.unpack_from(raw, at)
            name = raw[at + _NAME_LEN.size : at + _NAME_LEN.size + size]
            at += _NAME_LEN.size + size
            (size,) = _VALUE_LEN.unpack_from(raw, at)
            fields[name] = raw[at + _VALUE_LEN.size : at + _VALUE_LEN.size + size]
            at += _VALUE_LEN.size + size
        entries.append((seq_after, fields))
    return entries
