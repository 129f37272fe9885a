"""Make the repository root importable when the project is not pip-installed.

pytest's default ``prepend`` import mode puts only this folder on ``sys.path`` (there is no
``__init__.py`` here, on purpose: a ``tests/missions`` package would shadow ``missions``).
Setting ``pythonpath = ["."]`` in pyproject's pytest section would make this file unnecessary.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
