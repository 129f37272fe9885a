"""DJI SRT parsing: real files, one synthetic cue per layout, and one case per error."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection import SrtParseError, TelemetryGapError, TelemetrySample, parse_srt, read_srt
from detection.srt import SrtDamage, TelemetrySeries, parse_srt_report, telemetry_at

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "srt"


def cue(
    payload: str, *, index: int = 1, start: str = "00:00:00,000", end: str = "00:00:00,033"
) -> str:
    return f"{index}\n{start} --> {end}\n{payload}\n"


# --- real files ---------------------------------------------------------------------------


def test_reads_the_mini5pro_clip_with_positions_altitudes_and_times() -> None:
    samples = read_srt(FIXTURES / "callmarcus__mini5pro_clip.SRT")

    assert len(samples) == 5
    first = samples[0]
    assert (first.lon_deg, first.lat_deg) == (6.460719, 53.365108)
    assert first.rel_alt_m == 6.0
    assert first.abs_alt_m == -122.769
    assert first.focal_len_mm == 24.0
    assert first.frame_cnt == 1
    assert first.recorded_at == datetime(2026, 5, 27, 13, 14, 22, 911000)
    assert not first.has_gimbal
    assert [s.t_s for s in samples] == [0.0, 0.04, 0.08, 0.12, 0.16]
    assert samples[2].lon_deg == 6.460718
    assert [s.line_no for s in samples] == [2, 8, 14, 20, 26]


def test_reads_the_neo2_clip_and_skips_unknown_fields() -> None:
    samples = read_srt(FIXTURES / "callmarcus__neo2_clip.SRT")

    assert len(samples) == 5
    assert (samples[0].lon_deg, samples[0].lat_deg) == (13.753860, 45.607181)
    assert samples[4].rel_alt_m == pytest.approx(0.1)
    assert samples[4].abs_alt_m == pytest.approx(114.0)
    assert samples[3].t_s == pytest.approx(0.099)
    assert samples[3].end_t_s == pytest.approx(0.133)
    assert samples[0].focal_len_mm is None
    assert all(s.gimbal_yaw_deg is None for s in samples)


def test_reads_the_air2s_layout_with_spaced_keys_and_integer_encodings() -> None:
    samples = read_srt(FIXTURES / "juanirache__air2s_head.srt")

    assert [s.frame_cnt for s in samples] == [1, 2, 3, 4, 5]
    assert samples[0].focal_len_mm == 24.0
    assert samples[0].abs_alt_m == 117.0
    assert samples[0].rel_alt_m is None
    assert (samples[0].lon_deg, samples[0].lat_deg) == (2.234156, 41.424724)
    assert samples[0].recorded_at == datetime(2022, 8, 7, 13, 40, 40, 774808)


def test_reads_matrice_300_gps_tuples_latitude_first_and_a_sixty_second_end_time() -> None:
    samples = read_srt(FIXTURES / "juanirache__matrice_300_excerpt.srt")

    assert len(samples) == 6
    assert (samples[0].lon_deg, samples[0].lat_deg) == (-6.1120, 36.6146)
    assert samples[0].rel_alt_m == 0.3
    assert samples[0].recorded_at == datetime(2022, 6, 21, 16, 6, 17)
    sixty = samples[4]
    assert (sixty.t_s, sixty.end_t_s) == (59.0, 60.0)
    assert samples[5].rel_alt_m == 84.0


def test_reads_legacy_gps_tuples_longitude_first() -> None:
    samples = read_srt(FIXTURES / "juanirache__sample2_head.SRT")

    assert len(samples) == 7
    assert (samples[0].lon_deg, samples[0].lat_deg) == (131.1660, -25.2088)
    assert samples[0].t_s == 1.0
    assert samples[6].rel_alt_m == 0.5
    assert samples[0].recorded_at == datetime(2017, 7, 29, 15, 18, 50)


# --- synthetic layouts --------------------------------------------------------------------

MAVIC_3E = r"""<font size="28">FrameCnt: 1, DiffTime: 33ms
2024-11-24 17:38:03.576
[iso: 100] [shutter: 1/798.21] [fnum: 2.8] [ev: 0] [color_md : default] \
[ae_meter_md: 1] [focal_len: 24.00] [dzoom_ratio: 1.00], [latitude: 48.267013] \
[longitude: 25.914562] [rel_alt: 102.229 abs_alt: 426.185] \
[gb_yaw: -65.8 gb_pitch: -89.9 gb_roll: 0.0] </font>"""


def test_reads_enterprise_gimbal_angles_across_continued_lines() -> None:
    [sample] = parse_srt(cue(MAVIC_3E))

    assert sample.gimbal_yaw_deg == -65.8
    assert sample.gimbal_pitch_deg == -89.9
    assert sample.gimbal_roll_deg == 0.0
    assert sample.has_gimbal
    assert sample.dzoom_ratio == 1.0
    assert sample.rel_alt_m == 102.229


def test_field_order_and_spacing_do_not_matter() -> None:
    payload = (
        "[gb_roll:1.5 gb_pitch :-45.0 gb_yaw: 120.0] [longitude : 106.25] [abs_alt: 300]"
        " [rel_alt :55.5] [latitude:29.29]"
    )

    [sample] = parse_srt(cue(payload))

    assert (sample.lon_deg, sample.lat_deg) == (106.25, 29.29)
    assert (sample.gimbal_yaw_deg, sample.gimbal_pitch_deg, sample.gimbal_roll_deg) == (
        120.0,
        -45.0,
        1.5,
    )
    assert (sample.rel_alt_m, sample.abs_alt_m) == (55.5, 300.0)


def test_reads_the_dock_one_line_counter_and_time() -> None:
    payload = (
        "FrameCnt: 0 2025-11-26 10:58:25.417 [dehaze_level: 0] [dehaze_mode: 0]\n"
        "[latitude: 29.3] [longitude: 106.2] [rel_alt: 80.0 abs_alt: 300.0]"
    )

    [sample] = parse_srt(cue(payload))

    assert sample.frame_cnt == 0
    assert sample.recorded_at == datetime(2025, 11, 26, 10, 58, 25, 417000)
    assert sample.rel_alt_m == 80.0


def test_reads_zoom_focal_length_and_digital_zoom() -> None:
    [sample] = parse_srt(
        cue("[focal_len: 284.80] [dzoom_ratio: 1.77] [latitude: 1] [longitude: 2]")
    )

    assert sample.focal_len_mm == 284.8
    assert sample.dzoom_ratio == 1.77


def test_undoes_the_integer_encodings_of_older_firmware() -> None:
    payload = (
        "[fnum : 170] [focal_len : 240] [dzoom_ratio: 10000, delta:0] [latitude: 1] [longitude: 2]"
    )

    [sample] = parse_srt(cue(payload))

    assert sample.focal_len_mm == 24.0
    assert sample.dzoom_ratio == 1.0


def test_accepts_the_longtitude_misspelling_and_drone_attitude() -> None:
    payload = (
        "[latitude: 30.5] [longtitude: 114.3] [drone_yaw: -170.2 drone_pitch: 3.1 drone_roll: -2.0]"
    )

    [sample] = parse_srt(cue(payload))

    assert sample.lon_deg == 114.3
    assert (sample.drone_yaw_deg, sample.drone_pitch_deg, sample.drone_roll_deg) == (
        -170.2,
        3.1,
        -2.0,
    )


def test_position_zero_zero_before_gps_lock_is_missing() -> None:
    [sample] = parse_srt(
        cue("[latitude: 0.000000] [longitude: 0.000000] [rel_alt: 1.0 abs_alt: 2.0]")
    )

    assert sample.lon_deg is None
    assert sample.lat_deg is None
    assert not sample.has_position
    assert sample.rel_alt_m == 1.0


def test_handles_crlf_line_endings_a_bom_and_cues_out_of_order() -> None:
    text = "\ufeff" + (
        cue("[latitude: 2] [longitude: 2]", index=2, start="00:00:01,000", end="00:00:02,000")
        + "\n"
        + cue("[latitude: 1] [longitude: 1]", index=1, start="00:00:00,000", end="00:00:01,000")
    ).replace("\n", "\r\n")

    samples = parse_srt(text)

    assert [s.lat_deg for s in samples] == [1.0, 2.0]
    assert [s.line_no for s in samples] == [6, 2]


@given(
    lon=st.floats(min_value=-180, max_value=180).filter(lambda v: abs(v) >= 1e-3),
    lat=st.floats(min_value=-90, max_value=90),
    rel_alt=st.floats(min_value=-100, max_value=1000),
    yaw=st.floats(min_value=-180, max_value=180),
    pitch=st.floats(min_value=-90, max_value=30),
    order=st.permutations(range(4)),
    space_before=st.sampled_from(["", " "]),
    space_after=st.sampled_from(["", " ", "  "]),
)
def test_any_field_order_and_spacing_round_trips(
    lon: float,
    lat: float,
    rel_alt: float,
    yaw: float,
    pitch: float,
    order: list[int],
    space_before: str,
    space_after: str,
) -> None:
    sep = f"{space_before}:{space_after}"
    fields = [
        f"[latitude{sep}{lat:.6f}]",
        f"[longitude{sep}{lon:.6f}]",
        f"[rel_alt{sep}{rel_alt:.3f} abs_alt{sep}12.000]",
        f"[gb_yaw{sep}{yaw:.1f} gb_pitch{sep}{pitch:.1f} gb_roll{sep}0.0]",
    ]
    payload = " ".join(fields[i] for i in order)

    [sample] = parse_srt(cue(payload))

    assert sample.lat_deg == pytest.approx(round(lat, 6), abs=1e-9)
    assert sample.lon_deg == pytest.approx(round(lon, 6), abs=1e-9)
    assert sample.rel_alt_m == pytest.approx(round(rel_alt, 3), abs=1e-9)
    assert sample.gimbal_yaw_deg == pytest.approx(round(yaw, 1), abs=1e-9)
    assert sample.gimbal_pitch_deg == pytest.approx(round(pitch, 1), abs=1e-9)


def test_accepts_cues_without_numbers() -> None:
    text = (
        "00:00:00,000 --> 00:00:01,000\n[latitude: 1] [longitude: 2]\n\n"
        "00:00:01,000 --> 00:00:02,000\n[latitude: 3] [longitude: 4]\n"
    )

    samples = parse_srt(text)

    assert [(s.t_s, s.lat_deg, s.line_no) for s in samples] == [(0.0, 1.0, 1), (1.0, 3.0, 4)]


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_rejects_an_empty_file(text: str) -> None:
    with pytest.raises(SrtParseError, match="file is empty") as info:
        parse_srt(text)

    assert info.value.line_no is None


def test_keeps_a_file_cut_in_the_middle_of_a_bracket_and_reports_the_cut_cue() -> None:
    text = (FIXTURES / "callmarcus__mini5pro_clip.SRT").read_text()
    cut = text[: text.index("[latitude: 53.365109]") + len("[latitude: 53.36")]

    report = parse_srt_report(cut)

    assert [s.has_position for s in report.samples] == [True, True, False]
    assert report.no_fix == 1
    [damage] = report.damaged
    assert damage.line_no == 17
    assert "unbalanced brackets" in damage.reason
    assert report.samples[-1].damage == str(damage)


def test_keeps_a_file_cut_after_a_cue_number() -> None:
    text = (FIXTURES / "callmarcus__mini5pro_clip.SRT").read_text() + "\n6\n"

    report = parse_srt_report(text)

    assert len(report.samples) == 5
    assert report.no_fix == 0
    assert [str(d) for d in report.damaged] == [
        "line 31: cue 6 has no time range (file truncated?)"
    ]


def test_keeps_a_file_cut_after_a_time_range() -> None:
    text = cue("[latitude: 1] [longitude: 1]") + "\n2\n00:00:00,033 --> 00:00:00,066\n"

    report = parse_srt_report(text)

    assert [s.lat_deg for s in report.samples] == [1.0]
    assert [str(d) for d in report.damaged] == [
        "line 6: cue 2 has no telemetry after its time range (file truncated?)"
    ]


def test_rejects_a_font_tag_that_is_never_closed() -> None:
    text = cue('<font size="28">FrameCnt: 1, DiffTime: 33ms\n2024-11-24 17:38:03.576')

    with pytest.raises(SrtParseError, match=r"line 3: <font> tag is never closed"):
        parse_srt(text)


def test_rejects_a_gps_tuple_cut_short() -> None:
    text = cue("GPS(36.6146,-6.11")

    with pytest.raises(SrtParseError, match=r"line 3: unbalanced brackets"):
        parse_srt(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\n", r"line 1: expected a cue number, got 'hello'"),
        ("1\n00:00:00 --> 00:00:01\n[latitude: 1]\n", r"line 2: expected a time range"),
        ("1\n00:00:02,000 --> 00:00:01,000\n[latitude: 1]\n", r"line 2: time range ends before"),
        (
            cue("[latitude: north] [longitude: 1]"),
            r"line 3: latitude value 'north' is not a number",
        ),
        (cue("[latitude: 1] [longitude: 200.5]"), r"line 3: longitude 200.5 is outside"),
        (cue("[latitude: ] [longitude: 2]"), r"line 3: latitude has no value"),
        (cue("[gb_yaw: 9999 gb_pitch: 0]"), r"line 3: gb_yaw 9999 is not an angle"),
        (cue("GPS(36.6146) BAROMETER:0.3M"), r"line 3: GPS\(36.6146\) needs at least two numbers"),
        (cue("2024-13-45 10:00:00 [latitude: 1]"), r"line 3: bad date/time"),
    ],
)
def test_rejects_malformed_content_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(SrtParseError, match=message):
        parse_srt(text)


def test_rejects_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.SRT"
    path.write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\n[latitude: 1\xff]\n")

    with pytest.raises(SrtParseError, match="line 3: not UTF-8") as info:
        read_srt(path)

    assert info.value.line_no == 3


def test_a_later_bad_cue_is_no_fix_for_that_cue_only_and_named_by_its_own_line() -> None:
    text = (FIXTURES / "callmarcus__mini5pro_clip.SRT").read_text()
    tail_of_cue_3 = "[rel_alt: 6.000 abs_alt: -122.769] [ct: 5262] </font>\n\n4"
    assert text.count(tail_of_cue_3) == 1
    text = text.replace(tail_of_cue_3, tail_of_cue_3.replace("6.000", "x"))

    report = parse_srt_report(text)

    assert [s.has_position for s in report.samples] == [True, True, False, True, True]
    assert report.damaged == (SrtDamage(17, "rel_alt value 'x' is not a number"),)
    assert parse_srt(text) == list(report.samples)


def test_garbage_between_cues_is_skipped_to_the_next_cue_and_reported() -> None:
    text = (
        cue("[latitude: 1] [longitude: 1]")
        + "\n\x00\x00garbage\nmore\n\n"
        + cue("[latitude: 2] [longitude: 2]", index=2, start="00:00:01,000", end="00:00:02,000")
    )

    report = parse_srt_report(text)

    assert [s.lat_deg for s in report.samples] == [1.0, 2.0]
    assert [d.line_no for d in report.damaged] == [5]
    assert "expected a cue number" in report.damaged[0].reason


def test_gps_not_available_is_no_fix_not_an_error() -> None:
    text = cue("HOME(131.1660,-25.2088) 2017.07.29 15:18:50\nGPS(N/A,N/A,0) BAROMETER:1.5") + (
        "\n"
        + cue(
            "[latitude: N/A] [longitude: N/A] [rel_alt: 2.0 abs_alt: N/A]",
            index=2,
            start="00:00:01,000",
            end="00:00:02,000",
        )
        + "\n"
        + cue(
            "GPS(131.1660,-25.2088,14) BAROMETER:2.5",
            index=3,
            start="00:00:02,000",
            end="00:00:03,000",
        )
    )

    report = parse_srt_report(text)

    assert [(s.lon_deg, s.rel_alt_m) for s in report.samples] == [
        (None, 1.5),
        (None, 2.0),
        (131.166, 2.5),
    ]
    assert report.no_fix == 2
    assert report.damaged == ()


def test_a_file_with_no_readable_cue_is_refused() -> None:
    text = cue("[latitude: 95] [longitude: 1]") + "\n" + cue("[latitude: x]", index=2)

    with pytest.raises(SrtParseError, match=r"line 3: latitude 95\.0 is outside"):
        parse_srt_report(text)


def test_reads_the_phantom_4_rtk_compact_layout() -> None:
    text = cue(
        "F/5.6, SS 400, ISO 100, EV 0, GPS (-58.851745, -34.237922, 15), "
        "HOME (-58.847509, -34.232707, -57.98m), D 698.70m, H 85.80m, H.S 2.88m/s, "
        "V.S 0.00m/s, F.PRY (2.7°, -7.0°, 110.1°), G.PRY (-24.4°, 0.0°, 110.4°)"
    )

    [s] = parse_srt(text)

    assert (s.lon_deg, s.lat_deg, s.rel_alt_m) == (-58.851745, -34.237922, 85.8)
    assert (s.drone_pitch_deg, s.drone_roll_deg, s.drone_yaw_deg) == (2.7, -7.0, 110.1)
    assert (s.gimbal_pitch_deg, s.gimbal_roll_deg, s.gimbal_yaw_deg) == (-24.4, 0.0, 110.4)


def test_reads_an_rtk_fix_and_barometric_or_sonar_heights() -> None:
    rtk = cue("RTK (120.083799, 30.213635, 28), Hb 76.19m, Hs 2.10m, H.S 0.30m/s")
    sonar_only = cue("GPS(120.0838,30.2136,15) Hs 2.10m, H.S 0.30m/s")

    [a] = parse_srt(rtk)
    [b] = parse_srt(sonar_only)

    assert (a.lon_deg, a.lat_deg, a.rel_alt_m) == (120.083799, 30.213635, 76.19)
    assert b.rel_alt_m == 2.1


@pytest.mark.parametrize(
    ("stamp", "offset"),
    [
        ("2026-07-01 10:00:00+08:00", timedelta(hours=8)),
        ("2026-07-01 10:00:00 +1200", timedelta(hours=12)),
        ("2026-07-01 10:00:00 UTC+2", timedelta(hours=2)),
        ("2026-07-01T10:00:00Z", timedelta(0)),
        ("2026-07-01 10:00:00 UTC", timedelta(0)),
    ],
)
def test_a_written_utc_offset_makes_the_clock_time_aware(stamp: str, offset: timedelta) -> None:
    [s] = parse_srt(cue(f"{stamp} [latitude: 1] [longitude: 1]"))

    assert s.recorded_at == datetime(2026, 7, 1, 10, 0, tzinfo=timezone(offset))


def test_a_clock_time_without_offset_stays_naive() -> None:
    [s] = parse_srt(cue("2026-07-01 10:00:00.123 [latitude: 1] [longitude: 1]"))

    assert s.recorded_at == datetime(2026, 7, 1, 10, 0, 0, 123000)


# --- matching telemetry to frame times ----------------------------------------------------


def sample(t_s: float, **fields: float) -> TelemetrySample:
    return TelemetrySample(t_s=t_s, end_t_s=t_s + 1.0, line_no=1, **fields)  # type: ignore[arg-type]


def test_exact_time_returns_that_cue() -> None:
    samples = read_srt(FIXTURES / "callmarcus__mini5pro_clip.SRT")

    state = telemetry_at(samples, 0.08)

    assert state.lon_deg == pytest.approx(6.460718)
    assert state.frame_cnt == 3


def test_interpolates_position_and_altitude_between_cues() -> None:
    a = sample(0.0, lon_deg=10.0, lat_deg=50.0, rel_alt_m=40.0, gimbal_pitch_deg=-90.0)
    b = sample(1.0, lon_deg=10.002, lat_deg=50.001, rel_alt_m=60.0, gimbal_pitch_deg=-60.0)

    state = telemetry_at([a, b], 0.25)

    assert state.t_s == 0.25
    assert state.lon_deg == pytest.approx(10.0005)
    assert state.lat_deg == pytest.approx(50.00025)
    assert state.rel_alt_m == pytest.approx(45.0)
    assert state.gimbal_pitch_deg == pytest.approx(-82.5)


def test_interpolates_yaw_the_short_way_round() -> None:
    a = sample(0.0, gimbal_yaw_deg=170.0, drone_yaw_deg=-175.0)
    b = sample(1.0, gimbal_yaw_deg=-170.0, drone_yaw_deg=175.0)

    state = telemetry_at([a, b], 0.5)

    assert abs(state.gimbal_yaw_deg or 0.0) == pytest.approx(180.0)
    assert abs(state.drone_yaw_deg or 0.0) == pytest.approx(180.0)


def test_a_field_one_neighbour_lacks_comes_from_the_nearer_one() -> None:
    a = sample(0.0, lon_deg=10.0, lat_deg=50.0, gimbal_pitch_deg=-90.0)
    b = sample(1.0)

    assert telemetry_at([a, b], 0.2).gimbal_pitch_deg == -90.0
    assert telemetry_at([a, b], 0.8).gimbal_pitch_deg is None
    assert telemetry_at([a, b], 0.8).lon_deg is None


def test_times_just_outside_the_file_use_the_edge_cue() -> None:
    samples = [sample(1.0, rel_alt_m=5.0), sample(2.0, rel_alt_m=7.0)]

    assert telemetry_at(samples, 0.5).rel_alt_m == 5.0
    assert telemetry_at(samples, 3.5, max_gap_s=1.0).rel_alt_m == 7.0


def test_times_far_from_any_cue_raise() -> None:
    samples = [sample(0.0), sample(100.0)]

    with pytest.raises(TelemetryGapError):
        telemetry_at(samples, 50.0, max_gap_s=2.0)
    with pytest.raises(TelemetryGapError):
        telemetry_at(samples, 103.0, max_gap_s=1.0)
    with pytest.raises(TelemetryGapError):
        telemetry_at([], 0.0)


@given(
    t=st.floats(min_value=0.0, max_value=1.0),
    lon_a=st.floats(min_value=-179, max_value=179),
    dlon=st.floats(min_value=-0.01, max_value=0.01),
)
def test_interpolated_position_stays_between_the_neighbours(
    t: float, lon_a: float, dlon: float
) -> None:
    a = sample(0.0, lon_deg=lon_a, lat_deg=10.0)
    b = sample(1.0, lon_deg=lon_a + dlon, lat_deg=10.0)

    state = telemetry_at([a, b], t)

    assert state.lon_deg is not None
    assert min(lon_a, lon_a + dlon) - 1e-9 <= state.lon_deg <= max(lon_a, lon_a + dlon) + 1e-9


def test_nearest_returns_the_cue_as_written() -> None:
    a = sample(0.0, rel_alt_m=40.0)
    b = sample(1.0, rel_alt_m=60.0)

    assert telemetry_at([a, b], 0.4, nearest=True) is a
    assert telemetry_at([a, b], 0.6, nearest=True) is b


def test_a_series_answers_like_telemetry_at_on_a_real_file() -> None:
    samples = read_srt(FIXTURES / "juanirache__matrice_300_excerpt.srt")
    series = TelemetrySeries(samples)

    for t in [0.0, 0.3, 1.5, 2.9, 57.5, 59.99, 60.7]:
        assert series.at(t, max_gap_s=1.0) == telemetry_at(samples, t, max_gap_s=1.0)
    with pytest.raises(TelemetryGapError):
        series.at(30.0, max_gap_s=1.0)  # the excerpt skips cues 4-58
    assert len(series) == 6
