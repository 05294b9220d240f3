"""Qdrant's filter language: validated and compiled once into closures, then evaluated per point.

Semantics are those of the Rust server without payload indexes (its condition checker:
lib/segment/src/payload_storage/condition_checker.rs in https://github.com/qdrant/qdrant): no
type coercion, a field condition matches if any value its key resolves to matches (an array value
element-wise, one level deep), text matching is a case-sensitive substring test, numeric ranges
compare as f64 (ranges.py) and `match` integers exactly.

Errors follow Qdrant's split: a filter that does not deserialize is a 400 (FormatError), one that
deserializes but fails validation is a 422 (ValidationFailed). As in Qdrant, validation only runs
once the whole filter has deserialized, so a 400 anywhere wins over a 422.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from projections import geo
from projections.datetimes import parse_datetime
from projections.errors import FormatError, ValidationFailed
from projections.ids import PointId, parse_id
from projections.jsonpath import WILDCARD, JsonPath, get_values, parse_path, path_arg
from projections.jsontypes import (
    I64_MAX,
    I64_MIN,
    JsonObject,
    expect_object,
    is_number,
    json_kind,
    required,
)
from projections.prechecks import Precheck, prechecks
from projections.ranges import COMPARE, f64_bounds, given_bounds, within
from projections.text import Tokenizer, text_test

VectorNames = Collection[str]  # the names of the vectors a point has ("" for the unnamed one)
# (point id, payload, names of the vectors the point has) -> matches. Inside `nested` the
# payload is an array element and there is no id nor vectors.
Check = Callable[[PointId | None, JsonObject, VectorNames], bool]
ValueTest = Callable[[Any], bool]  # one payload value (an array element, never a whole array)

CLAUSES = ("should", "min_should", "must", "must_not")


class Filter:
    """A compiled filter. `uses_vectors` and `uses_ids` tell callers whether `matches` needs
    the point's vector names and id (others may pass empty ones: a scan then skips the work).
    `uses_text`: it has text matches, whose meaning depends on the collection's full-text
    indexes; bind those with `bind_text_indexes` before matching."""

    __slots__ = (
        "_check", "_text_matches", "may_match", "prefilters", "uses_ids", "uses_text",
        "uses_vectors",
    )  # fmt: skip

    def __init__(self, check: Check, compiler: _Compiler, checks: tuple[Precheck, ...]) -> None:
        self._check = check
        self.uses_vectors = compiler.uses_vectors
        self.uses_ids = compiler.uses_ids
        self._text_matches = tuple(compiler.text_matches)
        self.uses_text = bool(self._text_matches)
        # may_match(stored bytes) is False when a payload, as stored, cannot match (see
        # prechecks.py): it saves parsing most payloads a selective filter skips. True says
        # nothing. `prefilters` tells whether it can ever say False.
        self.prefilters = bool(checks)
        self.may_match: Precheck = _all_prechecks(checks)

    def matches(
        self, point_id: PointId | None, payload: JsonObject, vector_names: VectorNames
    ) -> bool:
        """Whether the point passes; `vector_names` holds "" for the unnamed vector. `point_id`
        may be None when the filter does not use ids."""
        return self._check(point_id, payload, vector_names)

    def bind_text_indexes(self, text_indexes: Mapping[str, JsonObject]) -> None:
        """Give the text matches on fields with a full-text index (field -> tokenizer params)
        token semantics; the others stay substring tests. The compiled filter is kept."""
        fields = {parse_path(field): params for field, params in text_indexes.items()}
        for text_match in self._text_matches:
            text_match.bind(fields.get(text_match.path))


class _TextMatch:
    """A `match.text`/`text_any`/`phrase` condition whose test is chosen when the field's
    text index (or its absence) is known: a substring test until then."""

    __slots__ = ("_form", "_query", "path", "test")

    def __init__(self, path: JsonPath, form: str, query: str) -> None:
        self.path = path
        self._form = form
        self._query = query
        self.test: ValueTest = _UNINDEXED_TEXT[form](query)

    def bind(self, params: JsonObject | None) -> None:
        if params is None:
            self.test = _UNINDEXED_TEXT[self._form](self._query)
        else:
            self.test = text_test(self._form, self._query, Tokenizer.of(params))

    def __call__(self, value: Any) -> bool:
        return self.test(value)


def _all_prechecks(checks: tuple[Precheck, ...]) -> Precheck:
    if len(checks) == 1:
        return checks[0]  # called once per stored payload in a scan: no extra layer
    return lambda stored: all(check(stored) for check in checks)


def compile_filter(raw: object, text_indexes: Mapping[str, JsonObject] | None = None) -> Filter:
    """Validate a filter from a JSON body completely and compile it for fast evaluation.
    `text_indexes` (field -> index params), when known already, gives full-text semantics to
    `match.text`, `text_any` and `phrase` on those fields (see `Filter.bind_text_indexes`)."""
    _check_depth(raw, MAX_DEPTH)
    compiler = _Compiler()
    check = compiler.filter(raw, nested=False)
    if compiler.invalid:
        raise ValidationFailed("; ".join(compiler.invalid))
    compiled = Filter(check, compiler, prechecks(raw))
    if text_indexes:
        compiled.bind_text_indexes(text_indexes)
    return compiled


MAX_DEPTH = 64  # nesting of a filter's JSON; compiling recurses per level


def _check_depth(raw: object, limit: int) -> None:
    """Refuse absurdly deep filters before compiling recurses into them."""
    level = [raw]
    for _ in range(limit):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
    if any(isinstance(node, (dict, list)) for node in level):
        raise FormatError(f"filter: nested deeper than {limit} levels")


class _Compiler:
    def __init__(self) -> None:
        self.uses_vectors = False
        self.uses_ids = False
        self.text_matches: list[_TextMatch] = []  # their meaning depends on text indexes
        self.invalid: list[str] = []  # 422s, raised once the whole filter has deserialized

    def filter(self, raw: object, nested: bool) -> Check:
        """A boolean filter. `nested`: inside a `nested` condition, where Qdrant checks the
        filter without its query optimizer, so `should: []` matches nothing there."""
        if not isinstance(raw, dict):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected struct Filter")
        for key in raw:
            if key not in CLAUSES:
                raise FormatError(
                    f"unknown field `{key}`, expected one of `should`, `min_should`, `must`, "
                    "`must_not`"
                )
        parts: list[Check] = []
        if raw.get("must") is not None:
            parts.append(_all(self.conditions(raw["must"], nested)))
        if raw.get("should") is not None:
            should = self.conditions(raw["should"], nested)
            if should or nested:  # an empty `should` is no constraint at top level
                parts.append(_any(should))
        if raw.get("must_not") is not None:
            parts.append(_none(self.conditions(raw["must_not"], nested)))
        if raw.get("min_should") is not None:
            parts.append(self.min_should(raw["min_should"], nested))
        return _all(parts)

    def conditions(self, raw: object, nested: bool) -> list[Check]:
        """A clause: one condition object or a list of them."""
        if isinstance(raw, dict):
            return [self.condition(raw, nested)]
        if isinstance(raw, list):
            return [self.condition(item, nested) for item in raw]
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a condition or a sequence")

    def min_should(self, raw: object, nested: bool) -> Check:
        if not isinstance(raw, dict):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected struct MinShould")
        for field in ("conditions", "min_count"):
            if raw.get(field) is None:
                raise FormatError(f"missing field `{field}`")
        if not isinstance(raw["conditions"], list):
            raise FormatError(f"invalid type: {json_kind(raw['conditions'])}, expected a sequence")
        conditions = self.conditions(raw["conditions"], nested)
        min_count = _count_bound(raw["min_count"])
        if min_count < 1:
            self.invalid.append(
                f"min_should.min_count: value {min_count} invalid, must be 1 or larger"
            )
        return _at_least(conditions, min_count)

    def condition(self, raw: object, nested: bool) -> Check:
        """One condition; which kind is told by its keys, in the order Qdrant tries them."""
        if not isinstance(raw, dict):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected a condition")
        if "key" in raw:
            return self.field(raw)
        if "is_empty" in raw:
            return _is_empty(_payload_field(raw["is_empty"]))
        if "is_null" in raw:
            return _is_null(_payload_field(raw["is_null"]))
        if "has_id" in raw:
            self.uses_ids = True
            return _has_id(raw["has_id"], nested)
        if "has_vector" in raw:
            return self.has_vector(raw["has_vector"], nested)
        if "nested" in raw:
            return self.nested(raw["nested"])
        if raw.keys() <= set(CLAUSES):
            return self.filter(raw, nested)
        raise FormatError("data did not match any variant of untagged enum Condition")

    def field(self, raw: JsonObject) -> Check:
        """A field condition. Its operators are OR-ed, but values_count, is_empty and is_null
        (in that order) take precedence, as in Qdrant."""
        path = path_arg(raw["key"])
        tests = self.value_tests(raw)
        fits = None if raw.get("values_count") is None else _count_range(raw["values_count"])
        is_empty, is_null = _flag(raw, "is_empty"), _flag(raw, "is_null")
        if fits is not None:
            return _values_count(path, fits)
        if is_empty is not None:
            return _field_is_empty(path, is_empty)
        if is_null is not None:
            return _field_is_null(path, is_null)
        if not tests:
            self.invalid.append("At least one field condition must be specified")
            return _never
        return _any_value(path, _either(tests))

    def value_tests(self, raw: JsonObject) -> list[ValueTest]:
        """The operators that test values one by one (match, range, geo)."""
        builders: dict[str, Callable[[Any], ValueTest]] = {
            "match": lambda match: self.match(match, raw["key"]),
            "range": _range,
            "geo_bounding_box": geo.bounding_box,
            "geo_radius": geo.radius,
            "geo_polygon": lambda polygon: geo.polygon(polygon, self.invalid),
        }
        return [build(raw[name]) for name, build in builders.items() if raw.get(name) is not None]

    def match(self, raw: object, key: object) -> ValueTest:
        """`match`; its text forms tokenize when the field has a text index."""
        if isinstance(raw, dict):
            form = next((f for f in TEXT_FORMS if raw.get(f) is not None), None)
            if form is not None and _first_form(raw) == form:
                text_match = _TextMatch(path_arg(key), form, _text(raw[form]))
                self.text_matches.append(text_match)
                return text_match
        return _match(raw)

    def has_vector(self, raw: object, nested: bool) -> Check:
        if not isinstance(raw, str):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected a string")
        if nested:  # array elements have no vectors
            return _never
        self.uses_vectors = True
        return lambda _id, _payload, vectors: raw in vectors

    def nested(self, raw: object) -> Check:
        """Match when one object element of the array at `key` satisfies the whole filter."""
        if not isinstance(raw, dict):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected struct Nested")
        path = path_arg(required(raw, "key"))
        if path[-1] is not WILDCARD:
            path = (*path, WILDCARD)
        inner = self.filter(required(raw, "filter"), nested=True)

        def check(_id: PointId | None, payload: JsonObject, _vectors: VectorNames) -> bool:
            elements = get_values(payload, path)
            return any(isinstance(e, dict) and inner(None, e, ()) for e in elements)

        return check


# ---- combinators ---------------------------------------------------------------------------


def _always(_id: PointId | None, _payload: JsonObject, _vectors: VectorNames) -> bool:
    return True


def _never(_id: PointId | None, _payload: JsonObject, _vectors: VectorNames) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return lambda i, p, v: all(check(i, p, v) for check in checks)


def _any(checks: list[Check]) -> Check:
    if not checks:
        return _never
    if len(checks) == 1:
        return checks[0]
    return lambda i, p, v: any(check(i, p, v) for check in checks)


def _none(checks: list[Check]) -> Check:
    return lambda i, p, v: not any(check(i, p, v) for check in checks)


def _at_least(checks: list[Check], count: int) -> Check:
    def check(i: PointId | None, p: JsonObject, v: VectorNames) -> bool:
        passed = 0
        for condition in checks:
            if condition(i, p, v):
                passed += 1
                if passed >= count:
                    return True
        return False

    return check


def _either(tests: list[ValueTest]) -> ValueTest:
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


# ---- conditions on a payload field ---------------------------------------------------------


def _any_value(path: JsonPath, test: ValueTest) -> Check:
    """Some value at `path` passes `test`; an array value passes if one of its elements does."""
    if len(path) == 1:
        return _any_value_at_key(path[0], test)

    def check(_id: PointId | None, payload: JsonObject, _vectors: VectorNames) -> bool:
        for value in get_values(payload, path):
            if isinstance(value, list):
                if any(test(item) for item in value):
                    return True
            elif test(value):
                return True
        return False

    return check


def _any_value_at_key(key: str, test: ValueTest) -> Check:
    """`_any_value` for a plain top-level key, the common case of a scan's hot loop."""

    def check(_id: PointId | None, payload: JsonObject, _vectors: VectorNames) -> bool:
        if key not in payload:
            return False
        value = payload[key]
        if isinstance(value, list):
            return any(map(test, value))
        return test(value)

    return check


