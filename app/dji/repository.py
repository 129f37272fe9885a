from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.dji.models import DjiAircraft, DjiBrokerLogin, DjiGateway
from app.drone.models import Drone
from app.jurisdiction.models import Jurisdiction
from app.sortie.models import Sortie, SortieStatus

_GATEWAYS = cast(Table, DjiGateway.__table__)
_AIRCRAFT = cast(Table, DjiAircraft.__table__)


class DjiRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def gateway(self, gateway_id: int) -> DjiGateway | None:
        return self.session.get(DjiGateway, gateway_id)

    def gateway_by_sn(self, sn: str) -> DjiGateway | None:
        return self.session.scalar(select(DjiGateway).where(DjiGateway.sn == sn))

    def station_path(self, station_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == station_id))
            or ""
        )

    def gateways_under(
        self, path: str, *, limit: int, offset: int
    ) -> tuple[Sequence[DjiGateway], int]:
        query = (
            select(DjiGateway)
            .join(Jurisdiction, Jurisdiction.id == DjiGateway.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(DjiGateway.id).limit(limit).offset(offset)).all()
        return rows, total

    def aircraft_of(self, gateway_id: int) -> Sequence[DjiAircraft]:
        return self.session.scalars(
            select(DjiAircraft).where(DjiAircraft.gateway_id == gateway_id).order_by(DjiAircraft.sn)
        ).all()

    def aircraft_by_sn(self, sn: str) -> DjiAircraft | None:
        return self.session.scalar(select(DjiAircraft).where(DjiAircraft.sn == sn))

    def drone_by_serial(self, serial: str) -> Drone | None:
        return self.session.scalar(select(Drone).where(Drone.serial == serial))

    def broker_login(self, gateway_id: int) -> DjiBrokerLogin | None:
        return self.session.get(DjiBrokerLogin, gateway_id)

    def broker_logins(self) -> Sequence[tuple[DjiGateway, DjiBrokerLogin]]:
        rows = self.session.execute(
            select(DjiGateway, DjiBrokerLogin)
            .join(DjiBrokerLogin, DjiBrokerLogin.gateway_id == DjiGateway.id)
            .order_by(DjiGateway.id)
        ).all()
        return [(g, b) for g, b in rows]

    def aircraft_sns(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for gateway_id, sn in self.session.execute(
            select(DjiAircraft.gateway_id, DjiAircraft.sn).order_by(DjiAircraft.sn)
        ):
            out.setdefault(gateway_id, []).append(sn)
        return out

    def active_sortie_of(self, drone_id: int, statuses: Sequence[SortieStatus]) -> int | None:
        """The drone's sortie taking telemetry now (the newest one, should there be two)."""
        return self.session.scalar(
            select(Sortie.id)
            .where(Sortie.drone_id == drone_id, Sortie.status.in_(list(statuses)))
            .order_by(Sortie.id.desc())
            .limit(1)
        )

    # Presence: plain statements, so a heartbeat is not an audited row change.
    def mark_seen(self, table_sns: dict[str, datetime]) -> None:
        for sn, at in table_sns.items():
            for table in (_GATEWAYS, _AIRCRAFT):
                self.session.execute(
                    update(table)
                    .where(table.c.sn == sn)
                    .where(or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < at))
                    .values(last_seen_at=at)
                )

    def mark_gateway_online(self, sn: str) -> None:
        self.session.execute(update(_GATEWAYS).where(_GATEWAYS.c.sn == sn).values(online=True))

    def mark_silent_offline(self, before: datetime) -> list[str]:
        """Gateways and aircraft not heard from since ``before`` go offline; their SNs."""
        gone: list[str] = []
        for table in (_GATEWAYS, _AIRCRAFT):
            stale = and_(
                table.c.online.is_(True),
                or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < before),
            )
            gone += list(self.session.scalars(select(table.c.sn).where(stale)))
            self.session.execute(update(table).where(stale).values(online=False))
        return gone
