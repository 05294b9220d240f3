"""Changing a live collection's config: `PATCH /collections/{c}` (CollectionItem calls
`change_config`) and `PUT`/`DELETE /collections/{c}/vectors/{vector}`. Each change is an event
in the log, appended with the config it leaves in one step (log.append)."""

from __future__ import annotations

from collections.abc import Callable

import falcon

from api.context import Context
from api.http import ok, read_json
from api.params import WriteParams, write_params
from api.writes import Submitted, UpdateResult
from projections import config_changes, events
from projections.collections import Collection
from projections.jsontypes import JsonObject

Change = Callable[[JsonObject], JsonObject]  # the current config -> the config after


def change_config(
    ctx: Context,
    name: str,
    params: WriteParams,
    kind: str,
    change: Change,
    vector: str | None = None,
) -> list[UpdateResult]:
    """Append the change checked against the current config, then answer as `params` asks."""

    def append(collection: Collection) -> Submitted:
        # Safe to run again on a fresh look-up (see collections.Cache): the append checks
        # that the config it was computed from is still the current one.
        config = change(collection.config)
        event = events.config_change(kind, config, vector)
        return ctx.writer.append(collection, event, params, config)

    return ctx.writer.answer(ctx.using(name, append), params)


class VectorName:
    """`PUT` adds a vector name to the collection (`{"dense": {...}}` or `{"sparse": {...}}`),
    `DELETE` removes one and its vectors from every point."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str, vector: str) -> None:
        params = write_params(req)
        body = read_json(req, self._ctx.settings.max_body_bytes)

        def add(config: JsonObject) -> JsonObject:
            return config_changes.with_vector(config, vector, body)

        ok(req, resp, change_config(self._ctx, name, params, "create_vector", add, vector)[0])

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str, vector: str) -> None:
        params = write_params(req)

        def remove(config: JsonObject) -> JsonObject:
            return config_changes.without_vector(config, vector)

        ok(req, resp, change_config(self._ctx, name, params, "delete_vector", remove, vector)[0])
