"""What every route shares: the store, the settings, the write path and the read path."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from api.writes import Writer
from projections import collections
from projections.collections import Collection
from projections.progress import Progress
from projections.reads import Reader
from projections.settings import Settings


@dataclass
class Context:
    r: redis.Redis
    settings: Settings
    progress: Progress
    writer: Writer

    def collection(self, name: str) -> Collection:
        return collections.load(self.r, name)

    def reader(self, collection: Collection, timeout: float | None = None) -> Reader:
        """A reader that waits for acknowledged writes unless the operator turned that off."""
        wait = self.settings.read_wait_seconds if timeout is None else timeout
        progress = self.progress if self.settings.read_your_writes else None
        return Reader(self.r, collection, progress, wait)
