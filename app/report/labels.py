"""Report wording in zh-CN (first) and en."""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    zh = "zh-CN"
    en = "en"


TEXT: dict[str, tuple[str, str]] = {
    "title": ("防溺水无人机巡查 暑期报告", "Drone patrols against drowning: season report"),
    "period": ("统计期间", "Period"),
    "jurisdiction": ("辖区", "Jurisdiction"),
    "generated": ("生成时间", "Generated"),
    "timezone_note": ("时间均为 {zone} 当地时间", "Times are local ({zone})"),
    "key_figures": ("主要数据", "Key figures"),
    "patrol_operations": ("巡查行动", "Patrol operations"),
    "sorties": ("飞行架次", "Sorties"),
    "flight_hours": ("实飞时长（小时）", "Flight hours flown"),
    "distance_km": ("实飞里程（公里，按航迹）", "Distance flown (km, from telemetry)"),
    "planned_flight_hours": ("计划飞行时长（小时）", "Flight hours planned"),
    "planned_distance_km": ("计划航程（公里）", "Distance planned (km)"),
    "no_flight_log": ("暂无飞行记录", "no flight log yet"),
    "sightings": ("发现记录", "Sightings"),
    "persons_found": ("发现人数", "Persons found"),
    "persons_in_deep_water": ("深水区人数", "Persons in deep water"),
    "minors_sighted": ("疑似未成年人", "Suspected minors"),
    "persons_dissuaded": ("劝离人数", "Persons dissuaded"),
    "persons_dissuaded_from_air": ("空中喊话劝离", "Dissuaded from the air"),
    "persons_dissuaded_by_ground": ("地面警力劝离", "Dissuaded by ground units"),
    "incidents": ("警情", "Incidents"),
    "incidents_total": ("警情总数", "Incidents"),
    "incidents_open": ("未结警情", "Open incidents"),
    "incidents_escalated": ("升级处置", "Escalated"),
    "by_outcome": ("按处置结果", "By outcome"),
    "referrals_total": ("推送线索", "Referrals"),
    "referrals_done": ("已完成教育", "Referrals done"),
    "referrals_open": ("待跟进", "Referrals open"),
    "referrals_overdue": ("逾期未办", "Referrals overdue"),
    "referrals_minors": ("未成年人家访", "Minors referred"),
    "response_times": ("响应时间（自首次发现起）", "Response times (from first sighting)"),
    "to_warning": ("至喊话警告", "To warning"),
    "to_acknowledgement": ("至地面确认", "To acknowledgement"),
    "to_on_scene": ("至到达现场", "To on scene"),
    "median": ("中位数", "Median"),
    "p90": ("90分位", "p90"),
    "count": ("样本数", "Count"),
    "daily_chart": ("每日发现与劝离人数", "Persons found and dissuaded per day"),
    "hourly_chart": ("分时段发现人数（当地时间）", "Persons found by hour of day (local)"),
    "hot_spots": ("高发点位排名", "Hot-spot ranking"),
    "rank": ("排名", "Rank"),
    "place": ("点位", "Place"),
    "waterway": ("水域", "Waterway"),
    "persons": ("人数", "Persons"),
    "minors": ("未成年", "Minors"),
    "peak_hour": ("高峰时段", "Peak hour"),
    "unlisted": ("未登记点位", "unlisted place"),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "outcome": ("结果", "Outcome"),
    "legend_found": ("发现", "found"),
    "legend_dissuaded": ("劝离", "dissuaded"),
    "definitions": (
        "口径：发现人数为无人机识别的每名（组）落水/游泳人员之和；空中劝离指仅经无人机喊话、"
        "灯光警示后离水，地面劝离指地面警力到场后离水；响应时间自首次发现起计，缺少该环节的警情不计入。",
        "Definitions: persons found sums the people in each sighting; dissuaded from the air means "
        "they left after the drone's voice or light warning, by ground units after a unit reached "
        "the place; response times run from the first sighting and leave out incidents without "
        "that step.",
    ),
    "none": ("未结", "open"),
    "period_title": ("防溺水无人机巡查 统计报告", "Drone patrols against drowning: report"),
    "minutes_value": ("{value} 分钟", "{value} min"),
    "cleared_from_air": ("空中劝离", "cleared from the air"),
    "dissuaded": ("劝离", "dissuaded"),
    "rescued": ("救起", "rescued"),
    "nobody_found": ("未发现人员", "nobody found"),
    "false_alarm": ("误报", "false alarm"),
}


# Column headers of the row exports (incidents, sightings) and the words in their cells.
COLUMNS: dict[str, tuple[str, str]] = {
    "id": ("编号", "ID"),
    "incident_id": ("警情编号", "Incident"),
    "detected_at": ("发现时间", "Detected"),
    "ended_at": ("结束时间", "Ended"),
    "seen_at": ("发现时间", "Seen"),
    "station": ("派出所", "Station"),
    "waterway": ("水域", "Waterway"),
    "state": ("状态", "State"),
    "outcome": ("处置结果", "Outcome"),
    "severity": ("等级", "Severity"),
    "people": ("人数", "People"),
    "sightings": ("发现记录", "Sightings"),
    "deep_water": ("深水区", "Deep water"),
    "suspected_minor": ("疑似未成年人", "Suspected minor"),
    "left_water": ("已离水", "Left the water"),
    "confidence": ("置信度", "Confidence"),
    "sortie_ref": ("架次", "Sortie"),
    "warnings": ("喊话次数", "Warnings"),
    "warned_at": ("喊话时间", "Warned"),
    "cleared_at": ("离水时间", "Cleared"),
    "escalated_at": ("升级时间", "Escalated"),
    "acknowledged_at": ("接警时间", "Acknowledged"),
    "on_scene_at": ("到场时间", "On scene"),
    "resolved_at": ("处置时间", "Resolved"),
    "closed_at": ("关闭时间", "Closed"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
}
VALUES: dict[str, tuple[str, str]] = {
    "detected": ("发现", "detected"),
    "warned": ("已喊话", "warned"),
    "cleared": ("已离水", "cleared"),
    "escalated": ("已升级", "escalated"),
    "dispatched": ("已派警", "dispatched"),
    "acknowledged": ("已接警", "acknowledged"),
    "on_scene": ("已到场", "on scene"),
    "resolved": ("已处置", "resolved"),
    "closed": ("已关闭", "closed"),
    "low": ("低", "low"),
    "moderate": ("中", "moderate"),
    "high": ("高", "high"),
    "critical": ("危急", "critical"),
    "cleared_from_air": ("空中劝离", "cleared from the air"),
    "dissuaded": ("劝离", "dissuaded"),
    "rescued": ("救起", "rescued"),
    "nobody_found": ("未发现人员", "nobody found"),
    "false_alarm": ("误报", "false alarm"),
}


def column(key: str, lang: Lang) -> str:
    zh, en = COLUMNS.get(key, (key, key))
    return zh if lang is Lang.zh else en


def value_text(value: str, lang: Lang) -> str:
    zh, en = VALUES.get(value, (value, value))
    return zh if lang is Lang.zh else en


def t(key: str, lang: Lang, **values: object) -> str:
    zh, en = TEXT[key]
    text = zh if lang is Lang.zh else en
    return text.format(**values) if values else text
