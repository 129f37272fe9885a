"""The speaker and searchlight messages against the fact sheet (section 5 and 8): names,
fields, enums; progress events read tolerantly. Pure, no broker."""

from __future__ import annotations

import doctest
import hashlib

import pytest

from app.dji import speaker
from app.dji.speaker import (
    LightMode,
    PlayMode,
    SpeakerMethod,
    distance_m,
    drc_message,
    parse_progress,
    psdk_index_of,
    speaker_settings,
    tts_md5,
    tts_play_start,
)


def test_the_doctests_hold() -> None:
    assert doctest.testmod(speaker).failed == 0


def test_method_names_are_the_fact_sheets() -> None:
    assert {m.value for m in SpeakerMethod} == {
        "speaker_tts_play_start",
        "speaker_play_stop",
        "speaker_play_volume_set",
        "speaker_play_mode_set",
        "speaker_tts_play_start_progress",
        "drc_mode_enter",
        "drc_mode_exit",
        "heart_beat",
        "drc_light_mode_set",
        "drc_light_brightness_set",
    }


def test_enums_are_the_fact_sheets() -> None:
    assert [(m.name, m.value) for m in PlayMode] == [("single", 0), ("loop", 1)]
    assert [(m.name, m.value) for m in LightMode] == [
        ("off", 0),
        ("steady", 1),
        ("strobe", 2),
        ("fast_strobe", 3),
        ("alternating_strobe", 4),
    ]


def test_tts_play_start_carries_psdk_index_and_the_tts_struct() -> None:
    text = "请立即上岸"
    md5 = tts_md5(text, "w")
    data = tts_play_start(2, name="w", text=text, md5=md5)

    assert data == {"psdk_index": 2, "tts": {"name": "w", "text": text, "md5": md5}}
    assert md5 == hashlib.md5(text.encode("utf-8")).hexdigest()
    assert tts_md5(text, "w", source="name_text") == hashlib.md5(("w" + text).encode()).hexdigest()


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        ({"result": 0, "output": {"status": "in_progress"}}, "playing", None),
        ({"result": 0, "output": {"status": "ok"}}, "played", None),
        ({"result": 0, "output": {"status": "success"}}, "played", None),  # the TTS example
        ({"result": 316001, "output": {"status": "in_progress"}}, "failed", "316001"),
        ({"result": 0, "output": {"status": "failed"}}, "failed", "failed"),
        ({"result": "x", "output": None}, "failed", "-1"),
    ],
)
def test_progress_events_read_as_a_status(
    data: dict[str, object], status: str, reason: str | None
) -> None:
    progress = parse_progress(data)

    assert progress.status == status
    if reason is None:
        assert progress.reason is None
    else:
        assert reason in (progress.reason or "")


def test_progress_keeps_md5_percent_and_step() -> None:
    progress = parse_progress(
        {
            "result": 0,
            "output": {
                "psdk_index": 2,
                "status": "in_progress",
                "md5": "abc",
                "progress": {"percent": 40, "step_key": "upload"},
            },
        }
    )
    assert (progress.md5, progress.psdk_index, progress.percent, progress.step_key) == (
        "abc",
        2,
        40,
        "upload",
    )


def test_the_psdk_port_and_speaker_settings_come_from_state() -> None:
    state = {
        "psdk_widget_values": [
            {"psdk_index": 1, "psdk_name": "AL1 Searchlight"},
            {"psdk_index": 3, "psdk_name": "x", "speaker": {"play_volume": 70, "play_mode": 1}},
        ]
    }
    assert psdk_index_of(state, "searchlight", 2) == 1
    assert psdk_index_of(state, "speaker", 2) == 3
    assert psdk_index_of({"psdk_widget_values": [{"psdk_index": 9}]}, "speaker", 2) == 2
    assert speaker_settings(state, 3) == (70, 1)
    assert speaker_settings(state, 1) == (None, None)


def test_drc_messages_have_seq_and_no_tid_or_bid() -> None:
    message = drc_message("heart_beat", {"timestamp": 1}, 3)
    assert message == {"method": "heart_beat", "data": {"timestamp": 1}, "seq": 3}
    assert "tid" not in message
    assert "bid" not in message


def test_distance_is_symmetric_and_zero_on_the_spot() -> None:
    assert distance_m(106.259, 29.2975, 106.259, 29.2975) == 0
    there = distance_m(106.259, 29.2975, 106.27, 29.30)
    back = distance_m(106.27, 29.30, 106.259, 29.2975)
    assert there == pytest.approx(back)
    assert 1_000 < there < 1_200
