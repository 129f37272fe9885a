"""ADAPTER: ultralytics YOLO models (``.pt``) for detection, training and ONNX export.

The only module that imports ``ultralytics``. Results are turned into
:class:`~detection.types.Detection` values here, so no tensor or ultralytics object leaves
it. Weights are a local path; nothing is ever downloaded: the module switches ultralytics
to offline mode and off auto-install before importing it, training starts from a model
YAML (random weights, no pretrained checkpoint), and plots (which fetch a font) are off.
"""

from __future__ import annotations

import os

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from ultralytics import YOLO  # type: ignore[attr-defined, unused-ignore]
from ultralytics.utils import patches as _ultralytics_patches

from detection.errors import DetectionError
from detection.ports import Frame
from detection.types import BBox, Detection

# Importing ultralytics replaces PIL.Image.open, process-wide, with a wrapper that tries to
# pip-install pi-heif when an image is unreadable. Put PIL's own function back: nothing may be
# installed at run time, and the rest of the process (evidence uploads) keeps PIL's errors.
Image.open = _ultralytics_patches._image_open

#: ONNX opset of exported models: what ONNX Runtime 1.16+ runs on every provider.
ONNX_OPSET = 17


class YoloLoadError(DetectionError):
    """The weights file is missing or is not an ultralytics detection model."""


