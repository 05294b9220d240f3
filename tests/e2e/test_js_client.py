"""Qdrant's JS client (@qdrant/js-client-rest), unchanged, against pointlog. Needs Node.js and
npm (it installs the client from the npm registry); skipped on a machine without them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm")), reason="needs Node.js"
)
FLOW = Path(__file__).parent / "js" / "flow.mjs"


@pytest.fixture(scope="module")
def js_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("js")
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "@qdrant/js-client-rest"],
        cwd=folder, check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    shutil.copy(FLOW, folder / "flow.mjs")
    return folder


def test_js_client_flow(js_project: Path, base_url: str, name: str) -> None:
    run = subprocess.run(
        ["node", "flow.mjs", base_url, name],
        cwd=js_project, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    seen = orjson.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {
        "upsert": "completed",
        "retrieved": [{"id": 2, "payload": {"city": "London"}, "vector": [0.19, 0.81, 0.75, 0.11]}],
        "london": [2],
        "nearest": [1],
        "counted": 1,
        "left": 1,
        "deleted": True,
    }
