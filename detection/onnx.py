"""ADAPTER: YOLO detection models exported to ONNX, run with ONNX Runtime (CPU by default).

The only module that imports ``onnxruntime``. It loads a model file from a path (never
downloads anything), reads the class names and input size from the metadata ultralytics
writes on export, and turns the output into :class:`~detection.types.Detection` values at
the boundary; letterboxing and decoding are in :mod:`detection.postprocess`.

Speed (measured in ``bench/detection_sahi.py``, see bench/RESULTS.md): the model call is
almost all of the time, so the adapter keeps the work around it small. Frames that are
already the model's input size (the tiles of :class:`~detection.tiling.TiledDetector`) skip
letterboxing: the whole batch goes from H x W x 3 uint8 BGR to N x 3 x H x W float32 RGB in
one pass, into one tensor, and through one ``session.run`` when the model's batch axis is
dynamic (the shipped model's is).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped, import-not-found, unused-ignore]

from detection.errors import DetectionError
from detection.ports import Frame
from detection.postprocess import (
    InputTensor,
    Letterbox,
    decode_yolo,
    letterbox,
    letterbox_geometry,
    parse_names,
)
from detection.types import Detection

_MAX_LEVEL = np.float32(255.0)


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
        intra_op_threads: Threads one model call may use; ``None`` lets ONNX Runtime pick
            (one per physical core).
        max_batch: Most frames per model call when the batch axis is dynamic; a longer
            list is run in chunks of this size (bounds the memory a call needs).

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
        intra_op_threads: int | None = None,
        max_batch: int = 16,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelLoadError(f"model file {path} does not exist")
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if intra_op_threads is not None:
            options.intra_op_num_threads = intra_op_threads
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=list(providers)
            )
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
        self.max_batch = max_batch if self.batch_is_dynamic else 1

    def detect(self, frame: Frame) -> list[Detection]:
        """Detect in one BGR frame; boxes in its pixels."""
        return self.detect_batch([frame])[0]

    def detect_batch(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        """Detect in several frames, in one model call when the model's batch is dynamic.

        Frames may differ in size; each is letterboxed unless it already is the model's
        input size. With a fixed-batch model the frames are run one at a time.
        """
        results: list[list[Detection]] = []
        for start in range(0, len(frames), self.max_batch):
            chunk = frames[start : start + self.max_batch]
            tensor, geometries = self.prepare(chunk)
            outputs = self._session.run(None, {self._input_name: tensor})[0]
            results.extend(
                decode_yolo(
                    outputs[i],
                    geometry,
                    names=self.names,
                    min_confidence=self.min_confidence,
                    iou_threshold=self.iou_threshold,
                )
                for i, geometry in enumerate(geometries)
            )
        return results

    def prepare(self, frames: Sequence[Frame]) -> tuple[InputTensor, list[Letterbox]]:
        """The model input for ``frames`` (N x 3 x S x S float32 RGB) and each one's geometry.

        A frame of exactly S x S pixels goes in as it is (no resize, no padding): its BGR
        uint8 pixels are reordered and scaled straight into the batch tensor, the same
        values :func:`~detection.postprocess.letterbox` gives, without its copies.
        """
        side = self.input_px
        tensor = np.empty((len(frames), 3, side, side), dtype=np.float32)
        geometries = []
        for i, frame in enumerate(frames):
            height_px, width_px = frame.shape[:2]
            if (height_px, width_px) == (side, side) and frame.dtype == np.uint8:
                # uint8 BGR HWC -> float32 RGB CHW / 255 in one pass (float32 division)
                np.divide(frame[:, :, ::-1].transpose(2, 0, 1), _MAX_LEVEL, out=tensor[i])
                geometries.append(
                    letterbox_geometry(width_px=width_px, height_px=height_px, input_px=side)
                )
            else:
                boxed, geometry = letterbox(frame, input_px=side)
                tensor[i] = boxed[0]
                geometries.append(geometry)
        return tensor, geometries


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