class YoloDetector:
    """A :class:`~detection.ports.BatchDetector` backed by an ultralytics ``.pt`` model.

    Args:
        weights_path: The ``.pt`` file (never downloaded: a missing file is an error).
        device: ``"cpu"``, ``"cuda:0"``, ``"mps"``... anything ultralytics accepts.
        input_px: Square inference size; 640 matches the tiles of the default config.
        min_confidence: Candidates below this are dropped.
        iou_threshold: NMS overlap threshold.

    Raises:
        YoloLoadError: The file does not exist or cannot be loaded as a detection model.
    """

    def __init__(
        self,
        weights_path: str | Path,
        *,
        device: str = "cpu",
        input_px: int = 640,
        min_confidence: float = 0.25,
        iou_threshold: float = 0.45,
    ) -> None:
        path = Path(weights_path)
        if not path.is_file():
            raise YoloLoadError(f"weights file {path} does not exist")
        if path.suffix != ".pt":
            raise YoloLoadError(f"{path} is not a .pt file (use OnnxDetector for .onnx)")
        try:
            self._model = YOLO(str(path), task="detect")
        except Exception as exc:  # ultralytics and torch raise many kinds
            raise YoloLoadError(f"cannot load {path}: {exc}") from exc
        if getattr(self._model, "task", None) != "detect":
            raise YoloLoadError(f"{path} is not a detection model")
        self.names: dict[int, str] = {int(k): str(v) for k, v in self._model.names.items()}
        self.device = device
        self.input_px = input_px
        self.min_confidence = min_confidence
        self.iou_threshold = iou_threshold

    def detect(self, frame: Frame) -> list[Detection]:
        """Detect in one BGR frame; boxes in its pixels."""
        return self.detect_batch([frame])[0]

    def detect_batch(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        """Detect in several BGR frames in one model call."""
        if not frames:
            return []
        results = self._model.predict(
            list(frames),
            imgsz=self.input_px,
            conf=self.min_confidence,
            iou=self.iou_threshold,
            device=self.device,
            verbose=False,
        )
        return [self._convert(result) for result in results]

    def _convert(self, result: Any) -> list[Detection]:
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return []
        xyxy = np.asarray(boxes.xyxy.cpu().numpy(), dtype=np.float64)
        conf = np.asarray(boxes.conf.cpu().numpy(), dtype=np.float64)
        cls = np.asarray(boxes.cls.cpu().numpy(), dtype=np.int64)
        return [
            Detection(
                self.names.get(int(c), str(int(c))),
                float(min(max(s, 0.0), 1.0)),
                BBox(float(x1), float(y1), float(x2), float(y2)),
            )
            for (x1, y1, x2, y2), s, c in zip(xyxy, conf, cls, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class TrainResult:
    """Where training left its files.

    Attributes:
        best_pt: Best checkpoint (by validation fitness).
        run_dir: The ultralytics run folder (``args.yaml``, ``results.csv``, weights).
    """

    best_pt: Path
    run_dir: Path


def train(
    data_yaml: str | Path,
    *,
    out_dir: str | Path,
    name: str = "swimmer",
    model: str | Path = "yolov8n.yaml",
    epochs: int = 50,
    hours: float | None = None,
    imgsz: int = 640,
    batch: int = 16,
    device: str = "cpu",
    seed: int = 0,
    workers: int = 2,
    cache: bool = False,
) -> TrainResult:
    """Train a YOLO detector on a YOLO-format dataset, offline.

    Args:
        data_yaml: The dataset's YAML (``path``, ``train``, ``val``, ``names``).
        out_dir: Folder for the run (``out_dir/name``).
        name: Run name.
        model: A model YAML (``yolov8n.yaml``: from scratch) or a local ``.pt`` to fine-tune.
        epochs: Epochs (ignored when ``hours`` is set).
        hours: Train for this long instead; ultralytics sizes the epochs after the first.
        imgsz: Training image size.
        batch: Batch size.
        device: ``"cpu"`` or an accelerator.
        seed: Seed of ultralytics' randomness.
        workers: Data loader workers.
        cache: Keep the decoded training images in RAM (faster epochs on a CPU).

    Raises:
        YoloLoadError: ``model`` is a ``.pt`` path that does not exist (it is never fetched).
    """
    model_ref = str(model)
    if model_ref.endswith(".pt") and not Path(model_ref).is_file():
        raise YoloLoadError(f"weights file {model_ref} does not exist (nothing is downloaded)")
    yolo = YOLO(model_ref, task="detect")
    extra: dict[str, Any] = {"time": hours} if hours else {}
    yolo.train(
        data=str(data_yaml),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device=device,
        workers=workers,
        project=str(Path(out_dir).resolve()),
        name=name,
        exist_ok=True,
        plots=False,
        amp=False,
        pretrained=model_ref.endswith(".pt"),
        optimizer="AdamW",
        lr0=0.002,
        warmup_epochs=1,
        close_mosaic=2,
        scale=0.3,
        flipud=0.5,
        patience=100,
        cache="ram" if cache else False,
        seed=seed,
        deterministic=True,
        verbose=False,
        **extra,
    )
    run_dir = Path(out_dir).resolve() / name
    best = run_dir / "weights" / "best.pt"
    if not best.is_file():
        best = run_dir / "weights" / "last.pt"
    return TrainResult(best_pt=best, run_dir=run_dir)


def export_onnx(
    weights_path: str | Path, *, imgsz: int = 640, out_path: str | Path | None = None
) -> Path:
    """Export a ``.pt`` detector to ONNX (static ``1 x 3 x imgsz x imgsz``, opset 17).

    The file carries ultralytics' metadata (``names``, ``imgsz``) that
    :class:`~detection.onnx.OnnxDetector` reads. No simplifier is run, so nothing needs to
    be installed at export time. Weights are stored as float16 and cast back to float32
    inside the graph (see :func:`_store_weights_as_fp16`): half the file.

    Raises:
        YoloLoadError: The weights cannot be loaded.
    """
    path = Path(weights_path)
    if not path.is_file():
        raise YoloLoadError(f"weights file {path} does not exist")
    try:
        model = YOLO(str(path), task="detect")
    except Exception as exc:  # ultralytics and torch raise many kinds
        raise YoloLoadError(f"cannot load {path}: {exc}") from exc
    with warnings.catch_warnings():
        # ultralytics calls torch's TorchScript-based exporter on purpose (dynamo=False);
        # tracing warns (deprecation, TracerWarning) and under "warnings are errors" the
        # export would fail, so the export runs with warnings silenced.
        warnings.simplefilter("ignore")
        exported = Path(
            model.export(
                format="onnx",
                imgsz=imgsz,
                opset=ONNX_OPSET,
                dynamic=False,
                simplify=False,
                device="cpu",
                verbose=False,
            )
        )
    _store_weights_as_fp16(exported)
    if out_path is not None and Path(out_path).resolve() != exported.resolve():
        shutil.copyfile(exported, out_path)
        return Path(out_path)
    return exported


def _store_weights_as_fp16(path: Path) -> None:
    """Store the float32 weights of an ONNX file as float16, each followed by a Cast node.

    ultralytics checkpoints already keep their weights in float16; the export fuses batch
    norms into the convolutions in float32, so rounding those back to float16 moves scores
    by about 1e-3 (checked against the ``.pt`` in the tests). ONNX Runtime folds the casts
    when it loads the model, so inference still runs in float32 at unchanged speed. Small
    tensors (shapes, scalars) stay as they are.
    """
    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        if values.size < 16 or np.abs(values).max() > 60000:
            continue
        half = numpy_helper.from_array(values.astype(np.float16), f"{init.name}__fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend([*casts, *nodes])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