def _values_count(path: JsonPath, fits: Callable[[int], bool]) -> Check:
    """Some value has an allowed count (array length, 0 for null, else 1); none counts as 0."""

    def check(_id: PointId | None, payload: JsonObject, _vectors: VectorNames) -> bool:
        values = get_values(payload, path)
        return any(fits(_count(v)) for v in values) if values else fits(0)

    return check


def _count(value: Any) -> int:
    if value is None:
        return 0
    return len(value) if isinstance(value, list) else 1


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list) and not value)


def _nullish(value: Any) -> bool:
    return value is None or (isinstance(value, list) and any(v is None for v in value))


def _is_empty(path: JsonPath) -> Check:
    """`{"is_empty": {"key": k}}`: every value at `k` is null or `[]` (true when there is none)."""
    return lambda _id, payload, _v: all(_empty(v) for v in get_values(payload, path))


def _is_null(path: JsonPath) -> Check:
    """`{"is_null": {"key": k}}`: some value at `k` is null itself (`[null]` is not)."""
    return lambda _id, payload, _v: any(v is None for v in get_values(payload, path))


def _field_is_empty(path: JsonPath, flag: bool) -> Check:
    """`{"key": k, "is_empty": flag}`: some value is (not) empty; a missing key is empty."""

    def check(_id: PointId | None, payload: JsonObject, _vectors: VectorNames) -> bool:
        values = get_values(payload, path)
        return any(_empty(v) == flag for v in values) if values else flag

    return check


