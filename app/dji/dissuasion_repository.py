"""Every query of the warnings from the air (``dissuasion.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session

from app.dji.dissuasion_models import (
    FINAL,
    BroadcastKind,
    DjiAutoWarnPolicy,
    DjiBroadcast,
)
from app.dji.models import DjiAircraft, DjiGateway
from app.drone.models import Drone
from app.jurisdiction.models import Jurisdiction
from app.sighting.models import Sighting
from app.sortie.models import Sortie


class DissuasionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def aircraft_under(
        self, path: str, gateway_keys: frozenset[str]
    ) -> Sequence[tuple[DjiAircraft, DjiGateway]]:
        """Online aircraft on online gateways of the given kinds, under a jurisdiction path."""
        query = (
            select(DjiAircraft, DjiGateway)
            .join(DjiGateway, DjiGateway.id == DjiAircraft.gateway_id)
            .join(Jurisdiction, Jurisdiction.id == DjiGateway.station_id)
            .where(
                Jurisdiction.path.startswith(path),
                DjiGateway.online.is_(True),
                DjiAircraft.online.is_(True),
                DjiGateway.model_key.in_(sorted(gateway_keys)),
            )
            .order_by(DjiAircraft.id)
        )
        return [(a, g) for a, g in self.session.execute(query).all()]

    def gateway(self, gateway_id: int) -> DjiGateway | None:
        return self.session.get(DjiGateway, gateway_id)

    def gateway_by_sn(self, sn: str) -> DjiGateway | None:
        return self.session.scalar(select(DjiGateway).where(DjiGateway.sn == sn))

    def broadcast(self, broadcast_id: int) -> DjiBroadcast | None:
        return self.session.get(DjiBroadcast, broadcast_id)

    def broadcasts_of(self, incident_id: int) -> Sequence[DjiBroadcast]:
        return self.session.scalars(
            select(DjiBroadcast)
            .where(DjiBroadcast.incident_id == incident_id)
            .order_by(DjiBroadcast.id)
        ).all()

    def active(self, incident_id: int, kind: BroadcastKind) -> Sequence[DjiBroadcast]:
        return self.session.scalars(
            select(DjiBroadcast)
            .where(
                DjiBroadcast.incident_id == incident_id,
                DjiBroadcast.kind == kind,
                DjiBroadcast.status.not_in(sorted(FINAL)),
            )
            .order_by(DjiBroadcast.id)
        ).all()

    def by_bid(self, gateway_id: int, bid: str) -> DjiBroadcast | None:
        return self.session.scalar(
            select(DjiBroadcast).where(
                DjiBroadcast.gateway_id == gateway_id, DjiBroadcast.bid == bid
            )
        )

    def latest_by_md5(self, gateway_id: int, md5: str) -> DjiBroadcast | None:
        return self.session.scalar(
            select(DjiBroadcast)
            .where(DjiBroadcast.gateway_id == gateway_id, DjiBroadcast.md5 == md5)
            .order_by(DjiBroadcast.id.desc())
            .limit(1)
        )

    def automatic_of(self, incident_id: int) -> Sequence[DjiBroadcast]:
        """The incident's automatic warnings, oldest first."""
        return self.session.scalars(
            select(DjiBroadcast)
            .where(DjiBroadcast.incident_id == incident_id, DjiBroadcast.automatic.is_(True))
            .order_by(DjiBroadcast.id)
        ).all()

    def policy(self, district_id: int) -> DjiAutoWarnPolicy | None:
        return self.session.get(DjiAutoWarnPolicy, district_id)

    def deep_water_sightings_after(
        self, after_id: int, limit: int = 200
    ) -> Sequence[tuple[Sighting, Sortie, Drone]]:
        """Deep-water sightings in incidents newer than ``after_id``, with the sortie
        (``sortie_ref`` ``sortie-<id>``, as detection jobs write it) and its drone."""
        rows = self.session.execute(
            select(Sighting, Sortie, Drone)
            .join(
                Sortie, Sighting.sortie_ref == literal("sortie-", String) + cast(Sortie.id, String)
            )
            .join(Drone, Drone.id == Sortie.drone_id)
            .where(
                Sighting.id > after_id,
                Sighting.incident_id.is_not(None),
                Sighting.is_deep_water.is_(True),
            )
            .order_by(Sighting.id)
            .limit(limit)
        ).all()
        return list(rows)

    def max_sighting_id(self) -> int:
        found = self.session.scalar(select(Sighting.id).order_by(Sighting.id.desc()).limit(1))
        return int(found or 0)

    def aircraft_by_sn(self, sn: str) -> tuple[DjiAircraft, DjiGateway] | None:
        row = self.session.execute(
            select(DjiAircraft, DjiGateway)
            .join(DjiGateway, DjiGateway.id == DjiAircraft.gateway_id)
            .where(DjiAircraft.sn == sn)
        ).first()
        return None if row is None else (row[0], row[1])
