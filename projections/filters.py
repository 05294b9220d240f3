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
from typing import Any, NamedTuple, cast

import orjson

from projections import geo, prechecks
from projections.datetimes import parse_datetime, to_micros
from projections.errors import FormatError, ValidationFailed
from projections.hints import All, Either, Hint, Ids, Moments, Numbers, Place, Text, Values
from projections.ids import PointId, parse_id, to_key
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
from projections.prechecks import Precheck
from projections.ranges import COMPARE, f64_bounds, given_bounds, within
from projections.slices import slice_of
from projections.text import Tokenizer, text_test

VectorNames = Collection[str]  # the names of the vectors a point has ("" for the unnamed one)
# (point id, payload, names of the vectors the point has) -> matches. Inside `nested` the
# payload is an array element and there is no id nor vectors.
Check = Callable[[PointId | None, JsonObject, VectorNames], bool]
ValueTest = Callable[[Any], bool]  # one payload value (an array element, never a whole array)
Operator = tuple[ValueTest, Hint | None]  # a field condition's operator, and its hint

CLAUSES = ("should", "min_should", "must", "must_not")


class Filter:
    """A compiled filter. `uses_vectors` and `uses_ids` tell callers whether `matches` needs
    the point's vector names and id (others may pass empty ones: a scan then skips the work).
    `uses_text`: it has text matches, whose meaning depends on the collection's full-text
    indexes; bind those with `bind_text_indexes` before matching. `hint` is what payload
    indexes may serve it by (hints.py; None: nothing), `complete` tells that the filter
    matches exactly the points its hint describes."""

    __slots__ = (
        "_check", "_raw", "_text_matches", "complete", "hint", "may_match", "prefilters",
        "uses_ids", "uses_text", "uses_vectors",
    )  # fmt: skip

    def __init__(self, root: _Part, compiler: _Compiler, raw: object) -> None:
        self._raw = raw
        self._check = root.check
        self.hint = root.hint
        self.complete = root.complete
        self.uses_vectors = compiler.uses_vectors
        self.uses_ids = compiler.uses_ids
        self._text_matches = tuple(compiler.text_matches)
        self.uses_text = bool(self._text_matches)
        # may_match(stored bytes) is False when a payload, as stored, cannot match (see
        # prechecks.py): it saves parsing most payloads a selective filter skips. True says
        # nothing. `prefilters` tells whether it can ever say False.
        checks = tuple(compiler.prechecks)
        self.prefilters = bool(checks)
        self.may_match: Precheck = _all_prechecks(checks)

    def matches(
        self, point_id: PointId | None, payload: JsonObject, vector_names: VectorNames
    ) -> bool:
        """Whether the point passes; `vector_names` holds "" for the unnamed vector. `point_id`
        may be None when the filter does not use ids."""
        return self._check(point_id, payload, vector_names)

    @property
    def source(self) -> bytes | None:
        """The filter's JSON in a canonical form (keys sorted): two requests with the same
        filter have the same source. None for numbers JSON cannot carry (beyond 64 bits)."""
        try:
            return orjson.dumps(self._raw, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            return None

    def bind_text_indexes(self, text_indexes: Mapping[str, JsonObject]) -> None:
        """Give the text matches on fields with a full-text index (field -> tokenizer params)
        token semantics; the others stay substring tests. The compiled filter is kept."""
        fields = {parse_path(field): params for field, params in text_indexes.items()}
        for text_match in self._text_matches:
            text_match.bind(fields.get(text_match.path))


class _TextMatch:
    """A `match.text`/`text_any`/`phrase` condition whose test is chosen when the field's
    text index (or its absence) is known: a substring test until then. `params`: the
    tokenizer params it is bound to (None: substrings)."""

    __slots__ = ("_form", "_query", "params", "path", "test")

    def __init__(self, path: JsonPath, form: str, query: str) -> None:
        self.path = path
        self._form = form
        self._query = query
        self.params: JsonObject | None = None
        self.test: ValueTest = _UNINDEXED_TEXT[form](query)

    def bind(self, params: JsonObject | None) -> None:
        self.params = params
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
    root = compiler.filter(raw, nested=False, top=True)
    if compiler.invalid:
        raise ValidationFailed("; ".join(compiler.invalid))
    compiled = Filter(root, compiler, raw)
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


class _Part(NamedTuple):
    """A compiled part of a filter: its check, the hint an index may serve it by, and whether
    the hint says all of it (`complete`: the part matches exactly the points the hint holds)."""

    check: Check
    hint: Hint | None = None
    complete: bool = False


def _either_part(parts: list[_Part], complete: bool = True) -> _Part | None:
    """The hint of "one of the parts holds" (None unless every part has one); its check is
    left to the caller."""
    hints = [part.hint for part in parts if part.hint is not None]
    if not parts or len(hints) < len(parts):
        return None
    complete = complete and all(part.complete for part in parts)
    return _Part(_never, hints[0] if len(hints) == 1 else Either(tuple(hints)), complete)


class _Compiler:
    def __init__(self) -> None:
        self.uses_vectors = False
        self.uses_ids = False
        self.text_matches: list[_TextMatch] = []  # their meaning depends on text indexes
        self.invalid: list[str] = []  # 422s, raised once the whole filter has deserialized
        self.prechecks: list[Precheck] = []  # of the top-level `must` conditions

    def filter(self, raw: object, nested: bool, top: bool = False) -> _Part:
        """A boolean filter. `nested`: inside a `nested` condition, where Qdrant checks the
        filter without its query optimizer, so `should: []` matches nothing there. `top`: the
        whole filter, whose `must` conditions give the byte-level pre-checks."""
        if not isinstance(raw, dict):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected struct Filter")
        for key in raw:
            if key not in CLAUSES:
                raise FormatError(
                    f"unknown field `{key}`, expected one of `should`, `min_should`, `must`, "
                    "`must_not`"
                )
        checks: list[Check] = []
        hinted: list[_Part] = []  # the parts that constrain the point, each with its hint
        complete = True
        if raw.get("must") is not None:
            must = self.conditions(raw["must"], nested, precheck=top)
            checks.append(_all([part.check for part in must]))
            hinted += must
        if raw.get("should") is not None:
            should = self.conditions(raw["should"], nested)
            if should or nested:  # an empty `should` is no constraint at top level
                checks.append(_any([part.check for part in should]))
                hinted.append(_either_part(should) or _Part(_never))
        if raw.get("must_not") is not None:
            checks.append(_none([part.check for part in self.conditions(raw["must_not"], nested)]))
            complete = False
        if raw.get("min_should") is not None:
            at_least = self.min_should(raw["min_should"], nested)
            checks.append(at_least.check)
            hinted.append(at_least)
        hints = [part.hint for part in hinted if part.hint is not None]
        hint = None if not hints else hints[0] if len(hints) == 1 else All(tuple(hints))
        complete = complete and hint is not None and all(part.complete for part in hinted)
        return _Part(_all(checks), hint, complete)

    def conditions(self, raw: object, nested: bool, precheck: bool = False) -> list[_Part]:
        """A clause: one condition object or a list of them. `precheck`: the top-level `must`."""
        if isinstance(raw, dict):
            return [self.condition(raw, nested, precheck)]
        if isinstance(raw, list):
            return [self.condition(item, nested, precheck) for item in raw]
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a condition or a sequence")

    def min_should(self, raw: object, nested: bool) -> _Part:
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
        check = _at_least([part.check for part in conditions], min_count)
        either = _either_part(conditions, complete=min_count == 1)
        return _Part(check) if either is None else either._replace(check=check)

    def condition(self, raw: object, nested: bool, precheck: bool = False) -> _Part:
        """One condition; which kind is told by its keys, in the order Qdrant tries them."""
        if not isinstance(raw, dict):
            raise FormatError(f"invalid type: {json_kind(raw)}, expected a condition")
        if "key" in raw:
            return self.field(raw, nested, precheck)
        if "is_empty" in raw:
            return _Part(_is_empty(_payload_field(raw["is_empty"])))
        if "is_null" in raw:
            return _Part(_is_null(_payload_field(raw["is_null"])))
        if "has_id" in raw:
            self.uses_ids = True
            return _has_id(raw["has_id"], nested)
        if "has_vector" in raw:
            return _Part(self.has_vector(raw["has_vector"], nested))
        if "slice" in raw:
            self.uses_ids = True
            return _Part(self.slice(raw["slice"], nested))
        if "nested" in raw:
            return _Part(self.nested(raw["nested"]))
        if raw.keys() <= set(CLAUSES):
            return self.filter(raw, nested)
        raise FormatError("data did not match any variant of untagged enum Condition")

    def field(self, raw: JsonObject, nested: bool, precheck: bool) -> _Part:
        """A field condition. Its operators are OR-ed, but values_count, is_empty and is_null
        (in that order) take precedence, as in Qdrant."""
        path = path_arg(raw["key"])
        operators = self.value_tests(raw, path)
        fits = None if raw.get("values_count") is None else _count_range(raw["values_count"])
        is_empty, is_null = _flag(raw, "is_empty"), _flag(raw, "is_null")
        if fits is not None:
            return _Part(_values_count(path, fits))
        if is_empty is not None:
            return _Part(_field_is_empty(path, is_empty))
        if is_null is not None:
            return _Part(_field_is_null(path, is_null))
        if not operators:
            self.invalid.append("At least one field condition must be specified")
            return _Part(_never)
        check = _any_value(path, _either([test for test, _ in operators]))
        if precheck and len(operators) == 1:
            self._precheck(path, operators[0][1])
        hints = [hint for _, hint in operators]
        if nested or None in hints:
            return _Part(check)
        either = _either_part([_Part(_never, hint, True) for hint in hints])
        return _Part(check) if either is None else either._replace(check=check)

    def _precheck(self, path: JsonPath, hint: Hint | None) -> None:
        """The byte-level pre-check of a top-level `must` condition with one operator, if any
        (prechecks.py): an exact string or boolean, or a numeric range on a top-level key."""
        if isinstance(hint, Values) and len(hint.values) == 1:
            (value,) = hint.values
            if isinstance(value, str | bool):
                self.prechecks.append(prechecks.contains(orjson.dumps(value)))
        elif isinstance(hint, Numbers) and hint.bounds and len(path) == 1:
            self.prechecks.append(prechecks.number_at(path[0], hint.bounds))

    def value_tests(self, raw: JsonObject, path: JsonPath) -> list[Operator]:
        """The operators that test values one by one (match, range, geo)."""
        builders: dict[str, Callable[[Any], Operator]] = {
            "match": lambda match: self.match(match, path),
            "range": lambda bounds: _range(bounds, path),
            "geo_bounding_box": lambda box: _placed(path, geo.bounding_box(box)),
            "geo_radius": lambda circle: _placed(path, geo.radius(circle)),
            "geo_polygon": lambda polygon: _placed(path, geo.polygon(polygon, self.invalid)),
        }
        return [build(raw[name]) for name, build in builders.items() if raw.get(name) is not None]

    def match(self, raw: object, path: JsonPath) -> Operator:
        """`match`; its text forms tokenize when the field has a text index."""
        if isinstance(raw, dict):
            form = next((f for f in TEXT_FORMS if raw.get(f) is not None), None)
            if form is not None and _first_form(raw) == form:
                query = _text(raw[form])
                text_match = _TextMatch(path, form, query)
                self.text_matches.append(text_match)
                return text_match, Text(path, form, query, text_match)
        return _match(raw, path)

    def slice(self, raw: object, nested: bool) -> Check:
        """`slice: {total, index}`: the points whose id falls in that slice (slices.py)."""
        fields = expect_object(raw, "Slice")
        total, index = (_u32(fields.get(name), f"slice.{name}") for name in ("total", "index"))
        if total < 1:
            self.invalid.append(f"slice.total: value {total} invalid, must be 1 or larger")
        elif index >= total:
            self.invalid.append(f"slice.index: value {index} invalid, must be less than {total}")
        if nested or not 0 <= index < total:  # array elements are not points
            return _never
        return lambda point_id, _payload, _vectors: (
            point_id is not None and slice_of(point_id, total) == index
        )

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
        inner = self.filter(required(raw, "filter"), nested=True).check

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


def _u32(raw: object, where: str) -> int:
    if raw is None:
        raise FormatError(f"{where}: missing field")
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw < 2**32:
        raise FormatError(f"{where}: invalid value: {json_kind(raw)}, expected u32")
    return raw


def _has_id(raw: object, nested: bool) -> _Part:
    if not isinstance(raw, list):
        raise FormatError(f"invalid type: {json_kind(raw)}, expected a sequence of point ids")
    wanted = frozenset(parse_id(item) for item in raw)
    if nested:  # array elements are not points
        return _Part(_never)
    hint = Ids(frozenset(map(to_key, wanted)))
    return _Part(lambda point_id, _payload, _vectors: point_id in wanted, hint, True)


# ---- match ---------------------------------------------------------------------------------


# `match` forms in the order Qdrant tries them.
MATCH_FORMS = ("value", "text", "text_any", "phrase", "prefix", "any", "except")
TEXT_FORMS = ("text", "text_any", "phrase")


def _first_form(match: JsonObject) -> str | None:
    return next((name for name in MATCH_FORMS if match.get(name) is not None), None)


def _match(raw: object, path: JsonPath) -> Operator:
    """`match`: the first of its forms present decides; `value` and `any` give a hint."""
    match = expect_object(raw, "Match")
    builders: dict[str, Callable[[Any], Operator]] = {
        "value": lambda value: (_match_value(value), Values(path, (value,))),
        **{form: _unhinted(build) for form, build in _UNINDEXED_TEXT.items()},
        "prefix": _unhinted(_prefix),
        "any": lambda members: _match_any(members, path),
        "except": _unhinted(_match_except),
    }
    form = _first_form(match)
    if form is None:
        raise FormatError("data did not match any variant of untagged enum Match")
    return builders[form](match[form])


def _unhinted(build: Callable[[Any], ValueTest]) -> Callable[[Any], Operator]:
    return lambda raw: (build(raw), None)


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


def _match_any(raw: object, path: JsonPath) -> Operator:
    kind, members = _members(raw)
    hint = Values(path, cast("tuple[str | int, ...]", tuple(members)))
    return (lambda value: type(value) is kind and value in members), hint


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


def _range(raw: object, path: JsonPath) -> Operator:
    """Numeric bounds test numbers (int or float) as f64s; if any bound is a string, all must
    be datetimes and the range tests strings that parse as datetimes."""
    given = given_bounds(expect_object(raw, "Range"))
    if any(isinstance(value, str) for value in given.values()):
        test, moments = _datetime_range(given)
        return test, Moments(path, {op: to_micros(moment) for op, moment in moments.items()})
    bounds = f64_bounds(given)
    if bounds is None:
        wrong = next(value for value in given.values() if not is_number(value))
        raise FormatError(f"range: invalid type: {json_kind(wrong)}, expected a number")
    hint = Numbers(path, bounds)
    if len(bounds) == 1:  # the common case, as one call per value
        ((op, bound),) = bounds.items()
        compare = COMPARE[op]
        return (lambda v: (type(v) is int or type(v) is float) and compare(float(v), bound)), hint
    inside = within(bounds)
    return (lambda v: is_number(v) and inside(float(v))), hint


def _placed(path: JsonPath, condition: tuple[geo.GeoTest, geo.Area]) -> Operator:
    test, area = condition
    return test, Place(path, area)


def _datetime_range(given: dict[str, object]) -> tuple[ValueTest, dict[str, datetime]]:
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

    return test, parsed


def _count_range(raw: object) -> Callable[[int], bool]:
    bounds = given_bounds(expect_object(raw, "ValuesCount"))
    return within({op: _count_bound(bound) for op, bound in bounds.items()})


def _count_bound(raw: object) -> int:
    if type(raw) is not int or raw < 0:
        raise FormatError(f"invalid value: {json_kind(raw)}, expected usize")
    return raw
