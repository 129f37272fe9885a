"""``waterguard dock-sim`` against the real broker, answered by a bridge."""

from __future__ import annotations

import asyncio
import threading

from typer.testing import CliRunner

from app.cli import cli
from app.dji.bridge import Bridge, BridgeConfig, running
from app.dji.mqtt import BrokerAddress
from tests.app.dji.conftest import unique_sn


def test_dock_sim_onboards_sends_osd_and_goes_offline(broker_url: str) -> None:
    ready, stop = threading.Event(), threading.Event()

    def serve() -> None:
        async def main() -> None:
            bridge = Bridge(
                BridgeConfig(
                    broker=BrokerAddress.parse(broker_url),
                    client_id=unique_sn("bridge-"),
                    ntp_server_host="ntp.test.example",
                )
            )
            async with running(bridge):
                await asyncio.wait_for(bridge.connected.wait(), 10)
                ready.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(15)
        result = CliRunner().invoke(
            cli,
            [
                "dock-sim",
                "--broker",
                broker_url,
                "--dock-sn",
                unique_sn("SIMDOCK"),
                "--aircraft-sn",
                unique_sn("SIMAC"),
                "--osd-hz",
                "10",
                "--offline-after-s",
                "1.5",
                "--duration-s",
                "2.5",
            ],
        )
    finally:
        stop.set()
        thread.join(15)
    assert result.exit_code == 0, result.output
    assert "aircraft offline" in result.output
    assert "ntp.test.example" in result.output
    sent = int(result.output.split("OSD sent: ")[1].split(";")[0])
    assert 5 <= sent <= 20  # 10 Hz for about 1.5 s, then silent


def test_dock_sim_refuses_a_bad_broker_url() -> None:
    result = CliRunner().invoke(
        cli, ["dock-sim", "--broker", "http://example", "--duration-s", "1"]
    )
    assert result.exit_code == 2
    assert "mqtt://" in result.output
