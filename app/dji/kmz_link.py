"""The route of a dock sortie as a WPML KMZ behind a short-lived signed link: the URL and MD5
fingerprint sent in ``flighttask_prepare`` and in the ``flighttask_resource_get`` reply.

The link carries its own authority (an itsdangerous token, as evidence links do), because a
dock cannot log in; it names one sortie's flight task and expires after
``WATERGUARD_DJI_KMZ_LINK_TTL_S``. The KMZ is the mission exporter's (``dji-kmz``), written
for the sortie's drone model, and deterministic: the same sortie always gives the same bytes,
so a fingerprint sent earlier still matches a later download.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.dji.repository import DjiRepository
from app.drone.models import Drone
from app.errors import NotFound
from app.mission import service as mission_service
from app.sortie.models import Sortie

_SALT = "waterguard-dji-kmz"
KMZ_MEDIA_TYPE = "application/vnd.google-earth.kmz"
PATH_PREFIX = "/dji/flight-files/"


class KmzLinkInvalid(NotFound):
    """A KMZ link that is forged, expired or names no flight task (404: nothing to see)."""


@dataclass(frozen=True, slots=True)
class KmzFile:
    content: bytes
    fingerprint: str  # MD5 of the content, lowercase hex (what DJI's demo sends)
    sortie_id: int


def fingerprint(content: bytes) -> str:
    """
    >>> fingerprint(b"")
    'd41d8cd98f00b204e9800998ecf8427e'
    """
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def sign(secret_key: str, *, sortie_id: int, flight_id: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"s": sortie_id, "f": flight_id})


def check(secret_key: str, token: str, *, max_age_s: int) -> tuple[int, str]:
    """The (sortie id, flight id) a token names; KmzLinkInvalid when forged or expired."""
    try:
        claims = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise KmzLinkInvalid("this route link has expired; the dock asks for a new one") from exc
    except BadSignature as exc:
        raise KmzLinkInvalid("no such route file") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("s"), int):
        raise KmzLinkInvalid("no such route file")
    return int(claims["s"]), str(claims.get("f") or "")


def url(settings: Settings, secret_key: str, *, sortie_id: int, flight_id: str) -> str:
    """The address the dock downloads from (``WATERGUARD_DJI_KMZ_BASE_URL``: Waterguard as
    the dock reaches it)."""
    base = (settings.dji_kmz_base_url or "http://127.0.0.1:8000").rstrip("/")
    token = sign(secret_key, sortie_id=sortie_id, flight_id=flight_id)
    return f"{base}{PATH_PREFIX}{token}"


def _system_principal(session: Session, station_id: int) -> Principal:
    return Principal(
        kind="system",
        id=0,
        name="dji-flight",
        role=None,
        scopes=frozenset(),
        jurisdiction_id=station_id,
        jurisdiction_path=DjiRepository(session).station_path(station_id),
    )


def kmz_of(session: Session, sortie: Sortie) -> KmzFile:
    """The WPML KMZ of the sortie's route, for its drone's model."""
    drone = session.get(Drone, sortie.drone_id)
    assert drone is not None  # foreign key
    content, _, _ = mission_service.export(
        session,
        _system_principal(session, sortie.station_id),
        sortie.mission_id,
        format_id="dji-kmz",
        sortie=sortie.route_index,
        drone_model_id=drone.model_id,
    )
    return KmzFile(content=content, fingerprint=fingerprint(content), sortie_id=sortie.id)
