from __future__ import annotations

import io
import json
import zipfile

import pytest
from shapely import MultiPolygon, Polygon

from missions.errors import InvalidWaterwayError
from missions.geometry import LocalProjection
from missions.waterway_io import check_polygons, load_area_file, load_geojson, load_kml, load_kmz
from tests.missions.shapes import FIXTURES, water3_in_lonlat, water3_rings

NE_LAKES = (FIXTURES / "waterways" / "ne10m_dongting_danjiangkou.geojson").read_bytes()
SQUARE = [[106.0, 29.0], [106.01, 29.0], [106.01, 29.01], [106.0, 29.01], [106.0, 29.0]]
HOLE = [
    [106.004, 29.004],
    [106.004, 29.006],
    [106.006, 29.006],
    [106.006, 29.004],
    [106.004, 29.004],
]


def codes(exc: pytest.ExceptionInfo[InvalidWaterwayError]) -> list[str]:
    return [p.code for p in exc.value.problems]


def test_reads_both_natural_earth_lakes_with_names_in_lonlat() -> None:
    areas = load_geojson(NE_LAKES)

    assert [a.name for a in areas] == ["Dongting Hu", "Danjiangkou Shuiku"]
    dongting = areas[0].area
    assert isinstance(dongting, Polygon)
    assert 112 < dongting.centroid.x < 113.5  # longitude first
    assert 28.5 < dongting.centroid.y < 29.8
    km2 = LocalProjection.around(dongting).to_m(dongting).area / 1e6
    assert 700 < km2 < 850


def test_polygon_holes_are_kept_as_islands() -> None:
    doc = {
        "type": "Feature",
        "properties": {"name": "lake"},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE, HOLE]},
    }

    (area,) = load_geojson(json.dumps(doc))

    assert isinstance(area.area, Polygon)
    assert len(area.area.interiors) == 1
    assert area.name == "lake"


def test_multipolygon_keeps_every_part() -> None:
    other = [[x + 0.02, y] for x, y in SQUARE]
    doc = {"type": "MultiPolygon", "coordinates": [[SQUARE], [other]]}

    (area,) = load_geojson(json.dumps(doc))

    assert isinstance(area.area, MultiPolygon)
    assert len(area.area.geoms) == 2


def test_unclosed_ring_is_reported_and_can_be_closed_on_request() -> None:
    doc = json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]})

    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(doc)
    (repaired,) = load_geojson(doc, repair=True)

    assert codes(exc) == ["unclosed_ring"]
    assert "exterior ring is not closed" in str(exc.value)
    assert exc.value.repaired_wkt is not None
    assert [p.code for p in repaired.repairs] == ["unclosed_ring"]
    assert repaired.area.area == pytest.approx(0.0001)


def test_real_self_intersecting_water_polygon_offers_the_repair_and_its_area_change() -> None:
    doc = json.dumps({"type": "Polygon", "coordinates": water3_in_lonlat()})

    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(doc)
    (repaired,) = load_geojson(doc, repair=True)

    assert codes(exc) == ["self_intersection"]
    assert "Self-intersection[" in str(exc.value)
    assert exc.value.repaired_wkt is not None
    assert exc.value.area_change_ratio is not None
    assert 0 < exc.value.area_change_ratio < 0.05
    assert repaired.area.is_valid
    assert repaired.area_change_ratio == exc.value.area_change_ratio


def test_tile_units_are_rejected_as_not_degrees_and_never_repaired() -> None:
    doc = json.dumps({"type": "Polygon", "coordinates": water3_rings()})

    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(doc, repair=True)

    assert codes(exc) == ["not_degrees"]
    assert exc.value.repaired_wkt is None


def test_swapped_lat_lon_is_named_as_such() -> None:
    swapped = [[y, x] for x, y in SQUARE]

    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(json.dumps({"type": "Polygon", "coordinates": [swapped]}))

    assert codes(exc) == ["swapped_lon_lat"]


def test_empty_and_degenerate_and_non_polygon_inputs_are_each_named() -> None:
    line = [[106.0, 29.0], [106.01, 29.0], [106.0, 29.0]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": []},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [line]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
            {"type": "Feature", "properties": {}, "geometry": None},
        ],
    }

    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(json.dumps(collection), repair=True)

    assert codes(exc) == ["empty", "degenerate", "unsupported_geometry", "empty"]
    assert [p.feature_index for p in exc.value.problems] == [0, 1, 2, 3]


