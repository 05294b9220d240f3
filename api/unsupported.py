"""Qdrant's endpoints that pointlog does not serve answer 501 naming what is missing, rather
than a 404 or 405 that would read as a wrong URL: Qdrant's consensus, shards and quotas (a
deployment scales through Redis and its pods instead), and shard snapshots."""

from __future__ import annotations

from typing import Any

import falcon

from projections.errors import Unsupported

ROUTES = {
    "/collections/{name}/shards": "shard keys",
    "/collections/{name}/shards/delete": "shard keys",
    "/cluster/telemetry": "cluster telemetry (pointlog runs no consensus)",
    "/cluster/recover": "cluster recovery (pointlog runs no consensus)",
    "/cluster/peer/{peer_id}": "cluster peers (pointlog runs no consensus)",
    "/quotas": "quotas",
    "/collections/{name}/shards/{shard}/snapshot": "shard snapshots",
    "/collections/{name}/shards/{shard}/snapshots": "shard snapshots",
    "/collections/{name}/shards/{shard}/snapshots/upload": "shard snapshots",
    "/collections/{name}/shards/{shard}/snapshots/recover": "shard snapshots",
    "/collections/{name}/shards/{shard}/snapshots/{snapshot}": "shard snapshots",
}


def refuse(req: falcon.Request, what: str) -> None:
    raise Unsupported(f"{req.method} {req.uri_template}: pointlog does not support {what}")


class NotServed:
    """Every method of one of Qdrant's routes that pointlog does not serve."""

    def __init__(self, what: str) -> None:
        self._what = what

    def _refuse(self, req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
        refuse(req, self._what)

    on_get = on_post = on_put = on_patch = on_delete = _refuse
