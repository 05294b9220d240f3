"""What this web process has answered, per route and status, as Qdrant's telemetry counts it
(`OperationDurationStatistics`): served by `/telemetry` and, under Qdrant's metric names, by
`/metrics`."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from projections.jsontypes import JsonObject

RECENT = 128  # answers the average is taken over, as Qdrant's


@dataclass
class Durations:
    """One route's answers of one status."""

    count: int = 0
    failed: bool = False  # the status is an error
    total: float = 0.0  # seconds
    least: float = float("inf")
    most: float = 0.0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    last: datetime | None = None

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.least = min(self.least, seconds)
        self.most = max(self.most, seconds)
        self.recent.append(seconds)
        self.last = datetime.now(UTC)

    @property
    def average(self) -> float:
        return sum(self.recent) / len(self.recent) if self.recent else 0.0

    def statistics(self) -> JsonObject:
        """As Qdrant's `OperationDurationStatistics`."""
        return {
            "count": self.count,
            "fail_count": self.count if self.failed else 0,
            "avg_duration_micros": self.average * 1e6,
            "min_duration_micros": self.least * 1e6,
            "max_duration_micros": self.most * 1e6,
            "total_duration_micros": round(self.total * 1e6),
            "last_responded": None if self.last is None else self.last.isoformat(),
        }


Key = tuple[str, str, int]  # method, route template, status


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by: dict[Key, Durations] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            found = self._by.get((method, route, status))
            if found is None:
                found = self._by[(method, route, status)] = Durations(failed=status >= 400)
            found.add(seconds)

    def snapshot(self) -> dict[Key, Durations]:
        with self._lock:
            return {key: _copy(durations) for key, durations in self._by.items()}

    def responses(self) -> dict[str, dict[str, JsonObject]]:
        """Qdrant's `requests.rest.responses`: `"<METHOD> <route>"` -> status -> statistics."""
        shown: dict[str, dict[str, JsonObject]] = {}
        for (method, route, status), durations in sorted(self.snapshot().items()):
            shown.setdefault(f"{method} {route}", {})[str(status)] = durations.statistics()
        return shown


def _copy(durations: Durations) -> Durations:
    copied = Durations(durations.count, durations.failed, durations.total)
    copied.least, copied.most, copied.last = durations.least, durations.most, durations.last
    copied.recent.extend(durations.recent)
    return copied
