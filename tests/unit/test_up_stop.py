"""`pointlog up` stopping its processes: SIGTERM, then SIGKILL for one that outlives the grace
period (as Heroku stops a dyno)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from workers import cli

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print(1, flush=True); time.sleep(60)"
)
OBEDIENT = "import time; print(1, flush=True); time.sleep(60)"


def started(code: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"1\n"  # handlers in place
    return child


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "STOP_SECONDS", 1.0)
    obedient, stubborn = started(OBEDIENT), started(STUBBORN)
    began = time.monotonic()
    cli._stop_children([obedient, stubborn])
    assert obedient.returncode == -15 and stubborn.returncode == -9
    assert time.monotonic() - began < 10
    assert f"process {stubborn.pid} did not stop in 1s: killed" in capsys.readouterr().err
