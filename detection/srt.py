"""DJI ``.SRT`` telemetry: parse the subtitle files DJI drones write next to each video.

A DJI SRT file is a SubRip file with one cue per frame (or per second on older models).
Each cue has a counter line, a time range (the time from the start of the video) and one
or more payload lines. The payload layout differs between models and firmware:

* modern (Mini/Air/Neo/Mavic 3/Matrice): ``[latitude: 53.365108] [longitude: 6.460719]
  [rel_alt: 6.000 abs_alt: -122.769]``, with ``[gb_yaw: a gb_pitch: b gb_roll: c]`` on
  enterprise-style files; fields in any order, several keys per bracket;
* older consumer: ``[focal_len : 240]`` (24 mm), ``[fnum : 280]``, ``[altitude: 117.0]``,
  ``[dzoom_ratio: 10000, delta:0]`` (1.0x), ``SrtCnt : 1``;
* legacy tuples: ``GPS(131.1660,-25.2088,14) BAROMETER:0.0`` (longitude first, then the
  number of satellites) on Mavic Pro/Phantom, and ``GPS(36.6146,-6.1120,0.0M)
  BAROMETER:0.3M`` (latitude first, then an altitude in metres) on Matrice 300.

* compact (Phantom 4 RTK/Pro, Mavic 2): ``F/5.6, SS 400, ISO 100, EV 0, GPS (-58.851745,
  -34.237922, 15), HOME (...), D 698.70m, H 85.80m, H.S 0.00m/s, V.S 0.00m/s, F.PRY (2.7°,
  -7.0°, 110.1°), G.PRY (-24.4°, 0.0°, 110.4°)``: ``H`` (or ``Hb`` barometric, ``Hs``
  sonar) is the height above take-off, ``F.PRY``/``G.PRY`` the aircraft's and the gimbal's
  pitch, roll and yaw; ``RTK (...)`` stands for ``GPS (...)`` with an RTK fix.

The parser reads ``key: value`` pairs independently of brackets, ignores keys it does not
know, and keys samples by cue time (never by position in the list). A position of exactly
(0, 0) or ``GPS(N/A,N/A,n)`` means "no GPS fix" and is kept as missing.

Damaged files are kept, as DJI's own viewers keep them: a cue whose content is corrupted
keeps its time, has no fix and says why (``TelemetrySample.damage``); lines that cannot be
read as a cue at all (a file cut short, garbage between cues) are skipped up to the next
blank line and reported (:class:`SrtReport`). Only a file with no readable cue is refused.

Units: times in seconds from the start of the video, angles in degrees, altitudes in metres.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from detection.errors import SrtParseError, TelemetryGapError
from detection.types import TelemetrySample

_TIME_RANGE = re.compile(
    r"^\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})\s*$"
)
_TAG = re.compile(r"<[^>]*>")
_TUPLE = re.compile(r"\b(GPS|RTK|HOME)\s*\(([^)]*)\)", re.IGNORECASE)
_ATTITUDE = re.compile(r"\b([FG])\.PRY\s*\(([^)]*)\)", re.IGNORECASE)
# Heights written as "H 85.80m" (compact layout), "Hb 12.3m" (barometric), "Hs 1.2m" (sonar);
# "H.S 0.30m/s" (speed) is not one of them.
_HEIGHT = re.compile(r"(?<![\w.])(H|Hb|Hs)\s*:?\s*(-?\d+(?:\.\d+)?)\s*m?(?![\w/.])")
_HEIGHT_ORDER = ("H", "Hb", "Hs")
_NO_VALUE = frozenset({"N/A", "NA", "NAN", "NONE", "NULL", "--"})
_KEY_VALUE = re.compile(
    r"(?<![A-Za-z0-9_.])([A-Za-z][A-Za-z0-9_]*)\s*:\s*([^\s\[\],:]+)(?![^\s\[\],:]|\s*:)"
)
_KEY_WITHOUT_VALUE = re.compile(r"\[\s*([A-Za-z][A-Za-z0-9_]*)\s*:\s*\]")
_DATETIME = re.compile(
    r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})"
    r"(?:[.,](\d{1,6})(?:,(\d{3})(?!\d))?)?"
    r"(?:\s*(Z|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}|UTC|GMT)(?![\w.:]))?"
)
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

# Known keys (lower case) and the sample field they feed.
_FIELDS = {
    "latitude": "lat_deg",
    "lat": "lat_deg",
    "longitude": "lon_deg",
    "longtitude": "lon_deg",
    "lon": "lon_deg",
    "lng": "lon_deg",
    "rel_alt": "rel_alt_m",
    "barometer": "rel_alt_m",
    "abs_alt": "abs_alt_m",
    "altitude": "abs_alt_m",
    "gb_yaw": "gimbal_yaw_deg",
    "gb_pitch": "gimbal_pitch_deg",
    "gb_roll": "gimbal_roll_deg",
    "gimbal_yaw": "gimbal_yaw_deg",
    "gimbal_pitch": "gimbal_pitch_deg",
    "gimbal_roll": "gimbal_roll_deg",
    "drone_yaw": "drone_yaw_deg",
    "drone_pitch": "drone_pitch_deg",
    "drone_roll": "drone_roll_deg",
    "focal_len": "focal_len_mm",
    "dzoom_ratio": "dzoom_ratio",
    "framecnt": "frame_cnt",
    "srtcnt": "frame_cnt",
}
_ANGLE_FIELDS = frozenset(
    {
        "gimbal_yaw_deg",
        "gimbal_pitch_deg",
        "gimbal_roll_deg",
        "drone_yaw_deg",
        "drone_pitch_deg",
        "drone_roll_deg",
    }
)


@dataclass(slots=True)
class _Cue:
    """A cue being read: where it starts and its raw payload lines."""

    index_line_no: int
    time_line_no: int
    start_s: float
    end_s: float
    payload: list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class SrtDamage:
    """A part of an ``.SRT`` file that could not be read.

    Attributes:
        line_no: 1-based line where the problem was found.
        reason: The problem, without the line prefix.
    """

    line_no: int | None
    reason: str

    def __str__(self) -> str:
        return self.reason if self.line_no is None else f"line {self.line_no}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SrtReport:
    """What a lenient read of an ``.SRT`` file found.

    Attributes:
        samples: One sample per cue that has a time range, sorted by ``t_s``; a corrupted
            cue is kept without a fix and with its ``damage``.
        damaged: Every problem met: corrupted cues and skipped lines, in file order.
    """

    samples: tuple[TelemetrySample, ...]
    damaged: tuple[SrtDamage, ...]

    @property
    def no_fix(self) -> int:
        """How many cues carry no GPS position (no lock, ``N/A`` or damaged)."""
        return sum(1 for s in self.samples if not s.has_position)


def parse_srt(text: str) -> list[TelemetrySample]:
    r"""Parse the text of a DJI ``.SRT`` file into one sample per cue, in time order.

    Damaged cues are kept without a fix (see :func:`parse_srt_report`, which also says what
    was damaged).

    Args:
        text: The whole file as text (any line endings, optional BOM).

    Returns:
        The samples, sorted by ``t_s``.

    Raises:
        SrtParseError: The text is empty or no cue of it can be read; the error names the
            1-based line of the first problem.

    Examples:
        >>> cue = '''1
        ... 00:00:00,000 --> 00:00:00,033
        ... <font size="28">FrameCnt: 1, DiffTime: 33ms
        ... 2024-11-24 17:38:03.576
        ... [focal_len: 24.00] [latitude: 48.267013] [longitude: 25.914562]
        ... [rel_alt: 102.229 abs_alt: 426.185] [gb_yaw: -65.8 gb_pitch: -89.9 gb_roll: 0.0] </font>
        ... '''
        >>> [sample] = parse_srt(cue)
        >>> sample.lon_deg, sample.lat_deg, sample.rel_alt_m, sample.gimbal_pitch_deg
        (25.914562, 48.267013, 102.229, -89.9)
        >>> parse_srt("1\n00:00:00,000 --> 00:00:01,000\n[latitude: 95.0] [longitude: 1.0]\n")
        Traceback (most recent call last):
        ...
        detection.errors.SrtParseError: line 3: latitude 95.0 is outside [-90, 90]
        >>> parse_srt("")
        Traceback (most recent call last):
        ...
        detection.errors.SrtParseError: file is empty
    """
    return list(parse_srt_report(text).samples)


def parse_srt_report(text: str) -> SrtReport:
    r"""Parse an ``.SRT`` file leniently: keep every readable cue, report the damage.

    Raises:
        SrtParseError: The text is empty, or not one cue of it is readable (then the first
            problem is raised).

    Examples:
        >>> text = (
        ...     "1\n00:00:00,000 --> 00:00:01,000\nGPS(N/A,N/A,0) BAROMETER:0.0\n\n"
        ...     "2\n00:00:01,000 --> 00:00:02,000\n[latitude: 29.3] [longitude: north]\n\n"
        ...     "3\n00:00:02,000 --> 00:00:03,000\n[latitude: 29.3] [longitude: 106.2]\n\n4\n"
        ... )
        >>> report = parse_srt_report(text)
        >>> [(s.t_s, s.lat_deg) for s in report.samples], report.no_fix
        ([(0.0, None), (1.0, None), (2.0, 29.3)], 2)
        >>> for damage in report.damaged:
        ...     print(damage)
        line 7: longitude value 'north' is not a number
        line 13: cue 4 has no time range (file truncated?)
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise SrtParseError("file is empty")
    cues, damaged = _split_cues(lines)
    samples: list[TelemetrySample] = []
    for cue in cues:
        try:
            samples.append(_sample_from_cue(cue))
        except SrtParseError as exc:
            damaged.append(SrtDamage(exc.line_no, exc.reason))
            samples.append(
                TelemetrySample(
                    t_s=cue.start_s, end_t_s=cue.end_s, line_no=cue.time_line_no, damage=str(exc)
                )
            )
    if all(s.damage is not None for s in samples):
        first = min(damaged, key=lambda d: d.line_no or 0)
        raise SrtParseError(first.reason, line_no=first.line_no)
    samples.sort(key=lambda s: s.t_s)
    damaged.sort(key=lambda d: d.line_no or 0)
    return SrtReport(tuple(samples), tuple(damaged))


