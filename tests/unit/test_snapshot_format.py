"""The snapshot file: what is written reads back chunk for chunk, and a file that is not a
whole pointlog snapshot is refused before anything is restored."""

from __future__ import annotations

import io
import tarfile

import pytest

from projections.snapshot_format import (
    HASH,
    SET,
    STRING,
    ZSET,
    BodyWriter,
    Chunk,
    Header,
    NotASnapshot,
    check_body,
    chunks,
    read_header,
    write_file,
)

CHUNKS = [
    Chunk(HASH, "payload", [(b"00001", b'{"a":1}'), (b"00002", b"\x00\xff" * 3000)]),
    Chunk(ZSET, "ids", [(b"00001", 0.0), (b"00002", -1.5e300)]),
    Chunk(SET, 'term:city:"Berlin"', [b"00001"]),
    Chunk(STRING, "schema", [b'{"vectors":{}}']),
    Chunk(HASH, "payload", [(b"00003", b"{}")]),  # a second slice of one key
]


def snapshot_file(chunks_written: list[Chunk]) -> io.BytesIO:
    body = io.BytesIO()
    writer = BodyWriter(body)
    for chunk in chunks_written:
        writer.chunk(chunk)
    digest = writer.finish()
    header = Header("c", 7, 12, {"vectors": {}}, "2026-12-06T05:00:00", writer.bytes, digest)
    whole = io.BytesIO()
    body.seek(0)
    write_file(whole, header, body)
    whole.seek(0)
    return whole


def test_chunks_read_back_as_written() -> None:
    source = snapshot_file(CHUNKS * 200)
    header = read_header(source)
    assert (header.collection, header.cid, header.checkpoint) == ("c", 7, 12)
    check_body(source, header)
    assert list(chunks(source)) == CHUNKS * 200


def test_a_damaged_body_is_refused() -> None:
    data = bytearray(snapshot_file(CHUNKS).getvalue())
    data[-5] ^= 0xFF
    source = io.BytesIO(bytes(data))
    header = read_header(source)
    with pytest.raises(NotASnapshot, match="damaged"):
        check_body(source, header)


def test_a_qdrant_snapshot_is_refused_by_name() -> None:
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("config.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"{}"))
    tar.seek(0)
    with pytest.raises(NotASnapshot, match="Qdrant snapshot"):
        read_header(tar)
    with pytest.raises(NotASnapshot, match="not a pointlog snapshot"):
        read_header(io.BytesIO(b"hello"))