def test_absurdly_large_and_tiny_shapes_are_rejected() -> None:
    continent = [[70.0, 20.0], [130.0, 20.0], [130.0, 50.0], [70.0, 50.0], [70.0, 20.0]]
    speck = [
        [106.0, 29.0],
        [106.00001, 29.0],
        [106.00001, 29.00001],
        [106.0, 29.00001],
        [106.0, 29.0],
    ]

    with pytest.raises(InvalidWaterwayError) as big:
        load_geojson(json.dumps({"type": "Polygon", "coordinates": [continent]}))
    with pytest.raises(InvalidWaterwayError) as small:
        load_geojson(json.dumps({"type": "Polygon", "coordinates": [speck]}))

    assert codes(big) == ["too_large"]
    assert codes(small) == ["too_small"]


def test_one_bad_feature_rejects_the_whole_file() -> None:
    good = {
        "type": "Feature",
        "properties": {"name": "ok"},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    bad = {
        "type": "Feature",
        "properties": {"name": "bad"},
        "geometry": {"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE]]},
    }

    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(json.dumps({"type": "FeatureCollection", "features": [good, bad]}))

    assert [p.feature_index for p in exc.value.problems] == [1]


def test_not_json_is_a_parse_error() -> None:
    with pytest.raises(InvalidWaterwayError) as exc:
        load_geojson(b"{not json")

    assert codes(exc) == ["parse_error"]


def _kml(square: list[list[float]], hole: list[list[float]] | None = None) -> str:
    def ring(points: list[list[float]]) -> str:
        return " ".join(f"{x},{y},0" for x, y in points)

    inner = (
        f"<innerBoundaryIs><LinearRing><coordinates>{ring(hole)}</coordinates></LinearRing>"
        "</innerBoundaryIs>"
        if hole
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        "<Document><Placemark><name>Reservoir</name><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{ring(square)}</coordinates></LinearRing></outerBoundaryIs>{inner}"
        "</Polygon></Placemark></Document></kml>"
    )


def test_kml_polygon_with_hole_is_read_in_lonlat() -> None:
    (area,) = load_kml(_kml(SQUARE, HOLE))

    assert area.name == "Reservoir"
    assert isinstance(area.area, Polygon)
    assert len(area.area.interiors) == 1
    assert area.area.bounds == pytest.approx((106.0, 29.0, 106.01, 29.01))


def test_kmz_reads_its_doc_kml() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc.kml", _kml(SQUARE))

    (area,) = load_kmz(buffer.getvalue())

    assert area.area.area == pytest.approx(0.0001)


def test_kml_problems_are_checked_like_geojson() -> None:
    with pytest.raises(InvalidWaterwayError) as exc:
        load_kml(_kml(SQUARE[:-1]))

    assert codes(exc) == ["unclosed_ring"]


def test_kml_without_polygon_and_broken_kmz_are_rejected() -> None:
    empty = '<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'

    with pytest.raises(InvalidWaterwayError) as no_polygon:
        load_kml(empty)
    with pytest.raises(InvalidWaterwayError) as not_zip:
        load_kmz(b"PK-not-really")

    assert codes(no_polygon) == ["empty"]
    assert codes(not_zip) == ["parse_error"]


def test_file_type_is_chosen_by_suffix() -> None:
    areas = load_area_file("lakes.GEOJSON", NE_LAKES)

    assert len(areas) == 2


def test_check_polygons_reports_each_ring_of_a_multipolygon() -> None:
    open_ring = [(106.0, 29.0), (106.01, 29.0), (106.01, 29.01)]
    closed = [(106.02, 29.0), (106.03, 29.0), (106.03, 29.01), (106.02, 29.0)]

    outcome = check_polygons([[closed], [open_ring]], feature_index=4)

    assert [p.message for p in outcome.problems] == [
        "feature 4: polygon 1 exterior ring is not closed: first position (106.0, 29.0) "
        "differs from last (106.01, 29.01) (RFC 7946 requires them equal)"
    ]
    assert isinstance(outcome.area, MultiPolygon)
