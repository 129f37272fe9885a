"""Evidence on S3-compatible storage (moto's server on loopback): what one replica stores,
another serves; retention removes the object."""

from __future__ import annotations

import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.db import session_scope
from app.incident import evidence as evidence_service
from app.main import create_app
from app.storage import evidence_storage
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter, later
from tests.app.storage.s3server import S3Server


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


@pytest.fixture
def settings(settings: Settings, s3: S3Server, bucket: str) -> Settings:
    return settings.model_copy(update=s3.settings_update(bucket, "jiangjin"))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 200)).save(out, format="JPEG")
    return out.getvalue()


def test_evidence_stored_by_one_replica_is_served_by_another_and_purged(
    app: FastAPI, client: TestClient, auth: Auth, settings: Settings, s3: S3Server, bucket: str
) -> None:
    incident_id = Reporter(client, auth).incident()
    uploaded = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("crop.jpg", _jpeg(), "image/jpeg")},
        data={"kind": "crop", "shows_minor": "true"},
    )
    assert uploaded.status_code == 201, uploaded.text
    evidence = uploaded.json()
    keys = s3.keys(bucket)
    assert len(keys) == 1
    assert keys[0].startswith("jiangjin/media/evidence/")
    assert settings.media_dir is not None
    assert not (settings.media_dir / "evidence").exists()  # nothing on this replica's disk

    other = create_app(settings.model_copy(update={"media_dir": settings.var_dir / "elsewhere"}))
    try:
        with TestClient(other) as replica_b:
            link = replica_b.post(
                f"/evidence/{evidence['id']}/links", headers=auth.role("operator")
            )
            content = replica_b.get(link.json()["url"], headers=auth.role("operator"))
    finally:
        other.state.engine.dispose()
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(content.content)).size == (64, 48)

    with session_scope(app.state.sessionmaker) as session:
        purged = evidence_service.purge_evidence(
            session,
            now=later(40 * 24 * 60),
            storage=evidence_storage(settings),
            minor_days=30,
            adult_days=90,
        )
    assert purged >= 1  # the seed holds older evidence too
    assert s3.keys(bucket) == []


def test_an_unreachable_store_is_a_503_in_the_envelope(
    client: TestClient, auth: Auth, settings: Settings, app: FastAPI
) -> None:
    incident_id = Reporter(client, auth).incident()
    app.state.settings = settings.model_copy(
        update={"storage_endpoint_url": "http://127.0.0.1:9"}  # nothing listens
    )
    response = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("crop.jpg", _jpeg(), "image/jpeg")},
        data={"kind": "crop"},
    )
    assert response.status_code == 503
    assert response.json()["error"] == "EvidenceStoreUnavailable"
    assert response.headers["retry-after"] == "5"
