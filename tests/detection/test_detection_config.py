"""Detection config: default.yaml is documented, complete, and validated strictly."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from detection import DetectionConfigError
from detection.config import DEFAULT_PATH, DetectorConfig, from_mapping, load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "detection.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_yaml_matches_the_code_defaults() -> None:
    assert load() == DetectorConfig()


def test_every_key_of_default_yaml_is_a_field_with_a_type_meaning_and_tuning_comment() -> None:
    lines = DEFAULT_PATH.read_text(encoding="utf-8").splitlines()
    keys: set[str] = set()
    section = ""
    for line in lines:
        if re.match(r"^\w+:\s*$", line):
            section = line.rstrip(":").strip()
            continue
        match = re.match(r"^  (\w+): .+?  # \(([^)]+)\) ([^;]+); (.+)$", line)
        if line.startswith("  ") and line.strip():
            assert match, f"key line without a '(type) meaning; tuning' comment: {line!r}"
            keys.add(f"{section}.{match.group(1)}")

    expected = {
        f"{section.name}.{key.name}"
        for section in fields(DetectorConfig)
        for key in fields(getattr(DetectorConfig(), section.name))
    }
    assert keys == expected


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, "tiling:\n  tile_px: 1024\nzones:\n  bank_width_m: 5\n"))

    assert config.tiling.tile_px == 1024
    assert config.zones.bank_width_m == 5.0
    assert isinstance(config.zones.bank_width_m, float)
    assert config.tracker == DetectorConfig().tracker


@pytest.mark.parametrize("text", ["", "# nothing\n", "tiling:\n"])
def test_an_empty_file_or_section_gives_the_defaults(tmp_path: Path, text: str) -> None:
    assert load(write(tmp_path, text)) == DetectorConfig()


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"tilling": {}}, "tilling", "unknown section"),
        ({"tiling": {"tile_size": 3}}, "tiling.tile_size", "unknown key"),
        ({"tiling": {"tile_px": 640.5}}, "tiling.tile_px", "expected int, got float"),
        ({"tiling": {"tile_px": True}}, "tiling.tile_px", "expected int, got bool"),
        ({"tiling": {"enabled": 1}}, "tiling.enabled", "expected bool, got int"),
        ({"tiling": {"overlap_ratio": "0.2"}}, "tiling.overlap_ratio", "expected float, got str"),
        ({"tiling": {"overlap_ratio": 0.95}}, "tiling.overlap_ratio", "must be in [0, 0.9]"),
        ({"tiling": {"metric": "giou"}}, "tiling.metric", "must be one of 'iou', 'ios'"),
        ({"tiling": {"tile_px": 0}}, "tiling.tile_px", "must be a positive integer"),
        ({"tiling": {"batch_size": -2}}, "tiling.batch_size", "must be a positive integer"),
        ({"tiling": [1, 2]}, "tiling", "expected a mapping"),
        ({"detector": {"labels": "swimmer"}}, "detector.labels", "expected a list of strings"),
        ({"detector": {"labels": []}}, "detector.labels", "at least one class"),
        ({"detector": {"min_confidence": 1.5}}, "detector.min_confidence", "must be in [0, 1]"),
        ({"tracker": {"name": "sort"}}, "tracker.name", "unknown tracker 'sort'"),
        ({"tracker": {"low_threshold": 0.7}}, "tracker.low_threshold", "must not be above"),
        ({"tracker": {"match_iou": -0.1}}, "tracker.match_iou", "must be in [0, 1]"),
        ({"tracker": {"center_gate": -1}}, "tracker.center_gate", "must not be negative"),
        ({"tracker": {"max_lost_frames": -1}}, "tracker.max_lost_frames", "must not be negative"),
        ({"tracker": {"min_hits": 0}}, "tracker.min_hits", "positive integer"),
        ({"georef": {"min_depression_deg": 0}}, "georef.min_depression_deg", "must be in (0, 90]"),
        ({"georef": {"max_telemetry_gap_s": -1}}, "georef.max_telemetry_gap_s", "not be negative"),
        ({"zones": {"bank_width_m": -5}}, "zones.bank_width_m", "must not be negative"),
        ({"zones": {"hysteresis_frames": 0}}, "zones.hysteresis_frames", "positive integer"),
        ({"sightings": {"merge_gap_s": -1}}, "sightings.merge_gap_s", "must not be negative"),
        ({"sightings": {"merge_distance_m": -1}}, "sightings.merge_distance_m", "not be negative"),
        ({"sightings": {"min_observations": 0}}, "sightings.min_observations", "positive"),
        (["tiling"], "<root>", "expected a mapping of sections"),
    ],
)
def test_bad_keys_and_values_raise_naming_the_key(data: object, key: str, reason: str) -> None:
    with pytest.raises(DetectionConfigError, match=re.escape(reason)) as info:
        from_mapping(data)

    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "tiling: [unclosed\n")

    with pytest.raises(DetectionConfigError, match="not valid YAML") as info:
        load(path)

    assert info.value.key == str(path)


def test_config_is_frozen() -> None:
    config = load()

    with pytest.raises(AttributeError):
        config.tiling.tile_px = 1  # type: ignore[misc]
