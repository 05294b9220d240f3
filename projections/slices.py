"""Qdrant's `slice` condition (1.19): one of `total` disjoint slices of the id space. A point
is in slice `hash(id) % total`, where `hash` is SipHash-2-4 with a zero key over the id's
canonical bytes (a number's 8 little-endian bytes, a UUID's 16 RFC 4122 bytes), so slices are
the same on every server and in every version."""

from __future__ import annotations

import uuid

from projections.ids import PointId

MASK = 2**64 - 1
# SipHash's initial state is these constants xor the key; the key is zero here.
INITIAL = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)


def _rotate(x: int, bits: int) -> int:
    return ((x << bits) | (x >> (64 - bits))) & MASK


def _round(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    v0 = (v0 + v1) & MASK
    v1 = _rotate(v1, 13) ^ v0
    v0 = _rotate(v0, 32)
    v2 = (v2 + v3) & MASK
    v3 = _rotate(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK
    v3 = _rotate(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK
    v1 = _rotate(v1, 17) ^ v2
    v2 = _rotate(v2, 32)
    return v0, v1, v2, v3


def siphash24(data: bytes, key: tuple[int, int] = (0, 0)) -> int:
    """SipHash-2-4 of `data` under a 128-bit key given as two little-endian u64 halves."""
    k0, k1 = key
    v0, v1, v2, v3 = INITIAL[0] ^ k0, INITIAL[1] ^ k1, INITIAL[2] ^ k0, INITIAL[3] ^ k1
    whole = len(data) - len(data) % 8
    last = (len(data) & 0xFF) << 56 | int.from_bytes(data[whole:], "little")
    blocks = [int.from_bytes(data[at : at + 8], "little") for at in range(0, whole, 8)]
    for block in [*blocks, last]:
        v3 ^= block
        v0, v1, v2, v3 = _round(*_round(v0, v1, v2, v3))
        v0 ^= block
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def slice_of(point_id: PointId, total: int) -> int:
    """The slice of `total` a point belongs to."""
    if isinstance(point_id, int):
        data = point_id.to_bytes(8, "little")
    else:
        data = uuid.UUID(point_id).bytes
    return siphash24(data) % total
