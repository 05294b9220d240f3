"""Aliases through qdrant-client, against its local mode (Qdrant's semantics in Python): the
re-index pattern users follow, with the same answers from both."""

from __future__ import annotations

from qdrant_client import QdrantClient, models

from tests.e2e.endpoints_support import V1, V2, dense, point
from tests.e2e.endpoints_support import client_fixture as client_fixture
from tests.e2e.endpoints_support import drop_collections as drop_collections


def reindex(client: QdrantClient, name: str) -> dict:
    """Two generations of a collection behind one alias, switched in one call; what a user
    then sees through the alias and in the alias listings."""
    old, new, alias = name, f"{name}-n", f"{name}-s"
    dense(client, old)
    dense(client, new)
    client.upsert(old, [point(1, V1, {"gen": 1})])
    client.upsert(new, [point(2, V2, {"gen": 2})])
    create = models.CreateAlias(collection_name=old, alias_name=alias)
    client.update_collection_aliases([models.CreateAliasOperation(create_alias=create)])
    before = [p.id for p in client.query_points(alias, query=V1).points]
    switch = [
        models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)),
        models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=new, alias_name=alias)
        ),
    ]
    client.update_collection_aliases(switch)
    listed = [(a.alias_name, a.collection_name) for a in client.get_aliases().aliases]
    return {
        "before": before,
        "after": [p.id for p in client.query_points(alias, query=V1).points],
        "count": client.count(alias).count,
        "listed": [(a, c) for a, c in listed if a == alias],
        "of new": [a.alias_name for a in client.get_collection_aliases(new).aliases],
        "of old": [a.alias_name for a in client.get_collection_aliases(old).aliases],
    }


def test_switching_an_alias_answers_as_local_mode(client: QdrantClient, name: str) -> None:
    seen = reindex(client, name)
    assert seen == reindex(QdrantClient(":memory:"), name)
    assert seen["before"] == [1] and seen["after"] == [2]
