"""The detection commands of ``waterguard``: ``synth``, ``train``, ``detect`` and ``srt``.

A composition root like ``app.main``: it builds the adapters (OpenCV, ONNX Runtime,
ultralytics) and hands them to the pure ``detection`` core. Heavy adapters are imported
inside the command that needs them, so ``waterguard --help`` stays fast and ``srt`` works
without the vision stack. Bad input ends with one ``error: ...`` line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import unary_union

from app.detection_job import runner
from app.detection_job.runner import DEFAULT_HFOV_DEG, DEFAULT_ONNX, DEFAULT_PT, WEIGHTS_DIR
from detection import (
    DetectionError,
    Frame,
    FrameResult,
    Observation,
    ZoneMap,
    frame_record,
    load_config,
    read_srt,
    sighting_record,
    telemetry_record,
)
from detection.coco import coco_to_yolo

__all__ = ["DEFAULT_HFOV_DEG", "DEFAULT_ONNX", "DEFAULT_PT", "WEIGHTS_DIR", "detect_cli"]

detect_cli = typer.Typer(add_completion=False)
console = Console()


class CliError(Exception):
    """A one-line reason to stop, shown as ``error: ...``."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    first = (message.strip().splitlines() or ["failed"])[0]
    typer.echo(f"error: {first}", err=True)
    return typer.Exit(code)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


# --------------------------------------------------------------------------- srt


@detect_cli.command("srt")
def srt(
    srt_file: Annotated[Path, typer.Argument(help="A DJI .SRT telemetry file.")],
) -> None:
    """Print DJI SRT telemetry as JSON: one object per frame, units in the key names."""
    try:
        samples = read_srt(srt_file)
    except DetectionError as exc:
        raise _fail(f"{srt_file}: {exc}") from exc
    except OSError as exc:
        raise _fail(f"cannot read {srt_file}: {exc.strerror}") from exc
    typer.echo(json.dumps([telemetry_record(s) for s in samples], ensure_ascii=False, indent=1))


# --------------------------------------------------------------------------- synth


