"""Model input and output in pure numpy: letterboxing and YOLO output decoding.

The ONNX adapter (:mod:`detection.onnx`) only runs the session; everything around it is
here, so it is tested without onnxruntime. Boxes leave this module in pixels of the
original frame.

YOLO detection heads exported by ultralytics (v8, 11, 26 without embedded NMS) output
``(batch, 4 + classes, anchors)``: centre x, centre y, width, height in input pixels,
then one score per class.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detection.ports import Frame
from detection.tiling import merge_detections
from detection.types import BBox, Detection

#: Model input: batch x 3 x H x W, float32 RGB in [0, 1].
InputTensor = NDArray[np.float32]

#: Grey of the letterbox padding, as ultralytics uses.
PAD_VALUE = 114


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was scaled and padded into the model input.

    Attributes:
        scale: Input pixels per frame pixel.
        pad_x_px: Padding added on the left, in input pixels.
        pad_y_px: Padding added on the top, in input pixels.
        frame_width_px: Width of the original frame.
        frame_height_px: Height of the original frame.
    """

    scale: float
    pad_x_px: float
    pad_y_px: float
    frame_width_px: int
    frame_height_px: int

    def to_frame(self, x_px: float, y_px: float) -> tuple[float, float]:
        """Map a point of the model input back to the frame, clipped to its edges.

        Examples:
            >>> box = letterbox_geometry(width_px=1280, height_px=720, input_px=640)
            >>> box.to_frame(320, 320)
            (640.0, 360.0)
        """
        x = (x_px - self.pad_x_px) / self.scale
        y = (y_px - self.pad_y_px) / self.scale
        return (
            min(max(x, 0.0), float(self.frame_width_px)),
            min(max(y, 0.0), float(self.frame_height_px)),
        )


def letterbox_geometry(*, width_px: int, height_px: int, input_px: int) -> Letterbox:
    """Scale that fits a frame in a square input keeping its aspect, and the centring pad.

    Examples:
        >>> box = letterbox_geometry(width_px=1280, height_px=720, input_px=640)
        >>> box.scale, box.pad_x_px, box.pad_y_px
        (0.5, 0.0, 140.0)
    """
    if width_px <= 0 or height_px <= 0 or input_px <= 0:
        raise ValueError("sizes must be positive")
    scale = min(input_px / width_px, input_px / height_px)
    new_w, new_h = round(width_px * scale), round(height_px * scale)
    return Letterbox(scale, (input_px - new_w) / 2, (input_px - new_h) / 2, width_px, height_px)


def resize_bilinear(image: Frame, *, width_px: int, height_px: int) -> Frame:
    """Resize an H x W x C uint8 image with bilinear interpolation (pixel centres aligned).

    Examples:
        >>> image = np.array([[[0], [100]], [[100], [200]]], dtype=np.uint8)
        >>> resize_bilinear(image, width_px=1, height_px=1)[0, 0, 0]
        np.uint8(100)
    """
    src_h, src_w = image.shape[:2]
    if (src_h, src_w) == (height_px, width_px):
        return image
    ys = (np.arange(height_px) + 0.5) * (src_h / height_px) - 0.5
    xs = (np.arange(width_px) + 0.5) * (src_w / width_px) - 0.5
    ys = np.clip(ys, 0, src_h - 1)
    xs = np.clip(xs, 0, src_w - 1)
    y0 = np.floor(ys).astype(np.intp)
    x0 = np.floor(xs).astype(np.intp)
    y1 = np.minimum(y0 + 1, src_h - 1)
    x1 = np.minimum(x0 + 1, src_w - 1)
    wy = (ys - y0)[:, None, None]
    wx = (xs - x0)[None, :, None]
    data = image.astype(np.float32)
    top = data[y0][:, x0] * (1 - wx) + data[y0][:, x1] * wx
    bottom = data[y1][:, x0] * (1 - wx) + data[y1][:, x1] * wx
    out = top * (1 - wy) + bottom * wy
    resized: Frame = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return resized