def _field_is_null(path: JsonPath, flag: bool) -> Check:
    """`{"key": k, "is_null": flag}`: some value is (not) null, an array counting as null when
    an element is; a missing key is not null."""

    def check(_id: PointId | None, payload: JsonObject, _vectors: VectorNames) -> bool:
        values = get_values(payload, path)
        return any(_nullish(v) == flag for v in values) if values else not flag

    return check


def _payload_field(raw: object) -> JsonPath:
    """The `{"key": ...}` object of is_empty / is_null."""
    if not isinstance(raw, dict) or "key" not in raw:
        raise FormatError(f"invalid type: {json_kind(raw)}, expected struct PayloadField")
    return path_arg(raw["key"])


def _flag(raw: JsonObject, name: str) -> bool | None:
    value = raw.get(name)
    if value is not None and not isinstance(value, bool):
        raise FormatError(f"{name}: invalid type: {json_kind(value)}, expected a boolean")
    return value


# ---- conditions on the point itself --------------------------------------------------------


def _has_id(raw: object, nested: bool) -> Check:
    if not isinstance(raw, list):
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a sequence of point ids")
    wanted = frozenset(parse_id(item) for item in raw)
    if nested:  # array elements are not points
        return _never
    return lambda point_id, _payload, _vectors: point_id in wanted


