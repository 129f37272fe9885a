"""Every setting has its line in the README's settings table."""

from __future__ import annotations

import re
from pathlib import Path

from app.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Settings") :]
    table = table[: table.index("\n## ", 1)]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))

    missing = [name.upper() for name in Settings.model_fields if name.upper() not in documented]

    assert missing == []
