"""Storage every replica and worker reaches (issue 15): evidence images and uploaded
videos. The local folders by default; S3-compatible object storage (MinIO, Aliyun OSS)
when ``WATERGUARD_STORAGE_URL=s3://bucket/prefix`` is set.

- ``evidence_storage(settings)``: evidence images (keys ``evidence/<uuid>.jpg``): the media
  folder, or ``<prefix>media/`` in the bucket.
- ``upload_storage(settings)``: uploaded detection videos (keys ``jobs/<uuid>/video.mp4``):
  None locally (the detection folder is the store), or ``<prefix>detection/``; the API
  pushes the upload there and a worker fetches it into its own detection folder.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from app.config import Settings
from app.storage.base import Storage, StorageError, check_key
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage, parse_url

__all__ = [
    "LocalStorage",
    "S3Storage",
    "Storage",
    "StorageError",
    "check_key",
    "evidence_storage",
    "parse_url",
    "upload_storage",
]


@lru_cache(maxsize=32)
def _s3(
    url: str,
    endpoint: str,
    region: str,
    key_id: str,
    secret: str,
    addressing: Literal["path", "virtual"],
) -> S3Storage:
    return S3Storage(
        url,
        endpoint_url=endpoint,
        region=region,
        access_key_id=key_id,
        secret_access_key=secret,
        addressing=addressing,
    )


def _bucket(settings: Settings, folder: str) -> S3Storage:
    bucket, prefix = parse_url(settings.storage_url)
    return _s3(
        f"s3://{bucket}/{prefix}{folder}",
        settings.storage_endpoint_url,
        settings.storage_region,
        settings.storage_access_key_id,
        settings.storage_secret_access_key,
        "virtual" if settings.storage_addressing == "virtual" else "path",
    )


def evidence_storage(settings: Settings) -> Storage:
    if settings.storage_url:
        return _bucket(settings, "media")
    return LocalStorage(settings.media_dir or settings.var_dir / "media")


def upload_storage(settings: Settings) -> Storage | None:
    return _bucket(settings, "detection") if settings.storage_url else None
