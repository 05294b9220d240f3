"""The command packer writes exactly the bytes redis-py's own packer writes, and refuses what
redis-py refuses."""

from __future__ import annotations

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis.connection import PythonRespSerializer

from projections.packer import Packer

ARGS = st.lists(
    st.one_of(
        st.text(),
        st.binary(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=False),
    ),
    max_size=8,
)


def reference(*args: object) -> bytes:
    encode = redis.connection.Encoder("utf-8", "strict", False).encode
    return b"".join(PythonRespSerializer(6000, encode).pack(*args))


@given(name=st.sampled_from(["HSET", "ZADD", "CLIENT SETNAME"]), args=ARGS)
def test_packs_as_redis_py_does(name, args):
    assert b"".join(Packer().pack(name, *args)) == reference(name, *args)


def test_memoryviews_are_packed_and_bools_refused_as_redis_py_does():
    assert b"".join(Packer().pack("SET", "k", memoryview(b"v"))) == reference("SET", "k", b"v")
    with pytest.raises(redis.DataError):
        Packer().pack("SET", "k", True)
