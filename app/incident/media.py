"""Evidence media on the local filesystem: re-encoded from the pixels alone on upload (no
EXIF, GPS, XMP, ICC, comment or any other APPn/COM segment survives), with the triggering
detection box drawn on frames, stored under server-generated names, served only through
short-lived signed links."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from PIL import Image, ImageDraw, UnidentifiedImageError

from app.storage import Storage

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
_SALT = "waterguard-evidence-media"
BOX_COLOUR = (255, 32, 32)
# JPEG markers: start of image, start of scan; APP0..APP15 and COM carry metadata only.
_SOI, _SOS = 0xD8, 0xDA
_METADATA_MARKERS = frozenset({*range(0xE0, 0xF0), 0xFE})


class NotAnImageError(ValueError):
    """The upload is not a JPEG, PNG or WebP image we can re-encode."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    storage_key: str
    sha256: str
    size_bytes: int
    mime_type: str


class BadBoxError(ValueError):
    """The detection box is not inside the image."""


def strip_metadata_segments(jpeg: bytes) -> bytes:
    """Drop every APPn (JFIF, EXIF, XMP, ICC, ...) and COM segment before the scan."""
    if jpeg[:2] != b"\xff\xd8":
        raise NotAnImageError("the encoder did not produce a JPEG")
    out = bytearray(jpeg[:2])
    at = 2
    while at + 4 <= len(jpeg):
        if jpeg[at] != 0xFF:
            raise NotAnImageError("the encoded JPEG has a malformed header")
        marker = jpeg[at + 1]
        if marker == _SOS:
            out += jpeg[at:]
            return bytes(out)
        length = int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if marker not in _METADATA_MARKERS:
            out += jpeg[at : at + 2 + length]
        at += 2 + length
    raise NotAnImageError("the encoded JPEG has no image data")


def outline_px(width: int, height: int) -> int:
    """Width of the box outline drawn on a frame of this size (inside the box)."""
    return max(2, min(width, height) // 200)


def draw_box(image: Image.Image, box_px: tuple[int, int, int, int]) -> None:
    """Outline the detection box ``(x1, y1, x2, y2)`` (pixels) on the image; a box that
    reaches past an edge is cut there, one with nothing inside the image is refused."""
    width, height = image.size
    x1, y1 = max(box_px[0], 0), max(box_px[1], 0)
    x2, y2 = min(box_px[2], width), min(box_px[3], height)
    if not (x1 < x2 and y1 < y2):
        raise BadBoxError(f"box {list(box_px)} is not inside the {width}x{height} image")
    line_px = outline_px(width, height)
    ImageDraw.Draw(image).rectangle((x1, y1, x2 - 1, y2 - 1), outline=BOX_COLOUR, width=line_px)


def strip_and_encode(raw: bytes, *, box_px: tuple[int, int, int, int] | None = None) -> bytes:
    """Decode the image and write a fresh JPEG from its pixels only: no EXIF, GPS, XMP,
    ICC profile, comment or other metadata. ``box_px`` is drawn on it when given."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise NotAnImageError(f"the image is larger than {MAX_UPLOAD_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise NotAnImageError(
                    f"{probe.format} images are not accepted; send a JPEG, PNG or WebP image"
                )
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise NotAnImageError(f"the image has more than {MAX_PIXELS} pixels")
            probe.load()
            pixels = probe.convert("RGB")
    except UnidentifiedImageError as exc:
        raise NotAnImageError("the upload is not a JPEG, PNG or WebP image") from exc
    except Image.DecompressionBombError as exc:
        raise NotAnImageError(f"the image has more than {MAX_PIXELS} pixels") from exc
    except OSError as exc:
        raise NotAnImageError("the image data is damaged or truncated") from exc
    clean = Image.new("RGB", pixels.size)  # a fresh image: nothing of the upload's info
    clean.paste(pixels)
    if box_px is not None:
        draw_box(clean, box_px)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=90)
    return strip_metadata_segments(out.getvalue())


def store(
    storage: Storage, raw: bytes, *, box_px: tuple[int, int, int, int] | None = None
) -> StoredMedia:
    """Re-encode and store in the shared storage (``app.storage``); the key is new."""
    data = strip_and_encode(raw, box_px=box_px)
    key = f"evidence/{uuid.uuid4().hex}.jpg"
    storage.put_bytes(key, data, content_type="image/jpeg")
    return StoredMedia(key, hashlib.sha256(data).hexdigest(), len(data), "image/jpeg")


def read(storage: Storage, storage_key: str) -> bytes | None:
    return storage.get_bytes(storage_key)


def delete(storage: Storage, storage_key: str) -> None:
    storage.delete(storage_key)


def sign(secret_key: str, *, evidence_id: int, actor: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"e": evidence_id, "a": actor})


def check(secret_key: str, token: str, *, evidence_id: int, actor: str, max_age_s: int) -> bool:
    """The token was minted for this evidence and this caller, less than max_age_s ago."""
    try:
        claims = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=max_age_s)
    except (SignatureExpired, BadSignature):
        return False
    return isinstance(claims, dict) and claims.get("e") == evidence_id and claims.get("a") == actor
