"""Operators mark evidence frames "person" / "not a person"; the export is a YOLO dataset."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import session_scope
from app.incident.feedback_export import export_dataset
from app.storage import evidence_storage
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter

SWIMMER = (600, 300, 640, 336)  # x1, y1, x2, y2 of the drawn "swimmer" in the frame


def _frame_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    water = rng.normal(100, 6, (720, 1280, 3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(water)
    ImageDraw.Draw(image).ellipse((605, 305, 635, 331), fill=(230, 180, 150))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def _upload_frame(client: TestClient, auth: Auth, incident_id: int, seed: int) -> int:
    response = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("frame.jpg", _frame_jpeg(seed), "image/jpeg")},
        data={"kind": "frame", "box_px": ",".join(str(v) for v in SWIMMER)},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _judge(client: TestClient, auth: Auth, evidence_id: int, verdict: str, role: str = "operator"):  # type: ignore[no-untyped-def]
    return client.put(
        f"/evidence/{evidence_id}/verdict", json={"verdict": verdict}, headers=auth.role(role)
    )


def test_an_operator_marks_a_frame_and_the_verdict_is_kept_and_audited(
    client: TestClient, auth: Auth, reporter: Reporter, session: Session
) -> None:
    evidence_id = _upload_frame(client, auth, reporter.incident(), seed=1)

    first = _judge(client, auth, evidence_id, "not_a_person")
    second = _judge(client, auth, evidence_id, "person")

    assert first.status_code == 200, first.text
    assert second.json()["verdict"] == "person"
    assert second.json()["verdict_by"] == "user:operator"
    assert second.json()["verdict_at"] is not None
    shown = client.get(f"/evidence/{evidence_id}", headers=auth.role("command")).json()
    assert shown["verdict"] == "person"
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "label", AuditEvent.resource_id == str(evidence_id)
        )
    ).all()
    assert [e.detail["verdict"] for e in events if e.detail] == ["not_a_person", "person"]


def test_only_frames_with_a_box_can_be_judged_and_bad_verdicts_are_refused(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    crop = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("crop.jpg", _frame_jpeg(2), "image/jpeg")},
        data={"kind": "crop"},
    ).json()["id"]
    frame = _upload_frame(client, auth, incident_id, seed=3)

    not_a_frame = _judge(client, auth, crop, "person")
    bad_word = _judge(client, auth, frame, "maybe")
    missing = _judge(client, auth, 999_999, "person")

    assert not_a_frame.status_code == 422
    assert not_a_frame.json()["error"] == "EvidenceNotAFrame"
    assert bad_word.status_code == 422
    assert missing.status_code == 404


def test_a_ground_unit_cannot_judge_and_anonymous_callers_are_refused(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    frame = _upload_frame(client, auth, reporter.incident(), seed=4)

    unit = _judge(client, auth, frame, "person", role="ground_unit")
    anonymous = client.put(f"/evidence/{frame}/verdict", json={"verdict": "person"})

    assert unit.status_code == 403
    assert anonymous.status_code == 401


def test_the_export_is_a_yolo_dataset_ultralytics_loads(
    client: TestClient,
    auth: Auth,
    reporter: Reporter,
    app: FastAPI,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident_id = reporter.incident()
    people = [_upload_frame(client, auth, incident_id, seed=10 + i) for i in range(3)]
    not_people = [_upload_frame(client, auth, incident_id, seed=20 + i) for i in range(2)]
    unjudged = _upload_frame(client, auth, incident_id, seed=30)
    for evidence_id in people:
        assert _judge(client, auth, evidence_id, "person").status_code == 200
    for evidence_id in not_people:
        assert _judge(client, auth, evidence_id, "not_a_person").status_code == 200
    out = tmp_path / "feedback"

    with session_scope(app.state.sessionmaker) as session:
        summary = export_dataset(session, storage=evidence_storage(settings), out_dir=out)

    assert (summary.positives, summary.negatives, summary.skipped) == (3, 2, 0)
    names = {p.stem for p in (out / "images").rglob("*.jpg")}
    assert names == {f"ev{i:06d}" for i in people + not_people}
    assert f"ev{unjudged:06d}" not in names
    for evidence_id in people + not_people:
        label = next((out / "labels").rglob(f"ev{evidence_id:06d}.txt"))
        lines = label.read_text(encoding="utf-8").split()
        if evidence_id in not_people:
            assert lines == []  # a hard negative: an image with no box
        else:  # the swimmer's box, in the 640 px tile cut around it
            cls, cx, cy, w, h = (float(v) for v in lines)
            assert cls == 0
            assert (round(w * 640), round(h * 640)) == (40, 36)
            assert abs(cx - 0.5) < 0.01
            assert abs(cy - 0.5) < 0.01
    with Image.open(next((out / "images").rglob("*.jpg"))) as tile:
        assert tile.size == (640, 640)
        red = np.asarray(tile)[..., 0].astype(int) - np.asarray(tile)[..., 1]
        assert red.max() < 120  # the drawn red outline was painted out

    monkeypatch.setenv("YOLO_OFFLINE", "1")
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    data = check_det_dataset(str(summary.data_yaml))
    assert data["nc"] == 1
    assert data["names"] == {0: "swimmer"}
    loaded = YOLODataset(img_path=data["train"], data=data, imgsz=640, augment=False)
    boxes = sum(len(label["bboxes"]) for label in loaded.labels)
    images = len(loaded.labels)
    val = YOLODataset(img_path=data["val"], data=data, imgsz=640, augment=False)
    assert images + len(val.labels) == 5
    assert boxes + sum(len(label["bboxes"]) for label in val.labels) == 3
