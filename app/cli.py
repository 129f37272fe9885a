"""The ``waterguard`` command. Settings come from the same WATERGUARD_* variables as the
server, so ``WATERGUARD_DATABASE_URL=... waterguard migrate`` works on any database."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from app.config import ConfigError, Settings, get_settings
from app.detect_cli import detect_cli

if TYPE_CHECKING:
    from app.dji.mqtt import BrokerAddress
    from app.dji.sim import DockSim
    from missions import NoFlyZone, PatrolRoute

cli = typer.Typer(
    name="waterguard",
    help="Waterguard: drone patrols against drowning (无人机防溺水巡查).",
    no_args_is_help=True,
    add_completion=False,
)
audit_cli = typer.Typer(help="Audit log tools.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
dataset_cli = typer.Typer(
    help="Training data from operators' verdicts on evidence.", no_args_is_help=True
)
cli.add_typer(dataset_cli, name="dataset")
cli.add_typer(detect_cli)  # synth, train, detect, srt
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = get_settings()
        settings.resolved_secret_key()
    except (ConfigError, ValidationError) as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    return settings


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@cli.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.migrate import upgrade

    settings = _settings()
    try:
        upgrade(settings.database_url)
    except SQLAlchemyError as exc:
        raise _fail(f"cannot migrate {settings.database_url.split('@')[-1]}: {exc}") from exc
    console.print("database is at the latest revision")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    background: Annotated[
        bool,
        typer.Option(
            "--background-worker/--no-background-worker",
            help="Run alert delivery, escalation timers and reminders in-process "
            "(default; off when a separate `waterguard worker` runs).",
        ),
    ] = True,
    demo_speed: Annotated[
        float,
        typer.Option(
            help="Also run the demo patrol day live in this process, this many times faster "
            "than real time (0: no demo). `make run` uses it.",
            min=0,
        ),
    ] = 0.0,
    demo_docks: Annotated[
        bool,
        typer.Option(
            "--demo-docks/--no-demo-docks",
            help="Also fly the demo's DJI docks through the DJI bridge: a private MQTT broker "
            "(Mosquitto, else amqtt) unless WATERGUARD_MQTT_URL is set, two simulated Dock 3 "
            "docks and a dock sortie booked every few minutes. `make run` uses it.",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import contextlib
    import os
    import signal

    import uvicorn

    os.environ["WATERGUARD_EMBEDDED_WORKER"] = "1" if background else "0"
    get_settings.cache_clear()
    settings = _settings()
    with contextlib.ExitStack() as stack:
        if demo_docks:
            if settings.is_production:
                raise _fail("--demo-docks is refused in production mode", 2)
            from app import demo_docks as dock_demo
            from detection.synth_render import write_patrol_clip

            # SIGTERM as Ctrl-C, so the broker and the docks are stopped on the way out.
            signal.signal(signal.SIGTERM, _interrupt)
            settings = stack.enter_context(
                dock_demo.composed(
                    settings,
                    serve_url=_local_url(host, port),
                    clip_writer=write_patrol_clip,
                    say=console.print,
                )
            )
        if demo_speed > 0:
            from app import demo as demo_loop

            demo_loop.start_background(settings, speed=demo_speed)
            console.print(f"demo patrol day running live at {demo_speed:g}x real time")
        console.print(f"Waterguard on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            # X-Forwarded-For is believed from WATERGUARD_TRUSTED_PROXIES only (create_app).
            proxy_headers=False,
        )


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _local_url(host: str, port: int) -> str:
    """How this machine reaches the server (the docks download their routes there)."""
    if host in {"", "0.0.0.0", "::"}:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@cli.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(help="Celery worker processes (with a broker).", min=1, max=256)
    ] = 1,
    pool: Annotated[
        str, typer.Option(help="Celery pool: prefork, threads or solo (with a broker).")
    ] = "prefork",
    queues: Annotated[
        str,
        typer.Option(help="Comma-separated: detection, webhooks, periodic (default: all)."),
    ] = "",
) -> None:
    """Run the background worker: alert delivery, escalation timers, reminders, purge,
    detection jobs. A Celery worker when WATERGUARD_BROKER_URL is set, else in-process."""
    settings = _settings()
    if settings.broker_url:
        from app.engine.tasks import run_worker

        kinds = [kind.strip() for kind in queues.split(",") if kind.strip()]
        unknown = set(kinds) - {"detection", "webhooks", "periodic"}
        if unknown or pool not in {"prefork", "threads", "solo"}:
            raise _fail(f"unknown queue or pool: {', '.join(sorted(unknown)) or pool}")
        run_worker(settings, concurrency=concurrency, pool=pool, queues=kinds)
        return

    import signal
    import threading

    from app.worker import run_standalone

    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    console.print("Waterguard worker running (Ctrl-C to stop)")
    run_standalone(settings, stop)


@cli.command()
def beat() -> None:
    """Run the scheduler of the periodic work (needs WATERGUARD_BROKER_URL): escalation
    timers, reminders, the no-telemetry sweep, retention purge, detection job recovery."""
    settings = _settings()
    if not settings.broker_url:
        raise _fail("waterguard beat needs WATERGUARD_BROKER_URL (without one, the worker does it)")
    from app.engine.tasks import run_beat

    run_beat(settings)


@contextmanager
def _unit_of_work(settings: Settings, actor: str) -> Iterator[Session]:
    """One committed transaction on the configured database; the engine is disposed after."""
    from app.audit import service as audit_service
    from app.db import make_engine, make_sessionmaker, session_scope

    audit_service.install_listener()
    engine = make_engine(settings.database_url)
    audit_service.use_key(engine, settings.resolved_audit_key())
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            audit_service.set_actor(session, audit_service.Actor(actor, "system"))
            yield session
    finally:
        engine.dispose()


@cli.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    role: Annotated[
        str,
        typer.Option(
            help="admin, command, operator, station_officer, ground_unit, grid_worker or "
            "service_admin (service-wide: every district's audit rows, metrics, verify)."
        ),
    ],
    jurisdiction: Annotated[str, typer.Option(help="Jurisdiction code, e.g. demo.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the UI.")] = None,
) -> None:
    """Create a user bound to a jurisdiction."""
    from app.auth import service as auth_service
    from app.auth.models import Role
    from app.auth.schemas import UserCreate
    from app.errors import AppError
    from app.jurisdiction.models import JurisdictionKind
    from app.jurisdiction.repository import JurisdictionRepository

    settings = _settings()
    if not password_stdin:
        raise _fail("pass --password-stdin and send the password on standard input", 2)
    password = sys.stdin.readline().rstrip("\n")
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise _fail(
            f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", 2
        ) from exc
    try:
        with _unit_of_work(settings, "cli") as session:
            target = JurisdictionRepository(session).get_by_code(jurisdiction)
            if target is None:
                raise _fail(f"no jurisdiction with code {jurisdiction!r}", 2)
            data = UserCreate(
                username=username,
                password=password,
                role=role_value,
                jurisdiction_id=target.id,
                display_name=display_name or username,
            )
            kinds = auth_service.ROLE_JURISDICTION_KINDS[role_value]
            if JurisdictionKind(target.kind) not in kinds:
                raise _fail(
                    f"role {role_value} must be bound to a "
                    f"{' or '.join(sorted(kinds))}, not a {target.kind}",
                    2,
                )
            user = auth_service.create_user_unchecked(
                session,
                username=data.username,
                display_name=data.display_name,
                password=data.password,
                role=data.role,
                jurisdiction_id=data.jurisdiction_id,
            )
            console.print(f"created user {user.username} (id {user.id}, {user.role})")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise _fail(problems, 2) from exc
    except AppError as exc:
        raise _fail(str(exc.detail)) from exc


@cli.command("create-district")
def create_district(
    code: Annotated[str, typer.Argument(help="Short code, e.g. jiangjin.")],
    name_zh: Annotated[str, typer.Option(help="Chinese name.")],
    name_en: Annotated[str, typer.Option(help="English name.")],
) -> None:
    """Create a top-level district jurisdiction."""
    from app.errors import AppError
    from app.jurisdiction import service as jurisdiction_service

    try:
        with _unit_of_work(_settings(), "cli") as session:
            district = jurisdiction_service.create_root(
                session, code=code, name_zh=name_zh, name_en=name_en
            )
            console.print(f"created district {district.code} (id {district.id})")
    except AppError as exc:
        raise _fail(str(exc.detail)) from exc


@cli.command("seed-demo")
def seed_demo(
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when already seeded.")
    ] = False,
) -> None:
    """Create the demo district (code demo) and print its logins."""
    from app.seed import DEMO_LOGINS, DemoAlreadySeeded
    from app.seed import seed_demo as do_seed

    settings = _settings()
    if settings.is_production:
        raise _fail("seed-demo is refused in production mode (its passwords are public)", 2)
    try:
        with _unit_of_work(settings, "seed-demo") as session:
            do_seed(session)
            console.print("demo district seeded")
    except DemoAlreadySeeded as exc:
        if not if_missing:
            raise _fail(str(exc.detail)) from exc
    table = Table(title="Demo logins (演示账号)")
    for column in ("username", "password", "role", "jurisdiction"):
        table.add_column(column)
    for login in DEMO_LOGINS:
        table.add_row(login.username, login.password, login.role.value, login.jurisdiction_code)
    console.print(table)


@cli.command("demo")
def demo(
    day: Annotated[
        str | None,
        typer.Option(
            help="Local day YYYY-MM-DD to simulate (sorties "
            "at 12:00, 14:30, 17:00, 19:30); default: "
            "live, from now."
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Times faster than real time; 0 = no waiting.", min=0)
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed of the scenes and outcomes.")] = 7,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when that day was already played.")
    ] = False,
) -> None:
    """Simulate a patrol day on the demo district through the real services and detector."""
    from datetime import date

    from app import demo as demo_loop

    settings = _settings()
    try:
        the_day = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise _fail(f"--day must be YYYY-MM-DD, got {day!r}", 2) from exc
    try:
        report = demo_loop.run(
            settings, day=the_day, speed=speed, seed=seed, say=console.print, if_missing=if_missing
        )
    except RuntimeError as exc:
        raise _fail(str(exc)) from exc
    for line in report.lines():
        console.print(line)


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


@cli.command("plan")
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
        raise _fail(f"unknown format {fmt!r}; use one of {', '.join(sorted(EXPORT_FORMATS))}", 2)
    extension = EXPORT_FORMATS[fmt].extension
    to_folder = output.endswith(("/", "\\")) or Path(output).is_dir()
    try:
        data = waterway_file.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {waterway_file}: {exc.strerror}", 2) from exc
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
            raise _fail(f"sortie {sortie} does not exist; the plan has {count}", 2)
        chosen = [sortie] if sortie is not None else list(range(count))
        if not to_folder and len(chosen) > 1 and fmt != "geojson":
            raise _fail(
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
        raise _fail(str(exc).splitlines()[0], 2) from exc
    try:
        if to_folder:
            Path(output).mkdir(parents=True, exist_ok=True)
        for path, content in files:
            path.write_bytes(content)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror}", 2) from exc
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


@audit_cli.command("verify")
def audit_verify(
    since_checkpoint: Annotated[
        bool,
        typer.Option(
            "--since-checkpoint", help="Walk only the rows after the newest signed checkpoint."
        ),
    ] = False,
) -> None:
    """Check the keyed audit chain, every row, against its signed checkpoints (only the rows
    after the newest one with --since-checkpoint); exit 1 when a row was changed or removed."""
    from rich.progress import Progress

    from app.audit import service as audit_service
    from app.audit.models import AuditHead

    settings = _settings()
    with _unit_of_work(settings, "audit-verify") as session:
        head = session.get(AuditHead, 1)
        total = head.seq if head else 0
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("verifying audit chain", total=total or None)
            report = audit_service.verify(
                session,
                checkpoints=audit_service.checkpoint_file(settings),
                full=not since_checkpoint,
                on_row=lambda: progress.advance(task),
            )
    if report.is_intact:
        console.print(
            f"audit chain intact: {report.checked} rows checked "
            f"(rows {report.from_seq + 1}..{report.head_seq}; earlier rows vouched for by a "
            "signed checkpoint)"
            if report.from_seq
            else f"audit chain intact: {report.checked} rows"
        )
        return
    raise _fail(
        f"audit chain BROKEN at row {report.first_bad_seq}: {report.problem} "
        f"({report.checked} rows verified before it)"
    )


@dataset_cli.command("export")
def dataset_export(
    out: Annotated[Path, typer.Option(help="Folder for the YOLO dataset (created).")],
    tile_px: Annotated[
        int, typer.Option(help="Side of the tile cut around each judged box.", min=64)
    ] = 640,
) -> None:
    """Write the evidence frames operators marked "person" / "not a person" as a YOLO
    dataset (confirmed positives and hard negatives) for `waterguard train`."""
    from app.incident.feedback_export import export_dataset
    from app.storage import StorageError, evidence_storage

    settings = _settings()
    storage = evidence_storage(settings)
    try:
        with _unit_of_work(settings, "dataset-export") as session:
            summary = export_dataset(session, storage=storage, out_dir=out, tile_px=tile_px)
    except StorageError as exc:
        raise _fail(f"cannot read the evidence store: {exc}") from exc
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror}") from exc
    console.print(
        f"{summary.positives} confirmed person(s), {summary.negatives} hard negative(s)"
        f"{f', {summary.skipped} without stored media skipped' if summary.skipped else ''}; "
        f"dataset: {summary.data_yaml}"
    )


@dataset_cli.command("tile")
def dataset_tile(
    src: Annotated[
        Path,
        typer.Argument(
            help="A one-class YOLO dataset folder (images/, labels/), or a COCO labels .json "
            "with --images (e.g. SeaDronesSee)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the tiled dataset (created).")],
    images: Annotated[Path | None, typer.Option(help="Image folder of a COCO dataset.")] = None,
    classes: Annotated[str, typer.Option(help="COCO category kept as class 0.")] = "swimmer",
    tile_px: Annotated[int, typer.Option(help="Tile side, the model's input.", min=64)] = 640,
) -> None:
    """Cut a dataset's full frames into the tiles inference sees (e.g. SeaDronesSee before
    fine-tuning: at --imgsz 640 a whole 4K frame would shrink its swimmers 6x)."""
    from app.detect_cli import CliError, _coco_dataset
    from detection import DetectionError
    from detection.synth_render import tile_yolo_dataset

    try:
        if src.suffix.lower() == ".json":
            if images is None:
                raise CliError("a COCO .json needs --images FOLDER with its images")
            src = _coco_dataset(src, images, out / "frames", keep=[classes], val_share=0.1).parent
        data_yaml = tile_yolo_dataset(src, out / "tiles" if images else out, tile_px=tile_px)
    except (CliError, DetectionError, ValueError) as exc:
        raise _fail(str(exc), code=2) from exc
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror}") from exc
    console.print(f"tiled dataset: {data_yaml}")


@cli.command("dji-broker-files")
def dji_broker_files(
    out: Annotated[
        Path | None,
        typer.Option(help="Directory to write to (default: WATERGUARD_DJI_BROKER_DIR)."),
    ] = None,
) -> None:
    """Write the Mosquitto password file and ACL of the registered DJI gateways again."""
    from app.dji import service as dji_service

    settings = _settings()
    directory = out or settings.dji_broker_dir
    if directory is None:
        raise _fail("pass --out or set WATERGUARD_DJI_BROKER_DIR", 2)
    with _unit_of_work(settings, "cli:dji-broker-files") as session:
        count = dji_service.write_broker_files(
            session, settings.model_copy(update={"dji_broker_dir": directory})
        )
    console.print(f"{count} gateway logins written to {directory}; reload the broker (SIGHUP)")


def _broker_address(url: str) -> BrokerAddress:
    """``--broker``, else ``WATERGUARD_MQTT_URL``; exits 2 when it is no MQTT URL."""
    from app.dji.mqtt import BrokerAddress

    try:
        return BrokerAddress.parse(url or get_settings().mqtt_url)
    except ValueError as exc:
        raise _fail(f"{exc}; pass --broker or set WATERGUARD_MQTT_URL", 2) from exc


def _drive_sim(
    sim: DockSim, *, duration_s: float, step: Callable[[float], Awaitable[None]]
) -> None:
    """Run a simulator until ``duration_s`` has passed (0: until Ctrl-C), calling ``step``
    with the seconds elapsed every 0.2 s; exits 1 when the broker cannot be reached."""
    import asyncio

    import aiomqtt

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sim.run(stop))
        started = asyncio.get_running_loop().time()
        while not task.done():
            await asyncio.sleep(0.2)
            elapsed = asyncio.get_running_loop().time() - started
            await step(elapsed)
            if duration_s and elapsed >= duration_s:
                stop.set()
        await task

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except (OSError, aiomqtt.MqttError) as exc:
        raise _fail(f"cannot reach the broker: {exc}") from exc


@cli.command("dock-sim")
def dock_sim(
    broker: Annotated[
        str,
        typer.Option(help="mqtt://[user:pass@]host:port (default: WATERGUARD_MQTT_URL)."),
    ] = "",
    dock_sn: Annotated[str, typer.Option(help="The dock's serial number.")] = "SIMDOCK0001",
    aircraft_sn: Annotated[str, typer.Option(help="The aircraft's serial number.")] = "SIMAC0001",
    lon: Annotated[float, typer.Option(help="Dock longitude.", min=-180, max=180)] = 114.3055,
    lat: Annotated[float, typer.Option(help="Dock latitude.", min=-90, max=90)] = 30.5928,
    osd_hz: Annotated[
        float, typer.Option(help="OSD messages per second (documented: 0.5).", min=0.01, max=50)
    ] = 0.5,
    offline_after_s: Annotated[
        float,
        typer.Option(help="Take the aircraft offline (empty topology) after this long; 0: never."),
    ] = 0.0,
    duration_s: Annotated[float, typer.Option(help="Stop after this long; 0: Ctrl-C.")] = 0.0,
    time_scale: Annotated[
        float, typer.Option(help="Fly wayline tasks this many times faster.", min=0.1, max=1000)
    ] = 1.0,
    wind_mps: Annotated[float, typer.Option(help="Wind at the dock (m/s).", min=0)] = 3.2,
    rainfall: Annotated[
        int, typer.Option(help="Rain at the dock: 0 none .. 3 heavy.", min=0, max=3)
    ] = 0,
    battery_pct: Annotated[float, typer.Option(help="Aircraft charge (%).", min=0, max=100)] = 100,
    hms_after_s: Annotated[
        float, typer.Option(help="Send an HMS event (one dock alarm) after this long; 0: never.")
    ] = 0.0,
    media_port: Annotated[
        int,
        typer.Option(
            help="Port of the stand-in media server serving pushed live video on 127.0.0.1 "
            "(/live/<stream>.mp4); 0: any free port.",
            min=0,
            max=65_535,
        ),
    ] = 0,
) -> None:
    """Simulate a DJI dock and its aircraft on an MQTT broker (Cloud API): it flies the
    wayline tasks it is sent (downloading and checking their KMZ), pushes live video to a
    stand-in media server, plays TTS warnings on its speaker (progress events) and works a
    searchlight on the DRC channel."""
    from app.dji.sim_field import FieldDockSim
    from detection.synth_render import write_patrol_clip

    address = _broker_address(broker)
    sim = FieldDockSim(
        address,
        dock_sn,
        aircraft_sn,
        lon=lon,
        lat=lat,
        osd_hz=osd_hz,
        time_scale=time_scale,
        wind_mps=wind_mps,
        rainfall=rainfall,
        battery_pct=battery_pct,
        media_port=media_port,
        clip_writer=write_patrol_clip,
    )

    done: set[str] = set()

    async def step(elapsed: float) -> None:
        if hms_after_s and "hms" not in done and elapsed >= hms_after_s:
            done.add("hms")
            await sim.send_hms()
            console.print("HMS event sent")
        if offline_after_s and "offline" not in done and elapsed >= offline_after_s:
            done.add("offline")
            await sim.go_offline()
            console.print("aircraft offline (empty sub_devices); dock silent")

    console.print(f"dock-sim {dock_sn} + {aircraft_sn} on {address.host}:{address.port}")
    _drive_sim(sim, duration_s=duration_s, step=step)
    console.print(f"OSD sent: {sim.sent_osd}; config reply: {sim.config_output or 'none'}")


@cli.command("pilot-sim")
def pilot_sim(
    broker: Annotated[
        str,
        typer.Option(help="mqtt://[user:pass@]host:port (default: WATERGUARD_MQTT_URL)."),
    ] = "",
    rc_sn: Annotated[str, typer.Option(help="The controller's serial number.")] = "SIMRC0001",
    aircraft_sn: Annotated[str, typer.Option(help="The aircraft's serial number.")] = "SIMPAC0001",
    aircraft: Annotated[
        str,
        typer.Option(
            help="Aircraft model: m4t or m4e (on an RC Plus 2), m30t, m30 or m350 (RC Plus)."
        ),
    ] = "m4t",
    lon: Annotated[float, typer.Option(help="Where it flies.", min=-180, max=180)] = 114.3055,
    lat: Annotated[float, typer.Option(help="Where it flies.", min=-90, max=90)] = 30.5928,
    osd_hz: Annotated[
        float, typer.Option(help="OSD messages per second (documented: 0.5).", min=0.01, max=50)
    ] = 0.5,
    aircraft_off_after_s: Annotated[
        float,
        typer.Option(help="Switch the aircraft off (empty topology) after this long; 0: never."),
    ] = 0.0,
    offline_after_s: Annotated[
        float, typer.Option(help="The controller falls silent after this long; 0: never.")
    ] = 0.0,
    duration_s: Annotated[float, typer.Option(help="Stop after this long; 0: Ctrl-C.")] = 0.0,
) -> None:
    """Simulate a DJI Pilot 2 controller flying a hand-launched aircraft (Cloud API): its
    topology, its own OSD and the aircraft's; it takes no flight tasks (routes go as files)."""
    from app.dji.sim_pilot import AIRCRAFT, PilotSim

    if aircraft not in AIRCRAFT:
        raise _fail(f"--aircraft must be one of {', '.join(AIRCRAFT)}", 2)
    address = _broker_address(broker)
    aircraft_key, rc_key = AIRCRAFT[aircraft]
    sim = PilotSim(
        address,
        rc_sn,
        aircraft_sn,
        dock_key=rc_key,
        aircraft_key=aircraft_key,
        lon=lon,
        lat=lat,
        osd_hz=osd_hz,
    )

    async def step(elapsed: float) -> None:
        if aircraft_off_after_s and sim.aircraft_online and elapsed >= aircraft_off_after_s:
            await sim.aircraft_off()
            console.print("aircraft switched off (empty sub_devices)")
        if offline_after_s and sim.sending and elapsed >= offline_after_s:
            sim.sending = False
            console.print("controller silent")

    console.print(f"pilot-sim {rc_sn} ({rc_key}) + {aircraft_sn} ({aircraft_key})")
    _drive_sim(sim, duration_s=duration_s, step=step)
    answered = "yes" if sim.topology_answered.is_set() else "no"
    console.print(
        f"OSD sent: {sim.sent_osd}; topology answered: {answered}; "
        f"services refused: {', '.join(sim.services) or 'none'}"
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
