"""Helpers of the RAG-integration tests (test_langchain_hybrid.py, test_llamaindex.py,
test_haystack.py): deterministic stand-ins for embedding models, a small corpus, the comparison
of a run against pointlog with the same run against qdrant-client's local mode, and a guard that
no integration reaches the network for a model or tokenizer.

The corpus is built so that no two documents score the same for the sparse and dense queries
the tests send: Qdrant orders equal scores as it finds them, which differs between
implementations, so with ties "the same order" would not be well defined."""

from __future__ import annotations

import hashlib
import ipaddress
import random
import socket
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import pytest

DIM = 16
SPARSE_SPACE = 2**20
NAMESPACE = uuid.UUID("6f1c2a52-7a0e-4d4b-9d1e-3c2f1b0a9e8d")
WORDS: tuple[str, ...] = ("river", "stone", "cloud", "ember", "maple", "harbor", "lantern")
WORDS += ("meadow", "orbit", "quartz", "saffron", "tundra", "willow")
GROUPS = ("north", "south", "east", "west")


def dense(text: str) -> list[float]:
    """A 16-dimensional vector from the text's SHA-256: equal texts get equal vectors."""
    digest = hashlib.sha256(text.encode()).digest()
    return [byte / 255 - 0.5 for byte in digest[:DIM]]


def token_index(token: str) -> int:
    return int.from_bytes(hashlib.sha256(token.encode()).digest()[:4], "big") % SPARSE_SPACE


def sparse(text: str) -> tuple[list[int], list[float]]:
    """Bag of words: each token's hashed index, its count in the text as the value (indices
    sorted, a hash collision adding up the counts)."""
    counts = Counter(token_index(token) for token in text.lower().split())
    indices = sorted(counts)
    return indices, [float(counts[index]) for index in indices]


class Doc(NamedTuple):
    id: str
    text: str
    group: str
    n: int


QUERY_WORDS = (
    ("river", "stone", "cloud"),
    ("ember", "maple", "harbor"),
    ("quartz", "willow", "orbit"),
)
# A query names its three words 1, 4 and 16 times; a document holds each word 0 to 3 times, and
# no two documents hold a query's three words the same numbers of times: so the counts of a
# document are the base-4 digits of its sparse score, which no other document shares.
QUERIES = tuple(" ".join([a] + [b] * 4 + [c] * 16) for a, b, c in QUERY_WORDS)


def corpus(size: int = 30, seed: int = 11) -> list[Doc]:
    """`size` documents of a few words each (some repeated), in four groups."""
    rng = random.Random(seed)
    docs: list[Doc] = []
    seen: set[tuple[int, ...]] = set()
    while len(docs) < size:
        counts = {word: rng.randint(0, 3) for word in WORDS}
        keys = [(q, *(counts[w] for w in words)) for q, words in enumerate(QUERY_WORDS)]
        if sum(counts.values()) < 3 or seen.intersection(keys):
            continue
        seen.update(keys)
        words = [word for word, count in counts.items() for _ in range(count)]
        rng.shuffle(words)
        n = len(docs)
        text = " ".join(words)
        docs.append(Doc(str(uuid.uuid5(NAMESPACE, f"{n}:{text}")), text, GROUPS[n % 4], n))
    return docs


DOCS = corpus()


class Hit(NamedTuple):
    id: str
    text: str
    score: float | None


def assert_same(server: Sequence[Hit], local: Sequence[Hit], *, tol: float = 1e-4) -> None:
    """Same ids and texts in the same order, scores equal to `tol` (when given)."""
    assert [(h.id, h.text) for h in server] == [(h.id, h.text) for h in local], (server, local)
    for ours, theirs in zip(server, local, strict=True):
        if ours.score is None or theirs.score is None:
            assert ours.score is theirs.score, (ours, theirs)
        else:
            assert abs(ours.score - theirs.score) <= tol, (ours, theirs)


def assert_no_ties(hits: Sequence[Hit]) -> None:
    """The reference run's scores are all distinct (so its order is the only right one)."""
    scores = [round(h.score, 6) for h in hits if h.score is not None]
    assert len(set(scores)) == len(scores), hits


def _loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any connection but to this machine (pointlog's web process): a model, tokenizer or
    telemetry download would otherwise go unnoticed."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            raise AssertionError(f"network access to {address!r}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield
