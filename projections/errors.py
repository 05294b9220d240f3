"""Qdrant's error kinds: each carries the HTTP status and the message prefix Qdrant uses."""

from __future__ import annotations

from typing import TypedDict


class QdrantError(Exception):
    """An error a client sees as `{"status": {"error": "<prefix><detail>"}}`."""

    http_status = 500
    prefix = "Service internal error: "

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def message(self) -> str:
        return f"{self.prefix}{self.detail}"


class WrongInput(QdrantError):
    """Well-formed request that Qdrant rejects as bad input (unknown vector, bad id...)."""

    http_status = 400
    prefix = "Wrong input: "


class BadRequest(QdrantError):
    """A request Qdrant refuses as a whole (empty update, no selector...)."""

    http_status = 400
    prefix = "Bad request: "


class FormatError(QdrantError):
    """The JSON body does not deserialize into the expected shape (wrong type, missing field)."""

    http_status = 400
    prefix = "Format error in JSON body: "


class QueryFormatError(QdrantError):
    """A query parameter does not parse (`wait=yes`, `timeout=abc`)."""

    http_status = 400
    prefix = "Deserialize error in query parameters: "


class ValidationFailed(QdrantError):
    """Well-typed but out of range (limit 0, empty vector...): Qdrant answers 422."""

    http_status = 422

    def __init__(self, detail: str, where: str = "JSON body") -> None:
        super().__init__(detail)
        self.where = where

    @property
    def message(self) -> str:
        return f"Validation error in {self.where}: [{self.detail}]"


class NotFound(QdrantError):
    http_status = 404
    prefix = "Not found: "


class AlreadyExists(QdrantError):
    http_status = 409
    prefix = "Wrong input: "


class Timeout(QdrantError):
    http_status = 408
    prefix = "Timeout: "


_KINDS: dict[str, type[QdrantError]] = {
    cls.__name__: cls
    for cls in (
        QdrantError, WrongInput, BadRequest, FormatError, NotFound, AlreadyExists, Timeout,
    )
}  # fmt: skip


class ErrorRecord(TypedDict):
    """An error as the projection's outcome records keep it (JSON)."""

    kind: str  # the QdrantError class name
    detail: str


def to_record(error: QdrantError) -> ErrorRecord:
    """An error as the log's outcome record keeps it."""
    return {"kind": type(error).__name__, "detail": error.detail}


def from_record(record: ErrorRecord) -> QdrantError:
    return _KINDS.get(record["kind"], QdrantError)(record["detail"])


class Unauthorized(QdrantError):
    http_status = 401
    prefix = "Unauthorized: "


class Forbidden(QdrantError):
    http_status = 403
    prefix = "Forbidden: "


class Unsupported(QdrantError):
    """A Qdrant endpoint pointlog does not serve (yet)."""

    http_status = 501
    prefix = "Not implemented: "
