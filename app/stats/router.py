from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES
from app.stats import service as stats_service
from app.stats.params import StatsFilters
from app.stats.permissions import StatsReader
from app.stats.schemas import (
    DailyFigures,
    HotSpotRank,
    StationFigures,
    StatsSummary,
    WaterwayHourProfile,
)

router = APIRouter(prefix="/stats", tags=["statistics"], responses=ERROR_RESPONSES)


def _zone(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.settings.zone
    return zone


@router.get("/summary", response_model=StatsSummary)
def get_stats_summary(
    request: Request, filters: StatsFilters, session: SessionDep, principal: StatsReader
) -> StatsSummary:
    return stats_service.summary(session, principal, filters, zone=_zone(request), now=utcnow())


@router.get("/daily", response_model=list[DailyFigures])
def get_stats_daily(
    request: Request, filters: StatsFilters, session: SessionDep, principal: StatsReader
) -> list[DailyFigures]:
    return stats_service.daily(session, principal, filters, zone=_zone(request))


@router.get("/stations", response_model=list[StationFigures])
def get_stats_by_station(
    request: Request, filters: StatsFilters, session: SessionDep, principal: StatsReader
) -> list[StationFigures]:
    """The per-station table: every station in scope, one request."""
    return stats_service.by_station(session, principal, filters, zone=_zone(request), now=utcnow())


@router.get("/hourly", response_model=list[WaterwayHourProfile])
def get_stats_hourly(
    request: Request, filters: StatsFilters, session: SessionDep, principal: StatsReader
) -> list[WaterwayHourProfile]:
    return stats_service.hourly_profile(session, principal, filters, zone=_zone(request))


@router.get("/hot-spots", response_model=list[HotSpotRank])
def get_stats_hot_spots(
    request: Request,
    filters: StatsFilters,
    session: SessionDep,
    principal: StatsReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[HotSpotRank]:
    return stats_service.hot_spots(session, principal, filters, zone=_zone(request), limit=limit)
