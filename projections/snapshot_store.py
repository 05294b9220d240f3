"""Where snapshots are kept: files under an fsspec URL (a folder, or object storage), a folder
per collection name for collection snapshots and the top level for full ones, each file with
its SHA-256 beside it in a `.checksum` file, as Qdrant keeps them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO, cast

import fsspec

from projections.errors import NotFound, QdrantError
from projections.snapshot_format import peek_header

SUFFIX = ".snapshot"
CHECKSUM = ".checksum"
READ_SIZE = 1 << 20
FULL = ""  # the folder of full snapshots: the top level


@dataclass(frozen=True)
class Description:
    """Qdrant's `SnapshotDescription`, with what a replay needs to choose one."""

    name: str
    creation_time: str | None
    size: int
    checksum: str | None
    cid: int  # the collection's it was taken from (0 for a full snapshot)
    checkpoint: int

    def shown(self) -> dict[str, object]:
        return {
            "name": self.name,
            "creation_time": self.creation_time,
            "size": self.size,
            "checksum": self.checksum,
        }


class SnapshotsUnavailable(QdrantError):
    """The snapshot store failed to answer."""

    http_status = 503
    prefix = "Service unavailable: the snapshot store cannot be used: "


class SnapshotStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._fs, self._root = fsspec.core.url_to_fs(url, skip_instance_cache=True)

    def _folder(self, folder: str) -> str:
        return "/".join(part for part in (self._root.rstrip("/"), folder) if part)

    def path(self, folder: str, name: str) -> str:
        return f"{self._folder(folder)}/{name}"

    def save(self, folder: str, name: str, source: IO[bytes]) -> tuple[int, str]:
        """Store a snapshot file, then its SHA-256 beside it; its size and SHA-256."""
        path = self.path(folder, name)
        digest, size = hashlib.sha256(), 0
        try:
            self._fs.makedirs(self._folder(folder), exist_ok=True)
            with self._fs.open(path + ".partial", "wb") as out:
                while data := source.read(READ_SIZE):
                    out.write(data)
                    digest.update(data)
                    size += len(data)
            self._fs.pipe_file(path + CHECKSUM, digest.hexdigest().encode())
            self._fs.mv(path + ".partial", path)
        except Exception as error:  # whatever the storage's client raises
            raise SnapshotsUnavailable(f"{path}: {error!r}") from error
        return size, digest.hexdigest()

    def listed(self, folder: str) -> list[Description]:
        """The snapshots of a folder (a collection's name, or FULL), by name."""
        where = self._folder(folder)
        self._fs.invalidate_cache(where)
        try:
            found = self._fs.ls(where, detail=True)
        except FileNotFoundError:
            return []
        except Exception as error:
            raise SnapshotsUnavailable(f"{where}: {error!r}") from error
        files = [
            item
            for item in found
            if item.get("type") != "directory" and str(item["name"]).endswith(SUFFIX)
        ]
        return sorted((self._describe(item) for item in files), key=lambda d: d.name)

    def _describe(self, item: dict[str, object]) -> Description:
        path = str(item["name"])
        with self._fs.open(path, "rb") as source:
            header = peek_header(source)
        try:
            checksum: str | None = self._fs.cat_file(path + CHECKSUM).decode()
        except FileNotFoundError:
            checksum = None
        size, name = cast("int", item["size"]), path.rsplit("/", 1)[-1]
        cid, checkpoint = int(header.get("cid", 0)), int(header.get("checkpoint", 0))
        return Description(name, str(header["created"]), size, checksum, cid, checkpoint)

    def open(self, folder: str, name: str) -> IO[bytes]:
        path = self.path(folder, name)
        if "/" in name or not name.endswith(SUFFIX) or not self._fs.isfile(path):
            raise NotFound(f"Snapshot {name} not found")
        return cast("IO[bytes]", self._fs.open(path, "rb"))

    def delete(self, folder: str, name: str) -> None:
        self.open(folder, name).close()  # NotFound unless it is there
        path = self.path(folder, name)
        self._fs.rm(path)
        if self._fs.exists(path + CHECKSUM):
            self._fs.rm(path + CHECKSUM)
