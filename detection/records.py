"""JSON-ready records of the core's values.

For ``detections.jsonl``, ``sightings.json`` and ``waterguard srt``: plain dicts of numbers
and strings, with units in the key names.
"""

from __future__ import annotations

from detection.types import FrameResult, Sighting, TelemetrySample

JsonScalar = str | int | float | bool | None


def frame_record(result: FrameResult) -> dict[str, object]:
    """One ``detections.jsonl`` line: boxes as ``[x1, y1, x2, y2, confidence, track_id]``.

    Boxes are in pixels of the original frame; ``track_id`` is ``null`` when untracked.

    Examples:
        >>> from detection.types import BBox, Detection
        >>> frame_record(FrameResult(12, 0.4, (Detection("swimmer", 0.91, BBox(1, 2, 3, 4), 7),)))
        {'frame_index': 12, 't_s': 0.4, 'boxes': [[1, 2, 3, 4, 0.91, 7]], 'labels': ['swimmer']}
    """
    return {
        "frame_index": result.frame_index,
        "t_s": result.timestamp_s,
        "boxes": [
            [d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.confidence, d.track_id]
            for d in result.detections
        ],
        "labels": [d.label for d in result.detections],
    }


def sighting_record(sighting: Sighting) -> dict[str, object]:
    """One sighting for ``sightings.json``; positions as ``[t_s, lon_deg, lat_deg]``.

    Examples:
        >>> from detection.types import BBox, TrackPoint, Zone
        >>> s = Sighting((3, 9), "swimmer", 1.0, 4.0, 30, 120, (TrackPoint(1.0, 106.2, 29.3),),
        ...              Zone.deep_water, 0.9, 64, BBox(5, 6, 9, 12), 80, False)
        >>> record = sighting_record(s)
        >>> record["zone"], record["track_ids"], record["positions"], record["best_box_px"]
        ('deep_water', [3, 9], [[1.0, 106.2, 29.3]], [5, 6, 9, 12])
    """
    last = sighting.positions[-1] if sighting.positions else None
    return {
        "track_ids": list(sighting.track_ids),
        "label": sighting.label,
        "first_t_s": sighting.first_t_s,
        "last_t_s": sighting.last_t_s,
        "duration_s": sighting.duration_s,
        "first_frame_index": sighting.first_frame_index,
        "last_frame_index": sighting.last_frame_index,
        "zone": sighting.zone.value,
        "last_zone": sighting.last_zone.value,
        "has_left_water": sighting.has_left_water,
        "people_together": sighting.people_together,
        "group": list(sighting.group),
        "peak_confidence": sighting.peak_confidence,
        "best_frame_index": sighting.best_frame_index,
        "best_box_px": [
            sighting.best_box.x1,
            sighting.best_box.y1,
            sighting.best_box.x2,
            sighting.best_box.y2,
        ],
        "observation_count": sighting.observation_count,
        "is_approximate": sighting.is_approximate,
        "last_lon_deg": None if last is None else last.lon_deg,
        "last_lat_deg": None if last is None else last.lat_deg,
        "positions": [[p.timestamp_s, p.lon_deg, p.lat_deg] for p in sighting.positions],
    }


def telemetry_record(sample: TelemetrySample) -> dict[str, JsonScalar]:
    r"""One telemetry sample for ``waterguard srt``; absent fields are ``null``.

    Examples:
        >>> from detection.srt import parse_srt
        >>> [sample] = parse_srt("1\n00:00:00,000 --> 00:00:00,033\n[latitude: 29.3] "
        ...                      "[longitude: 106.2] [rel_alt: 50.0 abs_alt: 250.0]\n")
        >>> record = telemetry_record(sample)
        >>> record["t_s"], record["lon_deg"], record["rel_alt_m"], record["gimbal_pitch_deg"]
        (0.0, 106.2, 50.0, None)
    """
    return {
        "t_s": sample.t_s,
        "end_t_s": sample.end_t_s,
        "srt_line": sample.line_no,
        "frame_cnt": sample.frame_cnt,
        "recorded_at": None if sample.recorded_at is None else sample.recorded_at.isoformat(),
        "lon_deg": sample.lon_deg,
        "lat_deg": sample.lat_deg,
        "rel_alt_m": sample.rel_alt_m,
        "abs_alt_m": sample.abs_alt_m,
        "gimbal_yaw_deg": sample.gimbal_yaw_deg,
        "gimbal_pitch_deg": sample.gimbal_pitch_deg,
        "gimbal_roll_deg": sample.gimbal_roll_deg,
        "drone_yaw_deg": sample.drone_yaw_deg,
        "drone_pitch_deg": sample.drone_pitch_deg,
        "drone_roll_deg": sample.drone_roll_deg,
        "focal_len_mm": sample.focal_len_mm,
        "dzoom_ratio": sample.dzoom_ratio,
    }
