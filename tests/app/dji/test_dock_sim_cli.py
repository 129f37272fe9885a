"""``waterguard dock-sim`` and ``waterguard pilot-sim`` against the real broker, answered by a
bridge."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from typer.testing import CliRunner

from app.cli import cli
from app.dji.bridge import Bridge, BridgeConfig, running
from app.dji.mqtt import BrokerAddress
from tests.app.dji.conftest import unique_sn


@contextmanager
def bridge_beside(broker_url: str) -> Iterator[None]:
    """A bridge (no database) answering on ``broker_url`` in a thread, for the block."""
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
        yield
    finally:
        stop.set()
        thread.join(15)


def osd_sent(output: str) -> int:
    return int(output.split("OSD sent: ")[1].split(";")[0])


def test_dock_sim_onboards_sends_osd_and_goes_offline(broker_url: str) -> None:
    with bridge_beside(broker_url):
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
    assert result.exit_code == 0, result.output
    assert "aircraft offline" in result.output
    assert "ntp.test.example" in result.output
    assert 5 <= osd_sent(result.output) <= 20  # 10 Hz for about 1.5 s, then silent


def test_dock_sim_refuses_a_bad_broker_url() -> None:
    result = CliRunner().invoke(
        cli, ["dock-sim", "--broker", "http://example", "--duration-s", "1"]
    )
    assert result.exit_code == 2
    assert "mqtt://" in result.output


def test_pilot_sim_reports_its_topology_and_osd_until_switched_off(broker_url: str) -> None:
    with bridge_beside(broker_url):
        result = CliRunner().invoke(
            cli,
            [
                "pilot-sim",
                "--broker",
                broker_url,
                "--rc-sn",
                unique_sn("SIMRC"),
                "--aircraft-sn",
                unique_sn("SIMPAC"),
                "--aircraft",
                "m30t",
                "--osd-hz",
                "10",
                "--aircraft-off-after-s",
                "1.5",
                "--offline-after-s",
                "2.0",
                "--duration-s",
                "2.5",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "(2-119-0)" in result.output  # an M30T flies from an RC Plus
    assert "topology answered: yes" in result.output
    assert "aircraft switched off" in result.output
    assert "controller silent" in result.output
    assert "services refused: none" in result.output
    assert 5 <= osd_sent(result.output) <= 20  # the aircraft's: 10 Hz for about 1.5 s


def test_pilot_sim_refuses_an_aircraft_pilot_2_does_not_fly() -> None:
    result = CliRunner().invoke(
        cli, ["pilot-sim", "--broker", "mqtt://127.0.0.1:1", "--aircraft", "m4td"]
    )
    assert result.exit_code == 2
    assert "m4t" in result.output
