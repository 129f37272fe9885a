"""Exports of the statistics: CSV/XLSX tables and the printable season report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.report.charts import BarChart, Series
from app.report.document import Figure, SeasonReport, render_html, render_pdf, stamp
from app.report.labels import Lang, column, t, value_text
from app.report.tables import Sheet, to_csv, to_xlsx
from app.stats import service as stats_service
from app.stats.schemas import DurationFigures, StatsSummary
from app.stats.service import StatsQuery

MAX_ROWS = 200_000
FOUND_COLOUR = "#2f6db5"
DISSUADED_COLOUR = "#3c9a5f"


class TableFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class DocumentFormat(StrEnum):
    html = "html"
    pdf = "pdf"


class RowSet(StrEnum):
    incidents = "incidents"
    sightings = "sightings"


@dataclass(frozen=True, slots=True)
class Export:
    content: bytes
    media_type: str
    filename: str


MEDIA = {
    TableFormat.csv: "text/csv; charset=utf-8",
    TableFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentFormat.html: "text/html; charset=utf-8",
    DocumentFormat.pdf: "application/pdf",
}


def _decimal(value: float) -> str:
    """Hours and kilometres as the CSV writes them (two decimals at most, from the API)."""
    return str(round(value, 2))


def _count(value: float | int) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def summary_rows(summary: StatsSummary, lang: Lang) -> list[tuple[str, str, object]]:
    """(key, label, value) for every figure, in report order."""
    flights = summary.flights
    rows: list[tuple[str, str, object]] = []
    if flights.is_available:
        rows += [
            ("patrol_operations", t("patrol_operations", lang), flights.patrol_operations),
            ("sorties", t("sorties", lang), flights.sorties),
            ("flight_hours", t("flight_hours", lang), flights.flight_hours),
            ("planned_flight_hours", t("planned_flight_hours", lang),
             flights.planned_flight_hours),
            ("distance_km", t("distance_km", lang), flights.distance_km),
            ("planned_distance_km", t("planned_distance_km", lang), flights.planned_distance_km),
        ]  # fmt: skip
    s, d, i, r = summary.sightings, summary.dissuasion, summary.incidents, summary.referrals
    rows += [
        ("sightings", t("sightings", lang), s.sightings),
        ("persons_found", t("persons_found", lang), s.persons_found),
        ("persons_in_deep_water", t("persons_in_deep_water", lang), s.persons_in_deep_water),
        ("minors_sighted", t("minors_sighted", lang), s.minors_sighted),
        ("persons_dissuaded", t("persons_dissuaded", lang), d.persons_dissuaded),
        ("persons_dissuaded_from_air", t("persons_dissuaded_from_air", lang),
         d.persons_dissuaded_from_air),
        ("persons_dissuaded_by_ground", t("persons_dissuaded_by_ground", lang),
         d.persons_dissuaded_by_ground),
        ("incidents_total", t("incidents_total", lang), i.total),
        ("incidents_open", t("incidents_open", lang), i.open),
        ("incidents_escalated", t("incidents_escalated", lang), i.escalated),
    ]  # fmt: skip
    for outcome, count in i.by_outcome.items():
        rows.append((f"outcome_{outcome}", f"{t('by_outcome', lang)}: {t(outcome, lang)}", count))
    rows += [
        ("referrals_total", t("referrals_total", lang), r.total),
        ("referrals_done", t("referrals_done", lang), r.done),
        ("referrals_open", t("referrals_open", lang), r.open),
        ("referrals_overdue", t("referrals_overdue", lang), r.overdue),
        ("referrals_minors", t("referrals_minors", lang), r.minors),
    ]
    times = summary.response_times
    for key, figures in (
        ("to_warning", times.to_warning),
        ("to_acknowledgement", times.to_acknowledgement),
        ("to_on_scene", times.to_on_scene),
    ):
        label = t(key, lang)
        rows.append((f"{key}_median_s", f"{label} {t('median', lang)} (s)", figures.median_s))
        rows.append((f"{key}_p90_s", f"{label} {t('p90', lang)} (s)", figures.p90_s))
        rows.append((f"{key}_count", f"{label} {t('count', lang)}", figures.count))
    return rows


def _period_text(query: StatsQuery) -> str:
    return f"{query.from_date.isoformat()} – {query.to_date.isoformat()}"


def _filename(stem: str, query: StatsQuery, extension: str) -> str:
    return f"waterguard-{stem}-{query.from_date:%Y%m%d}-{query.to_date:%Y%m%d}.{extension}"


def export_summary(
    session: Session,
    principal: Principal,
    query: StatsQuery,
    *,
    fmt: TableFormat,
    lang: Lang,
    zone: ZoneInfo,
    now: datetime,
) -> Export:
    summary = stats_service.summary(session, principal, query, zone=zone, now=now)
    header = ["key", t("metric", lang), t("value", lang)]
    note = f"{t('period', lang)}: {_period_text(query)} ({zone.key})"
    sheet = Sheet("summary", header, summary_rows(summary, lang), note)
    sheets = [sheet]
    if fmt is TableFormat.xlsx:
        days = stats_service.daily(session, principal, query, zone=zone)
        sheets.append(
            Sheet(
                "daily",
                ["day", "sightings", "persons_found", "incidents", "persons_dissuaded"],
                [(d.day, d.sightings, d.persons_found, d.incidents,
                  d.persons_dissuaded) for d in days],
            )
        )  # fmt: skip
    content = to_csv(sheet) if fmt is TableFormat.csv else to_xlsx(sheets)
    return Export(content, MEDIA[fmt], _filename("summary", query, fmt.value))


def export_rows(
    session: Session,
    principal: Principal,
    query: StatsQuery,
    *,
    rows: RowSet,
    fmt: TableFormat,
    zone: ZoneInfo,
    lang: Lang | None = None,
) -> Export:
    """One row per incident or sighting. Without ``lang`` the header is the column keys and
    the cells the API's values (for scripts); with it, both are in that language."""
    build = (
        stats_service.incident_table if rows is RowSet.incidents else stats_service.sighting_table
    )
    table = build(session, principal, query, zone=zone, limit=MAX_ROWS)
    note = f"truncated at {MAX_ROWS} rows" if table.is_truncated else None
    header: Sequence[str] = table.columns
    body: Sequence[Sequence[object]] = table.rows
    if lang is not None:
        worded = {"state", "outcome", "severity"} & set(table.columns)
        header = [column(c, lang) for c in table.columns]
        body = [
            tuple(
                value_text(v, lang) if c in worded and isinstance(v, str) else v
                for c, v in zip(table.columns, row, strict=True)
            )
            for row in table.rows
        ]
    sheet = Sheet(rows.value, header, body, note)
    content = to_csv(sheet) if fmt is TableFormat.csv else to_xlsx([sheet])
    return Export(content, MEDIA[fmt], _filename(rows.value, query, fmt.value))


