"""The bridge against a real Mosquitto, with a fake device made of a plain MQTT client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
import pytest

from app.dji.bridge import Bridge, BridgeConfig, NullSink, ServiceTimeout, running
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import (
    RESULT_UNSUPPORTED,
    Channel,
    Envelope,
    now_ms,
    parse_envelope,
    request,
    topic,
)
from app.dji.state import OsdFix
from tests.app.dji.conftest import run, unique_sn


class FakeDevice:
    """A gateway: publishes what a dock would and records everything sent to it."""

    def __init__(self, client: aiomqtt.Client, sn: str) -> None:
        self.client = client
        self.sn = sn
        self.inbox: asyncio.Queue[tuple[Channel, Envelope]] = asyncio.Queue()

    async def send(self, channel: Channel, envelope: Envelope, sn: str | None = None) -> None:
        await self.client.publish(topic(sn or self.sn, channel), envelope.to_json(), qos=1)

    async def next(
        self, channel: Channel, tid: str | None = None, timeout_s: float = 5
    ) -> Envelope:
        async def wait() -> Envelope:
            while True:
                got_channel, envelope = await self.inbox.get()
                if got_channel is channel and (tid is None or envelope.tid == tid):
                    return envelope

        return await asyncio.wait_for(wait(), timeout_s)

    async def nothing(self, channel: Channel, tid: str, within_s: float = 1.0) -> bool:
        try:
            await self.next(channel, tid, within_s)
        except TimeoutError:
            return True
        return False


@asynccontextmanager
async def device(url: str, sn: str) -> AsyncIterator[FakeDevice]:
    async with BrokerAddress.parse(url).client(identifier=f"fake-{sn}") as client:
        fake = FakeDevice(client, sn)
        for channel in (
            Channel.status_reply,
            Channel.requests_reply,
            Channel.events_reply,
            Channel.services,
        ):
            await client.subscribe(topic(sn, channel), qos=1)

        async def read() -> None:
            async for message in client.messages:
                channel = Channel(message.topic.value.split("/", 3)[3])
                assert isinstance(message.payload, bytes)
                await fake.inbox.put((channel, parse_envelope(message.payload)))

        task = asyncio.create_task(read())
        try:
            yield fake
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def bridge_and_device(url: str, **config: Any) -> AsyncIterator[tuple[Bridge, FakeDevice]]:
    bridge = Bridge(
        BridgeConfig(broker=BrokerAddress.parse(url), client_id=unique_sn("test-bridge-"), **config)
    )
    async with running(bridge), device(url, unique_sn("DOCK")) as fake:
        await asyncio.wait_for(bridge.connected.wait(), 10)
        yield bridge, fake


def test_update_topo_is_answered_with_status_reply(broker_url: str) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url) as (_bridge, fake):
            aircraft = unique_sn("AC")
            topo = request(
                "update_topo",
                {
                    "domain": "3",
                    "type": 3,
                    "sub_type": 0,
                    "device_secret": "s",
                    "nonce": "n",
                    "thing_version": "1.2.0",
                    "sub_devices": [
                        {
                            "sn": aircraft,
                            "domain": 0,
                            "type": 100,
                            "sub_type": 1,
                            "index": "A",
                            "device_secret": "s",
                            "nonce": "n",
                            "thing_version": "1.2.0",
                        }
                    ],
                },
                gateway=fake.sn,
            )
            await fake.send(Channel.status, topo)
            reply = await fake.next(Channel.status_reply, topo.tid)
            assert (reply.bid, reply.method, reply.data) == (topo.bid, "update_topo", {"result": 0})

            broken = request("update_topo", {"sub_devices": []}, gateway=fake.sn)
            await fake.send(Channel.status, broken)
            refused = await fake.next(Channel.status_reply, broken.tid)
            assert refused.data["result"] != 0

    run(scenario())


def test_config_request_gets_the_ntp_host_and_unknown_requests_a_non_zero_result(
    broker_url: str,
) -> None:
    async def scenario() -> None:
        async with bridge_and_device(
            broker_url, ntp_server_host="ntp.police.example", ntp_server_port=1123, app_id="123"
        ) as (_bridge, fake):
            ask = request(
                "config", {"config_type": "json", "config_scope": "product"}, gateway=fake.sn
            )
            await fake.send(Channel.requests, ask)
            reply = await fake.next(Channel.requests_reply, ask.tid)
            assert reply.method == "config"
            assert reply.bid == ask.bid
            assert reply.data["result"] == 0
            assert set(reply.data["output"]) == {
                "app_id",
                "app_key",
                "app_license",
                "ntp_server_host",
                "ntp_server_port",
            }
            assert reply.data["output"]["ntp_server_host"] == "ntp.police.example"
            assert reply.data["output"]["ntp_server_port"] == 1123

            other = request(
                "airport_organization_get", {"device_binding_code": "x"}, gateway=fake.sn
            )
            await fake.send(Channel.requests, other)
            refused = await fake.next(Channel.requests_reply, other.tid)
            assert refused.data["result"] == RESULT_UNSUPPORTED != 0
            assert refused.method == "airport_organization_get"

    run(scenario())


def test_events_needing_a_reply_get_one_and_duplicates_are_acted_on_once(
    broker_url: str,
) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url) as (bridge, fake):
            seen: list[str] = []
            bridge.on_event.append(lambda sn, e: seen.append(e.tid) if sn == fake.sn else None)
            event = Envelope(
                tid="ev-" + unique_sn(""),
                bid=unique_sn("b"),
                timestamp=1_700_000_000_000,
                method="fly_to_point_progress",
                data={"result": 0},
                gateway=fake.sn,
                need_reply=1,
            )
            for _ in range(2):  # redelivered: answered both times
                await fake.send(Channel.events, event)
                reply = await fake.next(Channel.events_reply, event.tid)
                assert (reply.bid, reply.method, reply.data) == (
                    event.bid,
                    "fly_to_point_progress",
                    {"result": 0},
                )
            quiet = Envelope(
                tid="ev-" + unique_sn(""),
                bid=unique_sn("b"),
                timestamp=1_700_000_000_500,
                method="hms",
                data={"list": []},
                gateway=fake.sn,
                need_reply=0,
            )
            await fake.send(Channel.events, quiet)
            assert await fake.nothing(Channel.events_reply, quiet.tid)
            assert seen == [event.tid, quiet.tid]

    run(scenario())


def test_a_service_without_reply_is_resent_with_a_new_tid_and_the_same_bid(
    broker_url: str,
) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url, service_timeout_s=0.5) as (bridge, fake):
            calls: list[Envelope] = []

            async def answer_the_second() -> None:
                while True:
                    call = await fake.next(Channel.services)
                    calls.append(call)
                    if len(calls) == 2:
                        await fake.send(
                            Channel.services_reply,
                            call.reply({"result": 0, "output": {"status": "ok"}}),
                        )

            device_task = asyncio.create_task(answer_the_second())
            try:
                reply = await bridge.call(fake.sn, "return_home", {})
            finally:
                device_task.cancel()
            assert reply.ok
            assert reply.attempts == 2
            assert reply.output == {"status": "ok"}
            assert len(calls) == 2
            assert calls[0].tid != calls[1].tid
            assert calls[0].bid == calls[1].bid == reply.bid
            assert calls[0].method == calls[1].method == "return_home"
            assert reply.tid == calls[1].tid

    run(scenario())


def test_a_service_never_answered_times_out_after_the_resends(broker_url: str) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url, service_timeout_s=0.3, service_retries=2) as (
            bridge,
            fake,
        ):
            with pytest.raises(ServiceTimeout):
                await bridge.call(fake.sn, "flighttask_pause", {})
            tids = set()
            while not fake.inbox.empty():
                channel, envelope = fake.inbox.get_nowait()
                if channel is Channel.services:
                    tids.add(envelope.tid)
            assert len(tids) == 3  # the first send and two resends, each its own tid

    run(scenario())


def test_a_reply_with_another_bid_does_not_complete_the_call(broker_url: str) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url, service_timeout_s=0.4, service_retries=0) as (
            bridge,
            fake,
        ):

            async def wrong_bid() -> None:
                call = await fake.next(Channel.services)
                forged = Envelope(call.tid, "other-bid", call.timestamp, call.method, {"result": 0})
                await fake.send(Channel.services_reply, forged)

            task = asyncio.create_task(wrong_bid())
            with pytest.raises(ServiceTimeout):
                await bridge.call(fake.sn, "return_home", {})
            await task

    run(scenario())


def test_osd_from_the_wire_is_merged_per_serial(broker_url: str) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url) as (bridge, fake):
            aircraft = unique_sn("AC")
            for stamp, data in (
                (2_000, {"latitude": 30.5, "longitude": 114.3}),
                (3_000, {"elevation": 40.0}),
                (1_000, {"latitude": 1.0, "mode_code": 5}),
            ):
                await fake.send(
                    Channel.osd,
                    Envelope("t", "b", 1_700_000_000_000 + stamp, "", data, gateway=fake.sn),
                    sn=aircraft,
                )
            for _ in range(50):
                state = bridge.states.get(aircraft)
                if state is not None and "mode_code" in state.values:
                    break
                await asyncio.sleep(0.1)
            assert state is not None
            assert state.values == {
                "latitude": 30.5,
                "longitude": 114.3,
                "elevation": 40.0,
                "mode_code": 5,
            }

    run(scenario())


def test_payload_shapes_sent_are_json_objects_with_the_envelope_keys(broker_url: str) -> None:
    async def scenario() -> None:
        async with bridge_and_device(broker_url) as (_bridge, fake):
            raw: list[dict[str, Any]] = []
            ask = request("config", {"config_type": "json", "config_scope": "product"})
            async with BrokerAddress.parse(broker_url).client(identifier=unique_sn("spy-")) as spy:
                await spy.subscribe(topic(fake.sn, Channel.requests_reply), qos=1)
                await fake.send(Channel.requests, ask)
                async for message in spy.messages:
                    assert isinstance(message.payload, bytes)
                    body = json.loads(message.payload)
                    if body.get("tid") == ask.tid:
                        raw.append(body)
                        break
            assert set(raw[0]) == {"tid", "bid", "timestamp", "method", "data"}
            assert isinstance(raw[0]["timestamp"], int)

    run(scenario())


class FixSink(NullSink):
    """Records the aircraft fixes the bridge hands to the telemetry ingest."""

    def __init__(self) -> None:
        self.fixes: list[str] = []

    def osd(self, sn: str, fix: OsdFix) -> None:
        self.fixes.append(sn)


def test_only_aircraft_osd_goes_to_the_telemetry_ingest_not_the_gateway_s_own(
    broker_url: str,
) -> None:
    """A dock's OSD carries the dock's position: merged into its state (preflight reads its
    weather), never looked up as a drone's telemetry (90 % of a dock fleet's messages)."""
    sink = FixSink()

    async def scenario() -> None:
        bridge = Bridge(
            BridgeConfig(broker=BrokerAddress.parse(broker_url), client_id=unique_sn("fix-")),
            sink,
        )
        async with running(bridge), device(broker_url, unique_sn("DOCK")) as fake:
            await asyncio.wait_for(bridge.connected.wait(), 10)
            aircraft = unique_sn("AC")
            where = {"latitude": 30.5, "longitude": 114.3, "height": 30.0}
            await fake.send(Channel.osd, Envelope("t1", "b", now_ms(), "", where, gateway=fake.sn))
            await fake.send(
                Channel.osd,
                Envelope("t2", "b", now_ms(), "", where, gateway=fake.sn),
                sn=aircraft,
            )
            for _ in range(50):
                if sink.fixes and bridge.states.get(fake.sn) is not None:
                    break
                await asyncio.sleep(0.1)
            await bridge.drain()
            dock = bridge.states.get(fake.sn)
            assert dock is not None
            assert dock.values["latitude"] == 30.5
            assert sink.fixes == [aircraft]

    run(scenario())
