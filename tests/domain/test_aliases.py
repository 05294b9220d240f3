"""The aliases' hash shares the registry's slot; aliases kept under its former key move there."""

from __future__ import annotations

import pytest
import redis

from projections import aliases, collections
from projections import keys as K
from projections.store import is_cluster


def test_aliases_under_the_former_key_move_and_newer_ones_win(r: redis.Redis, name: str) -> None:
    if is_cluster(r):
        pytest.skip("a cluster never held the former key")
    config = collections.validate_create({"vectors": {"size": 2, "distance": "Dot"}})
    collections.create(r, name, config)
    collections.create(r, f"{name}-2", config)
    r.hset(K.FORMER_ALIASES, mapping={f"{name}-old": name, f"{name}-both": name})
    aliases.change(
        r, [{"create_alias": {"collection_name": f"{name}-2", "alias_name": f"{name}-both"}}]
    )

    aliases.move_former_key(r)

    found = {a["alias_name"]: a["collection_name"] for a in aliases.listing(r)}
    assert found[f"{name}-old"] == name
    assert found[f"{name}-both"] == f"{name}-2"
    assert not r.exists(K.FORMER_ALIASES)
    assert collections.exists(r, f"{name}-old")
