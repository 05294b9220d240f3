"""`pointlog up` runs the web process exactly as the Procfile's `web` line does."""

from __future__ import annotations

from tests.support import procfile
from workers.cli import web_arguments


def test_pointlog_up_runs_the_procfile_web_command():
    expected = "waitress-serve " + " ".join(web_arguments("0.0.0.0", "$PORT", "${WEB_THREADS:-16}"))
    assert procfile()["web"] == expected
