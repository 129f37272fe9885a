"""ADAPTER: write generated scenes (:mod:`detection.synth`, wide frames) as YOLO datasets.

:func:`write_tile_dataset` writes the wide generator's frames (:mod:`detection.synth_wide`)
cut into model tiles, with the kind of every negative. :func:`write_patrol_clip` writes a
short video of a hovering camera over generated water with swimmers (what the simulated
dock's stand-in media server serves).

Imports ``cv2`` to encode the images, so it is an adapter: only the composition roots
(the CLI) and the benchmarks import it. The layout is the one ultralytics reads::

    OUT/
      data.yaml                # path, train, val, names
      images/train/000000.jpg  labels/train/000000.txt   (class cx cy w h, normalised)
      images/val/000000.jpg    labels/val/000000.txt
      train_meta.csv, val_meta.csv   # name,night (1 for a thermal-style scene)

Image ``i`` of a split is rendered from ``numpy.random.default_rng([seed, split, i])``, so
a dataset is the same for a seed whatever the count, and a val set never repeats a train
image.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2  # type: ignore[import-not-found, unused-ignore]
import numpy as np

from detection.synth import CLASS_NAMES, Image, Scene, render_scene, yolo_label_lines

_SPLIT_KEYS = {"train": 0, "val": 1, "test": 2}


def scenes(
    *,
    count: int,
    seed: int,
    night_share: float = 0.3,
    size_px: int = 640,
    split: str = "train",
    photo_crops: Sequence[Image] = (),
) -> Iterator[Scene]:
    """Yield ``count`` scenes of one split, deterministic for ``seed``."""
    if split not in _SPLIT_KEYS:
        raise ValueError(f"split must be one of {', '.join(_SPLIT_KEYS)}, got {split!r}")
    if not 0.0 <= night_share <= 1.0:
        raise ValueError(f"night_share must be in [0, 1], got {night_share}")
    for index in range(count):
        rng = np.random.default_rng([seed, _SPLIT_KEYS[split], index])
        night = bool(rng.random() < night_share)
        yield render_scene(rng, size_px=size_px, night=night, photo_crops=photo_crops)


def write_dataset(
    out_dir: str | Path,
    *,
    count: int,
    val_count: int,
    seed: int,
    night_share: float = 0.3,
    size_px: int = 640,
    photo_crops: Sequence[Image] = (),
    jpeg_quality: int = 92,
    on_image: Callable[[], None] | None = None,
) -> Path:
    """Write a train and a val split and ``data.yaml``; return the path of ``data.yaml``.

    ``OUT/<split>_meta.csv`` lists ``name,night`` for every image, so evaluations can
    report day and night apart.
    """
    root = Path(out_dir)
    for split, n in (("train", count), ("val", val_count)):
        images = root / "images" / split
        labels = root / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        rows = ["name,night"]
        generated = scenes(
            count=n,
            seed=seed,
            night_share=night_share,
            size_px=size_px,
            split=split,
            photo_crops=photo_crops,
        )
        for index, scene in enumerate(generated):
            name = f"{index:06d}"
            _write_sample(images, labels, name, scene.image, yolo_label_lines(scene), jpeg_quality)
            rows.append(f"{name},{int(scene.night)}")
            if on_image is not None:
                on_image()
        (root / f"{split}_meta.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASS_NAMES))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(
        f"path: {root.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n",
        encoding="utf-8",
    )
    return data_yaml


def write_tile_dataset(
    out_dir: str | Path,
    *,
    frames: int,
    val_frames: int,
    seed: int,
    night_share: float = 0.3,
    tile_px: int = 640,
    photo_crops: Sequence[Image] = (),
    jpeg_quality: int = 90,
    on_frame: Callable[[], None] | None = None,
) -> Path:
    """Write wide frames cut into model tiles as a YOLO dataset; return ``data.yaml``'s path.

    Frames come from :func:`detection.synth_wide.render_frame`, tiles from
    :func:`detection.synth_wide.cut_tiles`.

    Besides the layout of :func:`write_dataset`, each split gets
    ``<split>_distractors.csv`` (``name,kind,x1,y1,x2,y2``: every negative drawn in a tile,
    in tile pixels) and its ``<split>_meta.csv`` lists ``name,night,frame,look`` (``look``
    is the ``;``-joined rendering tags: palette, horizon, haze, compression quality...).
    Frame ``i`` of a split comes from ``default_rng([seed, split, i])``.
    """
    from detection.synth_wide import cut_tiles, render_frame

    if not 0.0 <= night_share <= 1.0:
        raise ValueError(f"night_share must be in [0, 1], got {night_share}")
    root = Path(out_dir)
    for split, n in (("train", frames), ("val", val_frames)):
        images = root / "images" / split
        labels = root / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        meta = ["name,night,frame,look"]
        negatives = ["name,kind,x1,y1,x2,y2"]
        for index in range(n):
            rng = np.random.default_rng([seed, _SPLIT_KEYS[split], index])
            night = bool(rng.random() < night_share)
            frame = render_frame(rng, night=night, photo_crops=photo_crops)
            for part, tile in enumerate(cut_tiles(frame, tile_px=tile_px)):
                name = f"{index:06d}_{part:02d}"
                _write_sample(
                    images, labels, name, tile.image, yolo_label_lines(tile), jpeg_quality
                )
                meta.append(f"{name},{int(tile.night)},{index},{';'.join(tile.look)}")
                negatives += [
                    f"{name},{d.kind},{d.box.x1:.0f},{d.box.y1:.0f},{d.box.x2:.0f},{d.box.y2:.0f}"
                    for d in tile.distractors
                ]
            if on_frame is not None:
                on_frame()
        (root / f"{split}_meta.csv").write_text("\n".join(meta) + "\n", encoding="utf-8")
        (root / f"{split}_distractors.csv").write_text(
            "\n".join(negatives) + "\n", encoding="utf-8"
        )
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASS_NAMES))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(
        f"path: {root.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n",
        encoding="utf-8",
    )
    return data_yaml


def tile_yolo_dataset(
    src_dir: str | Path, out_dir: str | Path, *, tile_px: int = 640, overlap_ratio: float = 0.2
) -> Path:
    """Cut a one-class YOLO dataset's frames into the tiles inference sees; return data.yaml.

    ``src_dir`` has ``images/<split>/*`` and ``labels/<split>/*.txt`` (e.g. SeaDronesSee as
    ``waterguard train`` converts it). A box is kept in a tile when at least 35 % of it is
    inside (:func:`detection.synth_wide.cut_tiles`). Tiles are named ``<stem>_<nn>.jpg``.

    Raises:
        ValueError: A label has a class other than 0, or there are no images.
    """
    from detection.synth_wide import cut_tiles
    from detection.types import BBox

    src, root = Path(src_dir), Path(out_dir)
    written = 0
    for split in ("train", "val"):
        folder = src / "images" / split
        if not folder.is_dir():
            continue
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.iterdir()):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            height, width = image.shape[:2]
            boxes = []
            label = src / "labels" / split / f"{path.stem}.txt"
            lines = label.read_text(encoding="utf-8").split("\n") if label.is_file() else []
            for line in lines:
                if not line.strip():
                    continue
                cls, cx, cy, bw, bh = line.split()[:5]
                if cls != "0":
                    raise ValueError(f"{label}: class {cls}; only one-class datasets are tiled")
                x1, y1 = (float(cx) - float(bw) / 2) * width, (float(cy) - float(bh) / 2) * height
                x2, y2 = x1 + float(bw) * width, y1 + float(bh) * height
                boxes.append(BBox(max(0.0, x1), max(0.0, y1), min(width, x2), min(height, y2)))
            frame = Scene(image=np.asarray(image, np.uint8), boxes=tuple(boxes), night=False)
            for part, tile in enumerate(
                cut_tiles(frame, tile_px=tile_px, overlap_ratio=overlap_ratio)
            ):
                name = f"{path.stem}_{part:02d}"
                cv2.imwrite(str(root / "images" / split / f"{name}.jpg"), tile.image)
                rows = yolo_label_lines(tile)
                (root / "labels" / split / f"{name}.txt").write_text(
                    "\n".join(rows) + ("\n" if rows else ""), encoding="utf-8"
                )
                written += 1
    if not written:
        raise ValueError(f"no images under {src}/images/train or {src}/images/val")
    data_yaml = root / "data.yaml"
    val = "val" if (root / "images" / "val").is_dir() else "train"
    data_yaml.write_text(
        f"path: {root.resolve()}\ntrain: images/train\nval: images/{val}\n"
        f"names:\n  0: {CLASS_NAMES[0]}\n",
        encoding="utf-8",
    )
    return data_yaml


def _write_sample(
    images: Path, labels: Path, name: str, image: np.ndarray, lines: list[str], quality: int
) -> None:
    """One training sample: ``images/<name>.jpg`` and its YOLO ``labels/<name>.txt``."""
    ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:  # pragma: no cover - OpenCV fails only on an invalid array
        raise RuntimeError(f"could not encode image {name}")
    (images / f"{name}.jpg").write_bytes(buf.tobytes())
    text = "\n".join(lines) + ("\n" if lines else "")
    (labels / f"{name}.txt").write_text(text, encoding="utf-8")


#: The patrol clip: 8 frames at 5 fps of a hovering camera, the scene drifting 2 px a frame.
CLIP_WIDTH_PX, CLIP_HEIGHT_PX, CLIP_FPS, CLIP_FRAMES = 1280, 720, 5, 8


def write_patrol_clip(path: Path, night: bool, *, seed: int = 58) -> None:
    """An MP4 (``mp4v``) of generated water with swimmers; the thermal look when ``night``."""
    scene = render_scene(np.random.default_rng(seed), size_px=CLIP_WIDTH_PX, night=night)
    code = cv2.VideoWriter.fourcc(*"mp4v")
    writer = cv2.VideoWriter(str(path), code, CLIP_FPS, (CLIP_WIDTH_PX, CLIP_HEIGHT_PX))
    try:
        for i in range(CLIP_FRAMES):
            frame = np.roll(scene.image, 2 * i, axis=1)[:CLIP_HEIGHT_PX]
            writer.write(np.ascontiguousarray(frame))
    finally:
        writer.release()
