"""`waterguard plan`: every sortie written, the file's features used, launch on the bank."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely import LineString, Point, box
from shapely.geometry import mapping, shape
from typer.testing import CliRunner

from app.cli import cli
from missions import LocalProjection, bank_launch_point, read_qgc_plan

FIXTURES = Path(__file__).parents[1] / "fixtures" / "waterways"
runner = CliRunner()


def dongting_window() -> Any:
    """A 6 x 4.5 km window of Dongting Hu (Natural Earth), its south side mostly dry land."""
    doc = json.loads((FIXTURES / "ne10m_dongting_danjiangkou.geojson").read_text())
    lake = shape(doc["features"][0]["geometry"])
    return lake.intersection(box(112.07, 28.88, 112.13, 28.92))


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


@pytest.fixture
def water_file(tmp_path: Path) -> Path:
    path = tmp_path / "dongting.geojson"
    doc = {"type": "FeatureCollection", "features": [feature(mapping(dongting_window()))]}
    path.write_text(json.dumps(doc))
    return path


def run(*args: str) -> Any:
    return runner.invoke(cli, ["plan", *args, "--drone", "m3t"])


def test_every_sortie_is_written_to_the_folder(water_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = run(str(water_file), "--pattern", "bank", "--format", "qgc-plan", "-o", f"{out}/")

    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["dongting-s0.plan", "dongting-s1.plan"]
    assert all(read_qgc_plan(f.read_bytes()).waypoints for f in files)


def test_one_geojson_holds_every_sortie(water_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "patrol.geojson"

    result = run(str(water_file), "--pattern", "bank", "-o", str(out))

    assert result.exit_code == 0, result.output
    features = json.loads(out.read_text())["features"]
    tracks = [f for f in features if f["properties"]["kind"] == "track"]
    assert [t["properties"]["sortie"] for t in tracks] == [0, 1]


def test_several_sorties_in_one_single_route_file_is_refused_with_the_way_out(
    water_file: Path, tmp_path: Path
) -> None:
    result = run(
        str(water_file), "--pattern", "bank", "--format", "dji-kmz", "-o", str(tmp_path / "p.kmz")
    )

    assert result.exit_code == 2
    assert "2 sorties" in result.output
    assert "--sortie" in result.output
    assert not (tmp_path / "p.kmz").exists()


def test_the_default_launch_point_is_on_the_waters_edge(water_file: Path, tmp_path: Path) -> None:
    water = dongting_window()
    projection = LocalProjection.around(water)
    water_m = projection.to_m(water)
    minx, miny, maxx, _ = water_m.bounds
    out = tmp_path / "patrol.geojson"

    result = run(str(water_file), "--pattern", "bank", "-o", str(out))

    assert result.exit_code == 0, result.output
    launch = next(
        f for f in json.loads(out.read_text())["features"] if f["properties"]["kind"] == "launch"
    )
    lon, lat = launch["geometry"]["coordinates"][:2]
    at_m = projection.to_m(Point(lon, lat))
    assert water_m.exterior.distance(at_m) < 1.0
    # The old default, the middle of the bounding box's south side, is over a km inland.
    assert water_m.distance(Point((minx + maxx) / 2, miny)) > 1_000
    expected = bank_launch_point(water)
    assert (lon, lat) == pytest.approx((expected.lon_deg, expected.lat_deg), abs=1e-9)


def test_hot_spots_launch_points_and_no_fly_zones_come_from_the_file(tmp_path: Path) -> None:
    water = dongting_window()
    quay = (112.1150, 28.9060)
    spots = [(112.1000, 28.9120), (112.1200, 28.9150)]
    zone = box(112.1050, 28.9100, 112.1100, 28.9200)
    path = tmp_path / "water.geojson"
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature(mapping(water), name="Dongting Hu window"),
            feature(mapping(Point(quay)), role="launch_point", name="quay"),
            *(
                feature(mapping(Point(s)), role="hot_spot", name=f"beach {k}")
                for k, s in enumerate(spots)
            ),
            feature(mapping(zone), role="no_fly", name="ferry lane"),
        ],
    }
    path.write_text(json.dumps(doc))
    out = tmp_path / "patrol.geojson"

    result = run(str(path), "--pattern", "hotspots", "-o", str(out))

    assert result.exit_code == 0, result.output
    features = json.loads(out.read_text())["features"]
    launch = next(f for f in features if f["properties"]["kind"] == "launch")
    assert launch["geometry"]["coordinates"][:2] == pytest.approx(list(quay))
    track = LineString(
        [
            c[:2]
            for c in next(f for f in features if f["properties"]["kind"] == "track")["geometry"][
                "coordinates"
            ]
        ]
    )
    for spot in spots:
        assert track.distance(Point(spot)) < 1e-4
    assert not track.intersects(zone)
    assert any(f["properties"]["kind"] == "no_fly_zone" for f in features)
