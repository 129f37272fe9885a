"""COCO to YOLO label conversion, on the real SeaDronesSee sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from detection.coco import CocoFormatError, coco_to_yolo

SAMPLE = Path(__file__).resolve().parent / "data" / "seadronessee__instances_val_subset12.json"


@pytest.fixture
def coco() -> Any:
    return json.loads(SAMPLE.read_text())


def test_swimmers_of_seadronessee_become_class_0_with_normalised_boxes(coco: Any) -> None:
    converted = coco_to_yolo(coco, keep=("swimmer",))

    assert converted.names == ("swimmer",)
    assert len(converted.labels) == 12
    lines = [line for lines in converted.labels.values() for line in lines]
    assert len(lines) == sum(1 for a in coco["annotations"] if a["category_id"] == 1)
    for line in lines:
        cls, cx, cy, w, h = line.split()
        assert cls == "0"
        assert all(0 < float(v) < 1 for v in (cx, cy, w, h))


def test_a_box_converts_exactly(coco: Any) -> None:
    ann = next(a for a in coco["annotations"] if a["category_id"] == 1)
    image = next(i for i in coco["images"] if i["id"] == ann["image_id"])
    x, y, w, h = ann["bbox"]
    expected = (
        f"0 {(x + w / 2) / image['width']:.6f} {(y + h / 2) / image['height']:.6f} "
        f"{w / image['width']:.6f} {h / image['height']:.6f}"
    )

    assert expected in coco_to_yolo(coco, keep=("swimmer",)).labels[image["file_name"]]


def test_without_keep_every_category_but_ignored_is_kept_in_id_order(coco: Any) -> None:
    converted = coco_to_yolo(coco)

    assert converted.names == ("swimmer", "boat", "jetski", "life_saving_appliances", "buoy")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be an object"),
        ({"images": [], "annotations": []}, "no 'categories'"),
        (
            {
                "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
                "annotations": [{"id": 5, "image_id": 1, "bbox": [8, 8, 5, 5], "category_id": 1}],
                "categories": [{"id": 1, "name": "swimmer"}],
            },
            "annotation 5 box .* lies outside its 10x10 image",
        ),
        (
            {"images": [], "annotations": [], "categories": [{"id": 1, "name": "swimmer"}]},
            None,
        ),
    ],
)
def test_malformed_documents_are_refused_naming_the_record(
    document: object, message: str | None
) -> None:
    if message is None:
        with pytest.raises(CocoFormatError, match="unknown categories"):
            coco_to_yolo(document, keep=("person",))
        return
    with pytest.raises(CocoFormatError, match=message):
        coco_to_yolo(document)
