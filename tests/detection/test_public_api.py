"""The public API: every name in ``detection.__all__`` exists and is documented."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import detection


def test_every_public_name_exists_and_has_a_docstring() -> None:
    for name in detection.__all__:
        value = getattr(detection, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), name


def test_public_functions_have_examples() -> None:
    functions = [
        getattr(detection, n)
        for n in detection.__all__
        if inspect.isfunction(getattr(detection, n))
    ]

    missing = [f.__name__ for f in functions if "Examples:" not in (inspect.getdoc(f) or "")]

    assert missing == []


def test_importing_the_core_loads_no_vision_stack_or_web_framework() -> None:
    root = Path(detection.__file__).resolve().parents[1]
    script = (
        "import sys, detection; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()

    forbidden = {"cv2", "ultralytics", "onnxruntime", "torch", "fastapi", "sqlalchemy", "pydantic"}
    assert "detection" in loaded
    assert forbidden.isdisjoint(loaded)
