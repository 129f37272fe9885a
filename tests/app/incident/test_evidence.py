from __future__ import annotations

import io
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageCms

from app.db import session_scope
from app.incident import evidence as evidence_service
from app.incident import media
from app.storage import LocalStorage
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter, later
from tests.factories import TEST_SECRET


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "DJI"  # Make
    exif[0x8825] = {1: "N", 2: (29.0, 17.0, 24.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _upload(client: TestClient, auth: Auth, incident_id: int, *, shows_minor: bool = False) -> dict:  # type: ignore[type-arg]
    response = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("crop.jpg", _jpeg_with_gps(), "image/jpeg")},
        data={"kind": "crop", "shows_minor": str(shows_minor).lower()},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_uploaded_images_are_stored_without_exif(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    assert Image.open(io.BytesIO(_jpeg_with_gps())).getexif()  # the fixture does carry EXIF
    evidence = _upload(client, auth, reporter.incident())

    link = client.post(f"/evidence/{evidence['id']}/links", headers=auth.role("operator")).json()
    content = client.get(link["url"], headers=auth.role("operator"))

    assert content.status_code == 200
    assert content.headers["cache-control"] == "no-store"
    stored = Image.open(io.BytesIO(content.content))
    assert not stored.getexif()
    assert stored.size == (64, 48)


def test_a_link_is_bound_to_the_caller_who_minted_it(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    evidence = _upload(client, auth, reporter.incident())
    link = client.post(f"/evidence/{evidence['id']}/links", headers=auth.role("operator")).json()

    borrowed = client.get(link["url"], headers=auth.role("command"))
    anonymous = client.get(link["url"])

    assert borrowed.status_code == 403
    assert borrowed.json()["error"] == "EvidenceLinkInvalid"
    assert anonymous.status_code == 401


def test_expired_or_foreign_tokens_are_refused() -> None:
    token = media.sign(TEST_SECRET, evidence_id=5, actor="user:operator")

    assert media.check(TEST_SECRET, token, evidence_id=5, actor="user:operator", max_age_s=60)
    assert not media.check(TEST_SECRET, token, evidence_id=5, actor="user:operator", max_age_s=-1)
    assert not media.check(TEST_SECRET, token, evidence_id=6, actor="user:operator", max_age_s=60)
    assert not media.check("x" * 40, token, evidence_id=5, actor="user:operator", max_age_s=60)


def test_not_an_image_is_refused(client: TestClient, auth: Auth, reporter: Reporter) -> None:
    response = client.post(
        f"/incidents/{reporter.incident()}/evidence",
        headers=auth.role("operator"),
        files={"file": ("x.jpg", b"GIF89a not really", "image/jpeg")},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "EvidenceNotAnImage"
    assert response.json()["detail"] == "the upload is not a JPEG, PNG or WebP image"
    assert "object at" not in response.text


def test_views_and_link_minting_are_audited(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    evidence = _upload(client, auth, reporter.incident())
    link = client.post(f"/evidence/{evidence['id']}/links", headers=auth.role("operator")).json()
    client.get(link["url"], headers=auth.role("operator"))

    events = client.get("/audit/events?resource_type=evidence", headers=auth.role("admin")).json()
    actions = [e["action"] for e in events["items"] if e["resource_id"] == str(evidence["id"])]

    assert "mint_link" in actions
    assert "read" in actions


def test_retention_purges_a_minors_media_first_and_audits_it(
    app: FastAPI, client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    minor = _upload(client, auth, incident_id, shows_minor=True)
    adult = _upload(client, auth, incident_id)
    media_dir: Path = app.state.settings.media_dir

    with session_scope(app.state.sessionmaker) as session:
        evidence_service.purge_evidence(
            session,
            now=later(40 * 24 * 60),
            storage=LocalStorage(media_dir),
            minor_days=30,
            adult_days=90,
        )

    gone = client.post(f"/evidence/{minor['id']}/links", headers=auth.role("operator"))
    kept = client.post(f"/evidence/{adult['id']}/links", headers=auth.role("operator"))
    assert gone.status_code == 404
    assert gone.json()["error"] == "EvidencePurged"
    assert kept.status_code == 201
    assert len(list((media_dir / "evidence").iterdir())) == 1
    events = client.get("/audit/events?resource_type=evidence", headers=auth.role("admin")).json()
    assert any(e["action"] == "purge" for e in events["items"])


def _segments(jpeg: bytes) -> list[int]:
    """The JPEG markers before the image data."""
    markers, at = [], 2
    while jpeg[at + 1] != 0xDA:
        markers.append(jpeg[at + 1])
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return markers


def _jpeg_with_every_metadata_kind() -> bytes:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF GPSLatitude="29.29"/></x:xmpmeta>'
    exif = Image.Exif()
    exif[0x010F] = "DJI"
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (20, 90, 160)).save(
        out,
        format="JPEG",
        comment=b"pilot Zhang San 13900000000",
        icc_profile=icc,
        xmp=xmp,
        exif=exif,
    )
    return out.getvalue()


def _stored(client: TestClient, auth: Auth, evidence_id: int) -> bytes:
    link = client.post(f"/evidence/{evidence_id}/links", headers=auth.role("operator")).json()
    content: bytes = client.get(link["url"], headers=auth.role("operator")).content
    return content


def test_every_metadata_segment_is_dropped_not_only_exif(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    raw = _jpeg_with_every_metadata_kind()
    assert {0xE1, 0xE2, 0xFE} <= set(_segments(raw))  # EXIF/XMP, ICC and a comment
    response = client.post(
        f"/incidents/{reporter.incident()}/evidence",
        headers=auth.role("operator"),
        files={"file": ("frame.jpg", raw, "image/jpeg")},
        data={"kind": "frame"},
    )
    assert response.status_code == 201, response.text

    stored = _stored(client, auth, response.json()["id"])

    assert not [m for m in _segments(stored) if 0xE0 <= m <= 0xEF or m == 0xFE]
    for secret in (b"Zhang", b"13900000000", b"xmpmeta", b"ICC_PROFILE", b"DJI", b"Exif"):
        assert secret not in stored
    assert Image.open(io.BytesIO(stored)).size == (160, 120)


def test_the_triggering_box_is_drawn_on_the_frame_and_kept(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    raw = _jpeg_with_every_metadata_kind()

    response = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("frame.jpg", raw, "image/jpeg")},
        data={"kind": "frame", "box_px": "40,30,100,90"},
    )
    on_a_crop = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("crop.jpg", raw, "image/jpeg")},
        data={"kind": "crop", "box_px": "40,30,100,90"},
    )
    outside = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("frame.jpg", raw, "image/jpeg")},
        data={"kind": "frame", "box_px": "400,300,500,390"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["box_px"] == [40, 30, 100, 90]
    image = Image.open(io.BytesIO(_stored(client, auth, response.json()["id"]))).convert("RGB")
    edge = image.getpixel((40, 60))  # on the box's left edge: red
    inside = image.getpixel((70, 60))  # inside: the picture, untouched
    assert isinstance(edge, tuple)
    assert isinstance(inside, tuple)
    assert edge[0] > 200
    assert max(edge[1:]) < 90
    assert inside[0] < 60
    assert inside[2] > 120
    assert on_a_crop.status_code == 422
    assert outside.status_code == 422
    assert outside.json()["error"] == "EvidenceBadBox"
