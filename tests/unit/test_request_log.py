"""The request log: a JSON line a request, with the route, the collection, the status, the
duration, a write's operation id and an error's text; `errors` keeps only the errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import fakeredis
import orjson
import pytest
from falcon import testing

from api.app import create_app
from projections import json_logging
from projections.settings import Settings

BODY = {"points": [{"id": 1, "vector": [1.0, 2.0]}]}


def client(**settings: object) -> testing.TestClient:
    app = create_app(Settings(**settings), r=fakeredis.FakeRedis())  # type: ignore[arg-type]
    found = testing.TestClient(app)
    key = {"api-key": str(settings["api_key"])} if "api_key" in settings else {}
    config = {"vectors": {"size": 2, "distance": "Dot"}}
    found.simulate_put("/collections/c", json=config, headers=key)
    return found


class Lines(logging.Handler):
    """The request log's lines, as JSON objects (create_app sets the root logger's handlers,
    so the lines are taken from the request logger itself)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(json_logging.JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[list[dict]]:
    handler = Lines()
    logger = logging.getLogger("pointlog.requests")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_each_request_is_a_line_with_its_route_status_and_operation(lines) -> None:
    api = client()
    lines.clear()
    api.simulate_put("/collections/c/points", json=BODY)
    api.simulate_put("/collections/c/points", json={"points": [{"id": 2, "vector": [1]}]})
    write, refused = lines
    assert {k: write[k] for k in ("method", "route", "collection", "status", "operation_id")} == {
        "method": "PUT",
        "route": "/collections/{name}/points",
        "collection": "c",
        "status": 200,
        "operation_id": 0,
    }
    assert write["ms"] >= 0 and "error" not in write
    assert refused["status"] == 400
    assert refused["error"].startswith("Wrong input: Vector dimension error: expected dim: 2")


def test_errors_mode_keeps_only_the_errors(lines) -> None:
    api = client(request_log="errors", api_key="secret")
    lines.clear()
    api.simulate_get("/collections/c", headers={"api-key": "secret"})
    api.simulate_get("/collections/missing", headers={"api-key": "secret"})
    api.simulate_get("/collections/c")
    missing, unauthorized = lines
    assert (missing["status"], missing["collection"]) == (404, "missing")
    assert unauthorized["status"] == 401
    assert unauthorized["error"].startswith("Unauthorized: Must provide an API key")
