"""Filters served by payload indexes answer exactly what a scan of every payload answers: for
random payloads (arrays, nested keys, values of the wrong type, big numbers, booleans, UUIDs in
every spelling, datetimes, geo points up to the poles, texts), random indexes (created before
or after the points, built a few points per commit) and random filters, through reads (scroll,
paged scroll, count, order_by) and the worker's filter operations (Staging.matching, with
changes staged in the batch). The index data itself is checked against the payloads."""

from __future__ import annotations

import uuid
from collections import defaultdict

import orjson
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections import collections, events, ids, index_data
from projections.apply import apply_batch, apply_event
from projections.datetimes import parse_datetime
from projections.errors import QdrantError
from projections.events import Event
from projections.filters import compile_filter
from projections.index_data import holder
from projections.indexes import Index, text_indexes
from projections.jsonpath import get_values, parse_path
from projections.planner import plan
from projections.reads import OrderBy, Projection, Reader, count, scroll, scroll_ordered
from projections.staging import Staging
from tests.domain.writes import write
from workers.replay import compare

# ---- payloads ---------------------------------------------------------------------------------

WORDS = ["red", "Green", "blue", "sky", "über", "a-b", "x1", "RED"]
KEYWORDS = st.sampled_from(["a", "b", "Berlin", "ü", "", "x y", 'q"t', "red"])
EDGES = [0, 1, -1, 7, 2**53, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1]
INTS = st.one_of(st.sampled_from(EDGES), st.integers(-5, 5))
FLOATS = st.one_of(
    st.sampled_from([0.5, -0.0, 7.0, 2.0**53, 1e300, -1e300, 9.5, 10.0]),
    st.floats(-20, 20, allow_nan=False, width=32),
)
UUIDS = [uuid.UUID("6f8a2b1c-3d4e-4f5a-9b6c-7d8e9fa0b1c2"), uuid.UUID(int=1)]
UUID_FORMS = st.sampled_from(
    [
        form
        for u in UUIDS
        for form in (str(u), str(u).upper(), u.hex, "{" + str(u) + "}", "urn:uuid:" + str(u))
    ]
)
DATES = st.sampled_from(
    [
        "2024-01-01T00:00:00Z", "2024-01-01 12:30", "2024-01-02", "2024-01-01T01:00:00+01:00",
        "2024-01-01T00:00:00.123456Z", "2300-01-01T00:00:00Z", "2300-01-01T00:00:00.000001Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not a date", "2024-13-01",
    ]
)  # fmt: skip
PLACES = [
    (13.40, 52.52), (13.41, 52.51), (2.35, 48.85), (0.0, 0.0), (0.001, 0.0), (179.9, 10.0),
    (-179.9, 10.0), (0.0, 89.9), (0.0, -89.9), (10.0, 85.06), (10.0, 85.04), (0.0, 90.0),
    (200.0, 0.0), (-160.0, 0.1), (-45.0, -30.0),
]  # fmt: skip
GEO_POINTS = st.one_of(
    st.sampled_from(PLACES).map(lambda p: {"lon": p[0], "lat": p[1]}),
    st.just({"lon": "1", "lat": 2}),
    st.just({"lon": 1, "lat": 2, "name": "x"}),
)
TEXTS = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join)
ANY_SCALAR = st.one_of(KEYWORDS, INTS, FLOATS, st.booleans(), st.none(), UUID_FORMS, DATES, TEXTS)


