"""``waterguard plan``: plan a patrol from a waterway file, offline, and write the routes in
the formats flight software reads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from app.cli_common import console, fail

if TYPE_CHECKING:
    from missions import NoFlyZone, PatrolRoute

plan_cli = typer.Typer(no_args_is_help=True)


def _all_sorties_geojson(routes: list[PatrolRoute], zones: tuple[NoFlyZone, ...]) -> bytes:
    """One FeatureCollection with every sortie (``properties.sortie``) and the zones once."""
    import json

    from missions import write_geojson

    features: list[dict[str, object]] = []
    for index, route in enumerate(routes):
        doc = json.loads(write_geojson(route, no_fly_zones=zones if index == 0 else ()))
        for feature in doc["features"]:
            if feature["properties"].get("kind") != "no_fly_zone":
                feature["properties"]["sortie"] = index
            features.append(feature)
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=1).encode()


@plan_cli.command("plan")
def plan(
    waterway_file: Annotated[
        Path,
        typer.Argument(
            help="GeoJSON, KML or KMZ with the water. In GeoJSON, features with "
            "properties.role hot_spot, launch_point, centre_line, no_fly or deep_water "
            "are used too."
        ),
    ],
    pattern: Annotated[str, typer.Option(help="bank, coverage, hotspots or corridor.")],
    drone: Annotated[str, typer.Option(help="Drone model: m30t, m3t, m3e, m3td, m4t.")],
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="File to write, or a folder (ending in /) for one file per sortie. A GeoJSON "
            "file holds every sortie; other formats hold one (see --sortie).",
        ),
    ],
    altitude_m: Annotated[float, typer.Option(help="Height above take-off, metres.")] = 60.0,
    fmt: Annotated[
        str, typer.Option("--format", help="geojson, kml, qgc-plan, qgc-wpl or dji-kmz.")
    ] = "geojson",
    launch: Annotated[
        str | None,
        typer.Option(
            help="Take-off point as LON,LAT; default: the file's launch points, else the bank "
            "nearest the middle of the water's south side."
        ),
    ] = None,
    sortie: Annotated[
        int | None, typer.Option(help="Write only this sortie (0-based).", min=0)
    ] = None,
    night: Annotated[bool, typer.Option(help="Night patrol (lights, thermal lens).")] = False,
) -> None:
    """Plan a patrol over a waterway file and write its sorties in a flight-app format."""
    import dataclasses

    from missions import (
        EXPORT_FORMATS,
        LaunchPoint,
        LonLat,
        MissionsError,
        PlanningLimits,
        bank_launch_point,
        drone_profile,
        export_route,
        load_patrol_file,
        plan_patrol,
    )

    if fmt not in EXPORT_FORMATS:
        raise fail(f"unknown format {fmt!r}; use one of {', '.join(sorted(EXPORT_FORMATS))}", 2)
    extension = EXPORT_FORMATS[fmt].extension
    to_folder = output.endswith(("/", "\\")) or Path(output).is_dir()
    try:
        data = waterway_file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {waterway_file}: {exc.strerror}", 2) from exc
    try:
        profile = drone_profile(drone)
        found = load_patrol_file(waterway_file.name, data, name=None)
        water = found.waterway
        if water.name == "waterway":
            water = dataclasses.replace(water, name=waterway_file.stem)
        if launch is not None:
            lon_text, _, lat_text = launch.partition(",")
            start = LonLat(float(lon_text), float(lat_text))
            water = dataclasses.replace(water, launch_points=(LaunchPoint("launch", start),))
        elif not water.launch_points:
            start = bank_launch_point(water.area)
            water = dataclasses.replace(water, launch_points=(LaunchPoint("bank", start),))
        result = plan_patrol(
            water,
            pattern=pattern,
            drone=profile,
            limits=PlanningLimits(altitude_m=altitude_m, is_night=night),
            no_fly_zones=found.no_fly_zones,
        )
        count = len(result.sorties)
        if sortie is not None and sortie >= count:
            raise fail(f"sortie {sortie} does not exist; the plan has {count}", 2)
        chosen = [sortie] if sortie is not None else list(range(count))
        if not to_folder and len(chosen) > 1 and fmt != "geojson":
            raise fail(
                f"the plan has {count} sorties and a {fmt} file holds one: write them all "
                f"with -o {Path(output).stem}/ (one file each) or pick one with --sortie",
                2,
            )
        files: list[tuple[Path, bytes]] = []
        routes = [result.sorties[i].route for i in chosen]
        if to_folder:
            stem = waterway_file.stem
            for i, route in zip(chosen, routes, strict=True):
                content = export_route(
                    route, fmt, no_fly_zones=found.no_fly_zones, drone=profile, is_night=night
                )
                files.append((Path(output) / f"{stem}-s{i}{extension}", content))
        elif fmt == "geojson" and len(routes) > 1:
            files.append((Path(output), _all_sorties_geojson(routes, found.no_fly_zones)))
        else:
            content = export_route(
                routes[0], fmt, no_fly_zones=found.no_fly_zones, drone=profile, is_night=night
            )
            files.append((Path(output), content))
    except (MissionsError, ValueError) as exc:
        raise fail(str(exc).splitlines()[0], 2) from exc
    try:
        if to_folder:
            Path(output).mkdir(parents=True, exist_ok=True)
        for path, content in files:
            path.write_bytes(content)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror}", 2) from exc
    table = Table(title=f"{water.name}: {result.pattern} patrol with {profile.name}")
    for column in ("sortie", "length m", "duration min", "waypoints"):
        table.add_column(column, justify="right")
    for s in result.sorties:
        table.add_row(
            str(s.index),
            f"{s.length_m:,.0f}",
            f"{s.duration_s / 60:.1f}",
            str(len(s.route.waypoints)),
        )
    console.print(table)
    if found.other_water:
        console.print(f"planned over the first water only; also in the file: {found.other_water}")
    launch_at = water.launch_points[0].position
    console.print(
        f"total {result.length_m / 1000:.2f} km, {result.duration_s / 60:.1f} min, "
        f"{count} sorties, coverage {result.coverage_ratio:.1%}, {result.turns} turns; "
        f"launch {launch_at.lon_deg:.6f},{launch_at.lat_deg:.6f}; "
        f"{len(files)} file(s) written: {', '.join(str(p) for p, _ in files)}"
    )
