"""API keys, as Qdrant's: an `api-key` header or `Authorization: Bearer <key>`; one key with
full access, one read-only. Health endpoints stay open. Keys are compared in constant time."""

from __future__ import annotations

import hmac

import falcon

from projections.errors import Forbidden, Unauthorized

OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
# POST endpoints that only read.
READ_SUFFIXES = (
    "/points", "/points/scroll", "/points/count", "/points/query", "/points/query/batch",
)  # fmt: skip


def _matches(given: str, key: str | None) -> bool:
    return key is not None and hmac.compare_digest(given.encode(), key.encode())


def is_write(req: falcon.Request) -> bool:
    if req.method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not (req.method == "POST" and req.path.endswith(READ_SUFFIXES))


class ApiKeys:
    """Middleware; does nothing when no key is configured."""

    def __init__(self, full: str | None, read_only: str | None) -> None:
        self._full = full or None
        self._read_only = read_only or None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if (self._full is None and self._read_only is None) or req.path in OPEN_PATHS:
            return
        given = req.get_header("api-key") or _bearer(req.get_header("Authorization"))
        if given is None:
            raise Unauthorized("Must provide an API key or an Authorization bearer token")
        if _matches(given, self._full):
            return
        if _matches(given, self._read_only):
            if is_write(req):
                raise Forbidden("Write access denied: the key is read-only")
            return
        raise Unauthorized("Invalid API key or JWT")


def _bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None
