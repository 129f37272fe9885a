"""Two callers change the same incident at once: one wins, the other gets 409."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.auth.models import Role
from app.auth.principal import Principal
from app.db import utcnow
from app.incident import service as incident_service
from app.incident.schemas import WarningCreate
from app.incident.service import IncidentChangedConcurrently
from tests.app.incident.conftest import Reporter
from tests.factories import World


def _operator(world: World) -> Principal:
    return Principal(
        kind="user",
        id=world.user_ids["operator"],
        name="operator",
        role=Role.operator,
        scopes=frozenset(),
        jurisdiction_id=world.demo,
        jurisdiction_path=f"/{world.demo}/",
    )


def test_a_stale_write_is_refused_instead_of_overwriting(
    app: FastAPI, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    operator = _operator(world)
    warning = WarningCreate.model_validate({"modes": ["light"]})

    with app.state.sessionmaker() as first, app.state.sessionmaker() as second:
        seen = incident_service.get(first, operator, incident_id)
        assert seen.version == 1  # first holds what it read
        incident_service.warn(second, operator, incident_id, warning, utcnow())
        second.commit()  # second wins

        with pytest.raises(IncidentChangedConcurrently):
            incident_service.warn(first, operator, incident_id, warning, utcnow())
        first.rollback()
