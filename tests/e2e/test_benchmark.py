"""The benchmark's smoke run (`--quick`): every workload runs on pointlog and on qdrant-client's
local mode without an error, and both agree on what each workload left behind (the points a
filtered scroll found, the points a write by filter changed, the recall of exact queries)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support import ROOT

CHECK = re.compile(r"^- (?P<what>.+?): pointlog=(?P<pointlog>\S+), local=(?P<local>\S+)$")


def test_the_quick_benchmark_runs_and_pointlog_agrees_with_local_mode() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench.benchmark", "--quick", "--systems", "pointlog,local"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    checks = [m for line in run.stdout.splitlines() if (m := CHECK.match(line))]
    assert len(checks) >= 9, run.stdout[-3000:]
    for check in checks:
        assert check["pointlog"] == check["local"], check.group(0)
    assert "| 17. as 8, with the indexes of 9 (s) |" in run.stdout
    assert "| 20. query groups on d, group_by group" in run.stdout
