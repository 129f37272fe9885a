"""ADAPTER: YOLO detection models exported to ONNX, run with ONNX Runtime (CPU by default).

The only module that imports ``onnxruntime``. It loads a model file from a path (never
downloads anything), reads the class names and input size from the metadata ultralytics
writes on export, and turns the output into :class:`~detection.types.Detection` values at
the boundary; letterboxing and decoding are in :mod:`detection.postprocess`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped, import-not-found, unused-ignore]

from detection.errors import DetectionError
from detection.ports import Frame
from detection.postprocess import decode_yolo, letterbox, parse_names
from detection.types import Detection


class ModelLoadError(DetectionError):
    """The model file is missing, unreadable or not a YOLO detection model."""


class OnnxDetector:
    """A :class:`~detection.ports.BatchDetector` backed by an ONNX YOLO model.

    Args:
        model_path: The ``.onnx`` file.
        names: Class names by index; read from the model's ``names`` metadata when omitted.
        input_px: Square input size; read from the model's input shape or ``imgsz`` metadata
            when omitted.
        min_confidence: Candidates below this are dropped before NMS.
        iou_threshold: NMS overlap threshold.
        providers: ONNX Runtime execution providers, in order of preference.

    Raises:
        ModelLoadError: The file does not exist or is not a usable detection model.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        names: dict[int, str] | None = None,
        input_px: int | None = None,
        min_confidence: float = 0.25,
        iou_threshold: float = 0.45,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelLoadError(f"model file {path} does not exist")
        try:
            self._session = ort.InferenceSession(str(path), providers=list(providers))
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise ModelLoadError(f"cannot load {path}: {exc}") from exc
        metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)
        model_input = self._session.get_inputs()[0]
        self._input_name: str = model_input.name
        shape = list(model_input.shape)
        self.batch_is_dynamic = not isinstance(shape[0], int)
        if names is None:
            if "names" not in metadata:
                raise ModelLoadError(f"{path} has no 'names' metadata; pass names=")
            try:
                names = parse_names(metadata["names"])
            except ValueError as exc:
                raise ModelLoadError(f"{path}: {exc}") from exc
        if input_px is None:
            input_px = _input_size(shape, metadata.get("imgsz"))
            if input_px is None:
                raise ModelLoadError(f"{path} has a dynamic input size; pass input_px=")
        self.names = names
        self.input_px = input_px
        self.min_confidence = min_confidence
        self.iou_threshold = iou_threshold

    def detect(self, frame: Frame) -> list[Detection]:
        """Detect in one BGR frame; boxes in its pixels."""
        return self.detect_batch([frame])[0]

    def detect_batch(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        """Detect in several frames, in one model call when the model's batch is dynamic."""
        if not frames:
            return []
        prepared = [letterbox(frame, input_px=self.input_px) for frame in frames]
        if self.batch_is_dynamic:
            batch = np.concatenate([tensor for tensor, _ in prepared])
            outputs = self._session.run(None, {self._input_name: batch})[0]
        else:
            outputs = np.concatenate(
                [self._session.run(None, {self._input_name: t})[0] for t, _ in prepared]
            )
        return [
            decode_yolo(
                outputs[i],
                geometry,
                names=self.names,
                min_confidence=self.min_confidence,
                iou_threshold=self.iou_threshold,
            )
            for i, (_tensor, geometry) in enumerate(prepared)
        ]


def _input_size(shape: Sequence[object], imgsz: str | None) -> int | None:
    """Square input side from a static NCHW shape or ultralytics' ``imgsz`` metadata."""
    height, width = (shape[2], shape[3]) if len(shape) == 4 else (None, None)
    if isinstance(height, int) and isinstance(width, int) and height == width:
        return height
    if imgsz:
        digits = [int(part) for part in imgsz.strip("[]() ").split(",") if part.strip()]
        if digits and all(d == digits[0] for d in digits):
            return digits[0]
    return None
