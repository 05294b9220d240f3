"""Formula queries (`{"formula": ..., "defaults": {...}}`): the points of the prefetches
scored again by an expression, as Qdrant scores them.

An expression is a number; a variable (`$score` or `$score[i]`: the point's score in the
i-th prefetch, 0 where it was not found; else a payload key holding a number); a condition
(1 when the point matches it, else 0); or an operator object: `mult`, `sum`, `neg`, `abs`,
`div` (`left`, `right`, `by_zero_default`), `sqrt`, `pow` (`base`, `exponent`), `exp`,
`log10`, `ln`, `lin_decay` / `exp_decay` / `gauss_decay` (`x`, `target`, `scale`,
`midpoint`), `geo_distance` (`origin`, `to`: meters), `datetime` (a constant) and
`datetime_key` (a payload key), both in seconds since the epoch. `defaults` give a value to a
variable a point lacks. An expression is compiled once per request, checked as Qdrant checks
it (a bad one is a 400 before anything runs); a point whose score is not a finite number
fails the request, as in Qdrant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, NoReturn

import numpy as np

from projections import geo
from projections.datetimes import parse_datetime
from projections.errors import BadRequest, FormatError
from projections.filters import compile_filter
from projections.ids import PointId
from projections.jsonpath import get_values, parse_path
from projections.jsontypes import JsonObject, is_number

CONDITIONS = ("key", "is_empty", "is_null", "has_id", "has_vector", "nested", "must", "should",
              "must_not", "min_should")  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """What an expression reads of one point."""

    point_id: PointId
    key: str
    payload: JsonObject
    vectors: frozenset[str]  # the names of the vectors it has
    scores: list[dict[str, float]]  # each prefetch's scores, by point key


Node = Callable[[Scope], float]


class Formula:
    def __init__(self, raw: object, defaults: object) -> None:
        if defaults is not None and not isinstance(defaults, dict):
            raise FormatError("defaults: invalid type, expected a map")
        self._defaults = {_default_key(k): v for k, v in (defaults or {}).items()}
        self.uses_vectors = False  # set while compiling: a condition needs vector names
        self._root = self._compile(raw)

    def score(self, scope: Scope) -> float:
        value = self._root(scope)
        score = _f32(value)
        if not math.isfinite(score):
            _non_finite(f"{value} as f32 = {score}")
        return score

    # ---- compiling ------------------------------------------------------------------------------

    def _compile(self, raw: object) -> Node:
        if is_number(raw):
            value = float(raw)
            return lambda _: value
        if isinstance(raw, str):
            return self._variable(raw)
        if not isinstance(raw, dict):
            raise FormatError("formula: data did not match any variant of untagged enum Expression")
        if not raw or any(k in raw for k in CONDITIONS):  # `{}`: a filter matching all
            return self._condition(raw)
        if len(raw) != 1:
            raise FormatError("formula: data did not match any variant of untagged enum Expression")
        ((name, arg),) = raw.items()
        make = self._OPERATORS.get(name)
        if make is None:
            raise FormatError(f"formula: unknown expression `{name}`")
        return make(self, arg)

    def _variable(self, text: str) -> Node:
        index = _score_index(text)
        if index is not None:
            fallback = float(self._defaults.get(f"$score[{index}]", 0.0))

            def score(scope: Scope) -> float:
                found = scope.scores[index].get(scope.key) if index < len(scope.scores) else None
                return fallback if found is None else found

            return score
        path = parse_path(text)

        def payload_number(scope: Scope) -> float:
            value = self._value(text, get_values(scope.payload, path))
            if not is_number(value):
                raise BadRequest(f"Expected number value for {text} in the payload and/or in "
                                 "the formula defaults. Error: Value is not a number")  # fmt: skip
            return float(value)

        return payload_number

    def _value(self, text: str, found: list[object]) -> object:
        """A key's value in the payload (one item of a one-item array), else its default."""
        values = [v for value in found for v in (value if isinstance(value, list) else [value])]
        if not values:
            default = self._defaults.get(text)
            values = default if isinstance(default, list) else [] if default is None else [default]
        if not values:
            raise BadRequest(f"No value found for {text} in the payload nor the formula defaults")
        return values[0] if len(values) == 1 else values

    def _condition(self, raw: JsonObject) -> Node:
        flt = compile_filter({"must": [raw]})
        self.uses_vectors |= flt.uses_vectors
        return lambda s: 1.0 if flt.matches(s.point_id, s.payload, s.vectors) else 0.0

    def _many(self, raw: object, name: str) -> list[Node]:
        if not isinstance(raw, list):
            raise FormatError(f"{name}: invalid type, expected a sequence of expressions")
        return [self._compile(one) for one in raw]

    def _mult(self, raw: object) -> Node:
        factors = self._many(raw, "mult")

        def mult(scope: Scope) -> float:
            product = 1.0
            for factor in factors:
                value = factor(scope)
                if value == 0.0:
                    return value  # the rest is not evaluated, as in Qdrant
                product *= value
            return product

        return mult

    def _sum(self, raw: object) -> Node:
        terms = self._many(raw, "sum")
        return lambda scope: sum(term(scope) for term in terms)

    def _neg(self, raw: object) -> Node:
        inner = self._compile(raw)
        return lambda scope: -inner(scope)

    def _abs(self, raw: object) -> Node:
        inner = self._compile(raw)
        return lambda scope: abs(inner(scope))

    def _div(self, raw: object) -> Node:
        args = _fields(raw, "div", ("left", "right"))
        left, right = self._compile(args["left"]), self._compile(args["right"])
        by_zero = args.get("by_zero_default")

        def div(scope: Scope) -> float:
            a = left(scope)
            if a == 0.0:
                return a
            b = right(scope)
            if b == 0.0 and by_zero is not None:
                return float(by_zero)
            if b == 0.0 or not math.isfinite(a / b):
                _non_finite(f"{a}/{b}")
            return a / b

        return div

    def _sqrt(self, raw: object) -> Node:
        inner = self._compile(raw)

        def sqrt(scope: Scope) -> float:
            value = inner(scope)
            if value < 0:
                _non_finite(f"√{value}")
            return math.sqrt(value)

        return sqrt

    def _pow(self, raw: object) -> Node:
        args = _fields(raw, "pow", ("base", "exponent"))
        base, exponent = self._compile(args["base"]), self._compile(args["exponent"])

        def power(scope: Scope) -> float:
            b, e = base(scope), exponent(scope)
            try:
                value = math.pow(b, e)
            except (OverflowError, ValueError):
                value = math.nan
            if not math.isfinite(value):
                _non_finite(f"{b}^{e}")
            return value

        return power

    def _exp(self, raw: object) -> Node:
        inner = self._compile(raw)

        def exp(scope: Scope) -> float:
            value = inner(scope)
            try:
                return math.exp(value)
            except OverflowError:
                return _non_finite(f"exp({value})")

        return exp

    def _log(self, raw: object, log: Callable[[float], float], name: str) -> Node:
        inner = self._compile(raw)

        def logarithm(scope: Scope) -> float:
            value = inner(scope)
            if value <= 0:
                _non_finite(f"{name}({value})")
            return log(value)

        return logarithm

    def _decay(self, raw: object, shape: str) -> Node:
        args = _fields(raw, f"{shape}_decay", ("x",))
        x = self._compile(args["x"])
        target = self._compile(args["target"]) if args.get("target") is not None else None
        midpoint = _param(args, "midpoint", 0.5)
        scale = _param(args, "scale", 1.0)
        if shape == "lin" and not 0.0 <= midpoint <= 1.0:
            raise BadRequest(
                f"Linear decay midpoint should be in the range [0.0, 1.0], got {midpoint}"
            )
        if shape != "lin" and not 0.0 < midpoint < 1.0:
            raise BadRequest(f"Decay midpoint should be in the range (0.0, 1.0), got {midpoint}")
        if scale <= 0.0:
            raise BadRequest(f"Scale must be non-zero positive, got {scale}")

        def decay(scope: Scope) -> float:
            diff = x(scope) - (0.0 if target is None else target(scope))
            if shape == "lin":
                return max(0.0, 1.0 - (1.0 - midpoint) / scale * abs(diff))
            if shape == "exp":
                return math.exp(math.log(midpoint) / scale * abs(diff))
            return math.exp(math.log(midpoint) / (scale * scale) * diff * diff)

        return decay

    def _geo_distance(self, raw: object) -> Node:
        args = _fields(raw, "geo_distance", ("origin", "to"))
        origin, to = geo.query_point(args["origin"]), args["to"]
        if not isinstance(to, str):
            raise FormatError("geo_distance.to: invalid type, expected a payload key")
        path = parse_path(to)

        def distance(scope: Scope) -> float:
            point = geo.stored_point(self._value(to, get_values(scope.payload, path)))
            if point is None:
                raise BadRequest(f"Expected geo point for {to} in the payload and/or in the "
                                 "formula defaults.")  # fmt: skip
            return geo.distance(origin, point)

        return distance

    def _datetime(self, raw: object) -> Node:
        found = parse_datetime(raw) if isinstance(raw, str) else None
        if found is None:
            raise BadRequest(f"Expected datetime in supported format for {raw}")
        seconds = found.timestamp()
        return lambda _: seconds

    def _datetime_key(self, raw: object) -> Node:
        if not isinstance(raw, str):
            raise FormatError("datetime_key: invalid type, expected a payload key")
        path = parse_path(raw)

        def seconds(scope: Scope) -> float:
            value = self._value(raw, get_values(scope.payload, path))
            found = parse_datetime(value) if isinstance(value, str) else None
            if found is None:
                raise BadRequest(f"Expected datetime for {raw} in the payload and/or in the "
                                 "formula defaults.")  # fmt: skip
            return found.timestamp()

        return seconds

    _OPERATORS: ClassVar[dict[str, Callable[[Formula, object], Node]]] = {
        "mult": _mult,
        "sum": _sum,
        "neg": _neg,
        "abs": _abs,
        "div": _div,
        "sqrt": _sqrt,
        "pow": _pow,
        "exp": _exp,
        "log10": lambda self, raw: self._log(raw, math.log10, "log10"),
        "ln": lambda self, raw: self._log(raw, math.log, "ln"),
        "lin_decay": lambda self, raw: self._decay(raw, "lin"),
        "exp_decay": lambda self, raw: self._decay(raw, "exp"),
        "gauss_decay": lambda self, raw: self._decay(raw, "gauss"),
        "geo_distance": _geo_distance,
        "datetime": _datetime,
        "datetime_key": _datetime_key,
    }


