"""The ``waterguard`` command. Settings come from the same WATERGUARD_* variables as the
server, so ``WATERGUARD_DATABASE_URL=... waterguard migrate`` works on any database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from app.cli_common import console, err, fail, settings_or_exit, unit_of_work
from app.config import get_settings
from app.detect_cli import detect_cli
from app.dji_cli import dji_cli
from app.plan_cli import plan_cli

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
cli.add_typer(plan_cli)  # plan
cli.add_typer(dji_cli)  # dji-broker-files, dock-sim, pilot-sim


@cli.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.migrate import upgrade

    settings = settings_or_exit()
    try:
        upgrade(settings.database_url)
    except SQLAlchemyError as exc:
        raise fail(f"cannot migrate {settings.database_url.split('@')[-1]}: {exc}") from exc
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
    settings = settings_or_exit()
    with contextlib.ExitStack() as stack:
        if demo_docks:
            if settings.is_production:
                raise fail("--demo-docks is refused in production mode", 2)
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
    settings = settings_or_exit()
    if settings.broker_url:
        from app.engine.tasks import run_worker

        kinds = [kind.strip() for kind in queues.split(",") if kind.strip()]
        unknown = set(kinds) - {"detection", "webhooks", "periodic"}
        if unknown or pool not in {"prefork", "threads", "solo"}:
            raise fail(f"unknown queue or pool: {', '.join(sorted(unknown)) or pool}")
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
    settings = settings_or_exit()
    if not settings.broker_url:
        raise fail("waterguard beat needs WATERGUARD_BROKER_URL (without one, the worker does it)")
    from app.engine.tasks import run_beat

    run_beat(settings)


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

    settings = settings_or_exit()
    if not password_stdin:
        raise fail("pass --password-stdin and send the password on standard input", 2)
    password = sys.stdin.readline().rstrip("\n")
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise fail(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", 2) from exc
    try:
        with unit_of_work(settings, "cli") as session:
            target = JurisdictionRepository(session).get_by_code(jurisdiction)
            if target is None:
                raise fail(f"no jurisdiction with code {jurisdiction!r}", 2)
            data = UserCreate(
                username=username,
                password=password,
                role=role_value,
                jurisdiction_id=target.id,
                display_name=display_name or username,
            )
            kinds = auth_service.ROLE_JURISDICTION_KINDS[role_value]
            if JurisdictionKind(target.kind) not in kinds:
                raise fail(
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
        raise fail(problems, 2) from exc
    except AppError as exc:
        raise fail(str(exc.detail)) from exc


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
        with unit_of_work(settings_or_exit(), "cli") as session:
            district = jurisdiction_service.create_root(
                session, code=code, name_zh=name_zh, name_en=name_en
            )
            console.print(f"created district {district.code} (id {district.id})")
    except AppError as exc:
        raise fail(str(exc.detail)) from exc


@cli.command("seed-demo")
def seed_demo(
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when already seeded.")
    ] = False,
) -> None:
    """Create the demo district (code demo) and print its logins."""
    from app.seed import DEMO_LOGINS, DemoAlreadySeeded
    from app.seed import seed_demo as do_seed

    settings = settings_or_exit()
    if settings.is_production:
        raise fail("seed-demo is refused in production mode (its passwords are public)", 2)
    try:
        with unit_of_work(settings, "seed-demo") as session:
            do_seed(session)
            console.print("demo district seeded")
    except DemoAlreadySeeded as exc:
        if not if_missing:
            raise fail(str(exc.detail)) from exc
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

    settings = settings_or_exit()
    try:
        the_day = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise fail(f"--day must be YYYY-MM-DD, got {day!r}", 2) from exc
    try:
        report = demo_loop.run(
            settings, day=the_day, speed=speed, seed=seed, say=console.print, if_missing=if_missing
        )
    except RuntimeError as exc:
        raise fail(str(exc)) from exc
    for line in report.lines():
        console.print(line)


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

    settings = settings_or_exit()
    with unit_of_work(settings, "audit-verify") as session:
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
    raise fail(
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

    settings = settings_or_exit()
    storage = evidence_storage(settings)
    try:
        with unit_of_work(settings, "dataset-export") as session:
            summary = export_dataset(session, storage=storage, out_dir=out, tile_px=tile_px)
    except StorageError as exc:
        raise fail(f"cannot read the evidence store: {exc}") from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from exc
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
        raise fail(str(exc), code=2) from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from exc
    console.print(f"tiled dataset: {data_yaml}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
