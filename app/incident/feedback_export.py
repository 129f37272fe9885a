"""``waterguard dataset export``: operators' verdicts on evidence frames as a YOLO dataset.

Every frame an operator marked ``person`` becomes a 640 px tile around its box with that box
as a label (class 0, the model's one class); every ``not_a_person`` frame becomes a tile
with no label: a hard negative. The drawn box outline is painted out first
(:func:`detection.feedback.erase_outline`). The layout is the one ultralytics reads::

    OUT/data.yaml
    OUT/images/{train,val}/ev000123.jpg   OUT/labels/{train,val}/ev000123.txt
    OUT/feedback.csv      # name,evidence_id,incident_id,verdict,verdict_by,split

One in ten frames (by evidence id) goes to ``val``; with fewer than ten the last one does,
and a single frame is in both splits. The export is audited.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.incident import evidence as evidence_service
from app.incident import media
from app.incident.models import EvidenceVerdict
from app.storage import Storage
from detection.feedback import feedback_tile

CLASS_NAME = "swimmer"  # the shipped model's one class: a person in the water


@dataclass(frozen=True, slots=True)
class ExportSummary:
    positives: int
    negatives: int
    skipped: int
    data_yaml: Path


def export_dataset(
    session: Session, *, storage: Storage, out_dir: Path, tile_px: int = 640
) -> ExportSummary:
    """Write the judged frames under ``out_dir``; return the counts and ``data.yaml``."""
    frames = list(evidence_service.judged_frames(session))
    for split in ("train", "val"):
        (out_dir / "images" / split).mkdir(parents=True, exist_ok=True)
        (out_dir / "labels" / split).mkdir(parents=True, exist_ok=True)
    val_ids = {e.id for e in frames if e.id % 10 == 0}
    if frames and not val_ids:
        val_ids = {frames[-1].id}
    rows = ["name,evidence_id,incident_id,verdict,verdict_by,split"]
    positives = negatives = skipped = 0
    for evidence in frames:
        stored_bytes = storage.get_bytes(evidence.storage_key) if evidence.storage_key else None
        if stored_bytes is None or evidence.box_px is None:
            skipped += 1
            continue
        with Image.open(io.BytesIO(stored_bytes)) as stored:
            pixels = np.asarray(stored.convert("RGB"), dtype=np.uint8)
        height, width = pixels.shape[:2]
        x1, y1, x2, y2 = (int(v) for v in evidence.box_px)
        person = evidence.verdict == EvidenceVerdict.person
        tile, lines = feedback_tile(
            pixels,
            (x1, y1, x2, y2),
            person=person,
            line_px=media.outline_px(width, height),
            tile_px=tile_px,
        )
        name = f"ev{evidence.id:06d}"
        splits = ["val"] if evidence.id in val_ids else ["train"]
        if len(frames) == 1:
            splits = ["train", "val"]
        for split in splits:
            Image.fromarray(tile).save(
                out_dir / "images" / split / f"{name}.jpg", format="JPEG", quality=95
            )
            (out_dir / "labels" / split / f"{name}.txt").write_text(
                "".join(f"{line}\n" for line in lines), encoding="utf-8"
            )
        positives += int(person and bool(lines))
        negatives += int(not person)
        rows.append(
            f"{name},{evidence.id},{evidence.incident_id},{evidence.verdict},"
            f"{evidence.verdict_by or ''},{'+'.join(splits)}"
        )
    (out_dir / "feedback.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(
        f"path: {out_dir.resolve()}\ntrain: images/train\nval: images/val\n"
        f"names:\n  0: {CLASS_NAME}\n",
        encoding="utf-8",
    )
    audit_service.record(
        session,
        action="export",
        resource_type="evidence",
        detail={
            "what": "training dataset",
            "positives": positives,
            "negatives": negatives,
            "evidence_ids": [e.id for e in frames],
        },
    )
    return ExportSummary(positives, negatives, skipped, data_yaml)