# ---- match ---------------------------------------------------------------------------------


# `match` forms in the order Qdrant tries them.
MATCH_FORMS = ("value", "text", "text_any", "phrase", "prefix", "any", "except")
TEXT_FORMS = ("text", "text_any", "phrase")


def _first_form(match: JsonObject) -> str | None:
    return next((name for name in MATCH_FORMS if match.get(name) is not None), None)


def _match(raw: object) -> ValueTest:
    """`match`: the first of its forms present decides."""
    match = expect_object(raw, "Match")
    builders: dict[str, Callable[[Any], ValueTest]] = {
        "value": _match_value,
        **_UNINDEXED_TEXT,
        "prefix": _prefix,
        "any": _match_any,
        "except": _match_except,
    }
    form = _first_form(match)
    if form is None:
        raise FormatError("data did not match any variant of untagged enum Match")
    return builders[form](match[form])


def _match_value(expected: object) -> ValueTest:
    """Equality within one JSON type: 1 never matches 1.0, "1" or true."""
    if isinstance(expected, bool):
        return lambda value: value is expected
    if isinstance(expected, int) and I64_MIN <= expected <= I64_MAX:
        return lambda value: type(value) is int and value == expected
    if isinstance(expected, str):
        return lambda value: value == expected
    raise FormatError(
        f"match.value: invalid value {json_kind(expected)}, expected a string, integer or boolean"
    )


