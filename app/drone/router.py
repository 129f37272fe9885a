from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.db import SessionDep
from app.drone import service as drone_service
from app.drone.models import Drone
from app.drone.permissions import DroneManager, DroneReader
from app.drone.schemas import DroneCreate, DroneModelRead, DroneRead, DroneUpdate
from app.errors import ERROR_RESPONSES
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(tags=["drones"], responses=ERROR_RESPONSES)


@router.get("/drone-models", response_model=list[DroneModelRead])
def list_drone_models(_principal: DroneReader) -> list[DroneModelRead]:
    return drone_service.list_models()


@router.get("/drone-models/{model_id}", response_model=DroneModelRead)
def get_drone_model(
    model_id: Annotated[str, Path(min_length=1, max_length=16)], _principal: DroneReader
) -> DroneModelRead:
    return drone_service.get_model(model_id)


@router.get("/drones", response_model=Page[DroneRead])
def list_drones(
    session: SessionDep,
    principal: DroneReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[DroneRead]:
    rows, total = drone_service.list_visible(session, principal, limit=limit, offset=offset)
    return Page[DroneRead].of(rows, total, limit=limit, offset=offset)


@router.post("/drones", response_model=DroneRead, status_code=201)
def create_drone(body: DroneCreate, session: SessionDep, principal: DroneManager) -> Drone:
    return drone_service.create(session, principal, body)


@router.get("/drones/{drone_id}", response_model=DroneRead)
def get_drone(drone_id: PathId, session: SessionDep, principal: DroneReader) -> Drone:
    return drone_service.get(session, principal, drone_id)


@router.patch("/drones/{drone_id}", response_model=DroneRead)
def update_drone(
    drone_id: PathId, body: DroneUpdate, session: SessionDep, principal: DroneManager
) -> Drone:
    return drone_service.update(session, principal, drone_id, body)


@router.delete("/drones/{drone_id}", status_code=204)
def delete_drone(drone_id: PathId, session: SessionDep, principal: DroneManager) -> None:
    drone_service.delete(session, principal, drone_id)
