"""Snapshots (projections/snapshots.py): take, list, download and delete a collection's, and
recover a collection from one, by location or uploaded; full snapshots of every collection
(projections/full_snapshots.py), recovered with `pointlog recover`. Each request runs to its
end before it answers (`wait` is accepted)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, cast

import falcon

from api.context import Context
from api.http import ok, read_json
from api.params import write_params
from projections import collections, full_snapshots, snapshots
from projections.collections import Collection
from projections.errors import BadRequest, FormatError
from projections.jsontypes import JsonObject
from projections.snapshot_store import FULL, SnapshotStore

SPOOL_BYTES = 64 << 20
PRIORITIES = ("no_sync", "snapshot", "replica")


class CollectionSnapshots:
    """`POST` takes a snapshot of the collection, `GET` lists them."""

    def __init__(self, ctx: Context, store: SnapshotStore) -> None:
        self._ctx, self._store = ctx, store

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        write_params(req)

        def take(collection: Collection) -> JsonObject:
            return snapshots.take(self._ctx.r, collection, self._store).shown()

        ok(req, resp, self._ctx.using(name, take))

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        def listed(collection: Collection) -> list[JsonObject]:
            return [d.shown() for d in self._store.listed(collection.name)]

        ok(req, resp, self._ctx.using(name, listed))


class CollectionSnapshot:
    """`GET` downloads a snapshot file, `DELETE` removes it."""

    def __init__(self, ctx: Context, store: SnapshotStore) -> None:
        self._ctx, self._store = ctx, store

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, snapshot: str) -> None:
        collection = self._ctx.using(name, lambda found: found.name)
        _download(resp, self._store, collection, snapshot)

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, name: str, snapshot: str
    ) -> None:
        write_params(req)
        collection = self._ctx.using(name, lambda found: found.name)
        self._store.delete(collection, snapshot)
        ok(req, resp, True)


class FullSnapshots:
    """`POST /snapshots` takes a snapshot of every collection in one file, `GET` lists them."""

    def __init__(self, ctx: Context, store: SnapshotStore) -> None:
        self._ctx, self._store = ctx, store

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        write_params(req)
        ok(req, resp, full_snapshots.take_full(self._ctx.r, self._store).shown())

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ok(req, resp, [d.shown() for d in self._store.listed(FULL)])


class FullSnapshot:
    """`GET` downloads a full snapshot, `DELETE` removes it."""

    def __init__(self, store: SnapshotStore) -> None:
        self._store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response, snapshot: str) -> None:
        _download(resp, self._store, FULL, snapshot)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, snapshot: str) -> None:
        write_params(req)
        self._store.delete(FULL, snapshot)
        ok(req, resp, True)


def _download(resp: falcon.Response, store: SnapshotStore, folder: str, name: str) -> None:
    resp.stream = store.open(folder, name)
    resp.content_type = "application/octet-stream"
    resp.downloadable_as = name


class SnapshotRecover:
    """`PUT` with `{"location": "<http(s) or file URL>", "checksum"?, "priority"?,
    "api_key"?}`: the collection is made anew from the snapshot (created if missing)."""

    def __init__(self, ctx: Context, store: SnapshotStore) -> None:
        self._ctx, self._store = ctx, store

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        write_params(req)
        body = read_json(req, self._ctx.settings.max_body_bytes)
        if not isinstance(body, dict) or not isinstance(body.get("location"), str):
            raise FormatError("missing field `location`")
        _priority(body.get("priority"))
        with _fetched(body["location"], body.get("api_key")) as source:
            _check_sum(source, body.get("checksum"))
            recover(self._ctx, name, source, self._store)
        ok(req, resp, True)


class SnapshotUpload:
    """`POST` multipart/form-data with the file in part `snapshot`; `checksum` and `priority`
    in the query."""

    def __init__(self, ctx: Context, store: SnapshotStore) -> None:
        self._ctx, self._store = ctx, store

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        write_params(req)
        _priority(req.get_param("priority"))
        if not (req.content_type or "").startswith("multipart/form-data"):
            raise BadRequest("expected multipart/form-data with the file in part `snapshot`")
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as source:
            for part in req.get_media():
                if part.name == "snapshot":
                    shutil.copyfileobj(part.stream, source)
                    break
            else:
                raise BadRequest("expected the snapshot file in part `snapshot`")
            source.seek(0)
            _check_sum(source, req.get_param("checksum"))
            recover(self._ctx, name, source, self._store)
        ok(req, resp, True)


def recover(ctx: Context, name: str, source: IO[bytes], store: SnapshotStore) -> None:
    collections.validate_name(name, creating=True)
    snapshots.recover(ctx.r, name, source, store)
    ctx.cache.forget(name)


def _priority(raw: object) -> None:
    if raw is not None and raw not in PRIORITIES:
        raise FormatError(f"priority: unknown variant `{raw}`, expected one of {PRIORITIES}")


def _check_sum(source: IO[bytes], expected: object) -> None:
    """Compare the file's SHA-256 with the one the request gives (if any)."""
    if expected is None:
        return
    digest = hashlib.sha256()
    while data := source.read(1 << 20):
        digest.update(data)
    source.seek(0)
    if digest.hexdigest() != expected:
        raise BadRequest(
            f"Snapshot checksum mismatch: expected {expected}, got {digest.hexdigest()}"
        )


@contextmanager
def _fetched(location: str, api_key: object) -> Iterator[IO[bytes]]:
    """The file at `location`, copied to a temporary file for the `with` block."""
    url = urllib.parse.urlparse(location)
    if url.scheme not in ("http", "https", "file"):
        raise BadRequest(f"location: expected an http(s) or file URL, got `{location}`")
    request = urllib.request.Request(location)
    if isinstance(api_key, str):
        request.add_header("api-key", api_key)
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as copy:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                shutil.copyfileobj(response, copy)
        except OSError as error:
            raise BadRequest(f"Failed to download the snapshot from {location}: {error}") from None
        copy.seek(0)
        yield cast("IO[bytes]", copy)
