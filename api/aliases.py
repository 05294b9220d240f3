"""Alias endpoints: `POST /collections/aliases` (create, delete and rename, applied as one
change), `GET /aliases` and `GET /collections/{name}/aliases`."""

from __future__ import annotations

import falcon

from api.context import Context
from api.http import ok, read_json
from api.params import collection_timeout
from projections import aliases
from projections.collections import Collection


class AliasChanges:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        collection_timeout(req)
        actions = aliases.parse_actions(read_json(req, self._ctx.settings.max_body_bytes))
        aliases.change(self._ctx.r, actions)
        ok(req, resp, True)


class AliasList:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ok(req, resp, {"aliases": aliases.listing(self._ctx.r)})


class CollectionAliases:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        def listed(collection: Collection) -> list[dict[str, object]]:
            return aliases.listing(self._ctx.r, collection.name)

        ok(req, resp, {"aliases": self._ctx.using(name, listed)})
