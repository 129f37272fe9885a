"""Shared helpers for the detection tests."""

from __future__ import annotations

import sys
from pathlib import Path

# The repository root must be importable even when the project is not installed
# (``pip install -e .`` makes this a no-op).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
