"""What every route shares: the store, the settings, the write path and the read path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis

from api.writes import Writer
from projections import collections
from projections.collections import Collection
from projections.consistency import Consistency
from projections.kept import Kept
from projections.progress import Progress
from projections.reads import CandidateKey, Reader
from projections.settings import Settings
from projections.vector_model import VectorModels

T = TypeVar("T")


@dataclass
class Context:
    r: redis.Redis
    settings: Settings
    progress: Progress
    writer: Writer
    cache: collections.Cache
    vectors: VectorModels
    candidates: Kept[CandidateKey, list[str]]

    def using(self, name: str, work: Callable[[Collection], T]) -> T:
        """Run `work` on the named collection (looked up once per process, see Cache)."""
        return self.cache.using(name, work)

    def reader(self, collection: Collection, timeout: float | None = None) -> Reader:
        """A reader that waits for acknowledged writes unless the operator turned that off."""
        wait = self.settings.read_wait_seconds if timeout is None else timeout
        progress = self.progress if self.settings.read_your_writes else None
        consistency = Consistency(warn_stale=self.settings.stale_reads == "warn")
        return Reader(self.r, collection, progress, wait, self.candidates, consistency)

    def readers(self, collection: Collection, timeout: float | None = None) -> list[Reader]:
        """A reader of each of its shards (shard_reads merges their answers)."""
        return [self.reader(part, timeout) for part in collection.parts]
