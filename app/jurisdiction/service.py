from __future__ import annotations

import math
from collections.abc import Sequence

from shapely import box
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.jurisdiction.models import PARENT_KIND, Jurisdiction, JurisdictionKind
from app.jurisdiction.repository import JurisdictionRepository
from app.jurisdiction.schemas import JurisdictionCreate, JurisdictionUpdate


class JurisdictionNotFound(NotFound):
    pass


class JurisdictionCodeTaken(Conflict):
    pass


class JurisdictionOutOfScope(Forbidden):
    pass


class WrongJurisdictionKind(Unprocessable):
    pass


def get(session: Session, principal: Principal, jurisdiction_id: int) -> Jurisdiction:
    jurisdiction = JurisdictionRepository(session).get(jurisdiction_id)
    if jurisdiction is None or not principal.can_see(jurisdiction.path):
        raise JurisdictionNotFound(f"jurisdiction {jurisdiction_id} not found")
    return jurisdiction


def get_for_assignment(
    session: Session,
    principal: Principal,
    jurisdiction_id: int,
    *,
    kinds: set[JurisdictionKind] | None = None,
) -> Jurisdiction:
    """The jurisdiction a new record will belong to: must exist, be in scope, of a kind."""
    jurisdiction = JurisdictionRepository(session).get(jurisdiction_id)
    if jurisdiction is None:
        raise JurisdictionNotFound(f"jurisdiction {jurisdiction_id} not found")
    if not principal.can_see(jurisdiction.path):
        raise JurisdictionOutOfScope(f"jurisdiction {jurisdiction_id} is outside your area")
    if kinds is not None and JurisdictionKind(jurisdiction.kind) not in kinds:
        wanted = " or ".join(sorted(k.value for k in kinds))
        raise WrongJurisdictionKind(
            f"jurisdiction {jurisdiction.code} is a {jurisdiction.kind}; expected {wanted}"
        )
    return jurisdiction


def list_visible(
    session: Session,
    principal: Principal,
    *,
    kind: JurisdictionKind | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Jurisdiction], int]:
    return JurisdictionRepository(session).list_under(
        principal.jurisdiction_path, kind=kind, limit=limit, offset=offset
    )


def create_root(session: Session, *, code: str, name_zh: str, name_en: str) -> Jurisdiction:
    """A district (no parent). Only the CLI and the demo seed create districts."""
    repo = JurisdictionRepository(session)
    if repo.get_by_code(code) is not None:
        raise JurisdictionCodeTaken(f"jurisdiction code {code!r} is taken")
    district = repo.add(
        Jurisdiction(code=code, kind=JurisdictionKind.district, name_zh=name_zh, name_en=name_en)
    )
    district.path = f"/{district.id}/"
    session.flush()
    return district


def create_child(
    session: Session,
    *,
    parent: Jurisdiction,
    code: str,
    kind: JurisdictionKind,
    name_zh: str,
    name_en: str,
    boundary: dict[str, object] | None = None,
) -> Jurisdiction:
    repo = JurisdictionRepository(session)
    if PARENT_KIND[kind] is None or JurisdictionKind(parent.kind) != PARENT_KIND[kind]:
        raise WrongJurisdictionKind(
            f"a {kind} must sit under a {PARENT_KIND[kind] or 'nothing'}, not a {parent.kind}"
        )
    if repo.get_by_code(code) is not None:
        raise JurisdictionCodeTaken(f"jurisdiction code {code!r} is taken")
    child = repo.add(
        Jurisdiction(
            code=code,
            kind=kind,
            name_zh=name_zh,
            name_en=name_en,
            parent_id=parent.id,
            boundary=boundary,
        )
    )
    child.path = f"{parent.path}{child.id}/"
    session.flush()
    return child


