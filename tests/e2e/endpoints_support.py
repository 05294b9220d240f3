"""Fixtures and helpers of the points-endpoint tests (test_upsert.py, test_scroll.py, ...), which
drive the Procfile's web process and two workers through qdrant-client over REST (raw HTTP where
the client cannot send the request).

pytest finds a fixture in the test module that names it, so each of those modules imports the
fixtures it needs under their own names (`from ... import client_fixture as client_fixture`).
`drop_collections` is autouse: it deletes each test's collections after the test."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

U1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
U2 = "0f0e0d0c-0b0a-4909-8807-060504030201"
V1 = [0.19, 0.81, 0.75, 0.11]
V2 = [0.36, 0.55, 0.47, 0.94]
V3 = [0.5, 0.25, 0.125, 1.0]


@pytest.fixture(scope="module", name="client")
def client_fixture(base_url: str) -> QdrantClient:
    return QdrantClient(url=base_url, prefer_grpc=False, timeout=60)


@pytest.fixture(scope="module", name="http")
def http_fixture(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as session:
        yield session


@pytest.fixture(autouse=True)
def drop_collections(client: QdrantClient, name: str) -> Iterator[None]:
    """Each test's collections (`name`, and `name-s` / `name-n` where a second one is needed)."""
    yield
    for collection in (name, f"{name}-s", f"{name}-n"):
        with contextlib.suppress(Exception):
            client.delete_collection(collection)


@contextlib.contextmanager
def fails(status: int, error: str | None = None, contains: str | None = None) -> Iterator[None]:
    """The block raises the client's UnexpectedResponse with this status and error text."""
    with pytest.raises(UnexpectedResponse) as caught:
        yield
    assert caught.value.status_code == status, caught.value.content
    text = json.loads(caught.value.content)["status"]["error"]
    if error is not None:
        assert text == error, text
    if contains is not None:
        assert contains in text, text


def error_text(response: httpx.Response) -> str:
    return response.json()["status"]["error"]


def dense(client: QdrantClient, name: str, size: int = 4, distance: str = "Dot") -> str:
    client.create_collection(name, vectors_config=models.VectorParams(size=size, distance=distance))
    return name


def named(client: QdrantClient, name: str, shards: int = 1) -> str:
    """`image` (4, Dot) and `text` (2, Cosine), in `shards` shards."""
    client.create_collection(
        name,
        vectors_config={
            "image": models.VectorParams(size=4, distance=models.Distance.DOT),
            "text": models.VectorParams(size=2, distance=models.Distance.COSINE),
        },
        shard_number=shards,
    )
    return name


def point(pid: int | str, vector: object = V1, payload: dict | None = None) -> models.PointStruct:
    return models.PointStruct(id=pid, vector=vector, payload=payload)


def payloads(client: QdrantClient, name: str, ids: list) -> dict:
    return {r.id: r.payload for r in client.retrieve(name, ids, with_payload=True)}


def all_ids(client: QdrantClient, name: str) -> list:
    return [r.id for r in client.scroll(name, limit=1000, with_payload=False)[0]]


def has(key: str, value: object) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))