@detect_cli.command("synth")
def synth(
    out: Annotated[Path, typer.Option(help="Folder for the dataset (created).")],
    count: Annotated[int, typer.Option(help="Training images.", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same images.")] = 0,
    night_share: Annotated[
        float, typer.Option(help="Share of thermal-style night scenes.", min=0.0, max=1.0)
    ] = 0.3,
    val: Annotated[
        int | None, typer.Option(help="Validation images (default: a tenth of --count).", min=0)
    ] = None,
    size: Annotated[int, typer.Option(help="Image side in pixels.", min=64, max=4096)] = 640,
    photos: Annotated[
        bool,
        typer.Option(help="Also cut swimmers from the photographs inside scikit-image."),
    ] = True,
    wide: Annotated[
        bool,
        typer.Option(
            help="Wide generator: --count full 1080p/720p frames with hard negatives, "
            "cut into --size px tiles as inference sees them (detection.synth_wide)."
        ),
    ] = False,
) -> None:
    """Generate aerial water scenes with swimmers as a YOLO-format dataset (data.yaml)."""
    from detection.synth import photo_person_crops
    from detection.synth_render import write_dataset, write_tile_dataset

    val_count = max(1, count // 10) if val is None else val
    crops = photo_person_crops() if photos else ()
    try:
        with _progress() as progress:
            task = progress.add_task("rendering scenes", total=count + val_count)
            if wide:
                data_yaml = write_tile_dataset(
                    out,
                    frames=count,
                    val_frames=val_count,
                    seed=seed,
                    night_share=night_share,
                    tile_px=size,
                    photo_crops=crops,
                    on_frame=lambda: progress.advance(task),
                )
            else:
                data_yaml = write_dataset(
                    out,
                    count=count,
                    val_count=val_count,
                    seed=seed,
                    night_share=night_share,
                    size_px=size,
                    photo_crops=crops,
                    on_image=lambda: progress.advance(task),
                )
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror}") from exc
    photo_note = f", {len(crops)} photo crops" if crops else ", no photo crops"
    if wide:
        photo_note += f", wide frames cut into {size} px tiles"
    console.print(
        f"{count} train + {val_count} val images ({size} px, seed {seed}, "
        f"night share {night_share:.0%}{photo_note}); dataset: {data_yaml}"
    )


# --------------------------------------------------------------------------- train


def _coco_dataset(
    coco_json: Path, images: Path, out: Path, *, keep: list[str] | None, val_share: float
) -> Path:
    """Convert a COCO dataset (labels JSON + image folder) to a YOLO dataset under ``out``."""
    try:
        document = json.loads(coco_json.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {coco_json}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise CliError(f"{coco_json} is not JSON: {exc}") from exc
    converted = coco_to_yolo(document, keep=keep)
    names = sorted(converted.labels)
    present = [n for n in names if (images / n).is_file()]
    if not present:
        raise CliError(f"none of the {len(names)} images of {coco_json.name} is in {images}")
    random.Random(0).shuffle(present)
    n_val = max(1, round(len(present) * val_share)) if len(present) > 1 else 0
    splits = {"val": present[:n_val], "train": present[n_val:] or present}
    for split, members in splits.items():
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for name in members:
            target = out / "images" / split / Path(name).name
            if not target.exists():
                try:
                    target.symlink_to((images / name).resolve())
                except OSError:
                    shutil.copyfile(images / name, target)
            lines = converted.labels[name]
            (out / "labels" / split / f"{Path(name).stem}.txt").write_text(
                "\n".join(lines) + ("\n" if lines else ""), encoding="utf-8"
            )
    if not splits["val"]:
        splits["val"] = splits["train"]
    body = "\n".join(f"  {i}: {n}" for i, n in enumerate(converted.names))
    data_yaml = out / "data.yaml"
    data_yaml.write_text(
        f"path: {out.resolve()}\ntrain: images/train\nval: images/{'val' if n_val else 'train'}\n"
        f"names:\n{body}\n",
        encoding="utf-8",
    )
    return data_yaml


@detect_cli.command("train")
def train(
    data: Annotated[
        Path, typer.Argument(help="A YOLO data.yaml, or a COCO labels .json (with --images).")
    ],
    out: Annotated[Path, typer.Option(help="Folder for runs and converted data.")] = Path(
        "var/train"
    ),
    images: Annotated[
        Path | None, typer.Option(help="Image folder of a COCO dataset (e.g. SeaDronesSee).")
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option(help="COCO categories to keep, comma separated (default: all but ignored)."),
    ] = None,
    model: Annotated[
        str, typer.Option(help="Model YAML (from scratch) or a local .pt to fine-tune.")
    ] = "yolov8n.yaml",
    epochs: Annotated[int, typer.Option(min=1)] = 50,
    hours: Annotated[
        float | None, typer.Option(help="Train for this long instead of --epochs.", min=0.01)
    ] = None,
    imgsz: Annotated[int, typer.Option(min=32)] = 640,
    batch: Annotated[int, typer.Option(min=1)] = 16,
    device: Annotated[str, typer.Option(help="cpu, 0 (first GPU), mps...")] = "cpu",
    name: Annotated[str, typer.Option(help="Run name.")] = "swimmer",
    cache: Annotated[bool, typer.Option(help="Keep decoded images in RAM.")] = False,
    export_imgsz: Annotated[int, typer.Option(help="Input side of the exported ONNX.")] = 640,
    export: Annotated[bool, typer.Option(help="Export the best weights to ONNX.")] = True,
) -> None:
    """Train a YOLO swimmer detector (ultralytics, offline) and export it to ONNX."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    try:
        if data.suffix.lower() == ".json":
            if images is None:
                raise CliError("a COCO .json needs --images FOLDER with its images")
            keep = [c.strip() for c in classes.split(",") if c.strip()] if classes else None
            data = _coco_dataset(data, images, out / "data" / name, keep=keep, val_share=0.1)
            console.print(f"converted COCO labels to {data}")
        elif not data.is_file():
            raise CliError(f"{data} does not exist")
    except (CliError, DetectionError) as exc:
        raise _fail(str(exc)) from exc

    from detection.yolo import YoloLoadError, export_onnx
    from detection.yolo import train as yolo_train

    try:
        result = yolo_train(
            data,
            out_dir=out / "runs",
            name=name,
            model=model,
            epochs=epochs,
            hours=hours,
            imgsz=imgsz,
            batch=batch,
            device=device,
            cache=cache,
        )
    except YoloLoadError as exc:
        raise _fail(str(exc)) from exc
    except Exception as exc:  # ultralytics raises bare exceptions for bad datasets
        raise _fail(f"training failed: {type(exc).__name__}: {exc}", 1) from exc
    console.print(f"best weights: {result.best_pt}")
    if export:
        onnx_path = export_onnx(result.best_pt, imgsz=export_imgsz)
        console.print(f"ONNX model: {onnx_path}")


# --------------------------------------------------------------------------- detect


def _zones(path: Path, bank_width_m: float) -> ZoneMap:
    """Water and deep-water zones from GeoJSON.

    Polygons whose ``kind`` (or ``zone``) property is ``deep_water`` are deep-water zones;
    every other polygon is water.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not GeoJSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CliError(f"{path} is not a GeoJSON object")
    if document.get("type") == "FeatureCollection":
        features = document.get("features") or []
    elif document.get("type") == "Feature":
        features = [document]
    else:
        features = [{"type": "Feature", "geometry": document, "properties": {}}]
    water: list[Polygon | MultiPolygon] = []
    deep: list[Polygon | MultiPolygon] = []
    for feature in features:
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CliError(f"{path}: a feature has no valid geometry ({exc})") from exc
        if not isinstance(geometry, Polygon | MultiPolygon):
            continue
        props = feature.get("properties") or {}
        kind = str(props.get("kind") or props.get("zone") or "").lower()
        (deep if kind in ("deep_water", "deep") else water).append(geometry)
    if not water:
        raise CliError(f"{path} holds no water polygon")
    try:
        area = unary_union(water)
        if not isinstance(area, Polygon | MultiPolygon):
            raise CliError(f"{path}: the water polygons do not form an area")
        return ZoneMap(area, deep_water=deep, bank_width_m=bank_width_m)
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from exc


@detect_cli.command("detect")
def detect(
    video: Annotated[str, typer.Argument(help="Video file, image folder or stream URL.")],
    out: Annotated[Path, typer.Option(help="Folder for detections, sightings and evidence.")],
    srt_file: Annotated[Path | None, typer.Option("--srt", help="DJI .SRT telemetry.")] = None,
    waterway: Annotated[
        Path | None,
        typer.Option(help="GeoJSON water polygons (kind=deep_water marks deep zones)."),
    ] = None,
    model: Annotated[
        Path, typer.Option(help="Model .onnx (ONNX Runtime, CPU) or .pt (ultralytics).")
    ] = DEFAULT_ONNX,
    fps: Annotated[
        float | None, typer.Option(help="Analyse at most this many frames per second.", min=0.01)
    ] = None,
    tile: Annotated[
        int | None, typer.Option(help="Tile side in pixels; 0 turns tiling off.", min=0)
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Detection settings YAML (default: built in).")
    ] = None,
    hfov_deg: Annotated[
        float | None,
        typer.Option(
            help="Camera horizontal FOV when the SRT has no focal length.", min=1, max=179
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="Device for .pt models.")] = "cpu",
    max_frames: Annotated[
        int | None, typer.Option(help="Stop after this many frames.", min=1)
    ] = None,
    annotate: Annotated[bool, typer.Option(help="Also write annotated.mp4.")] = False,
) -> None:
    """Find swimmers in a video: detections.jsonl, sightings.json and evidence JPEGs."""
    from detection.video import OpenCvVideoWriter
    from detection.video import annotate as draw

    try:
        zones = None
        if waterway is not None:
            zones = _zones(waterway, load_config(config).zones.bank_width_m)
        prepared = runner.prepare(
            runner.RunRequest(
                source=video,
                model_path=model,
                srt_path=srt_file,
                zones=zones,
                fps=fps,
                tile_px=tile,
                config_path=config,
                hfov_deg=hfov_deg,
                device=device,
                max_frames=max_frames,
            )
        )
        out.mkdir(parents=True, exist_ok=True)
        (out / "evidence").mkdir(exist_ok=True)
    except (CliError, runner.RunError, DetectionError) as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"{exc.filename or video}: {exc.strerror}") from exc

    zone_of: dict[int, str] = {}
    writer = None
    if annotate:
        video_fps = fps or prepared.source_fps or 10.0
        writer = OpenCvVideoWriter(out / "annotated.mp4", fps=video_fps)
    try:
        with (out / "detections.jsonl").open("w", encoding="utf-8") as lines, _progress() as bar:
            task = bar.add_task("detecting", total=prepared.frames_total)

            def on_frame(frame: Frame, result: FrameResult, seen: Sequence[Observation]) -> None:
                lines.write(json.dumps(frame_record(result)) + "\n")
                for o in seen:
                    if o.detection.track_id is not None:
                        zone_of[o.detection.track_id] = o.zone.value
                if writer is not None:
                    writer.write(draw(frame, result.detections, zones=zone_of))

            outcome = runner.execute(
                prepared,
                on_frame=on_frame,
                on_progress=lambda p: bar.update(task, completed=p.frames_done),
            )
    except runner.RunError as exc:
        raise _fail(str(exc)) from exc
    finally:
        if writer is not None:
            writer.close()

    records = []
    for number, found in enumerate(outcome.sightings, start=1):
        record: dict[str, object] = dict(sighting_record(found.sighting))
        if found.frame_jpeg is not None and found.crop_jpeg is not None:
            full_name = f"evidence/sighting-{number:03d}-frame.jpg"
            crop_name = f"evidence/sighting-{number:03d}-crop.jpg"
            (out / full_name).write_bytes(found.frame_jpeg)
            (out / crop_name).write_bytes(found.crop_jpeg)
            record["evidence_frame"] = full_name
            record["evidence_crop"] = crop_name
        records.append(record)
    (out / "sightings.json").write_text(
        json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    console.print(
        f"{outcome.frames} frames analysed, {len(outcome.sightings)} sightings; "
        f"wrote {out / 'detections.jsonl'}, {out / 'sightings.json'}"
        + (f", {out / 'annotated.mp4'}" if writer is not None else "")
    )
