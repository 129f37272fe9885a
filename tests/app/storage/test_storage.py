"""The storage port, the same contract for the local folder and S3-compatible storage
(boto3 over HTTP to moto's S3 server on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    check_key,
    evidence_storage,
    parse_url,
    upload_storage,
)
from tests.app.storage.s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "store")
        return
    s3: S3Server = request.getfixturevalue("s3")
    yield S3Storage(
        f"s3://{s3.new_bucket()}/district/media",
        endpoint_url=s3.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )


def test_blobs_go_in_come_out_and_go_away(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("evidence/a.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")

    assert storage.exists("evidence/a.jpg")
    assert storage.get_bytes("evidence/a.jpg") == b"\xff\xd8jpeg"
    assert storage.get_bytes("evidence/missing.jpg") is None
    assert not storage.exists("evidence/missing.jpg")

    storage.delete("evidence/a.jpg")
    storage.delete("evidence/a.jpg")  # twice: nothing happens

    assert storage.get_bytes("evidence/a.jpg") is None


def test_files_travel_both_ways_and_folders_are_listed_and_removed(
    storage: Storage, tmp_path: Path
) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    storage.put_file("jobs/j1/video.mp4", video)
    storage.put_bytes("jobs/j1/telemetry.SRT", b"1\n", content_type="text/plain")
    storage.put_bytes("jobs/j2/video.mp4", b"other", content_type="video/mp4")

    assert storage.keys("jobs/j1") == ["jobs/j1/telemetry.SRT", "jobs/j1/video.mp4"]
    fetched = tmp_path / "worker" / "jobs" / "j1" / "video.mp4"
    assert storage.fetch_file("jobs/j1/video.mp4", fetched)
    assert fetched.read_bytes() == video.read_bytes()
    assert not storage.fetch_file("jobs/j1/none.mp4", tmp_path / "none.mp4")
    assert not (tmp_path / "none.mp4").exists()

    assert storage.delete_prefix("jobs/j1") == 2

    assert storage.keys("jobs/j1") == []
    assert storage.get_bytes("jobs/j2/video.mp4") == b"other"


def test_s3_keys_live_under_the_configured_prefix(s3: S3Server) -> None:
    bucket = s3.new_bucket()
    store = S3Storage(
        f"s3://{bucket}/district/media/",
        endpoint_url=s3.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    store.put_bytes("evidence/b.jpg", b"x", content_type="image/jpeg")

    assert s3.keys(bucket) == ["district/media/evidence/b.jpg"]


def test_an_unreachable_store_is_a_storage_error_not_a_crash(tmp_path: Path) -> None:
    store = S3Storage(
        "s3://nowhere/x",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        timeout_s=1,
    )
    with pytest.raises(StorageError):
        store.put_bytes("evidence/c.jpg", b"x", content_type="image/jpeg")
    with pytest.raises(StorageError):
        store.get_bytes("evidence/c.jpg")


@pytest.mark.parametrize(
    "key", ["", "/abs", "a/../b", "a//b", "./a", "a/", "a b", "..", "évidence/x.jpg"]
)
def test_keys_never_leave_the_store(key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        check_key(key)
    with pytest.raises(ValueError, match="not a storage key"):
        LocalStorage(tmp_path).put_bytes(key, b"x", content_type="text/plain")


def test_the_url_names_bucket_and_prefix() -> None:
    assert parse_url("s3://wg-evidence") == ("wg-evidence", "")
    assert parse_url("s3://wg-evidence/jiangjin/") == ("wg-evidence", "jiangjin/")
    with pytest.raises(ValueError, match="s3://"):
        parse_url("https://wg-evidence/x")


def test_settings_choose_the_store(tmp_path: Path, s3: S3Server) -> None:
    local = Settings(var_dir=tmp_path / "var", secret_key="k" * 48)
    assert isinstance(evidence_storage(local), LocalStorage)
    assert upload_storage(local) is None

    bucket = s3.new_bucket()
    shared = local.model_copy(update=s3.settings_update(bucket, "jiangjin"))
    evidence = evidence_storage(shared)
    uploads = upload_storage(shared)
    assert isinstance(evidence, S3Storage)
    assert isinstance(uploads, S3Storage)
    evidence.put_bytes("evidence/d.jpg", b"x", content_type="image/jpeg")
    uploads.put_bytes("jobs/j/video.mp4", b"y", content_type="video/mp4")
    assert s3.keys(bucket) == [
        "jiangjin/detection/jobs/j/video.mp4",
        "jiangjin/media/evidence/d.jpg",
    ]


def test_a_bad_storage_url_is_refused() -> None:
    with pytest.raises(ValueError, match="storage_url"):
        Settings(storage_url="http://bucket/x", secret_key="k" * 48)
    with pytest.raises(ValueError, match="storage_addressing"):
        Settings(storage_addressing="sideways", secret_key="k" * 48)