def _duration(figures: DurationFigures, lang: Lang) -> tuple[str, str, str]:
    """Median and p90 as minutes with one decimal ("2.5 分钟"), never a clock-like "2:30"."""

    def text(value: float | None) -> str:
        if value is None:
            return "–"
        return t("minutes_value", lang, value=f"{value / 60:.1f}")

    return text(figures.median_s), text(figures.p90_s), str(figures.count)


def is_season(query: StatsQuery) -> bool:
    """A period inside one year's swimming season (1 May - 30 September)."""
    start, end = stats_service.default_season(query.from_date)
    return start <= query.from_date and query.to_date <= end


def report_title(query: StatsQuery, lang: Lang) -> str:
    return t("title" if is_season(query) else "period_title", lang)


def season_report(
    session: Session,
    principal: Principal,
    query: StatsQuery,
    *,
    lang: Lang,
    zone: ZoneInfo,
    now: datetime,
) -> SeasonReport:
    summary = stats_service.summary(session, principal, query, zone=zone, now=now)
    days = stats_service.daily(session, principal, query, zone=zone)
    profiles = stats_service.hourly_profile(session, principal, query, zone=zone)
    spots = stats_service.hot_spots(session, principal, query, zone=zone, limit=10)
    flights = summary.flights
    no_log = t("no_flight_log", lang)
    figures = [
        Figure(t("patrol_operations", lang),
               _count(flights.patrol_operations) if flights.is_available else "–",
               "" if flights.is_available else no_log),
        Figure(t("sorties", lang), _count(flights.sorties) if flights.is_available else "–"),
        Figure(t("flight_hours", lang),
               _decimal(flights.flight_hours) if flights.is_available else "–",
               f"{t('planned_flight_hours', lang)} {_decimal(flights.planned_flight_hours)}"
               if flights.is_available else ""),
        Figure(t("distance_km", lang),
               _decimal(flights.distance_km) if flights.is_available else "–",
               f"{t('planned_distance_km', lang)} {_decimal(flights.planned_distance_km)}"
               if flights.is_available else ""),
        Figure(t("persons_found", lang), _count(summary.sightings.persons_found)),
        Figure(t("persons_dissuaded", lang), _count(summary.dissuasion.persons_dissuaded)),
        Figure(t("persons_dissuaded_from_air", lang),
               _count(summary.dissuasion.persons_dissuaded_from_air)),
        Figure(t("persons_dissuaded_by_ground", lang),
               _count(summary.dissuasion.persons_dissuaded_by_ground)),
        Figure(t("minors_sighted", lang), _count(summary.sightings.minors_sighted)),
        Figure(t("incidents_total", lang), _count(summary.incidents.total)),
        Figure(t("incidents_escalated", lang), _count(summary.incidents.escalated)),
        Figure(t("referrals_done", lang),
               f"{summary.referrals.done}/{summary.referrals.total}"),
        Figure(t("referrals_overdue", lang), _count(summary.referrals.overdue)),
    ]  # fmt: skip
    times = summary.response_times
    response_rows = [
        (t("to_warning", lang), *_duration(times.to_warning, lang)),
        (t("to_acknowledgement", lang), *_duration(times.to_acknowledgement, lang)),
        (t("to_on_scene", lang), *_duration(times.to_on_scene, lang)),
    ]
    hourly = [sum(p.persons_by_hour[h] for p in profiles) for h in range(24)]
    return SeasonReport(
        lang=lang,
        jurisdiction=stats_service.jurisdiction_label(session, principal, is_zh=lang is Lang.zh),
        period=_period_text(query),
        generated=stamp(now.astimezone(zone), zone.key),
        zone=zone.key,
        summary=summary,
        figures=figures,
        response_rows=response_rows,
        outcome_rows=[(t(k, lang), v) for k, v in summary.incidents.by_outcome.items()],
        daily=BarChart(
            t("daily_chart", lang),
            [d.day.strftime("%m-%d") for d in days],
            [
                Series(t("legend_found", lang), [d.persons_found for d in days], FOUND_COLOUR),
                Series(
                    t("legend_dissuaded", lang),
                    [d.persons_dissuaded for d in days],
                    DISSUADED_COLOUR,
                ),
            ],
        ),
        hourly=BarChart(
            t("hourly_chart", lang),
            [f"{h:02d}" for h in range(24)],
            [Series(t("legend_found", lang), hourly, FOUND_COLOUR)],
        ),
        hot_spots=spots,
        title=report_title(query, lang),
    )


def export_season(
    session: Session,
    principal: Principal,
    query: StatsQuery,
    *,
    fmt: DocumentFormat,
    lang: Lang,
    zone: ZoneInfo,
    now: datetime,
) -> Export:
    report = season_report(session, principal, query, lang=lang, zone=zone, now=now)
    if fmt is DocumentFormat.html:
        content = render_html(report).encode("utf-8")
    else:
        content = render_pdf(report)
    return Export(content, MEDIA[fmt], _filename(f"season-{lang.value}", query, fmt.value))
