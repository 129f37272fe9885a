"""``waterguard synth / train / detect / srt`` end to end, through the real adapters.

``detect`` runs the shipped ONNX model on the CPU over a video written here with OpenCV
from generated scenes; ``srt`` runs on the real DJI files in ``tests/fixtures/srt``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.detect_cli import DEFAULT_ONNX, DEFAULT_PT
from detection import read_srt
from detection.synth import render_scene

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "srt"
SEADRONESSEE = Path(__file__).resolve().parents[1] / "detection" / "data"
SRT_FILES = sorted(p for p in FIXTURES.iterdir() if p.suffix.lower() == ".srt")

LON, LAT = 106.26, 29.29
WIDTH, HEIGHT, FPS, FRAMES = 1280, 720, 5, 12


def assert_one_line_error(result: object) -> None:
    exit_code = result.exit_code  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert exit_code != 0
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("error: ")


# --------------------------------------------------------------------------- srt


@pytest.mark.parametrize("path", SRT_FILES, ids=lambda p: p.name)
def test_srt_prints_one_json_object_per_cue_with_units_in_the_keys(path: Path) -> None:
    result = runner.invoke(cli, ["srt", str(path)])

    assert result.exit_code == 0, result.stderr
    frames = json.loads(result.stdout)
    assert len(frames) == len(read_srt(path)) > 0
    assert {"t_s", "lon_deg", "lat_deg", "rel_alt_m", "gimbal_pitch_deg", "focal_len_mm"} <= set(
        frames[0]
    )
    assert all(f["lon_deg"] is None or -180 <= f["lon_deg"] <= 180 for f in frames)


def test_srt_positions_of_a_real_file_are_where_the_drone_flew() -> None:
    result = runner.invoke(cli, ["srt", str(FIXTURES / "callmarcus__mini5pro_clip.SRT")])

    first = json.loads(result.stdout)[0]
    assert (first["lat_deg"], first["lon_deg"], first["rel_alt_m"]) == (53.365108, 6.460719, 6.0)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello\n",
        b"1\n00:00:00,000 --> 00:00:00,040\n[latitude: 999] [longitude: 6.4]\n",
        b"\xff\xfe\x00garbage",
    ],
    ids=["empty", "not-srt", "bad-latitude", "not-utf8"],
)
def test_srt_refuses_a_bad_file_with_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.SRT"
    path.write_bytes(content)

    assert_one_line_error(runner.invoke(cli, ["srt", str(path)]))


def test_srt_refuses_a_missing_file_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(runner.invoke(cli, ["srt", str(tmp_path / "missing.SRT")]))


# --------------------------------------------------------------------------- synth


def test_synth_writes_the_same_yolo_dataset_for_the_same_seed(tmp_path: Path) -> None:
    args = ["synth", "--count", "4", "--val", "2", "--size", "160", "--seed", "5"]

    first = runner.invoke(cli, [*args, "--out", str(tmp_path / "a")])
    second = runner.invoke(cli, [*args, "--out", str(tmp_path / "b")])

    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    assert files_a == files_b
    assert len([f for f in files_a if f.parts[0] == "images"]) == 6
    for rel in files_a:
        if rel.name != "data.yaml":
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    data_yaml = (tmp_path / "a" / "data.yaml").read_text()
    assert "train: images/train" in data_yaml
    assert "0: swimmer" in data_yaml
    for label in (tmp_path / "a" / "labels" / "train").glob("*.txt"):
        for line in label.read_text().splitlines():
            cls, *coords = line.split()
            assert cls == "0"
            assert all(0 <= float(c) <= 1 for c in coords)


def test_synth_wide_writes_tiles_of_full_frames_with_their_distractors(tmp_path: Path) -> None:
    args = ["synth", "--wide", "--count", "1", "--val", "1", "--seed", "3", "--no-photos"]

    result = runner.invoke(cli, [*args, "--out", str(tmp_path)])

    assert result.exit_code == 0, result.stderr
    tiles = sorted((tmp_path / "images" / "train").glob("*.jpg"))
    assert len(tiles) in (6, 8)  # a 1280x720 or a 1920x1080 frame cut into 640 px tiles
    assert all(t.stem.startswith("000000_") for t in tiles)
    header = (tmp_path / "train_distractors.csv").read_text().splitlines()[0]
    assert header == "name,kind,x1,y1,x2,y2"
    assert (tmp_path / "data.yaml").read_text().count("images/") == 2


# --------------------------------------------------------------------------- detect


def write_srt(path: Path, seconds: float) -> None:
    """Straight-down camera at 30 m above the water, hovering."""
    cues = []
    for i in range(math.ceil(seconds * FPS) + 1):
        start, end = i / FPS, (i + 1) / FPS

        def stamp(t: float) -> str:
            return f"00:00:{int(t):02d},{round((t - int(t)) * 1000):03d}"

        cues.append(
            f"{i + 1}\n{stamp(start)} --> {stamp(end)}\n"
            f"[focal_len: 24.00] [latitude: {LAT}] [longitude: {LON}] "
            f"[rel_alt: 30.000 abs_alt: 230.0] [gb_yaw: 0.0 gb_pitch: -90.0 gb_roll: 0.0]\n"
        )
    path.write_text("\n".join(cues), encoding="utf-8")


def write_waterway(path: Path) -> None:
    d = 0.01
    water = [[LON - d, LAT - d], [LON + d, LAT - d], [LON + d, LAT + d], [LON - d, LAT + d]]
    deep = [[LON - d / 2, LAT - d / 2], [LON + d / 2, LAT - d / 2], [LON + d / 2, LAT + d / 2]]
    features = [
        {
            "type": "Feature",
            "properties": {"name": "river"},
            "geometry": {"type": "Polygon", "coordinates": [[*water, water[0]]]},
        },
        {
            "type": "Feature",
            "properties": {"kind": "deep_water"},
            "geometry": {"type": "Polygon", "coordinates": [[*deep, deep[0]]]},
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def write_video(path: Path, seed: int = 58) -> int:
    """A hovering drone over generated water: the scene drifts 2 px per frame."""
    scene = render_scene(np.random.default_rng(seed), size_px=WIDTH, night=False)
    big = [b for b in scene.boxes if max(b.width_px, b.height_px) >= 20 and b.y2 < HEIGHT - 30]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for i in range(FRAMES):
        writer.write(np.ascontiguousarray(np.roll(scene.image, 2 * i, axis=1)[:HEIGHT]))
    writer.release()
    return len(big)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "flight.mp4"
    assert write_video(path) >= 4  # the scene of this seed holds swimmers the model must find
    return path


def test_with_coverage_a_hovering_drone_is_analysed_once_a_second(
    tmp_path: Path, video: Path
) -> None:
    srt, out = tmp_path / "flight.SRT", tmp_path / "out"
    write_srt(srt, FRAMES / FPS)
    config = tmp_path / "detection.yaml"
    config.write_text("coverage:\n  enabled: true\n", encoding="utf-8")

    result = runner.invoke(
        cli,
        ["detect", str(video), "--srt", str(srt), "--config", str(config), "--out", str(out)],
    )

    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert [line["frame_index"] for line in lines] == [0, 5, 10]  # coverage.min_fps = 1


def test_by_default_every_delivered_frame_is_analysed(tmp_path: Path, video: Path) -> None:
    srt, out = tmp_path / "flight.SRT", tmp_path / "out"
    write_srt(srt, FRAMES / FPS)

    result = runner.invoke(cli, ["detect", str(video), "--srt", str(srt), "--out", str(out)])

    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert [line["frame_index"] for line in lines] == list(range(FRAMES))


def test_detect_finds_swimmers_in_a_generated_video_and_writes_its_outputs(
    tmp_path: Path, video: Path
) -> None:
    srt, water, out = tmp_path / "flight.SRT", tmp_path / "water.geojson", tmp_path / "out"
    write_srt(srt, FRAMES / FPS)
    write_waterway(water)
    # A hovering drone is analysed at coverage.min_fps (1 a second by default): this short
    # clip asks for every frame.
    config = tmp_path / "detection.yaml"
    config.write_text(f"coverage:\n  min_fps: {FPS}\n  max_fps: {FPS}\n", encoding="utf-8")

    result = runner.invoke(
        cli,
        [
            "detect",
            str(video),
            "--srt",
            str(srt),
            "--waterway",
            str(water),
            "--out",
            str(out),
            "--annotate",
            "--config",
            str(config),
        ],
    )

    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert [line["frame_index"] for line in lines] == list(range(FRAMES))
    assert lines[3]["t_s"] == pytest.approx(3 / FPS)
    boxes = [box for line in lines for box in line["boxes"]]
    assert boxes
    assert all(len(box) == 6 for box in boxes)
    assert all(0 <= b[0] < b[2] <= WIDTH and 0 <= b[1] < b[3] <= HEIGHT for b in boxes)
    sightings = json.loads((out / "sightings.json").read_text())
    assert len(sightings) >= 2
    for sighting in sightings:
        assert sighting["zone"] in ("in_water", "deep_water")
        assert abs(sighting["last_lon_deg"] - LON) < 0.001
        assert abs(sighting["last_lat_deg"] - LAT) < 0.001
        assert (out / sighting["evidence_frame"]).read_bytes()[:2] == b"\xff\xd8"
        assert (out / sighting["evidence_crop"]).read_bytes()[:2] == b"\xff\xd8"
    annotated = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    annotated.release()


def test_detect_without_telemetry_still_tracks_but_places_nobody(
    tmp_path: Path, video: Path
) -> None:
    out = tmp_path / "out"

    result = runner.invoke(
        cli, ["detect", str(video), "--out", str(out), "--fps", "2.5", "--tile", "0"]
    )

    assert result.exit_code == 0, result.stderr
    lines = (out / "detections.jsonl").read_text().splitlines()
    assert [json.loads(line)["frame_index"] for line in lines] == list(range(0, FRAMES, 2))
    for sighting in json.loads((out / "sightings.json").read_text()):
        assert sighting["zone"] == "unknown"
        assert sighting["positions"] == []


@pytest.mark.parametrize(
    ("args", "make"),
    [
        (["missing.mp4"], None),
        (["not-a-video.mp4"], b"this is text"),
        (["flight.mp4", "--model", "missing.onnx"], None),
        (["flight.mp4", "--model", "model.onnx"], b"not an onnx model"),
        (["flight.mp4", "--srt", "bad.SRT"], b"garbage\n"),
        (["flight.mp4", "--waterway", "bad.geojson"], b"{not json"),
    ],
    ids=["missing-video", "not-a-video", "missing-model", "bad-model", "bad-srt", "bad-waterway"],
)
def test_detect_refuses_bad_input_with_one_line(
    tmp_path: Path, args: list[str], make: bytes | None
) -> None:
    write_video(tmp_path / "flight.mp4")
    if make is not None:
        name = next(a for a in args if not a.startswith("--") and a != "flight.mp4")
        (tmp_path / name).write_bytes(make)
    resolved = [str(tmp_path / a) if "." in a and not a.startswith("--") else a for a in args]

    result = runner.invoke(cli, ["detect", *resolved, "--out", str(tmp_path / "out")])

    assert_one_line_error(result)


# --------------------------------------------------------------------------- train


def test_train_refuses_a_coco_file_without_its_images(tmp_path: Path) -> None:
    coco = SEADRONESSEE / "seadronessee__instances_val_subset12.json"

    assert_one_line_error(runner.invoke(cli, ["train", str(coco), "--out", str(tmp_path)]))


def test_train_refuses_a_missing_dataset(tmp_path: Path) -> None:
    assert_one_line_error(runner.invoke(cli, ["train", str(tmp_path / "data.yaml")]))


def test_train_converts_seadronessee_labels_trains_and_exports_onnx(tmp_path: Path) -> None:
    pytest.importorskip("ultralytics")
    coco_path = SEADRONESSEE / "seadronessee__instances_val_subset12.json"
    coco = json.loads(coco_path.read_text())
    images = tmp_path / "images"
    images.mkdir()
    for record in coco["images"]:  # stand-ins for the 3840x2160 frames, at a tenth of the size
        frame = np.full((216, 384, 3), (90, 110, 60), np.uint8)
        cv2.imwrite(str(images / record["file_name"]), frame)

    result = runner.invoke(
        cli,
        [
            "train",
            str(coco_path),
            "--images",
            str(images),
            "--classes",
            "swimmer,boat",
            "--out",
            str(tmp_path / "train"),
            "--epochs",
            "1",
            "--imgsz",
            "64",
            "--batch",
            "4",
            "--export-imgsz",
            "64",
            "--name",
            "tiny",
        ],
    )

    assert result.exit_code == 0, result.stderr
    data = tmp_path / "train" / "data" / "tiny"
    assert "0: swimmer" in (data / "data.yaml").read_text()
    labels = list((data / "labels").rglob("*.txt"))
    assert len(labels) == len(coco["images"])
    assert sum(len(p.read_text().splitlines()) for p in labels) == sum(
        1 for a in coco["annotations"] if a["category_id"] in (1, 2)
    )
    assert list((tmp_path / "train" / "runs" / "tiny" / "weights").glob("*.onnx"))


def test_the_shipped_weights_are_in_the_repository() -> None:
    assert DEFAULT_ONNX.is_file()
    assert DEFAULT_PT.is_file()
    assert DEFAULT_ONNX.stat().st_size + DEFAULT_PT.stat().st_size < 15_000_000


def test_detect_reads_an_image_folder_with_smaller_tiles(tmp_path: Path) -> None:
    folder, out = tmp_path / "photos", tmp_path / "out"
    folder.mkdir()
    scene = render_scene(np.random.default_rng(58), size_px=WIDTH, night=False)
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:03d}.jpg"), np.roll(scene.image, 2 * i, axis=1)[:HEIGHT])

    result = runner.invoke(
        cli, ["detect", str(folder), "--out", str(out), "--fps", "1", "--tile", "480"]
    )

    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert [line["t_s"] for line in lines] == [0.0, 1.0, 2.0]
    assert any(line["boxes"] for line in lines[1:])