def letterbox(frame: Frame, *, input_px: int) -> tuple[InputTensor, Letterbox]:
    """Turn a BGR frame into a 1 x 3 x input x input RGB float tensor, and its geometry.

    Examples:
        >>> tensor, box = letterbox(np.zeros((720, 1280, 3), dtype=np.uint8), input_px=640)
        >>> tensor.shape, tensor.dtype, round(float(tensor[0, 0, 0, 0]), 3), box.pad_y_px
        ((1, 3, 640, 640), dtype('float32'), 0.447, 140.0)
    """
    height_px, width_px = frame.shape[:2]
    geometry = letterbox_geometry(width_px=width_px, height_px=height_px, input_px=input_px)
    new_w = round(width_px * geometry.scale)
    new_h = round(height_px * geometry.scale)
    resized = resize_bilinear(frame, width_px=new_w, height_px=new_h)
    canvas = np.full((input_px, input_px, 3), PAD_VALUE, dtype=np.uint8)
    top, left = int(geometry.pad_y_px), int(geometry.pad_x_px)
    canvas[top : top + new_h, left : left + new_w] = resized
    rgb = canvas[:, :, ::-1].transpose(2, 0, 1)
    tensor = np.ascontiguousarray(rgb, dtype=np.float32)[None] / np.float32(255.0)
    return tensor.astype(np.float32), geometry


def decode_yolo(
    output: NDArray[np.floating],
    geometry: Letterbox,
    *,
    names: dict[int, str],
    min_confidence: float = 0.25,
    iou_threshold: float = 0.45,
    max_detections: int = 300,
) -> list[Detection]:
    """Decode one image's YOLO head output into detections in frame pixels, after NMS.

    Args:
        output: ``(4 + classes, anchors)`` or ``(1, 4 + classes, anchors)``.
        geometry: The letterbox the input was made with.
        names: Class index to name.
        min_confidence: Drop candidates whose best class score is below this.
        iou_threshold: Class-wise NMS: a box overlapping a better one by more is dropped.
        max_detections: Keep at most this many, best first.

    Raises:
        ValueError: The output shape does not match the class names.

    Examples:
        >>> geometry = letterbox_geometry(width_px=1280, height_px=720, input_px=640)
        >>> head = np.zeros((6, 3), dtype=np.float32)  # 2 classes, 3 anchors
        >>> head[:, 0] = [320, 320, 10, 10, 0.9, 0.1]   # a swimmer in the middle
        >>> head[:, 1] = [321, 320, 10, 10, 0.8, 0.0]   # the same swimmer again
        >>> head[:, 2] = [100, 200, 20, 20, 0.1, 0.2]   # too faint
        >>> [(d.label, round(d.confidence, 3), d.box) for d in decode_yolo(
        ...     head, geometry, names={0: "swimmer", 1: "boat"})]
        [('swimmer', 0.9, BBox(x1=630.0, y1=350.0, x2=650.0, y2=370.0))]
    """
    data = np.asarray(output, dtype=np.float32)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2 or data.shape[0] != 4 + len(names):
        raise ValueError(
            f"expected a (4 + {len(names)}, anchors) YOLO output, got shape {tuple(output.shape)}"
        )
    scores = data[4:]
    classes = scores.argmax(axis=0)
    best = scores[classes, np.arange(scores.shape[1])]
    keep = np.flatnonzero(best >= min_confidence)
    candidates = []
    for i in keep[np.argsort(-best[keep])][: max_detections * 10]:
        cx, cy, w, h = (float(v) for v in data[:4, i])
        x1, y1 = geometry.to_frame(cx - w / 2, cy - h / 2)
        x2, y2 = geometry.to_frame(cx + w / 2, cy + h / 2)
        if x2 <= x1 or y2 <= y1:
            continue
        confidence = min(max(float(best[i]), 0.0), 1.0)
        candidates.append(Detection(names[int(classes[i])], confidence, BBox(x1, y1, x2, y2)))
    kept = merge_detections(
        candidates, match_threshold=iou_threshold, metric="iou", mode="nms", class_agnostic=False
    )
    return kept[:max_detections]


def parse_names(text: str) -> dict[int, str]:
    """Parse the ``names`` metadata ultralytics writes into exported ONNX files.

    Examples:
        >>> parse_names("{0: 'swimmer', 1: 'boat'}")
        {0: 'swimmer', 1: 'boat'}
        >>> parse_names("swimmer")
        Traceback (most recent call last):
        ...
        ValueError: class names metadata is not a {index: name} mapping: 'swimmer'
    """
    problem = f"class names metadata is not a {{index: name}} mapping: {text!r}"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(problem) from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, int) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(problem)
    return {int(k): str(v) for k, v in value.items()}