def field_values(right: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly values of the field's own kind, arrays of them, sometimes anything else."""
    scalar = st.one_of(right, right, ANY_SCALAR)
    return st.one_of(scalar, st.lists(scalar, max_size=3))


FIELDS = {
    "kw": field_values(KEYWORDS),
    "n": field_values(st.one_of(INTS, FLOATS)),
    "f": field_values(st.one_of(FLOATS, INTS)),
    "flag": field_values(st.booleans()),
    "u": field_values(UUID_FORMS),
    "t": field_values(DATES),
    "loc": st.one_of(GEO_POINTS, st.lists(GEO_POINTS, max_size=3)),
    "txt": field_values(TEXTS),
    "obj": st.fixed_dictionaries({}, optional={"kw": field_values(KEYWORDS)}),
    "arr": st.lists(st.fixed_dictionaries({}, optional={"kw": field_values(KEYWORDS)}), max_size=2),
}
PAYLOADS = st.fixed_dictionaries({}, optional=FIELDS)

# ---- indexes ------------------------------------------------------------------------------------

TEXT_PARAMS = st.fixed_dictionaries(
    {"type": st.just("text")},
    optional={
        "tokenizer": st.sampled_from(["word", "whitespace", "prefix"]),
        "lowercase": st.booleans(),
        "min_token_len": st.integers(1, 3),
        "max_token_len": st.integers(2, 6),
    },
)
INTEGER_PARAMS = st.sampled_from(
    [
        "integer",
        {"type": "integer", "lookup": False},
        {"type": "integer", "range": False},
        {"type": "integer", "lookup": True, "range": True},
    ]
)
SCHEMAS = {
    "kw": st.just("keyword"),
    "n": INTEGER_PARAMS,
    "f": st.just("float"),
    "flag": st.just("bool"),
    "u": st.just("uuid"),
    "t": st.just("datetime"),
    "loc": st.just("geo"),
    "txt": TEXT_PARAMS,
    "obj.kw": st.just("keyword"),
    "arr[].kw": st.just("keyword"),
}
# field -> (schema, created after the points?)
INDEXES = st.fixed_dictionaries(
    {}, optional={f: st.tuples(schema, st.booleans()) for f, schema in SCHEMAS.items()}
)

# ---- filters ------------------------------------------------------------------------------------


def match(key: str, values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        values.map(lambda v: {"key": key, "match": {"value": v}}),
        st.lists(values, max_size=3).map(lambda vs: {"key": key, "match": {"any": vs}}),
    )


def bounds(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(st.sampled_from(["gt", "gte", "lt", "lte"]), values, max_size=2)


CENTERS = st.sampled_from([p for p in PLACES if -180 <= p[0] <= 180 and -90 <= p[1] <= 90])
RADII = st.sampled_from([-1, 0, 1, 200, 2000, 100_000, 1_000_000, 5_000_000, 20_000_000])


def box(corner: tuple[float, float], size: float) -> dict:
    lon, lat = corner
    right, bottom = min(lon + size, 180.0), max(lat - size, -90.0)
    return {"top_left": {"lon": lon, "lat": lat}, "bottom_right": {"lon": right, "lat": bottom}}


def ring(corner: tuple[float, float], size: float) -> dict:
    lon, lat = corner
    points = [(lon, lat), (min(lon + size, 180), lat), (lon, max(lat - size, -90)), (lon, lat)]
    return {"exterior": {"points": [{"lon": x, "lat": y} for x, y in points]}}


SIZES = st.sampled_from([0.01, 0.5, 5.0, 40.0, 200.0])


def geo_conditions(centers: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(centers, RADII).map(
            lambda c: {
                "key": "loc",
                "geo_radius": {"center": {"lon": c[0][0], "lat": c[0][1]}, "radius": c[1]},
            }
        ),
        st.tuples(centers, SIZES).map(lambda c: {"key": "loc", "geo_bounding_box": box(*c)}),
        st.tuples(centers, SIZES).map(lambda c: {"key": "loc", "geo_polygon": ring(*c)}),
    )


def seen(payloads: list[dict], field: str) -> list:
    """The scalars the payloads hold at the field (array elements one level deep)."""
    found = []
    for payload in payloads:
        for value in get_values(payload, parse_path(field)):
            found += value if isinstance(value, list) else [value]
    return [v for v in found if not isinstance(v, dict | list)]


def on_field(field: str, payloads: list[dict]) -> st.SearchStrategy:
    """Conditions on one field; their values and bounds are often those the payloads hold, so
    that matches (and ties with bounds) are common."""
    held_there = seen(payloads, field)
    own = st.sampled_from(held_there) if held_there else st.nothing()
    numbers = [v for v in held_there if type(v) in (int, float)]
    ranges = bounds(st.one_of(INTS, FLOATS, st.sampled_from(numbers) if numbers else INTS))
    strings = [v for v in held_there if isinstance(v, str)]
    if field in ("kw", "obj.kw", "arr[].kw"):
        return st.one_of(
            match(field, st.one_of(KEYWORDS, INTS, st.booleans(), own)),
            ranges.map(lambda b: {"key": field, "range": b}),
        )
    if field == "n":
        in_i64 = own.filter(lambda v: type(v) is not int or -(2**63) <= v < 2**63)
        return st.one_of(
            match(field, st.one_of(INTS.filter(lambda n: -(2**63) <= n < 2**63), KEYWORDS, in_i64)),
            ranges.map(lambda b: {"key": field, "range": b}),
        )
    if field == "f":
        return ranges.map(lambda b: {"key": field, "range": b})
    if field == "flag":
        return match(field, st.booleans())
    if field == "u":
        return match(field, st.one_of(UUID_FORMS, KEYWORDS, own))
    if field == "t":
        moments = [d for d in strings if parse_datetime(d) is not None]
        dates = st.one_of(VALID_DATES, st.sampled_from(moments) if moments else VALID_DATES)
        return st.one_of(bounds(dates), ranges).map(lambda b: {"key": field, "range": b})
    if field == "txt":
        words = sorted({w for text in strings for w in text.split()})
        pool = [*WORDS, "gr", "bl", "xx", *words, *(w.upper() for w in words)]
        query = st.lists(st.sampled_from(pool), min_size=1, max_size=3).map(" ".join)
        forms = st.sampled_from(["text", "text_any", "phrase"])
        return st.tuples(forms, st.one_of(query, own.filter(lambda v: isinstance(v, str)))).map(
            lambda c: {"key": field, "match": {c[0]: c[1]}}
        )
    places = [
        (p["lon"], p["lat"])
        for payload in payloads
        for value in get_values(payload, ("loc",))
        for p in (value if isinstance(value, list) else [value])
        if isinstance(p, dict)
        and type(p.get("lon")) in (int, float)
        and type(p.get("lat")) in (int, float)
        and abs(p["lon"]) <= 180
        and abs(p["lat"]) <= 90
    ]
    return geo_conditions(st.one_of(CENTERS, st.sampled_from(places) if places else CENTERS))


VALID_DATES = DATES.filter(lambda d: parse_datetime(d) is not None)
OTHERS = st.one_of(
    st.lists(st.integers(0, 30), max_size=4).map(lambda i: {"has_id": i}),
    st.just({"has_vector": "a"}),
    st.just({"is_empty": {"key": "kw"}}),
    st.just({"key": "kw", "match": {"except": ["a"]}}),
    st.just({"key": "kw", "match": {"value": "a"}, "range": {"gt": 1}}),
)


def filters(indexed: list[str], payloads: list[dict]) -> st.SearchStrategy:
    """Filters whose conditions are mostly on the indexed fields."""
    favoured = [on_field(f, payloads) for f in indexed] * 3
    conditions = st.one_of(*favoured, *(on_field(f, payloads) for f in SCHEMAS), OTHERS)
    clause = st.lists(conditions, min_size=1, max_size=3)
    return st.one_of(
        st.fixed_dictionaries({"must": clause}),
        st.fixed_dictionaries({"should": clause}),
        st.fixed_dictionaries(
            {},
            optional={
                "must": st.one_of(clause, conditions),
                "should": clause,
                "must_not": clause,
                "min_should": st.fixed_dictionaries(
                    {"conditions": clause, "min_count": st.integers(1, 2)}
                ),
            },
        ),
        st.tuples(clause, clause).map(lambda c: {"must": [{"should": c[0]}, {"must": c[1]}]}),
    )


# ---- the property -----------------------------------------------------------------------------


def settle(r: redis.Redis, col: collections.Collection, batch: int) -> None:
    while apply_batch(r, col, max_events=batch) is not None:
        pass


def stored(r: redis.Redis, col: collections.Collection) -> tuple[dict, dict[str, list[str]]]:
    """The payloads (point key -> payload) and each point's vector names, as committed."""
    payloads = {k.decode(): orjson.loads(v) for k, v in r.hgetall(col.keys.payload).items()}
    names = {
        key: [n for n in col.vector_names if r.hexists(col.keys.vectors(n), key)]
        for key in payloads
    }
    return payloads, names


def definitions(r: redis.Redis, col: collections.Collection) -> dict[str, Index]:
    raw = r.hgetall(col.keys.indexes)
    return {f.decode(): Index(f.decode(), orjson.loads(s)) for f, s in raw.items()}


def scanned(raw: dict, indexes: dict[str, Index], payloads: dict, names: dict) -> list[str]:
    """What a scan matches: the filter on every payload."""
    flt = compile_filter(raw, text_indexes(indexes.values()))
    return sorted(k for k, p in payloads.items() if flt.matches(ids.from_key(k), p, names[k]))


def check_index_data(r: redis.Redis, col: collections.Collection, payloads: dict) -> None:
    """Every index's data is what its definition holds of the stored payloads."""
    keys = col.keys
    assert r.hlen(keys.builds) == 0
    assert {f.decode() for f in r.smembers(keys.indexed)} == set(definitions(r, col))
    for f, index in definitions(r, col).items():
        hold = holder(index)
        held_by = {key: hold(p) for key, p in payloads.items()}
        terms: dict[str, set[str]] = defaultdict(set)
        for key, h in held_by.items():
            for term in h.terms:
                terms[term].add(key)
        assert {t.decode() for t in r.smembers(keys.terms(f))} == set(terms)
        for term, points in terms.items():
            assert {k.decode() for k in r.smembers(keys.term(f, term))} == points
        for zset, part in ((keys.ranged(f), "scores"), (keys.strays(f), "strays")):
            expected = {
                f"{key}|{n}": float(s)
                for key, h in held_by.items()
                for n, s in enumerate(getattr(h, part))
            }
            assert {m.decode(): s for m, s in r.zrange(zset, 0, -1, withscores=True)} == expected
        places = {f"{key}|{n}" for key, h in held_by.items() for n in range(len(h.places))}
        in_geo = {m.decode() for m in r.zrange(keys.geo(f), 0, -1)}
        outside = {m.decode() for m in r.smembers(keys.geo_outside(f))}
        assert in_geo | outside == places and not in_geo & outside
        assert int(r.hget(keys.index_points, f)) == sum(h.counted for h in held_by.values())


def ordered_expectation(
    index: Index, matched: list[str], payloads: dict, order: OrderBy, limit: int
):
    entries = [
        (float(score), f"{key}|{n}".encode(), key)
        for key in matched
        for n, score in enumerate(holder(index)(payloads[key]).scores)
    ]
    if order.start_from is not None:
        start = order.start_from
        entries = [e for e in entries if (e[0] <= start if order.descending else e[0] >= start)]
    entries.sort(reverse=order.descending)
    kind = index.data_type
    return [(ids.from_key(key), s if kind == "float" else int(s)) for s, _, key in entries[:limit]]


def upsert_body(payloads: list[dict], first: int) -> dict:
    points = [
        {"id": first + i, "vector": {"a": [1, 2]} if i % 3 else {}, "payload": p}
        for i, p in enumerate(payloads)
    ]
    return {"points": points}


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Index builds take a few points per commit, so that they take many."""
    monkeypatch.setattr(index_data, "BUILD_SLICE", 3)


def fresh_collection(r: redis.Redis) -> collections.Collection:
    config = collections.validate_create(
        {"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 2, "distance": "Dot"}}}
    )
    return collections.create(r, f"p-{uuid.uuid4().hex[:12]}", config)


def fill(
    r: redis.Redis,
    col: collections.Collection,
    chosen: dict,
    first: list[dict],
    later: list[dict],
    batch: int,
    data: st.DataObject,
) -> None:
    """Indexes (created before or after the points), points, then changes to them: whole,
    under some top-level keys (which leave the indexes under other keys as they were), at a
    nested path, and changes followed by a delete (in one batch when `batch` is large)."""

    def create(after: bool) -> None:
        for f, (schema, late) in chosen.items():
            if late == after:
                write(r, col, events.add_create_index, {"field_name": f, "field_schema": schema})

    create(False)
    write(r, col, events.add_upsert, upsert_body(first, 0))
    create(True)
    if later:
        write(r, col, events.add_upsert, upsert_body(later, 8))  # replaces some points
    write(r, col, events.add_delete, {"points": [1, 5]})
    write(r, col, events.add_set_payload, {"payload": {"kw": "b", "n": 7}, "points": [2]})
    write(r, col, events.add_set_payload, {"payload": data.draw(PAYLOADS), "points": [3, 4]})
    nested = {"payload": {"kw": "c"}, "key": "obj", "points": [4, 6]}
    write(r, col, events.add_set_payload, nested)
    removed = data.draw(st.lists(st.sampled_from([*FIELDS, "obj.kw", "arr[].kw"]), max_size=3))
    write(r, col, events.add_delete_payload, {"keys": removed, "points": [6, 7]})
    write(r, col, events.add_set_payload, {"payload": {"flag": True}, "points": [7]})
    write(r, col, events.add_delete, {"points": [7]})
    settle(r, col, batch)


def check_reads(r: redis.Redis, col: collections.Collection, raws: list, data) -> None:
    """Scroll (whole and paged), count, order_by, the worker's matching and the plan itself
    agree with a scan on every filter."""
    payloads, names = stored(r, col)
    check_index_data(r, col, payloads)
    indexes = definitions(r, col)
    reader = Reader(r, col, progress=None, wait_seconds=0)
    everything = Projection(None, ())
    for raw in raws:
        try:
            flt = compile_filter(raw)
        except QdrantError:
            continue
        expected = scanned(raw, indexes, payloads, names)
        found, _ = scroll(reader, None, 100, flt, everything)
        assert [ids.to_key(p["id"]) for p in found] == expected, raw
        assert count(reader, flt) == len(expected), raw
        limit = data.draw(st.integers(1, 4))
        paged, offset = [], None
        while True:
            page_found, offset = scroll(reader, offset, limit, flt, everything)
            paged += [ids.to_key(p["id"]) for p in page_found]
            if offset is None:
                break
        assert paged == expected, raw
        staging = Staging(r, col, col.keys, r.hgetall(col.keys.indexes))
        assert staging.matching(staging.compile(raw)) == expected, raw
        planned = plan(r, col.keys, indexes, compile_filter(raw, text_indexes(indexes.values())))
        if planned is not None:
            candidates = planned.candidates()
            assert candidates is not None and set(expected) <= set(candidates), raw
            assert not planned.exact or candidates == expected, raw
            assert planned.estimate >= len(candidates), raw
        ranged = [f for f, index in indexes.items() if index.ranged]
        if ranged:
            key = data.draw(st.sampled_from(ranged))
            start = data.draw(st.one_of(st.none(), st.sampled_from([0, 1, 7.5, 2**53])))
            order = OrderBy(key, data.draw(st.booleans()), start)
            got = scroll_ordered(reader, order, limit, flt, everything)
            want = ordered_expectation(indexes[key], expected, payloads, order, limit)
            assert [(p["id"], p["order_value"]) for p in got] == want, raw


def check_staged(r: redis.Redis, col: collections.Collection, raws: list, data) -> None:
    """The worker's matching with changes staged in its batch: those points are re-evaluated."""
    payloads, _ = stored(r, col)
    indexes = definitions(r, col)
    staging = Staging(r, col, col.keys, r.hgetall(col.keys.indexes))
    upserted = data.draw(st.lists(PAYLOADS, min_size=1, max_size=3))
    operations = [
        {"upsert": upsert_body(upserted, 3)},
        {"delete": {"points": [0]}},
        {"set_payload": {"payload": data.draw(PAYLOADS), "points": [4]}},
    ]
    changes = Event()
    events.add_batch(changes, col, {"operations": operations})
    apply_event(staging, changes, 0)
    known = {*payloads, *map(ids.to_key, range(3, 6))}
    now = {k: staging.payload(k) for k in known if staging.exists(k)}
    for raw in raws:
        try:
            flt = staging.compile(raw)
        except QdrantError:
            continue
        if not flt.uses_vectors:  # vectors were staged too: the scan below has none
            assert staging.matching(flt) == scanned(raw, indexes, now, dict.fromkeys(now, ()))


def check_replay(r: redis.Redis, col: collections.Collection) -> None:
    """A replay of the log builds the same projection, index data included."""
    rebuilt = col.keys.rebuild()
    r.set(rebuilt.applied, 0)
    while apply_batch(r, col, 64, rebuilt) is not None:
        pass
    assert compare(r, col, col.keys, rebuilt) == []


def drop(r: redis.Redis, col: collections.Collection) -> None:
    """Deleting the collection leaves none of its keys (index data found without SCAN)."""
    collections.delete(r, col.name)
    assert r.keys(f"pl:{{{col.cid}}}:*") == []


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(PAYLOADS, min_size=1, max_size=16),
    later=st.lists(PAYLOADS, max_size=6),
    chosen=INDEXES,
    batch=st.sampled_from([1, 3, 64]),
    data=st.data(),
)
def test_index_served_filters_answer_what_a_scan_answers(
    r, small_slices, first, later, chosen, batch, data
):
    raws = data.draw(st.lists(filters(sorted(chosen), first + later), min_size=1, max_size=4))
    col = fresh_collection(r)
    try:
        fill(r, col, chosen, first, later, batch, data)
        check_reads(r, col, raws, data)
        check_staged(r, col, raws, data)
        check_replay(r, col)
    finally:
        drop(r, col)


def one_field(field: str) -> st.SearchStrategy:
    """Payloads that mostly set `field` (its parent object or array for a nested path)."""
    top = field.split(".")[0].split("[")[0]
    other = "n" if top == "kw" else "kw"
    return st.fixed_dictionaries({top: FIELDS[top]}, optional={other: FIELDS[other]})


@pytest.mark.parametrize("field", sorted(SCHEMAS))
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_index_kind_serves_its_conditions_as_a_scan_would(r, small_slices, field, data):
    """One index, payloads that set its field, filters of one or two conditions on it."""
    chosen = {field: (data.draw(SCHEMAS[field]), data.draw(st.booleans()))}
    first = data.draw(st.lists(one_field(field), min_size=1, max_size=12))
    later = data.draw(st.lists(one_field(field), max_size=4))
    condition = on_field(field, first + later)
    raws = data.draw(
        st.lists(
            st.one_of(
                condition.map(lambda c: {"must": [c]}),
                st.lists(condition, min_size=2, max_size=2).map(lambda cs: {"must": cs}),
                st.lists(condition, min_size=1, max_size=2).map(lambda cs: {"should": cs}),
            ),
            min_size=1,
            max_size=4,
        )
    )
    col = fresh_collection(r)
    try:
        fill(r, col, chosen, first, later, data.draw(st.sampled_from([1, 64])), data)
        check_reads(r, col, raws, data)
        check_staged(r, col, raws, data)
    finally:
        drop(r, col)


# ---- geo: a GEOSEARCH finds every point of the filter's area -----------------------------------

LONS = st.floats(-180, 180, allow_nan=False)
LATS = st.floats(-90, 90, allow_nan=False)
NEAR = st.tuples(st.floats(-3, 3), st.floats(-3, 3))  # degrees from a query's center


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    centers=st.lists(st.tuples(LONS, st.floats(-70, 70)), min_size=1, max_size=4),
    far=st.lists(st.tuples(LONS, LATS), max_size=20),
    near=st.lists(NEAR, max_size=40),
    queries=st.lists(
        st.tuples(
            st.sampled_from(["geo_radius", "geo_bounding_box", "geo_polygon"]),
            st.integers(0, 3),
            st.floats(0.5, 7e6),
            st.floats(0.0001, 30),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_geo_searches_find_every_point_of_the_area(r, centers, far, near, queries):
    config = collections.validate_create({"vectors": {"size": 2, "distance": "Dot"}})
    col = collections.create(r, f"g-{uuid.uuid4().hex[:12]}", config)
    try:
        write(r, col, events.add_create_index, {"field_name": "loc", "field_schema": "geo"})
        around = [centers[i % len(centers)] for i in range(len(near))]
        places = far + [
            (lon + dx, lat + dy) for (lon, lat), (dx, dy) in zip(around, near, strict=True)
        ]
        points = [
            {"id": i, "vector": [1, 1], "payload": {"loc": {"lon": lon, "lat": lat}}}
            for i, (lon, lat) in enumerate(places)
        ]
        if points:
            write(r, col, events.add_upsert, {"points": points})
        settle(r, col, 64)
        payloads, names = stored(r, col)
        indexes = definitions(r, col)
        for kind, at, meters, degrees in queries:
            lon, lat = centers[at % len(centers)]
            corner = (lon, min(lat + degrees / 2, 90.0))
            condition = {
                "geo_radius": {"center": {"lon": lon, "lat": lat}, "radius": meters},
                "geo_bounding_box": box(corner, degrees),
                "geo_polygon": ring(corner, degrees),
            }[kind]
            raw = {"must": [{"key": "loc", kind: condition}]}
            expected = scanned(raw, indexes, payloads, names)
            planned = plan(r, col.keys, indexes, compile_filter(raw))
            if planned is not None:
                assert set(expected) <= set(planned.candidates()), raw
    finally:
        collections.delete(r, col.name)
