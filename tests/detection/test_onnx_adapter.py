"""The ONNX Runtime adapter, on a tiny hand-built YOLO-shaped model (no weights needed).

Skipped where onnx/onnxruntime are not installed (they are optional extras).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection import BatchDetector, BBox, DetectionError

onnx: Any = pytest.importorskip("onnx")
adapter: Any = pytest.importorskip("detection.onnx")  # needs onnxruntime

# One anchor per column: cx, cy, w, h (input pixels), score swimmer, score boat.
HEAD = np.array(
    [
        [32.0, 10.0, 50.0],
        [32.0, 10.0, 50.0],
        [8.0, 4.0, 20.0],
        [8.0, 4.0, 10.0],
        [0.9, 0.05, 0.1],
        [0.1, 0.02, 0.7],
    ],
    dtype=np.float32,
)[None]


def build_model(path: Path, *, metadata: dict[str, str], batch: str | int = "batch") -> Path:
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    images = helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [batch, 3, 64, 64])
    output = helper.make_tensor_value_info("output0", onnx.TensorProto.FLOAT, [batch, 6, 3])
    nodes = [
        helper.make_node("Constant", [], ["head"], value=numpy_helper.from_array(HEAD)),
        helper.make_node(
            "Constant", [], ["axes"], value=numpy_helper.from_array(np.array([1, 2, 3]))
        ),
        helper.make_node(
            "Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0.0, np.float32))
        ),
        helper.make_node("ReduceSum", ["images", "axes"], ["total"], keepdims=1),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Reshape", ["nothing", "shape"], ["column"]),
        helper.make_node("Add", ["head", "column"], ["output0"]),
    ]
    shape = numpy_helper.from_array(np.array([-1, 1, 1]), name="shape")
    graph = helper.make_graph(nodes, "fake-yolo", [images], [output], initializer=[shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


NAMES = {"names": "{0: 'swimmer', 1: 'boat'}", "imgsz": "[64, 64]"}


def test_detects_in_original_frame_pixels_with_names_from_metadata(tmp_path: Path) -> None:
    detector = adapter.OnnxDetector(build_model(tmp_path / "m.onnx", metadata=NAMES))
    frame = np.zeros((128, 256, 3), dtype=np.uint8)  # scale 0.25, 16 px padding top and bottom

    found = detector.detect(frame)

    assert detector.input_px == 64
    assert [(d.label, round(d.confidence, 3), d.box) for d in found] == [
        ("swimmer", 0.9, BBox(112.0, 48.0, 144.0, 80.0)),
        ("boat", 0.7, BBox(160.0, 116.0, 240.0, 128.0)),  # clipped at the frame's bottom
    ]


def test_is_a_batch_detector_and_batches_frames(tmp_path: Path) -> None:
    detector = adapter.OnnxDetector(build_model(tmp_path / "m.onnx", metadata=NAMES))
    frames = [np.zeros((64, 64, 3), dtype=np.uint8) for _ in range(3)]

    results = detector.detect_batch(frames)

    assert detector.batch_is_dynamic
    assert isinstance(detector, BatchDetector)
    assert [len(r) for r in results] == [2, 2, 2]
    assert detector.detect_batch([]) == []


def test_a_fixed_batch_model_runs_frame_by_frame(tmp_path: Path) -> None:
    detector = adapter.OnnxDetector(build_model(tmp_path / "m.onnx", metadata=NAMES, batch=1))

    results = detector.detect_batch([np.zeros((64, 64, 3), np.uint8)] * 2)

    assert not detector.batch_is_dynamic
    assert [len(r) for r in results] == [2, 2]


def test_confidence_threshold_applies(tmp_path: Path) -> None:
    detector = adapter.OnnxDetector(
        build_model(tmp_path / "m.onnx", metadata=NAMES), min_confidence=0.8
    )

    assert [d.label for d in detector.detect(np.zeros((64, 64, 3), np.uint8))] == ["swimmer"]


def test_missing_file_is_a_model_load_error(tmp_path: Path) -> None:
    with pytest.raises(adapter.ModelLoadError, match="does not exist"):
        adapter.OnnxDetector(tmp_path / "nope.onnx")
    assert issubclass(adapter.ModelLoadError, DetectionError)


def test_garbage_file_is_a_model_load_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"not a model")

    with pytest.raises(adapter.ModelLoadError, match="cannot load"):
        adapter.OnnxDetector(path)


def test_names_must_come_from_metadata_or_the_caller(tmp_path: Path) -> None:
    path = build_model(tmp_path / "m.onnx", metadata={})

    with pytest.raises(adapter.ModelLoadError, match="no 'names' metadata"):
        adapter.OnnxDetector(path)
    assert adapter.OnnxDetector(path, names={0: "swimmer", 1: "boat"}).input_px == 64


def test_frames_of_the_input_size_skip_letterboxing_with_identical_values(
    tmp_path: Path,
) -> None:
    from detection.postprocess import letterbox

    detector = adapter.OnnxDetector(build_model(tmp_path / "m.onnx", metadata=NAMES))
    rng = np.random.default_rng(5)
    tile = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    wide = rng.integers(0, 256, (100, 300, 3), dtype=np.uint8)
    view = rng.integers(0, 256, (80, 90, 3), dtype=np.uint8)[8:72, 10:74]  # strided view

    tensor, geometries = detector.prepare([tile, wide, view])

    expected = np.concatenate([letterbox(f, input_px=64)[0] for f in (tile, wide, view)])
    assert tensor.dtype == np.float32
    assert np.array_equal(tensor, expected)
    assert [g.scale for g in geometries] == [1.0, pytest.approx(64 / 300), 1.0]
    assert geometries[0] == letterbox(tile, input_px=64)[1]


def test_long_lists_run_in_chunks_of_max_batch(tmp_path: Path) -> None:
    model = build_model(tmp_path / "m.onnx", metadata=NAMES)
    frames = [np.zeros((64, 64, 3), np.uint8)] * 5

    chunked = adapter.OnnxDetector(model, max_batch=2, intra_op_threads=1)
    session = chunked._session
    call_sizes: list[int] = []

    class CountingSession:
        def run(self, names: Any, feed: dict[str, np.ndarray]) -> Any:
            call_sizes.extend(len(batch) for batch in feed.values())
            return session.run(names, feed)

    chunked._session = CountingSession()

    assert chunked.max_batch == 2
    assert chunked.detect_batch(frames) == adapter.OnnxDetector(model).detect_batch(frames)
    assert call_sizes == [2, 2, 1]
    assert (
        adapter.OnnxDetector(build_model(tmp_path / "f.onnx", metadata=NAMES, batch=1)).max_batch
        == 1
    )
    with pytest.raises(ValueError, match="max_batch"):
        adapter.OnnxDetector(model, max_batch=0)


SHIPPED = Path(__file__).resolve().parents[2] / "detection" / "weights" / "swimmer-yolo-n.onnx"


def test_the_shipped_model_batches_tiles_with_the_same_detections_as_one_by_one() -> None:
    from detection.synth import render_scene
    from detection.tiling import crop, tile_grid

    detector = adapter.OnnxDetector(SHIPPED)
    frame = render_scene(np.random.default_rng(11), size_px=1920).image[:1080]
    tiles = [crop(frame, tile) for tile in tile_grid(1920, 1080)]

    batched = detector.detect_batch(tiles)

    assert detector.batch_is_dynamic
    assert batched == [detector.detect(tile) for tile in tiles]
    assert sum(len(found) for found in batched) > 0
