"""A geo index's Redis GEO set: which locations it can hold, and which GEOSEARCH finds every
point of a filter's area (geo.py) among them.

GEOADD refuses latitudes beyond ±85.05112878 (and longitudes beyond ±180, which payloads may
hold: only query points are validated), so those locations live in a plain set that every geo
search takes whole. A GEOSEARCH is a superset of the filter's area, never exact: Redis measures
with another Earth radius (6372797.56 m, ours 6371008.8 m), keeps positions to about 0.6 m,
and covers its shape with geohash cells whose estimate is sound only away from the poles and
the antimeridian. So a search is enlarged (`REL_MARGIN`, `ABS_MARGIN_M`), and an area whose
enlarged search would come near a pole (past ±`SAFE_LAT`) or reach across the antimeridian
gets no search (the planner then scans). Callers check the filter on what a search returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from projections.geo import Area, Box, Circle

PLACEABLE_LAT = 85.05  # GEOADD takes up to 85.05112878
SAFE_LAT = 60.0
REDIS_EARTH_RADIUS_M = 6372797.560856
REL_MARGIN = 1e-3  # covers the ratio of the two radii (1.00028) with room to spare
ABS_MARGIN_M = 10.0  # covers Redis's position rounding (under a meter)


def placeable(lon: float, lat: float) -> bool:
    """Whether the GEO set can hold a location (with a margin to GEOADD's limits)."""
    return -180.0 <= lon <= 180.0 and -PLACEABLE_LAT <= lat <= PLACEABLE_LAT


@dataclass(frozen=True)
class Search:
    """GEOSEARCH FROMLONLAT lon lat, BYRADIUS `radius` or BYBOX `width` `height` (meters)."""

    lon: float
    lat: float
    radius: float | None = None
    width: float | None = None
    height: float | None = None


def search(area: Area) -> Search | None:
    """A GEOSEARCH holding every placeable location in the area, or None when no safe one
    does (near the poles, across the antimeridian)."""
    if isinstance(area, Circle):
        lon, lat = area.center
        reach = _enlarged(max(area.meters, 0.0))
        return _safe(Search(lon, lat, radius=reach), reach, reach)
    return _box_search(area)


def _box_search(box: Box) -> Search | None:
    """Redis's box holds a point whose latitude is within height/2 of the center's (along the
    meridian) and whose distance to the center's meridian, along its own parallel, is within
    width/2. The equator's arc of the box's half width bounds that distance on any parallel."""
    if box.left > box.right:
        return None  # across the antimeridian
    lon, lat = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    half_width = _enlarged(_arc(max(box.right - box.left, 0.0) / 2))
    half_height = _enlarged(_arc(max(box.top - box.bottom, 0.0) / 2))
    found = Search(lon, lat, width=2 * half_width, height=2 * half_height)
    return _safe(found, half_width, half_height)


def _safe(found: Search, half_width_m: float, half_height_m: float) -> Search | None:
    """The search, if the box Redis covers with cells for it stays within ±SAFE_LAT and does
    not reach the antimeridian (its longitudes widen by at most 1/cos(SAFE_LAT) = 2)."""
    lat_reach = math.degrees(half_height_m / REDIS_EARTH_RADIUS_M)
    lon_reach = 2 * math.degrees(half_width_m / REDIS_EARTH_RADIUS_M)
    if abs(found.lat) + lat_reach > SAFE_LAT or abs(found.lon) + lon_reach > 180.0:
        return None
    return found


def _arc(degrees: float) -> float:
    """Meters along a great circle (in Redis's measure) of an angle in degrees."""
    return math.radians(degrees) * REDIS_EARTH_RADIUS_M


def _enlarged(meters: float) -> float:
    return meters * (1 + REL_MARGIN) + ABS_MARGIN_M
