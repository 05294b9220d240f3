"""The benchmark's HTTP client for pointlog: one keep-alive `http.client` connection, orjson
bodies both ways, and an error that carries the exact request when the answer is not 200."""

from __future__ import annotations

import http.client
from typing import Any

import orjson

HTTP_TIMEOUT = 120.0
DUMPS = orjson.OPT_SERIALIZE_NUMPY  # vectors go out as numpy rows


class ServerError(Exception):
    """pointlog answered badly (status, envelope) or not at all; carries the exact request."""

    def __init__(self, method: str, path: str, body: bytes | None, problem: str) -> None:
        self.method, self.path, self.body, self.problem = method, path, body, problem
        shown = b"" if body is None else body[:300]
        more = "" if body is None or len(body) <= 300 else f"... ({len(body)} bytes in all)"
        super().__init__(f"{method} {path} body={shown!r}{more} -> {problem}")


class Http:
    """One keep-alive connection; orjson in and out; raises ServerError on anything but 200."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reconnects = 0
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: object = None) -> Any:
        """The envelope's `result`."""
        data = None if body is None else orjson.dumps(body, option=DUMPS)
        headers = {} if data is None else {"Content-Type": "application/json"}
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=HTTP_TIMEOUT
                )
            try:
                self._conn.request(method, path, body=data, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                break
            except TimeoutError as exc:
                self.close()
                raise ServerError(method, path, data, f"no answer in {HTTP_TIMEOUT:.0f}s") from exc
            except (http.client.HTTPException, ConnectionError) as exc:
                # A keep-alive connection the server closed: reconnect once, and count it.
                self.close()
                if attempt == 2:
                    raise ServerError(method, path, data, f"connection failed: {exc!r}") from exc
                self.reconnects += 1
        if response.status != 200:
            raise ServerError(method, path, data, f"HTTP {response.status}: {raw[:500]!r}")
        try:
            return orjson.loads(raw)["result"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ServerError(method, path, data, f"not an envelope: {raw[:500]!r}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