def read_srt(path: str | Path) -> list[TelemetrySample]:
    r"""Read and parse a DJI ``.SRT`` file.

    Args:
        path: The file. It is read as UTF-8 (with or without BOM).

    Raises:
        SrtParseError: The file is not UTF-8 text or does not parse (see :func:`parse_srt`).
        OSError: The file cannot be read.

    Examples:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile("wb", suffix=".SRT", delete=False) as f:
        ...     _ = f.write(b"1\n00:00:00,000 --> 00:00:01,000\n\xff\xfe\n")
        >>> read_srt(f.name)
        Traceback (most recent call last):
        ...
        detection.errors.SrtParseError: line 3: not UTF-8 text
        >>> os.unlink(f.name)
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data[: exc.start].count(b"\n") + 1
        raise SrtParseError("not UTF-8 text", line_no=line_no) from exc
    return parse_srt(text)


def _split_cues(lines: Sequence[str]) -> tuple[list[_Cue], list[SrtDamage]]:
    """Group lines into cues: counter, time range, payload up to a blank line.

    A block that is not a cue (garbage, a cue cut after its number or time range) is
    skipped up to the next blank line and reported.
    """
    cues: list[_Cue] = []
    damaged: list[SrtDamage] = []
    i = 0
    n = len(lines)

    def skip_block(start: int) -> int:
        while start < n and lines[start].strip():
            start += 1
        return start

    while i < n:
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        index_line_no = i + 1
        if _TIME_RANGE.match(line):  # some tools drop the cue numbers: accept the time
            line = str(len(cues) + 1)
        elif not line.isdigit():
            damaged.append(SrtDamage(i + 1, f"expected a cue number, got {_clip(line)!r}"))
            i = skip_block(i)
            continue
        else:
            i += 1
        if i >= n or not lines[i].strip():
            damaged.append(
                SrtDamage(index_line_no, f"cue {line} has no time range (file truncated?)")
            )
            continue
        match = _TIME_RANGE.match(lines[i])
        if match is None:
            damaged.append(
                SrtDamage(
                    i + 1,
                    "expected a time range 'HH:MM:SS,mmm --> HH:MM:SS,mmm', "
                    f"got {_clip(lines[i])!r}",
                )
            )
            i = skip_block(i)
            continue
        start_s = _seconds(*match.group(1, 2, 3, 4))
        end_s = _seconds(*match.group(5, 6, 7, 8))
        if end_s < start_s:
            damaged.append(
                SrtDamage(
                    i + 1, f"time range ends before it starts ({start_s:.3f} s > {end_s:.3f} s)"
                )
            )
            i = skip_block(i)
            continue
        time_line_no = i + 1
        i += 1
        payload: list[tuple[int, str]] = []
        while i < n and lines[i].strip():
            payload.append((i + 1, lines[i]))
            i += 1
        if not payload:
            damaged.append(
                SrtDamage(
                    time_line_no,
                    f"cue {line} has no telemetry after its time range (file truncated?)",
                )
            )
            continue
        cues.append(_Cue(index_line_no, time_line_no, start_s, end_s, payload))
    if not cues:
        first = damaged[0]
        raise SrtParseError(first.reason, line_no=first.line_no)
    return cues, damaged


def _sample_from_cue(cue: _Cue) -> TelemetrySample:
    """Turn one cue's payload into a sample; raise on truncated or bad values."""
    values: dict[str, float] = {}
    heights: dict[str, float] = {}
    recorded_at: datetime | None = None
    open_font_line: int | None = None
    for line_no, raw in cue.payload:
        line = raw.rstrip().removesuffix("\\")
        if "<font" in line.lower():
            open_font_line = line_no
        if "</font>" in line.lower():
            open_font_line = None
        text = _TAG.sub(" ", line)
        if text.count("[") != text.count("]") or text.count("(") != text.count(")"):
            raise SrtParseError(
                f"unbalanced brackets in {_clip(text.strip())!r} (file truncated?)",
                line_no=line_no,
            )
        empty = _KEY_WITHOUT_VALUE.search(text)
        if empty is not None and empty.group(1).lower() in _FIELDS:
            raise SrtParseError(f"{empty.group(1)} has no value", line_no=line_no)
        if recorded_at is None:
            recorded_at = _datetime(text, line_no)
        for name, body in _TUPLE.findall(text):
            if name.upper() in ("GPS", "RTK") and "lat_deg" not in values:
                values.update(_gps_tuple(body, line_no))
        text = _TUPLE.sub(" ", text)
        for which, body in _ATTITUDE.findall(text):
            prefix = "drone" if which.upper() == "F" else "gimbal"
            for axis, raw_angle in zip(("pitch", "roll", "yaw"), body.split(","), strict=False):
                angle_field = f"{prefix}_{axis}_deg"
                if angle_field not in values:
                    values[angle_field] = _field_value(
                        f"{which}.PRY", raw_angle.replace("°", "").strip(), angle_field, line_no
                    )
        text = _ATTITUDE.sub(" ", text)
        for key, raw_height in _HEIGHT.findall(text):
            heights[key] = _number(raw_height, key, line_no)
        text = _HEIGHT.sub(" ", text)
        for key, raw_value in _KEY_VALUE.findall(text):
            field_name = _FIELDS.get(key.lower())
            if field_name is None or field_name in values:
                continue
            if raw_value.upper() in _NO_VALUE:  # "N/A": the drone had no value to write
                continue
            values[field_name] = _field_value(key, raw_value, field_name, line_no)
    if open_font_line is not None:
        raise SrtParseError("<font> tag is never closed (file truncated?)", line_no=open_font_line)
    if "rel_alt_m" not in values:
        for key in _HEIGHT_ORDER:
            if key in heights:
                values["rel_alt_m"] = heights[key]
                break
    lon = values.get("lon_deg")
    lat = values.get("lat_deg")
    if lon == 0.0 and lat == 0.0:  # no GPS lock yet
        lon = lat = None
    frame_cnt = values.get("frame_cnt")
    return TelemetrySample(
        t_s=cue.start_s,
        end_t_s=cue.end_s,
        line_no=cue.time_line_no,
        frame_cnt=None if frame_cnt is None else int(frame_cnt),
        recorded_at=recorded_at,
        lon_deg=lon,
        lat_deg=lat,
        rel_alt_m=values.get("rel_alt_m"),
        abs_alt_m=values.get("abs_alt_m"),
        gimbal_yaw_deg=values.get("gimbal_yaw_deg"),
        gimbal_pitch_deg=values.get("gimbal_pitch_deg"),
        gimbal_roll_deg=values.get("gimbal_roll_deg"),
        drone_yaw_deg=values.get("drone_yaw_deg"),
        drone_pitch_deg=values.get("drone_pitch_deg"),
        drone_roll_deg=values.get("drone_roll_deg"),
        focal_len_mm=values.get("focal_len_mm"),
        dzoom_ratio=values.get("dzoom_ratio"),
    )


