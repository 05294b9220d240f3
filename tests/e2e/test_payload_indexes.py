"""Payload indexes show in collection info as in Qdrant; a text index gives full-text match."""

from __future__ import annotations

import httpx
from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, dense, error_text, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections
from tests.e2e.endpoints_support import http_fixture as http_fixture


def test_payload_index_shows_in_collection_info(
    client: QdrantClient, http: httpx.Client, name: str
) -> None:
    dense(client, name)
    client.upsert(name, [point(i, V1, {"city": c, "n": i}) for i, c in enumerate(["a", "b", "c"])])
    assert client.get_collection(name).payload_schema == {}
    result = client.create_payload_index(name, "city", models.PayloadSchemaType.KEYWORD)
    assert result.status == models.UpdateStatus.COMPLETED
    client.create_payload_index(
        name,
        "n",
        models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=True, range=True),
    )
    schema = client.get_collection(name).payload_schema
    assert set(schema) == {"city", "n"}
    assert (schema["city"].data_type, schema["city"].points) == (
        models.PayloadSchemaType.KEYWORD,
        3,
    )
    assert (schema["n"].data_type, schema["n"].points) == (models.PayloadSchemaType.INTEGER, 3)
    client.upsert(name, [point(9, V1, {"city": "d", "n": 9})])
    assert client.get_collection(name).payload_schema["city"].points == 4
    raw = http.get(f"/collections/{name}").json()["result"]["payload_schema"]["city"]
    assert (raw["data_type"], raw["points"]) == ("keyword", 4)
    deleted = client.delete_payload_index(name, "city")
    assert deleted.status == models.UpdateStatus.COMPLETED
    assert set(client.get_collection(name).payload_schema) == {"n"}
    missing_schema = http.put(f"/collections/{name}/index?wait=true", json={"field_name": "x"})
    assert missing_schema.status_code == 400
    assert error_text(missing_schema) == (
        "Bad request: Can't auto-detect field type, please specify `field_schema` in the request"
    )
    aliased = http.put(
        f"/collections/{name}/index?wait=true", json={"field_name": "f", "field_type": "float"}
    )
    assert aliased.status_code == 200, aliased.text
    assert (
        client.get_collection(name).payload_schema["f"].data_type == models.PayloadSchemaType.FLOAT
    )


def test_text_index_gives_full_text_matching(client: QdrantClient, name: str) -> None:
    """With a text index, `match.text` matches lowercased word tokens (reads and the worker's
    filter writes alike); without one, it is a case-sensitive substring."""
    dense(client, name)
    titles = {1: "Hello World", 2: "hello there, world", 3: "Othello"}
    client.upsert(name, [point(i, V1, {"title": t}) for i, t in titles.items()])

    def ids_matching(match: models.Match) -> list:
        flt = models.Filter(must=[models.FieldCondition(key="title", match=match)])
        return sorted(p.id for p in client.scroll(name, scroll_filter=flt)[0])

    assert ids_matching(models.MatchText(text="hello")) == [2, 3]  # substrings
    client.create_payload_index(name, "title", models.PayloadSchemaType.TEXT, wait=True)
    assert ids_matching(models.MatchText(text="hello")) == [1, 2]  # tokens
    assert ids_matching(models.MatchText(text="world hello")) == [1, 2]
    assert ids_matching(models.MatchPhrase(phrase="hello world")) == [1]
    assert ids_matching(models.MatchTextAny(text_any="there othello")) == [2, 3]
    count = client.count(
        name,
        count_filter=models.Filter(
            must=[models.FieldCondition(key="title", match=models.MatchText(text="WORLD"))]
        ),
    )
    assert count.count == 2
    client.delete(
        name,
        models.Filter(
            must=[models.FieldCondition(key="title", match=models.MatchText(text="there"))]
        ),
        wait=True,
    )
    assert sorted(p.id for p in client.scroll(name)[0]) == [1, 3]
    client.delete_payload_index(name, "title", wait=True)
    assert ids_matching(models.MatchText(text="hello")) == [3]
