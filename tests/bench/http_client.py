"""The benchmark's HTTP client for pointlog: one keep-alive HTTP/1.1 connection on a plain
socket, orjson bodies both ways, and an error that carries the exact request when the answer
is not 200.

Not `http.client`: it parses every response's headers with the email package, which cost
0.13 ms a request here (a point read by id takes about half a millisecond in all), time the client
spends that the benchmark would count as the server's. This one reads the status line and
Content-Length, all a response from pointlog needs (it always sends one)."""

from __future__ import annotations

import socket
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
        self._sock: socket.socket | None = None

    def request(self, method: str, path: str, body: object = None) -> Any:
        """The envelope's `result`."""
        data = None if body is None else orjson.dumps(body, option=DUMPS)
        sent = _request_bytes(method, path, data)
        for attempt in (1, 2):
            try:
                sock = self._connected()
                sock.sendall(sent)
                status, raw = self._response(sock)
                break
            except TimeoutError as exc:
                self.close()
                raise ServerError(method, path, data, f"no answer in {HTTP_TIMEOUT:.0f}s") from exc
            except ConnectionError as exc:
                # A keep-alive connection the server closed: reconnect once, and count it.
                self.close()
                if attempt == 2:
                    raise ServerError(method, path, data, f"connection failed: {exc!r}") from exc
                self.reconnects += 1
        if status != 200:
            raise ServerError(method, path, data, f"HTTP {status}: {raw[:500]!r}")
        try:
            return orjson.loads(raw)["result"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ServerError(method, path, data, f"not an envelope: {raw[:500]!r}") from exc

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _connected(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection(("127.0.0.1", self.port), HTTP_TIMEOUT)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._sock

    def _response(self, sock: socket.socket) -> tuple[int, bytes]:
        """The status and body of the next response; the connection is closed after it when
        the server says so."""
        received = _received(sock, b"")
        while b"\r\n\r\n" not in received:
            received = _received(sock, received)
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(_header(line) for line in lines[1:])
        length = int(headers.get("content-length", "-1"))
        if length < 0:
            raise ConnectionError(f"a response without Content-Length: {head!r}")
        while len(body) < length:
            body = _received(sock, body)
        if headers.get("connection") == "close":
            self.close()
        return int(lines[0].split(" ", 2)[1]), body


def _request_bytes(method: str, path: str, data: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if data is None:
        return (head + "\r\n").encode()
    head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


def _received(sock: socket.socket, so_far: bytes) -> bytes:
    """`so_far` and what arrives next; ConnectionError when the server closed instead."""
    more = sock.recv(1 << 16)
    if not more:
        raise ConnectionError("the server closed the connection")
    return so_far + more


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip().lower()
