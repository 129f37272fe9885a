"""Letterboxing and YOLO output decoding (pure numpy, no runtime needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection.postprocess import (
    decode_yolo,
    letterbox,
    letterbox_geometry,
    parse_names,
    resize_bilinear,
)

NAMES = {0: "swimmer", 1: "boat"}


def head(*anchors: tuple[float, float, float, float, float, float]) -> np.ndarray:
    return np.array(anchors, dtype=np.float32).T


@given(
    width=st.integers(min_value=16, max_value=4000),
    height=st.integers(min_value=16, max_value=4000),
    fx=st.floats(min_value=0, max_value=1),
    fy=st.floats(min_value=0, max_value=1),
)
def test_letterbox_maps_frame_points_back_to_themselves(
    width: int, height: int, fx: float, fy: float
) -> None:
    geometry = letterbox_geometry(width_px=width, height_px=height, input_px=640)
    x, y = fx * width, fy * height

    back = geometry.to_frame(
        x * geometry.scale + geometry.pad_x_px, y * geometry.scale + geometry.pad_y_px
    )

    assert back == pytest.approx((x, y), abs=1e-6)
    assert min(geometry.pad_x_px, geometry.pad_y_px) == pytest.approx(0.0, abs=0.5)


def test_letterbox_tensor_is_rgb_scaled_and_padded() -> None:
    frame = np.zeros((100, 200, 3), dtype=np.uint8)
    frame[..., 0] = 255  # blue in BGR

    tensor, geometry = letterbox(frame, input_px=100)

    assert tensor.shape == (1, 3, 100, 100)
    assert geometry.pad_y_px == 25.0
    assert tensor[0, 2, 50, 50] == pytest.approx(1.0)  # blue is the last RGB channel
    assert tensor[0, 0, 50, 50] == pytest.approx(0.0)
    assert tensor[0, :, 10, 50] == pytest.approx([114 / 255] * 3)  # padding


def test_bilinear_resize_keeps_flat_images_flat_and_averages_when_halving() -> None:
    flat = np.full((30, 40, 3), 77, dtype=np.uint8)
    checker = np.indices((4, 4)).sum(axis=0) % 2 * 200
    checker_image = np.repeat(checker[..., None], 3, axis=2).astype(np.uint8)

    assert (resize_bilinear(flat, width_px=13, height_px=7) == 77).all()
    assert (resize_bilinear(checker_image, width_px=2, height_px=2) == 100).all()
    assert resize_bilinear(flat, width_px=40, height_px=30) is flat


def test_decode_applies_class_wise_nms_and_keeps_other_classes() -> None:
    geometry = letterbox_geometry(width_px=640, height_px=640, input_px=640)
    output = head(
        (100, 100, 20, 20, 0.9, 0.0),
        (102, 100, 20, 20, 0.7, 0.0),  # duplicate swimmer
        (101, 100, 20, 20, 0.0, 0.8),  # a boat in the same place is kept
        (400, 400, 10, 10, 0.3, 0.0),
    )

    found = decode_yolo(output, geometry, names=NAMES, min_confidence=0.25, iou_threshold=0.45)

    assert [(d.label, round(d.confidence, 2)) for d in found] == [
        ("swimmer", 0.9),
        ("boat", 0.8),
        ("swimmer", 0.3),
    ]


def test_decode_limits_the_number_of_detections() -> None:
    geometry = letterbox_geometry(width_px=640, height_px=640, input_px=640)
    output = head(*[(30.0 * i + 10, 10, 8, 8, 0.5 + i / 100, 0.0) for i in range(20)])

    found = decode_yolo(output, geometry, names=NAMES, max_detections=5)

    assert len(found) == 5
    assert found[0].confidence == pytest.approx(0.69)


def test_decode_drops_boxes_entirely_in_the_padding() -> None:
    geometry = letterbox_geometry(width_px=1280, height_px=720, input_px=640)  # 140 px pads

    found = decode_yolo(head((320, 50, 10, 10, 0.9, 0.0)), geometry, names=NAMES)

    assert found == []


def test_decode_rejects_an_output_that_does_not_match_the_names() -> None:
    geometry = letterbox_geometry(width_px=640, height_px=640, input_px=640)

    with pytest.raises(ValueError, match="YOLO output"):
        decode_yolo(np.zeros((1, 85, 10), np.float32), geometry, names=NAMES)


def test_decode_accepts_a_batch_axis_of_one() -> None:
    geometry = letterbox_geometry(width_px=640, height_px=640, input_px=640)

    found = decode_yolo(head((100, 100, 20, 20, 0.9, 0.0))[None], geometry, names=NAMES)

    assert len(found) == 1


@pytest.mark.parametrize("text", ["[1, 2]", "{0: 1}", "{'a': 'b'}", "{0: 'x'"])
def test_parse_names_rejects_what_is_not_an_index_to_name_mapping(text: str) -> None:
    with pytest.raises(ValueError, match="class names"):
        parse_names(text)


def test_letterbox_geometry_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        letterbox_geometry(width_px=0, height_px=10, input_px=640)
