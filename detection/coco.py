"""COCO-format detection labels (SeaDronesSee and the like) to YOLO-format label lines.

Pure: a parsed COCO JSON document in, one list of label lines per image out; copying the
images and writing the files is the caller's job (``waterguard train``).

Examples:
    >>> coco = {
    ...     "categories": [{"id": 1, "name": "swimmer"}, {"id": 2, "name": "boat"}],
    ...     "images": [{"id": 7, "file_name": "7.jpg", "width": 200, "height": 100}],
    ...     "annotations": [{"image_id": 7, "bbox": [10, 20, 40, 30], "category_id": 1},
    ...                     {"image_id": 7, "bbox": [0, 0, 5, 5], "category_id": 2}],
    ... }
    >>> converted = coco_to_yolo(coco, keep=("swimmer",))
    >>> converted.names, converted.labels
    (('swimmer',), {'7.jpg': ['0 0.150000 0.350000 0.200000 0.300000']})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from detection.errors import DetectionError


class CocoFormatError(DetectionError):
    """The document is not COCO detection JSON, or a record is malformed."""


@dataclass(frozen=True, slots=True)
class YoloLabels:
    """Labels converted to YOLO format.

    Attributes:
        names: Class names by YOLO class index.
        labels: Label lines (``class cx cy w h``, normalised) by image ``file_name``;
            images without a kept box have an empty list (background images).
    """

    names: tuple[str, ...]
    labels: dict[str, list[str]]


def coco_to_yolo(coco: object, *, keep: Sequence[str] | None = None) -> YoloLabels:
    """Convert a parsed COCO detection document to YOLO label lines.

    Args:
        coco: The parsed JSON (``images``, ``annotations``, ``categories``).
        keep: Category names to keep, in the order of their YOLO class index; ``None``
            keeps every category but ``ignored`` in id order.

    Raises:
        CocoFormatError: A section is missing, or a record lacks a field or has a box
            outside its image size (the message names the record).
    """
    if not isinstance(coco, Mapping):
        raise CocoFormatError("COCO JSON must be an object with images, annotations, categories")
    for section in ("images", "annotations", "categories"):
        if not isinstance(coco.get(section), list):
            raise CocoFormatError(f"COCO JSON has no '{section}' list")
    try:
        categories = {int(c["id"]): str(c["name"]) for c in coco["categories"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise CocoFormatError(f"a category lacks id or name: {exc}") from exc
    if keep is None:
        names = tuple(categories[i] for i in sorted(categories) if categories[i] != "ignored")
    else:
        unknown = [name for name in keep if name not in categories.values()]
        if unknown:
            known = ", ".join(sorted(categories.values()))
            raise CocoFormatError(f"unknown categories {unknown} (known: {known})")
        names = tuple(keep)
    index_of = {name: i for i, name in enumerate(names)}

    images: dict[int, tuple[str, float, float]] = {}
    for record in coco["images"]:
        try:
            images[int(record["id"])] = (
                str(record["file_name"]),
                float(record["width"]),
                float(record["height"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CocoFormatError(f"image record {record!r:.80} lacks {exc}") from exc
    labels: dict[str, list[str]] = {file_name: [] for file_name, _, _ in images.values()}
    for ann in coco["annotations"]:
        try:
            image_id = int(ann["image_id"])
            x, y, w, h = (float(v) for v in ann["bbox"])
            name = categories[int(ann["category_id"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise CocoFormatError(f"annotation {ann!r:.80} is malformed: {exc}") from exc
        if name not in index_of:
            continue
        if image_id not in images:
            raise CocoFormatError(f"annotation {ann.get('id')} names unknown image {image_id}")
        file_name, width, height = images[image_id]
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width + 1 or y + h > height + 1:
            raise CocoFormatError(
                f"annotation {ann.get('id')} box {[x, y, w, h]} lies outside "
                f"its {width:.0f}x{height:.0f} image"
            )
        labels[file_name].append(
            f"{index_of[name]} {(x + w / 2) / width:.6f} {(y + h / 2) / height:.6f} "
            f"{w / width:.6f} {h / height:.6f}"
        )
    return YoloLabels(names=names, labels=labels)
