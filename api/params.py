"""Query parameters of Qdrant's write and read endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import falcon

from projections.errors import QueryFormatError, ValidationFailed

ORDERINGS = ("weak", "medium", "strong")
CONSISTENCIES = ("majority", "quorum", "all")


@dataclass(frozen=True)
class WriteParams:
    wait: bool
    ordering: str
    timeout: float | None


def _bool(req: falcon.Request, name: str, default: bool) -> bool:
    value = req.get_param(name)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise QueryFormatError(f"{name}: provided string was not `true` or `false`")
    return value == "true"


def _timeout(req: falcon.Request, minimum: int, nonzero: bool = False) -> float | None:
    """`timeout` in seconds. Reads take a non-zero integer (0 does not even parse, 400);
    collection endpoints validate a minimum (422)."""
    value = req.get_param("timeout")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or (nonzero and int(value) == 0):
        raise QueryFormatError(f"timeout: invalid value `{value}`, expected a positive integer")
    seconds = int(value)
    if seconds < minimum:
        raise ValidationFailed(
            f"timeout: value {seconds} invalid, must be {minimum} or larger",
            where="query parameters",
        )
    return float(seconds)


def write_params(req: falcon.Request) -> WriteParams:
    """`wait` (default false), `ordering` (weak|medium|strong), `timeout` (seconds)."""
    ordering = req.get_param("ordering") or "weak"
    if ordering not in ORDERINGS:
        raise QueryFormatError(
            f"ordering: unknown variant `{ordering}`, expected one of {ORDERINGS}"
        )
    return WriteParams(_bool(req, "wait", False), ordering, _timeout(req, 0))


def read_params(req: falcon.Request) -> float | None:
    """Validates `consistency` (an int >= 1 or majority|quorum|all) and returns `timeout`.

    One copy of the data and one log: every consistency level reads the same projection,
    after the read-your-writes check (see README, "Consistency")."""
    consistency = req.get_param("consistency")
    numeric = (
        consistency is not None
        and consistency.isascii()
        and consistency.isdigit()
        and int(consistency) >= 1
    )
    if consistency and consistency not in CONSISTENCIES and not numeric:
        raise QueryFormatError(f"consistency: unknown variant `{consistency}`")
    return _timeout(req, 1, nonzero=True)


def collection_timeout(req: falcon.Request) -> None:
    _timeout(req, 1)


def int_param(
    req: falcon.Request, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """An integer query parameter within [minimum, maximum]."""
    value = req.get_param(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise QueryFormatError(f"{name}: invalid value `{value}`, expected an integer") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"from {minimum}" + ("" if maximum is None else f" to {maximum}")
        raise ValidationFailed(
            f"{name}: value {number} invalid, must be {bounds}", where="query parameters"
        )
    return number
