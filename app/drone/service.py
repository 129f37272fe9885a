from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.drone.models import Drone
from app.drone.repository import DroneRepository
from app.drone.schemas import CameraRead, DroneCreate, DroneModelRead, DroneUpdate
from app.errors import Conflict, NotFound, Unprocessable
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import JurisdictionKind
from missions import PROFILES, DroneProfile


class DroneNotFound(NotFound):
    pass


class DroneModelNotFound(NotFound):
    pass


class UnknownDroneModel(Unprocessable):
    pass


class SerialTaken(Conflict):
    pass


class PayloadNotFitted(Unprocessable):
    pass


def model_read(profile: DroneProfile) -> DroneModelRead:
    return DroneModelRead(
        id=profile.id,
        name=profile.name,
        cameras=[
            CameraRead(
                kind=str(c.kind),
                width_px=c.width_px,
                height_px=c.height_px,
                diagonal_fov_deg=c.diagonal_fov_deg,
                horizontal_fov_deg=round(c.horizontal_fov_deg, 2),
                equivalent_focal_mm=c.equivalent_focal_mm,
            )
            for c in profile.cameras
        ],
        max_flight_time_s=profile.max_flight_time_s,
        usable_flight_time_s=profile.usable_flight_time_s,
        cruise_speed_mps=profile.cruise_speed_mps,
        max_speed_mps=profile.max_speed_mps,
        has_speaker=profile.has_speaker,
        has_spotlight=profile.has_spotlight,
        has_strobe=profile.has_strobe,
        has_thermal=profile.has_thermal,
        dock=profile.dock,
        wpml_drone_enum=profile.wpml_drone_enum,
        wpml_payload_enum=profile.wpml_payload_enum,
    )


def list_models() -> list[DroneModelRead]:
    return [model_read(p) for _, p in sorted(PROFILES.items())]


def profile(model_id: str) -> DroneProfile:
    found = PROFILES.get(model_id.lower())
    if found is None:
        raise UnknownDroneModel(
            f"unknown drone model {model_id!r}; known: {', '.join(sorted(PROFILES))}"
        )
    return found


def get_model(model_id: str) -> DroneModelRead:
    found = PROFILES.get(model_id.lower())
    if found is None:
        raise DroneModelNotFound(f"drone model {model_id!r} not found")
    return model_read(found)


def get(session: Session, principal: Principal, drone_id: int) -> Drone:
    repo = DroneRepository(session)
    drone = repo.get(drone_id)
    if drone is None or not principal.can_see(repo.station_path(drone)):
        raise DroneNotFound(f"drone {drone_id} not found")
    return drone


def list_visible(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Drone], int]:
    return DroneRepository(session).list_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )


def _check_payloads(model: DroneProfile, *, has_speaker: bool, has_spotlight: bool) -> None:
    if has_speaker and not model.has_speaker:
        raise PayloadNotFitted(f"{model.name} takes no speaker")
    if has_spotlight and not model.has_spotlight:
        raise PayloadNotFitted(f"{model.name} takes no spotlight")


def create(session: Session, principal: Principal, data: DroneCreate) -> Drone:
    station = jurisdiction_service.get_for_assignment(
        session, principal, data.station_id, kinds={JurisdictionKind.station}
    )
    model = profile(data.model_id)
    has_speaker = model.has_speaker if data.has_speaker is None else data.has_speaker
    has_spotlight = model.has_spotlight if data.has_spotlight is None else data.has_spotlight
    _check_payloads(model, has_speaker=has_speaker, has_spotlight=has_spotlight)
    repo = DroneRepository(session)
    if repo.get_by_serial(data.serial) is not None:
        raise SerialTaken(f"a drone with serial {data.serial!r} is registered")
    return repo.add(
        Drone(
            serial=data.serial,
            name=data.name,
            model_id=model.id,
            station_id=station.id,
            status=data.status,
            has_speaker=has_speaker,
            has_spotlight=has_spotlight,
            notes=data.notes,
        )
    )


class DroneInUse(Conflict):
    pass


def delete(session: Session, principal: Principal, drone_id: int) -> None:
    """Remove a drone with no flight history; retire it instead once it has flown."""
    drone = get(session, principal, drone_id)
    session.delete(drone)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DroneInUse(
            f"drone {drone_id} has sorties on record; set its status to retired instead"
        ) from exc


def update(session: Session, principal: Principal, drone_id: int, data: DroneUpdate) -> Drone:
    drone = get(session, principal, drone_id)
    changes = data.model_dump(exclude_unset=True)
    if data.station_id is not None and data.station_id != drone.station_id:
        station = jurisdiction_service.get_for_assignment(
            session, principal, data.station_id, kinds={JurisdictionKind.station}
        )
        drone.station_id = station.id
    has_speaker = drone.has_speaker if data.has_speaker is None else data.has_speaker
    has_spotlight = drone.has_spotlight if data.has_spotlight is None else data.has_spotlight
    _check_payloads(profile(drone.model_id), has_speaker=has_speaker, has_spotlight=has_spotlight)
    drone.has_speaker, drone.has_spotlight = has_speaker, has_spotlight
    if data.name is not None:
        drone.name = data.name
    if data.status is not None:
        drone.status = data.status
    if "notes" in changes:
        drone.notes = data.notes
    session.flush()
    return drone
