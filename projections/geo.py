"""Geo conditions of filters: `geo_bounding_box`, `geo_radius` and `geo_polygon`, each compiled
from its JSON into a test of one payload value.

A payload geo point is an object with numeric `lon` and `lat` (other keys allowed); anything
else never matches, and its coordinates are not range-checked (Qdrant validates only the points
of a query). Boundaries never match: a point on a box's edge, on the radius or on a polygon's
exterior ring is outside (one on an interior ring is inside the hole, so outside too).

Each condition also says the area (`Area`: a circle, or a lon/lat box) that holds every point it
can match, for a geo index to search (geo_index.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from projections.errors import FormatError
from projections.jsontypes import expect_object, is_number, json_kind, required

EARTH_RADIUS_M = 6371008.8  # mean radius, as the geo crate Qdrant uses
Point = tuple[float, float]  # (lon, lat)
GeoTest = Callable[[object], bool]  # one payload value (an array element, never a whole array)


@dataclass(frozen=True)
class Circle:
    """The points closer to `center` than `meters` (a negative radius holds none)."""

    center: Point
    meters: float


@dataclass(frozen=True)
class Box:
    """Longitudes from `left` to `right` (eastwards: left > right crosses the antimeridian),
    latitudes from `bottom` to `top`."""

    left: float
    top: float
    right: float
    bottom: float


Area = Circle | Box


def bounding_box(raw: object) -> tuple[GeoTest, Area]:
    """Strictly inside; a box whose left edge is east of its right one crosses the antimeridian."""
    box = expect_object(raw, "GeoBoundingBox")
    left, top = query_point(required(box, "top_left"))
    right, bottom = query_point(required(box, "bottom_right"))

    def test(value: object) -> bool:
        point = stored_point(value)
        if point is None:
            return False
        lon, lat = point
        within_lon = (lon > left or lon < right) if left > right else left < lon < right
        return within_lon and bottom < lat < top

    return test, Box(left, top, right, bottom)


def radius(raw: object) -> tuple[GeoTest, Area]:
    """Haversine distance to the center strictly below the radius (meters)."""
    circle = expect_object(raw, "GeoRadius")
    center = query_point(required(circle, "center"))
    meters = required(circle, "radius")
    if not is_number(meters):
        raise FormatError(f"geo_radius.radius: invalid type: {json_kind(meters)}, expected f64")

    def test(value: object) -> bool:
        point = stored_point(value)
        return point is not None and distance(center, point) < meters

    return test, Circle(center, meters)


def polygon(raw: object, invalid: list[str]) -> tuple[GeoTest, Area]:
    """Inside the exterior ring and outside every interior one (boundaries excluded); its area
    is the exterior ring's bounding box. A ring that is too short or not closed is a 422: its
    message is appended to `invalid`, which the caller raises once the whole filter has
    deserialized."""
    shape = expect_object(raw, "GeoPolygon")
    exterior = _ring(required(shape, "exterior"), "exterior", invalid)
    interiors = shape.get("interiors") or []
    if not isinstance(interiors, list):
        raise FormatError(f"invalid type: {json_kind(interiors)}, expected a sequence")
    holes = [_ring(ring, f"interiors[{i}]", invalid) for i, ring in enumerate(interiors)]

    def test(value: object) -> bool:
        point = stored_point(value)
        return (
            point is not None
            and _ring_holds(exterior, point, boundary=False)
            and not any(_ring_holds(hole, point, boundary=True) for hole in holes)
        )

    lons, lats = [lon for lon, _ in exterior] or [0.0], [lat for _, lat in exterior] or [0.0]
    return test, Box(min(lons), max(lats), max(lons), min(lats))


def _ring(raw: object, where: str, invalid: list[str]) -> list[Point]:
    """A ring of a polygon query; it must be closed and have at least 4 points."""
    points = required(expect_object(raw, "GeoLineString"), "points")
    if not isinstance(points, list):
        raise FormatError(f"invalid type: {json_kind(points)}, expected a sequence of points")
    ring = [query_point(p) for p in points]
    if len(ring) < 4:
        invalid.append(
            f"geo_polygon.{where}.points: polygon must have at least 4 points, got {len(ring)}"
        )
    elif ring[0] != ring[-1]:
        invalid.append(
            f"geo_polygon.{where}.points: polygon must be closed (first point = last point)"
        )
    return ring


def _ring_holds(ring: list[Point], point: Point, boundary: bool) -> bool:
    """Whether the point is inside the closed ring (ray casting); `boundary` if it lies on it."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (
            (x - x1) * (y2 - y1) == (y - y1) * (x2 - x1)
            and min(x1, x2) <= x <= max(x1, x2)
            and min(y1, y2) <= y <= max(y1, y2)
        ):
            return boundary
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def distance(a: Point, b: Point) -> float:
    """Haversine distance in meters between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def query_point(raw: object) -> Point:
    """A geo point of a query, (lon, lat), which Qdrant validates (payload points it does not)."""
    point = stored_point(raw)
    if point is None:
        raise FormatError(f"invalid type: {json_kind(raw)}, expected struct GeoPoint")
    lon, lat = point
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise FormatError(
            f"Wrong format of GeoPoint payload: expected `lat` = {_show(lat)} within [-90;90] "
            f"and `lon` = {_show(lon)} within [-180;180]"
        )
    return point


def stored_point(value: object) -> Point | None:
    """(lon, lat) of a `{"lon": n, "lat": n}` object (other keys allowed), else None."""
    if not isinstance(value, dict):
        return None
    lon, lat = value.get("lon"), value.get("lat")
    return (lon, lat) if is_number(lon) and is_number(lat) else None


def _show(number: float) -> str:
    """A number as Rust displays an f64: `100`, not `100.0`."""
    text = repr(float(number))
    return text.removesuffix(".0")