def _gps_tuple(body: str, line_no: int) -> dict[str, float]:
    """Read ``GPS(...)``: (lat, lon, altM) when the third value ends in M, else (lon, lat, sats)."""
    parts = [p.strip() for p in body.split(",")]
    if len(parts) < 2:
        raise SrtParseError(f"GPS({body}) needs at least two numbers", line_no=line_no)
    if parts[0].upper() in _NO_VALUE or parts[1].upper() in _NO_VALUE:
        return {}  # GPS(N/A,N/A,n): no fix in this cue
    first = _number(parts[0], "GPS", line_no)
    second = _number(parts[1], "GPS", line_no)
    third = parts[2] if len(parts) > 2 else ""
    result: dict[str, float] = {}
    if third.upper().endswith("M"):
        lat, lon = first, second
        result["abs_alt_m"] = _number(third[:-1], "GPS altitude", line_no)
    else:
        lon, lat = first, second
    if abs(lat) > 90 and abs(lon) <= 90:  # the order written cannot be right: swap
        lat, lon = lon, lat
    result["lat_deg"] = _checked_lat(lat, line_no)
    result["lon_deg"] = _checked_lon(lon, line_no)
    return result


def _field_value(key: str, raw: str, field_name: str, line_no: int) -> float:
    """Convert one known value, undoing the integer encodings of older firmware."""
    value = _number(raw, key, line_no)
    is_integer_text = "." not in raw
    if field_name == "lat_deg":
        return _checked_lat(value, line_no)
    if field_name == "lon_deg":
        return _checked_lon(value, line_no)
    if field_name == "focal_len_mm" and is_integer_text and value >= 100:
        return value / 10  # "240" means 24.0 mm on older firmware
    if field_name == "dzoom_ratio" and is_integer_text and value >= 100:
        return value / 10000  # "10000" means 1.0x on older firmware
    if field_name in _ANGLE_FIELDS and abs(value) > 360:
        raise SrtParseError(f"{key} {raw} is not an angle in degrees", line_no=line_no)
    return value


