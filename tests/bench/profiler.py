"""py-spy `record` of pointlog's processes while workloads run, and a summary of where they
spent their time: self time, and inclusive time in the project's own code."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.support import ROOT

PROJECT_PACKAGES = ("api", "projections", "workers")
# A frame of py-spy's raw (collapsed) format: `function (file:line)`.
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


class Profiler:
    """py-spy `record` (collapsed stacks) of the given processes, from start() to stop()."""

    def __init__(self, outdir: Path, targets: dict[str, int]) -> None:
        self.outdir = outdir
        self.targets = targets  # name -> pid
        self.processes: dict[str, subprocess.Popen] = {}
        self.binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    def start(self) -> None:
        self.outdir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.targets.items():
            args = [
                self.binary, "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
                "--output", str(self.outdir / f"{name}.txt"), "--nonblocking",
            ]  # fmt: skip
            err = (self.outdir / f"{name}.py-spy.log").open("w")
            self.processes[name] = subprocess.Popen(args, stdout=err, stderr=err)

    def stop(self) -> None:
        """SIGINT makes py-spy write its samples; a second call does nothing."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def summary(self, top: int = 12) -> str:
        lines = []
        for name in self.targets:
            path = self.outdir / f"{name}.txt"
            if not path.exists() or path.stat().st_size == 0:
                lines.append(f"{name}: no samples (see {self.outdir / (name + '.py-spy.log')})")
                continue
            own, inclusive, total = collapsed(path)
            lines.append(f"{name}: {total} samples while busy ({path})")
            lines.append("  self time:")
            lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
            mine = Counter({f: c for f, c in inclusive.items() if project_frame(f)})
            lines.append("  inclusive, project code:")
            lines += [f"    {100 * c / total:5.1f}%  {f}" for f, c in mine.most_common(top)]
        return "\n".join(lines)


def collapsed(path: Path) -> tuple[Counter[str], Counter[str], int]:
    """Samples per frame: at the top of the stack, anywhere in it; and the total."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [frame(f) for f in stack.split(";")[1:]]  # the first is the thread
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    return own, inclusive, total


def frame(text: str) -> str:
    """A frame with its file relative to the repository or to site-packages, line dropped."""
    match = FRAME.match(text.strip())
    if not match:
        return text.strip()
    file = match["file"]
    root = str(ROOT) + os.sep
    file = file[len(root) :] if file.startswith(root) else file.split("site-packages/")[-1]
    return f"{match['func']} ({file})"


def project_frame(shown: str) -> bool:
    """Is this frame (as `frame` shows it) in one of the project's packages?"""
    return any(f"({d}/" in shown for d in PROJECT_PACKAGES)
