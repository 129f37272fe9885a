"""Evidence frames per sighting, and the JSON records the CLI and the app write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection import (
    BBox,
    Detection,
    EvidenceKeeper,
    FrameResult,
    GeoFix,
    Observation,
    Zone,
    aggregate_sightings,
    evidence_crop,
    frame_record,
    read_srt,
    sighting_record,
    telemetry_record,
)
from detection.geo import offset_lonlat

SRT = Path(__file__).resolve().parents[1] / "fixtures" / "srt" / "callmarcus__mini5pro_clip.SRT"
LON, LAT = 106.2592, 29.29


def observation(track: int, frame: int, conf: float, east_m: float = 0.0) -> Observation:
    lon, lat = offset_lonlat(LON, LAT, east_m=east_m, north_m=0.0)
    fix = GeoFix(lon, lat, east_m, 0.0, 90.0, False)
    box = BBox(10 + frame, 20, 18 + frame, 28)
    return Observation(frame, frame / 5, Detection("swimmer", conf, box, track), fix, Zone.in_water)


@given(
    x=st.floats(min_value=0, max_value=1900),
    y=st.floats(min_value=0, max_value=1060),
    w=st.floats(min_value=1, max_value=300),
    h=st.floats(min_value=1, max_value=300),
)
def test_evidence_crop_contains_the_box_and_stays_in_the_frame(
    x: float, y: float, w: float, h: float
) -> None:
    box = BBox(x, y, min(x + w, 1920), min(y + h, 1080))

    tile = evidence_crop(box, frame_width_px=1920, frame_height_px=1080, min_side_px=96)

    assert 0 <= tile.x1_px <= box.x1 + 1
    assert tile.x2_px >= box.x2 - 1
    assert 0 <= tile.y1_px <= box.y1 + 1
    assert tile.y2_px >= box.y2 - 1
    assert tile.x2_px <= 1920
    assert tile.y2_px <= 1080
    assert tile.width_px >= 96
    assert tile.height_px >= 96


def test_evidence_crop_never_exceeds_a_small_frame() -> None:
    tile = evidence_crop(BBox(10, 10, 20, 20), frame_width_px=64, frame_height_px=48)

    assert (tile.x1_px, tile.y1_px, tile.x2_px, tile.y2_px) == (0, 0, 64, 48)


def test_the_kept_evidence_is_the_sightings_best_frame() -> None:
    keeper = EvidenceKeeper()
    rows = [
        observation(1, 0, 0.6),
        observation(1, 1, 0.8),
        observation(2, 9, 0.95, east_m=2.0),  # same swimmer after a break: best overall
        observation(2, 10, 0.95, east_m=2.0),  # a tie keeps the earlier frame
        observation(3, 0, 0.7, east_m=300.0),
    ]
    for row in rows:
        keeper.update(np.full((60, 80, 3), row.frame_index, np.uint8), [row])

    sightings = aggregate_sightings(rows)
    evidence = [keeper.for_sighting(s) for s in sightings]

    assert [s.track_ids for s in sightings] == [(1, 2), (3,)]
    assert [e.frame_index if e else None for e in evidence] == [
        s.best_frame_index for s in sightings
    ]
    assert evidence[0] is not None
    assert int(evidence[0].frame[0, 0, 0]) == 9
    assert evidence[0].cropped().shape == (60, 80, 3)  # 96 px minimum, clipped to the frame


def test_kept_frames_are_copies_and_can_be_released() -> None:
    keeper = EvidenceKeeper()
    frame = np.zeros((8, 8, 3), np.uint8)
    keeper.update(frame, [observation(5, 0, 0.9)])

    frame[:] = 255  # the source reuses its buffer
    kept = keeper.best(5)
    keeper.forget([5])

    assert kept is not None
    assert int(kept.frame.max()) == 0
    assert keeper.best(5) is None


def test_frame_record_is_one_json_line_in_frame_pixels() -> None:
    result = FrameResult(
        3,
        0.1,
        (
            Detection("swimmer", 0.5, BBox(1.5, 2, 3, 4), 2),
            Detection("boat", 0.7, BBox(0, 0, 9, 9)),
        ),
    )

    line = json.dumps(frame_record(result))

    assert json.loads(line) == {
        "frame_index": 3,
        "t_s": 0.1,
        "boxes": [[1.5, 2, 3, 4, 0.5, 2], [0, 0, 9, 9, 0.7, None]],
        "labels": ["swimmer", "boat"],
    }


def test_sighting_record_round_trips_through_json() -> None:
    [sighting] = aggregate_sightings([observation(1, 0, 0.6), observation(1, 5, 0.9, east_m=3.0)])

    record = json.loads(json.dumps(sighting_record(sighting)))

    assert record["track_ids"] == [1]
    assert record["zone"] == "in_water"
    assert record["duration_s"] == pytest.approx(1.0)
    assert record["best_frame_index"] == 5
    assert len(record["positions"]) == 2
    assert record["last_lon_deg"] == pytest.approx(record["positions"][-1][1])


def test_telemetry_records_of_a_real_file_are_json_with_units_in_the_keys() -> None:
    records = [telemetry_record(s) for s in read_srt(SRT)]

    parsed = json.loads(json.dumps(records))

    assert len(parsed) == 5
    assert parsed[0]["lat_deg"] == 53.365108
    assert parsed[0]["recorded_at"] == "2026-05-27T13:14:22.911000"
    assert parsed[0]["gimbal_pitch_deg"] is None
    assert all(
        key.endswith(("_s", "_deg", "_m", "_mm", "_ratio", "_cnt", "_at", "_line"))
        for key in parsed[0]
    )
