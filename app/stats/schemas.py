"""Statistics shapes. Times are UTC on the wire; dates and hours are in the display zone."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

HOURS = 24


class StatsPeriod(BaseModel):
    """The local dates the figures cover (inclusive) and the zone they are read in."""

    from_date: date
    to_date: date
    timezone: str
    waterway_id: int | None = None
    station_id: int | None = None
    hours: list[int] = Field(default_factory=list)


class FlightFigures(BaseModel):
    """Patrol flying: what was flown, with what was planned for the same sorties beside it.

    ``is_available`` is false while no sortie log exists to count from.
    """

    is_available: bool
    patrol_operations: int = 0
    sorties: int = 0
    flight_hours: float = Field(default=0.0, description="flown: take-off to landing")
    distance_km: float = Field(default=0.0, description="flown: length of the telemetry tracks")
    planned_flight_hours: float = Field(
        default=0.0, description="planned: booked start to end of the same sorties"
    )
    planned_distance_km: float = Field(
        default=0.0, description="planned: route length of the sorties flown to landing"
    )


class SightingFigures(BaseModel):
    sightings: int
    persons_found: int
    persons_in_deep_water: int
    minors_sighted: int


class DissuasionFigures(BaseModel):
    """People dissuaded, split by who got them out: the drone alone, or a ground unit."""

    persons_dissuaded: int
    persons_dissuaded_from_air: int
    persons_dissuaded_by_ground: int
    incidents_dissuaded_from_air: int
    incidents_dissuaded_by_ground: int


class IncidentFigures(BaseModel):
    total: int
    open: int
    escalated: int
    by_outcome: dict[str, int]


class ReferralFigures(BaseModel):
    total: int
    done: int
    open: int
    overdue: int
    minors: int


class DurationFigures(BaseModel):
    """Seconds from the first sighting; median and p90 by linear interpolation."""

    count: int
    median_s: float | None
    p90_s: float | None


class ResponseTimes(BaseModel):
    to_warning: DurationFigures
    to_acknowledgement: DurationFigures
    to_on_scene: DurationFigures


class StatsSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    period: StatsPeriod
    flights: FlightFigures
    sightings: SightingFigures
    dissuasion: DissuasionFigures
    incidents: IncidentFigures
    referrals: ReferralFigures
    response_times: ResponseTimes


class HotSpotRank(BaseModel):
    """A place where people swim: a listed hot spot, or an unlisted ~200 m cell."""

    rank: int
    waterway_id: int | None
    waterway_name: str | None
    name: str
    lon: float
    lat: float
    is_listed: bool
    sightings: int
    persons: int
    minors: int
    deep_water: int
    peak_hour: int = Field(description="local hour of day with the most persons")
    persons_by_hour: list[int] = Field(min_length=HOURS, max_length=HOURS)


class WaterwayHourProfile(BaseModel):
    """Per local hour of day (index 0 = 00:00-00:59)."""

    waterway_id: int | None
    waterway_name: str | None
    sightings_by_hour: list[int] = Field(min_length=HOURS, max_length=HOURS)
    persons_by_hour: list[int] = Field(min_length=HOURS, max_length=HOURS)
    incidents_by_hour: list[int] = Field(min_length=HOURS, max_length=HOURS)
    persons_dissuaded_by_hour: list[int] = Field(
        min_length=HOURS,
        max_length=HOURS,
        description="people dissuaded (air or ground), by the hour their incident was detected",
    )


class DailyFigures(BaseModel):
    day: date
    sightings: int
    persons_found: int
    incidents: int
    persons_dissuaded: int


class StationFigures(BaseModel):
    """One police station's row of the per-station table (same definitions as the summary)."""

    station_id: int
    code: str
    name_zh: str
    name_en: str
    persons_found: int
    minors_sighted: int
    incidents: int
    persons_dissuaded: int
    persons_dissuaded_from_air: int
    persons_dissuaded_by_ground: int
    to_warning_median_s: float | None
    to_on_scene_median_s: float | None
    referrals_total: int
    referrals_done: int
    referrals_overdue: int
    sorties: int
