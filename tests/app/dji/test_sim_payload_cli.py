"""``waterguard dock-sim --hms-after-s``: an HMS event of the fact sheet's shape, on command."""

from __future__ import annotations

import asyncio
import threading

from typer.testing import CliRunner

from app.cli import cli
from app.dji.bridge import Bridge, BridgeConfig, running
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import Envelope, Method
from tests.app.dji.conftest import unique_sn


def test_dock_sim_sends_an_hms_event_on_command(broker_url: str) -> None:
    ready, stop = threading.Event(), threading.Event()
    events: list[tuple[str, Envelope]] = []
    dock_sn = unique_sn("SIMDOCK")

    def serve() -> None:
        async def main() -> None:
            bridge = Bridge(
                BridgeConfig(broker=BrokerAddress.parse(broker_url), client_id=unique_sn("b-"))
            )
            bridge.on_event.append(lambda sn, e: events.append((sn, e)))
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
                dock_sn,
                "--aircraft-sn",
                unique_sn("SIMAC"),
                "--hms-after-s",
                "0.5",
                "--duration-s",
                "1.5",
            ],
        )
    finally:
        stop.set()
        thread.join(15)
    assert result.exit_code == 0, result.output
    assert "HMS event sent" in result.output
    hms = [e for sn, e in events if sn == dock_sn and e.method == Method.hms]
    assert len(hms) == 1
    assert hms[0].need_reply == 1
    (alarm,) = hms[0].data["list"]
    assert alarm["level"] in {0, 1, 2}
    assert alarm["module"] in {0, 1, 2, 3}
    assert alarm["code"].startswith("0x")
    assert set(alarm["args"]) == {"component_index", "sensor_index"}
