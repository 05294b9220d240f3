"""The `slice` condition: SipHash-2-4 (checked against the algorithm's reference vectors)
over a point id's canonical bytes, the same slices qdrant-client's local mode computes; the
slices of one `total` are disjoint and cover every point."""

from __future__ import annotations

import random
import uuid

import pytest
from qdrant_client.local.siphash import point_id_slice

from projections.errors import FormatError, ValidationFailed
from projections.filters import compile_filter
from projections.slices import siphash24, slice_of

REFERENCE_KEY = (0x0706050403020100, 0x0F0E0D0C0B0A0908)  # the key 00 01 .. 0f


@pytest.mark.parametrize(
    ("length", "expected"),
    [(0, 0x726FDB47DD0E0E31), (8, 0x93F5F5799A932462), (15, 0xA129CA6149BE45E5)],
)
def test_siphash_gives_the_reference_vectors(length, expected):
    assert siphash24(bytes(range(length)), REFERENCE_KEY) == expected


def some_ids() -> list:
    rng = random.Random(5)
    numbers = [0, 1, 2**63, 2**64 - 1, *(rng.randrange(2**64) for _ in range(200))]
    return numbers + [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(200)]


@pytest.mark.parametrize("total", [1, 2, 3, 7, 64])
def test_slices_are_the_ones_local_mode_computes(total):
    for point_id in some_ids():
        assert slice_of(point_id, total) == point_id_slice(point_id, total)


def matching(flt, ids: list) -> set:
    return {point_id for point_id in ids if flt.matches(point_id, {}, ())}


def test_the_slices_of_a_total_are_disjoint_and_cover_every_point():
    ids = some_ids()
    filters = [compile_filter({"must": [{"slice": {"total": 4, "index": i}}]}) for i in range(4)]
    slices = [matching(flt, ids) for flt in filters]
    assert sum(len(s) for s in slices) == len(ids)
    assert set().union(*slices) == set(ids)
    assert all(slices)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"total": 0, "index": 0}, ValidationFailed),
        ({"total": 4, "index": 4}, ValidationFailed),
        ({"total": -1, "index": 0}, FormatError),
        ({"total": 4}, FormatError),
        ({"total": "4", "index": 0}, FormatError),
    ],
)
def test_a_bad_slice_is_refused(raw, error):
    with pytest.raises(error):
        compile_filter({"must": [{"slice": raw}]})
