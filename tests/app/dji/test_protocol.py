"""The pure half of the bridge: names and enums from the fact sheet, tolerant parsing,
merging partial and out-of-order state, idempotent events, the broker files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.dji import broker
from app.dji.protocol import (
    DEVICE_PUBLISHES,
    DEVICE_RECEIVES,
    GATEWAY_KEYS,
    AircraftModeCode,
    Channel,
    DockModeCode,
    ModelKey,
    ProtocolError,
    Rainfall,
    SubDevice,
    parse_envelope,
    parse_topic,
    parse_topology,
    request,
    topic,
)
from app.dji.state import EventLog, StateBook, osd_fix

# The topic table of the fact sheet (section 1), verbatim.
FACT_SHEET_TOPICS = {
    Channel.osd: "thing/product/{sn}/osd",
    Channel.state: "thing/product/{sn}/state",
    Channel.services: "thing/product/{sn}/services",
    Channel.services_reply: "thing/product/{sn}/services_reply",
    Channel.events: "thing/product/{sn}/events",
    Channel.events_reply: "thing/product/{sn}/events_reply",
    Channel.requests: "thing/product/{sn}/requests",
    Channel.requests_reply: "thing/product/{sn}/requests_reply",
    Channel.status: "sys/product/{sn}/status",
    Channel.status_reply: "sys/product/{sn}/status_reply",
    Channel.property_set: "thing/product/{sn}/property/set",
    Channel.property_set_reply: "thing/product/{sn}/property/set_reply",
    Channel.drc_up: "thing/product/{sn}/drc/up",
    Channel.drc_down: "thing/product/{sn}/drc/down",
}


def test_topics_are_the_fact_sheets_and_parse_back() -> None:
    assert set(FACT_SHEET_TOPICS) == set(Channel)
    for channel, pattern in FACT_SHEET_TOPICS.items():
        name = topic("7CTDM3D00B0001", channel)
        assert name == pattern.format(sn="7CTDM3D00B0001")
        assert parse_topic(name) == ("7CTDM3D00B0001", channel)
    assert set(DEVICE_PUBLISHES) | set(DEVICE_RECEIVES) == set(Channel)


@pytest.mark.parametrize(
    "name",
    ["thing/product/X/status", "sys/product/X/osd", "thing/product//osd", "thing/x/X/osd", "a/b"],
)
def test_foreign_topics_are_refused(name: str) -> None:
    with pytest.raises(ProtocolError):
        parse_topic(name)


def test_model_keys_and_enums_are_the_fact_sheets() -> None:
    assert {k.name: k.value for k in ModelKey} == {
        "dock": "3-1-0",
        "dock2": "3-2-0",
        "dock3": "3-3-0",
        "m30": "0-67-0",
        "m30t": "0-67-1",
        "m3d": "0-91-0",
        "m3td": "0-91-1",
        "m4d": "0-100-0",
        "m4td": "0-100-1",
        "m4e": "0-99-0",
        "m4t": "0-99-1",
        "m350": "0-89-0",
        "m300": "0-60-0",
        "m400": "0-103-0",
        "rc_plus": "2-119-0",
        "rc_plus_2": "2-174-0",
        "rc_pro": "2-144-0",
    }
    assert {k.split("-")[0] for k in GATEWAY_KEYS} == {"2", "3"}
    assert [int(m) for m in DockModeCode] == list(range(6))
    assert [int(m) for m in AircraftModeCode] == list(range(22))
    assert int(AircraftModeCode.wayline) == 5
    assert int(AircraftModeCode.auto_rth) == 9
    assert [int(r) for r in Rainfall] == [0, 1, 2, 3]


def test_envelope_round_trip_and_reply_echoes_tid_bid_method() -> None:
    sent = request("config", {"config_type": "json"}, gateway="D1")
    body = json.loads(sent.to_json())
    assert set(body) == {"tid", "bid", "timestamp", "method", "data", "gateway"}
    assert isinstance(body["timestamp"], int)
    assert body["timestamp"] > 1_600_000_000_000
    parsed = parse_envelope(sent.to_json())
    assert parsed == sent
    reply = json.loads(parsed.reply({"result": 0}).to_json())
    assert (reply["tid"], reply["bid"], reply["method"]) == (sent.tid, sent.bid, "config")
    assert reply["data"] == {"result": 0}
    assert "gateway" not in reply


def test_envelope_parsing_is_tolerant_but_refuses_non_objects() -> None:
    odd = parse_envelope(b'{"tid":"t","bid":"b","timestamp:":1700000000000,"need_reply":"1"}')
    assert odd.timestamp == 1_700_000_000_000
    assert odd.need_reply == 1
    assert odd.data == {}
    for bad in (b"[]", b"not json", b'{"timestamp":"soon"}'):
        with pytest.raises(ProtocolError):
            parse_envelope(bad)


def test_topology_accepts_string_and_int_domains() -> None:
    new = parse_topology(
        "D",
        {
            "domain": "3",
            "type": 2,
            "sub_type": 0,
            "sub_devices": [{"sn": "A", "domain": 0, "type": 91, "sub_type": 1, "index": "A"}],
        },
    )
    old = parse_topology(
        "D",
        {
            "domain": 3,
            "type": 2,
            "sub_type": 0,
            "sub_devices": [{"sn": "A", "domain": "0", "type": 91, "sub_type": 1, "index": "A"}],
        },
    )
    assert new == old
    assert new.model_key == ModelKey.dock2
    assert new.sub_devices[0].model_key == ModelKey.m3td
    assert (
        parse_topology("D", {"domain": 3, "type": 2, "sub_type": 0, "sub_devices": []}).sub_devices
        == ()
    )
    with pytest.raises(ProtocolError):
        parse_topology("D", {"type": 2})


def test_topology_without_domain_is_a_controller_with_its_aircraft() -> None:
    # The RC Plus 2 page's update_topo table has no domain (and no index) at either level.
    topo = parse_topology(
        "RC",
        {
            "type": 174,
            "sub_type": 0,
            "thing_version": "1.1.2",
            "sub_devices": [{"sn": "A", "type": 99, "sub_type": 1, "thing_version": "1.1.2"}],
        },
    )

    assert topo.model_key == ModelKey.rc_plus_2
    assert topo.sub_devices == (SubDevice(sn="A", model_key=ModelKey.m4t),)


def test_partial_osd_merges_and_late_messages_do_not_overwrite() -> None:
    book = StateBook()
    book.merge("A", {"latitude": 30.5, "longitude": 114.3}, 2_000)
    book.merge("A", {"battery": {"capacity_percent": 80}, "elevation": 50.0}, 3_000)
    late = book.merge("A", {"latitude": 10.0, "elevation": 1.0, "attitude_head": -90}, 1_000)
    assert late.values["latitude"] == 30.5
    assert late.values["elevation"] == 50.0
    assert late.values["attitude_head"] == -90  # a key nobody set later is taken
    again = book.merge("A", {"battery": {"capacity_percent": 80}, "elevation": 50.0}, 3_000)
    assert again.last_ms == 3_000
    fix = osd_fix(again)
    assert fix is not None
    assert (fix.lon, fix.lat, fix.alt_m, fix.battery_pct, fix.heading_deg) == (
        114.3,
        30.5,
        50.0,
        80.0,
        -90.0,
    )
    assert fix.at == datetime.fromtimestamp(3, tz=UTC)


def test_no_fix_before_gps_and_gimbal_from_the_payload_struct() -> None:
    book = StateBook()
    assert osd_fix(book.merge("A", {"latitude": 0, "longitude": 0}, 1)) is None
    state = book.merge(
        "B",
        {
            "latitude": 30.0,
            "longitude": 114.0,
            "cameras": [{"payload_index": "89-0-0"}],
            "89-0-0": {"gimbal_pitch": -45.0, "gimbal_yaw": 10.0, "gimbal_roll": 0.0},
        },
        5,
    )
    fix = osd_fix(state)
    assert fix is not None
    assert fix.gimbal_pitch_deg == -45.0
    assert fix.gimbal_yaw_deg == 10.0


def test_events_are_acted_on_once() -> None:
    log = EventLog(size=2)
    assert log.first_time("D", "t1", "b1", "hms")
    assert not log.first_time("D", "t1", "b1", "hms")
    assert log.first_time("D", "t2", "b1", "hms")
    assert log.first_time("E", "t1", "b1", "hms")  # another gateway's
    assert log.first_time("D", "t1", "b1", "hms")  # forgotten: the log is bounded


def test_acl_confines_a_gateway_to_its_own_topics() -> None:
    login = broker.BrokerLogin("gw-D1", broker.mosquitto_hash("pw"), "D1", ("A1",))
    acl = broker.render_acl([login], bridge_username="bridge")
    gateway_part = acl.split("user gw-D1\n")[1]
    assert "topic write thing/product/D1/osd\n" in gateway_part
    assert "topic write thing/product/A1/osd\n" in gateway_part
    assert "topic write sys/product/D1/status\n" in gateway_part
    assert "topic read thing/product/D1/services\n" in gateway_part
    assert "topic read sys/product/D1/status_reply\n" in gateway_part
    assert "#" not in gateway_part
    assert "+" not in gateway_part
    assert "topic write thing/product/A1/events\n" not in gateway_part
    passwd = broker.render_passwd([login], [("bridge", broker.mosquitto_hash("b"))])
    user, hashed = passwd.splitlines()[1].split(":", 1)
    assert user == "gw-D1"
    assert hashed.startswith("$7$101$")
    assert broker.verify_mosquitto_hash("pw", hashed)