def _number(raw: str, key: str, line_no: int) -> float:
    """Leading number of ``raw`` (units such as ``m`` or ``ms`` after it are dropped)."""
    match = _NUMBER.match(raw.strip())
    if match is None:
        raise SrtParseError(f"{key} value {raw!r} is not a number", line_no=line_no)
    value = float(match.group(0))
    if not math.isfinite(value):
        raise SrtParseError(f"{key} value {raw!r} is not finite", line_no=line_no)
    return value


def _checked_lat(value: float, line_no: int) -> float:
    if not -90 <= value <= 90:
        raise SrtParseError(f"latitude {value} is outside [-90, 90]", line_no=line_no)
    return value


def _checked_lon(value: float, line_no: int) -> float:
    if not -180 <= value <= 180:
        raise SrtParseError(f"longitude {value} is outside [-180, 180]", line_no=line_no)
    return value


def _datetime(text: str, line_no: int) -> datetime | None:
    """First wall-clock timestamp in ``text`` (``2024-11-24 17:38:03.576``, ``2022.06.21``)."""
    match = _DATETIME.search(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = match.group(7) or "0"
    microsecond = int(fraction.ljust(6, "0")[:6])
    if match.group(8) is not None and len(fraction) == 3:  # "40,774,808": ms then us
        microsecond += int(match.group(8))
    try:
        at = datetime(year, month, day, hour, minute, second, microsecond)
    except ValueError as exc:
        raise SrtParseError(f"bad date/time {match.group(0)!r}: {exc}", line_no=line_no) from exc
    offset = match.group(9)
    if offset is None:
        return at
    return at.replace(tzinfo=_zone_of(offset.upper(), line_no))


def _zone_of(offset: str, line_no: int) -> timezone:
    """``Z``/``UTC``/``GMT``, ``+08:00``, ``+0800`` or ``UTC+8`` as a fixed zone."""
    if offset in ("Z", "UTC", "GMT"):
        return UTC
    match = _OFFSET.match(offset)
    if match is None:
        raise SrtParseError(f"bad UTC offset {offset!r}", line_no=line_no)
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes >= 60:
        raise SrtParseError(f"bad UTC offset {offset!r}", line_no=line_no)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _seconds(hours: str, minutes: str, seconds: str, millis: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(millis.ljust(3, "0")) / 1000


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def telemetry_at(
    samples: Sequence[TelemetrySample],
    t_s: float,
    *,
    max_gap_s: float = 1.0,
    nearest: bool = False,
) -> TelemetrySample:
    """Return the drone state at video time ``t_s``, interpolated between cues.

    Numeric fields are interpolated linearly between the two cues around ``t_s`` (yaw
    angles the short way round the circle); a field only one neighbour has is taken from
    the nearer neighbour when that is the one that has it, else left out. Outside the file's
    range, the first or last sample is used if it is within ``max_gap_s``.

    Args:
        samples: Parsed samples in time order (as :func:`parse_srt` returns them).
        t_s: Video time, in seconds from the start.
        max_gap_s: Largest distance in time to the nearest sample that is accepted.
        nearest: Return the nearest cue as written instead of interpolating.

    Raises:
        TelemetryGapError: No sample within ``max_gap_s`` of ``t_s``.

    Examples:
        >>> a = TelemetrySample(t_s=0.0, end_t_s=1.0, line_no=2, lon_deg=10.0, lat_deg=50.0,
        ...                     rel_alt_m=40.0, gimbal_yaw_deg=350.0)
        >>> b = TelemetrySample(t_s=1.0, end_t_s=2.0, line_no=6, lon_deg=10.001, lat_deg=50.0,
        ...                     rel_alt_m=50.0, gimbal_yaw_deg=10.0)
        >>> mid = telemetry_at([a, b], 0.5)
        >>> round(mid.lon_deg, 4), mid.rel_alt_m, round(mid.gimbal_yaw_deg, 6)
        (10.0005, 45.0, 0.0)
        >>> telemetry_at([a, b], 5.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        detection.errors.TelemetryGapError: no telemetry within 1 s of t=5.000 s ...
    """
    return TelemetrySeries(samples).at(t_s, max_gap_s=max_gap_s, nearest=nearest)


class TelemetrySeries:
    """The telemetry of one video, sorted by time, for repeated lookups (O(log n) each).

    Examples:
        >>> series = TelemetrySeries([TelemetrySample(t_s=1.0, end_t_s=2.0, line_no=6),
        ...                           TelemetrySample(t_s=0.0, end_t_s=1.0, line_no=2)])
        >>> len(series), series.at(0.2).line_no, series.at(0.9).line_no
        (2, 2, 6)
    """

    __slots__ = ("_times", "samples")

    def __init__(self, samples: Sequence[TelemetrySample]) -> None:
        self.samples = tuple(sorted(samples, key=lambda s: s.t_s))
        self._times = [s.t_s for s in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def at(self, t_s: float, *, max_gap_s: float = 1.0, nearest: bool = False) -> TelemetrySample:
        """The state at video time ``t_s`` (see :func:`telemetry_at`)."""
        samples = self.samples
        if not samples:
            raise TelemetryGapError(f"no telemetry at all for t={t_s:.3f} s")
        right = bisect_right(self._times, t_s)
        if right == 0:
            first = samples[0]
            if first.t_s - t_s > max_gap_s:
                raise _gap(samples, t_s, max_gap_s)
            return first
        before = samples[right - 1]
        if right == len(samples):
            if t_s - max(before.end_t_s, before.t_s) > max_gap_s:
                raise _gap(samples, t_s, max_gap_s)
            return before
        after = samples[right]
        if min(t_s - before.t_s, after.t_s - t_s) > max_gap_s:
            raise _gap(samples, t_s, max_gap_s)
        span = after.t_s - before.t_s
        weight = (t_s - before.t_s) / span if span > 0 else 0.0
        if nearest:
            return before if weight <= 0.5 else after
        return _interpolate(before, after, weight, t_s)


def _gap(samples: Sequence[TelemetrySample], t_s: float, max_gap_s: float) -> TelemetryGapError:
    return TelemetryGapError(
        f"no telemetry within {max_gap_s:g} s of t={t_s:.3f} s "
        f"(file covers {samples[0].t_s:.3f}-{samples[-1].end_t_s:.3f} s)"
    )


def _interpolate(
    a: TelemetrySample, b: TelemetrySample, weight: float, t_s: float
) -> TelemetrySample:
    nearer = a if weight <= 0.5 else b

    def linear(va: float | None, vb: float | None, fallback: float | None) -> float | None:
        if va is None or vb is None:
            return fallback
        return va + (vb - va) * weight

    def circular(va: float | None, vb: float | None, fallback: float | None) -> float | None:
        if va is None or vb is None:
            return fallback
        delta = (vb - va + 180.0) % 360.0 - 180.0
        return (va + delta * weight + 180.0) % 360.0 - 180.0

    a_lon, a_lat, b_lon, b_lat = a.lon_deg, a.lat_deg, b.lon_deg, b.lat_deg
    lon, lat = nearer.lon_deg, nearer.lat_deg
    if a_lon is not None and a_lat is not None and b_lon is not None and b_lat is not None:
        lon = a_lon + (b_lon - a_lon) * weight
        lat = a_lat + (b_lat - a_lat) * weight
    n = nearer
    return replace(
        nearer,
        t_s=t_s,
        end_t_s=max(t_s, nearer.end_t_s),
        lon_deg=lon,
        lat_deg=lat,
        rel_alt_m=linear(a.rel_alt_m, b.rel_alt_m, n.rel_alt_m),
        abs_alt_m=linear(a.abs_alt_m, b.abs_alt_m, n.abs_alt_m),
        gimbal_yaw_deg=circular(a.gimbal_yaw_deg, b.gimbal_yaw_deg, n.gimbal_yaw_deg),
        gimbal_pitch_deg=linear(a.gimbal_pitch_deg, b.gimbal_pitch_deg, n.gimbal_pitch_deg),
        gimbal_roll_deg=linear(a.gimbal_roll_deg, b.gimbal_roll_deg, n.gimbal_roll_deg),
        drone_yaw_deg=circular(a.drone_yaw_deg, b.drone_yaw_deg, n.drone_yaw_deg),
        drone_pitch_deg=linear(a.drone_pitch_deg, b.drone_pitch_deg, n.drone_pitch_deg),
        drone_roll_deg=linear(a.drone_roll_deg, b.drone_roll_deg, n.drone_roll_deg),
        focal_len_mm=linear(a.focal_len_mm, b.focal_len_mm, n.focal_len_mm),
        dzoom_ratio=linear(a.dzoom_ratio, b.dzoom_ratio, n.dzoom_ratio),
    )