def _members(raw: object) -> tuple[type, frozenset[object]]:
    """The list of `any` / `except`: all strings or all integers (an empty list is strings)."""
    if isinstance(raw, list):
        if all(isinstance(item, str) for item in raw):
            return str, frozenset(raw)
        if all(type(item) is int and I64_MIN <= item <= I64_MAX for item in raw):
            return int, frozenset(raw)
    raise FormatError(
        "data did not match any variant of untagged enum AnyVariants: expected a list of "
        "strings or a list of integers"
    )


def _match_any(raw: object) -> ValueTest:
    kind, members = _members(raw)
    return lambda value: type(value) is kind and value in members


def _match_except(raw: object) -> ValueTest:
    """Any non-null value not in the list, values of another type included."""
    kind, members = _members(raw)
    return lambda value: value is not None and not (type(value) is kind and value in members)


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise FormatError(f"match: invalid type: {json_kind(raw)}, expected a string")
    return raw


def _substring(raw: object) -> ValueTest:
    text = _text(raw)
    return lambda value: isinstance(value, str) and text in value


def _any_token(raw: object) -> ValueTest:
    """Some whitespace-separated token of the query is a substring."""
    tokens = _text(raw).split()
    return lambda value: isinstance(value, str) and any(token in value for token in tokens)


def _prefix(raw: object) -> ValueTest:
    prefix = _text(raw)
    return lambda value: isinstance(value, str) and value.startswith(prefix)


# The text forms on a field without a full-text index; a phrase is then a plain substring.
_UNINDEXED_TEXT: dict[str, Callable[[str], ValueTest]] = {
    "text": _substring,
    "text_any": _any_token,
    "phrase": _substring,
}


# ---- range and values_count ----------------------------------------------------------------


def _range(raw: object) -> ValueTest:
    """Numeric bounds test numbers (int or float) as f64s; if any bound is a string, all must
    be datetimes and the range tests strings that parse as datetimes."""
    given = given_bounds(expect_object(raw, "Range"))
    if any(isinstance(value, str) for value in given.values()):
        return _datetime_range(given)
    bounds = f64_bounds(given)
    if bounds is None:
        wrong = next(value for value in given.values() if not is_number(value))
        raise FormatError(f"range: invalid type: {json_kind(wrong)}, expected a number")
    if len(bounds) == 1:  # the common case, as one call per value
        ((op, bound),) = bounds.items()
        compare = COMPARE[op]
        return lambda v: (type(v) is int or type(v) is float) and compare(float(v), bound)
    inside = within(bounds)
    return lambda v: is_number(v) and inside(float(v))


def _datetime_range(given: dict[str, object]) -> ValueTest:
    parsed: dict[str, datetime] = {}
    for op, value in given.items():
        if not isinstance(value, str):
            raise FormatError("data did not match any variant of untagged enum RangeInterface")
        moment = parse_datetime(value)
        if moment is None:
            raise FormatError(
                f"'{value}' does not match accepted datetime format (RFC3339). "
                "Example: 2014-01-01T00:00:00Z"
            )
        parsed[op] = moment
    inside = within(parsed)

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        moment = parse_datetime(value)
        return moment is not None and inside(moment)

    return test


def _count_range(raw: object) -> Callable[[int], bool]:
    bounds = given_bounds(expect_object(raw, "ValuesCount"))
    return within({op: _count_bound(bound) for op, bound in bounds.items()})


def _count_bound(raw: object) -> int:
    if type(raw) is not int or raw < 0:
        raise FormatError(f"invalid value: {json_kind(raw)}, expected usize")
    return raw
