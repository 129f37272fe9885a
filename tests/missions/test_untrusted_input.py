"""Uploaded files are untrusted: readers either return a value or raise their domain error."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from missions.errors import InvalidWaterwayError, MissionFormatError
from missions.formats import read_dji_kmz, read_geojson_route, read_qgc_plan, read_qgc_wpl
from missions.types import PatrolRoute
from missions.waterway_io import ImportedArea, load_geojson, load_kml

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=10), inner, max_size=6)
    ),
    max_leaves=40,
)
plan_like = st.fixed_dictionaries(
    {
        "fileType": st.just("Plan"),
        "mission": st.fixed_dictionaries(
            {
                "cruiseSpeed": json_values,
                "plannedHomePosition": json_values,
                "items": st.lists(
                    st.fixed_dictionaries(
                        {
                            "type": st.sampled_from(["SimpleItem", "ComplexItem", "x"]),
                            "command": st.sampled_from([16, 19, 22, 205, 2000, 31010])
                            | json_values,
                            "frame": st.sampled_from([0, 2, 3]) | json_values,
                            "params": st.lists(
                                st.none() | st.floats(-200, 200) | json_values, max_size=8
                            ),
                            "TransectStyleComplexItem": json_values,
                        }
                    ),
                    max_size=5,
                ),
            }
        ),
    }
)
geojson_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Polygon", "MultiPolygon", "Feature", "FeatureCollection"]),
        "coordinates": json_values,
        "geometry": json_values,
        "features": json_values,
    }
)
SETTINGS = settings(max_examples=150, deadline=None)


def accepts_or_refuses(reader: Any, data: Any, error: type[Exception]) -> object:
    """Return what the reader returns, or ``None`` when it refuses with its domain error."""
    try:
        result: object = reader(data)
    except error as exc:
        reason = str(exc)
    else:
        return result
    assert reason  # a refusal always says why
    return None


def check_route(result: object) -> None:
    if result is not None:
        assert isinstance(result, PatrolRoute)
        assert result.waypoints
        assert all(math.isfinite(w.altitude_m) for w in result.waypoints)


def check_areas(result: object) -> None:
    if result is not None:
        assert isinstance(result, list)
        for item in result:
            assert isinstance(item, ImportedArea)
            assert item.area.is_valid
            assert not item.area.is_empty


@SETTINGS
@given(doc=plan_like | json_values)
def test_qgc_plan_reader_never_crashes(doc: Any) -> None:
    check_route(accepts_or_refuses(read_qgc_plan, json.dumps(doc), MissionFormatError))


@SETTINGS
@given(doc=json_values)
def test_geojson_route_reader_never_crashes(doc: Any) -> None:
    check_route(accepts_or_refuses(read_geojson_route, json.dumps(doc), MissionFormatError))


@SETTINGS
@given(text=st.text(max_size=300), header=st.sampled_from(["QGC WPL 110\n", "QGC WPL 120\n", ""]))
def test_wpl_reader_never_crashes(text: str, header: str) -> None:
    check_route(accepts_or_refuses(read_qgc_wpl, header + text, MissionFormatError))


@SETTINGS
@given(data=st.binary(max_size=300))
def test_kmz_reader_never_crashes(data: bytes) -> None:
    check_route(accepts_or_refuses(read_dji_kmz, data, MissionFormatError))


@SETTINGS
@given(doc=geojson_like | json_values)
def test_waterway_geojson_reader_never_crashes(doc: Any) -> None:
    check_areas(accepts_or_refuses(load_geojson, json.dumps(doc), InvalidWaterwayError))


@SETTINGS
@given(text=st.text(max_size=300))
def test_kml_reader_never_crashes(text: str) -> None:
    check_areas(accepts_or_refuses(load_kml, text, InvalidWaterwayError))
