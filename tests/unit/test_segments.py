"""The archive's segment files: what goes in comes out, and damage is found, never read."""

from __future__ import annotations

import pytest

from projections import segments
from projections.segments import DamagedSegment, Span

ENTRIES = [
    (2, {b"v": b"2", b"t": b"1765000000000", b"h": b'{"ops":[1,2]}', b"b": b"\x00" * 40}),
    (3, {b"h": b'{"ops":[3]}', b"b": b""}),  # a v1 entry: no version, no time
    (7, {b"v": b"2", b"t": b"1765000000001", b"h": b'{"ops":[4,5,6,7]}', b"b": bytes(range(256))}),
]


def test_a_segment_gives_back_its_entries_and_its_span():
    segment = segments.decode(segments.encode(0, ENTRIES))
    assert segment.entries == ENTRIES
    assert segment.span == Span(0, 6)
    assert segment.raw_bytes == sum(len(f[b"h"]) + len(f[b"b"]) for _, f in ENTRIES)


def test_the_name_says_the_span_and_nothing_else_parses():
    span = Span(0, 6)
    assert span.name == "000000000000-000000000006.seg"
    assert Span.parse(span.name) == span
    assert Span.parse(span.name + ".partial") is None
    assert Span.parse("notes.txt") is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],  # cut short
        lambda data: data[:-5] + bytes([data[-5] ^ 1]) + data[-4:],  # one bit flipped
        lambda data: data.replace(b'"entries":3', b'"entries":4'),  # a header that lies
        lambda data: b"PLSEG9" + data[6:],  # not a segment of this format
    ],
)
def test_damage_is_found_before_anything_is_read(damage):
    with pytest.raises(DamagedSegment):
        segments.decode(damage(segments.encode(0, ENTRIES)))
