"""Query parameters shared by the statistics and report routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import Field

from app.db import utcnow
from app.schemas import Id
from app.stats.service import StatsQuery, default_season

HourOfDay = Annotated[int, Field(ge=0, le=23)]
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def stats_query(
    request: Request,
    from_date: Annotated[
        date | None,
        Query(
            alias="from",
            ge=EARLIEST,
            le=LATEST,
            description="first local date (inclusive); default: 1 May of this year",
        ),
    ] = None,
    to_date: Annotated[
        date | None,
        Query(
            alias="to",
            ge=EARLIEST,
            le=LATEST,
            description="last local date (inclusive); default: 30 September of this year",
        ),
    ] = None,
    waterway_id: Annotated[Id | None, Query()] = None,
    station_id: Annotated[
        Id | None, Query(description="a station (or any jurisdiction) in your subtree")
    ] = None,
    hour: Annotated[
        list[HourOfDay] | None,
        Query(max_length=24, description="local hours of day to keep (repeat the parameter)"),
    ] = None,
) -> StatsQuery:
    today = utcnow().astimezone(request.app.state.settings.zone).date()
    season_from, season_to = default_season(today)
    return StatsQuery(
        from_date=from_date or season_from,
        to_date=to_date or season_to,
        waterway_id=waterway_id,
        station_id=station_id,
        hours=tuple(hour or ()),
    )


StatsFilters = Annotated[StatsQuery, Depends(stats_query)]