def _score_index(text: str) -> int | None:
    """`$score` -> 0, `$score[i]` -> i; None for a payload key; a 400 for another `$score...`."""
    if not text.startswith("$score"):
        return None
    rest = text.removeprefix("$score")
    if not rest:
        return 0
    digits = rest[1:-1]
    if rest[0] != "[" or rest[-1] != "]" or not (digits.isascii() and digits.isdigit()):
        raise BadRequest(f"Invalid score pattern: {text}")
    return int(digits)


def _default_key(text: str) -> str:
    """Defaults are keyed as variables are read: `$score` and `$score[0]` are one."""
    index = _score_index(text)
    return text if index is None else f"$score[{index}]"


def _fields(raw: object, name: str, required: tuple[str, ...]) -> JsonObject:
    if not isinstance(raw, dict):
        raise FormatError(f"{name}: invalid type, expected an object")
    missing = [field for field in required if raw.get(field) is None]
    if missing:
        raise FormatError(f"{name}: missing field `{missing[0]}`")
    return raw


def _param(args: JsonObject, name: str, default: float) -> float:
    value = args.get(name)
    if value is None:
        return default
    if not is_number(value):
        raise FormatError(f"{name}: invalid type, expected a number")
    return float(value)


def _f32(value: float) -> float:
    """The value as Qdrant's f32 score holds it (inf past its range)."""
    with np.errstate(over="ignore"):
        return float(np.float32(value))


def _non_finite(expression: str) -> NoReturn:
    raise BadRequest(f"The expression {expression} produced a non-finite number")
