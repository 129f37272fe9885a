"""Shared by every test ring: nothing here may import the app (the cores test alone).

Hypothesis profiles: ``dev`` (the default) explores with fresh random examples on every run
and keeps what it finds in ``.hypothesis/``; ``ci`` is deterministic (``derandomize``: the
same examples on every run, no example database), so a CI failure is a real regression that
reproduces, not a lucky draw. CI selects ``ci`` by exporting ``CI=true`` (``.ci/run`` and the
Makefile's test targets do); ``HYPOTHESIS_PROFILE`` names a profile explicitly (``thorough``
runs ten times the examples, to hunt for counter-examples locally).
"""

import os
from collections.abc import Mapping

from hypothesis import settings

os.environ.setdefault("YOLO_OFFLINE", "1")

_DEFAULT = settings.get_profile("default")
settings.register_profile("dev", parent=_DEFAULT, derandomize=False)
settings.register_profile("ci", parent=_DEFAULT, derandomize=True, database=None, print_blob=True)
settings.register_profile("thorough", parent=_DEFAULT, max_examples=1_000)


def hypothesis_profile(environ: Mapping[str, str]) -> str:
    """The profile to load: ``HYPOTHESIS_PROFILE``, else ``ci`` under CI, else ``dev``."""
    explicit = environ.get("HYPOTHESIS_PROFILE")
    if explicit:
        return explicit
    return "ci" if environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev"


settings.load_profile(hypothesis_profile(os.environ))
