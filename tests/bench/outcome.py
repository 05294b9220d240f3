"""What a benchmark run found: a value per workload row and system, the cross-system checks,
notes and errors."""

from __future__ import annotations

from dataclasses import dataclass, field

NA = None  # the operation does not exist on that system
ERROR = "error"  # the workload failed on that system (the reason is in `errors`)

Value = float | str | None  # a figure, ERROR or NA
CheckValue = int | str


@dataclass
class Outcome:
    values: dict[str, dict[str, Value]] = field(default_factory=dict)  # row -> system -> value
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: dict[str, dict[str, CheckValue]] = field(default_factory=dict)  # check -> system

    def put(self, row: str, system: str, value: Value) -> None:
        self.values.setdefault(row, {})[system] = value

    def check(self, what: str, system: str, value: CheckValue) -> None:
        self.checks.setdefault(what, {})[system] = value