def create(session: Session, principal: Principal, data: JurisdictionCreate) -> Jurisdiction:
    if data.kind is JurisdictionKind.district:
        raise JurisdictionOutOfScope("districts are created with 'waterguard create-district'")
    parent = get_for_assignment(session, principal, data.parent_id)
    return create_child(
        session,
        parent=parent,
        code=data.code,
        kind=data.kind,
        name_zh=data.name_zh,
        name_en=data.name_en,
        boundary=data.boundary.checked() if data.boundary else None,
    )


def update(
    session: Session, principal: Principal, jurisdiction_id: int, data: JurisdictionUpdate
) -> Jurisdiction:
    jurisdiction = get(session, principal, jurisdiction_id)
    changes = data.model_dump(exclude_unset=True)
    if "name_zh" in changes and data.name_zh is not None:
        jurisdiction.name_zh = data.name_zh
    if "name_en" in changes and data.name_en is not None:
        jurisdiction.name_en = data.name_en
    if "boundary" in changes:
        jurisdiction.boundary = data.boundary.checked() if data.boundary else None
    session.flush()
    return jurisdiction


# --- areas ------------------------------------------------------------------------------------

_M_PER_DEG_LAT = 111_320.0


def near_box(geometry_lonlat: BaseGeometry, distance_m: float) -> BaseGeometry:
    """The lon/lat bounding box of ``geometry_lonlat`` grown by at least ``distance_m``: a
    cheap first test that needs no projection (far-away shapes cannot be projected into
    one local UTM zone)."""
    minx, miny, maxx, maxy = geometry_lonlat.bounds
    dlat = distance_m / _M_PER_DEG_LAT
    coslat = max(math.cos(math.radians(max(abs(miny), abs(maxy)) + dlat)), 0.01)
    dlon = min(distance_m / (_M_PER_DEG_LAT * coslat), 360.0)
    return box(minx - dlon, max(miny - dlat, -90.0), maxx + dlon, min(maxy + dlat, 90.0))


def boundary_of(
    session: Session, jurisdiction: Jurisdiction
) -> tuple[Jurisdiction, BaseGeometry] | None:
    """The recorded area of ``jurisdiction``: its own boundary, else its nearest ancestor's
    (a station without one falls back to its district); ``None`` when none is recorded."""
    repo = JurisdictionRepository(session)
    ids = [int(part) for part in jurisdiction.path.strip("/").split("/") if part]
    for jurisdiction_id in reversed(ids or [jurisdiction.id]):
        found = jurisdiction if jurisdiction_id == jurisdiction.id else repo.get(jurisdiction_id)
        if found is not None and found.boundary:
            return found, shape(found.boundary)
    return None


# Places (used to place reports on the map of their district)


def district_of(session: Session, path: str) -> Jurisdiction:
    """The district (root) of a jurisdiction path."""
    district = JurisdictionRepository(session).get(int(path.strip("/").split("/")[0]))
    assert district is not None
    return district


def stations_covering(
    session: Session, district_path: str, *, lon: float, lat: float
) -> list[Jurisdiction]:
    """Stations of the district whose boundary covers the point, in id order."""
    rows, _ = JurisdictionRepository(session).list_under(
        district_path, kind=JurisdictionKind.station, limit=10_000, offset=0
    )
    point = Point(lon, lat)
    found = [s for s in rows if s.boundary and shape(s.boundary).covers(point)]
    return sorted(found, key=lambda s: s.id)


def covers(session: Session, district_path: str, *, lon: float, lat: float) -> bool | None:
    """Whether any jurisdiction of the district (the district itself, a station, a
    community) has a boundary that covers the point; None when none has a boundary."""
    rows, _ = JurisdictionRepository(session).list_under(
        district_path, kind=None, limit=10_000, offset=0
    )
    boundaries = [r.boundary for r in rows if r.boundary]
    if not boundaries:
        return None
    point = Point(lon, lat)
    return any(shape(b).covers(point) for b in boundaries)


def district_station(
    session: Session, district: Jurisdiction, station_id: int
) -> Jurisdiction | None:
    """The station ``station_id`` when it belongs to the district, else None."""
    station = JurisdictionRepository(session).get(station_id)
    if station is None or not station.path.startswith(district.path):
        return None
    return station
