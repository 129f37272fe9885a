"""Evidence media on the local filesystem: re-encoded (EXIF and GPS stripped) on upload,
stored under server-generated names, served only through short-lived signed links."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
_SALT = "waterguard-evidence-media"


class NotAnImageError(ValueError):
    """The upload is not a JPEG, PNG or WebP image we can re-encode."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    storage_key: str
    sha256: str
    size_bytes: int
    mime_type: str


def strip_and_encode(raw: bytes) -> bytes:
    """Decode the image and write a fresh JPEG: no EXIF, no GPS, no other metadata."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise NotAnImageError(f"image larger than {MAX_UPLOAD_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise NotAnImageError(f"unsupported image format {probe.format}")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise NotAnImageError("image has too many pixels")
            probe.load()
            clean = probe.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAnImageError(f"not a readable image: {exc}") from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=90)
    return out.getvalue()


def store(media_dir: Path, raw: bytes) -> StoredMedia:
    data = strip_and_encode(raw)
    key = f"evidence/{uuid.uuid4().hex}.jpg"
    path = media_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return StoredMedia(key, hashlib.sha256(data).hexdigest(), len(data), "image/jpeg")


def path_of(media_dir: Path, storage_key: str) -> Path:
    return media_dir / storage_key


def delete(media_dir: Path, storage_key: str) -> None:
    path_of(media_dir, storage_key).unlink(missing_ok=True)


def sign(secret_key: str, *, evidence_id: int, actor: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"e": evidence_id, "a": actor})


def check(secret_key: str, token: str, *, evidence_id: int, actor: str, max_age_s: int) -> bool:
    """The token was minted for this evidence and this caller, less than max_age_s ago."""
    try:
        claims = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=max_age_s)
    except (SignatureExpired, BadSignature):
        return False
    return isinstance(claims, dict) and claims.get("e") == evidence_id and claims.get("a") == actor
