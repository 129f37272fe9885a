"""The simulated dock `waterguard dock-sim` runs: it flies wayline tasks (``sim_flight``),
pushes live video to its own stand-in media server (``sim_live``), and has a speaker, a
searchlight and HMS alarms (``sim_payload``), on top of the base dock's topology and OSD
(``sim``)."""

from __future__ import annotations

from dataclasses import dataclass

from app.dji.sim_flight import FlyingDockSim
from app.dji.sim_live import LiveDockSim
from app.dji.sim_payload import PayloadDockSim


@dataclass
class FieldDockSim(FlyingDockSim, LiveDockSim, PayloadDockSim):
    """Flight-task services are answered first, then live video; speaker, DRC and other
    services fall through to the payload sim, then the base dock."""
