"""The warning message library (zh-CN and en) that operators pick from.

The texts live in ``messages.yaml`` next to this module so they can be reviewed and
translated without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES = ("zh-CN", "en")
_PATH = Path(__file__).with_name("messages.yaml")


@dataclass(frozen=True, slots=True)
class WarningMessage:
    key: str
    texts: dict[str, str]

    def text(self, language: str) -> str:
        return self.texts[language]


@lru_cache(maxsize=1)
def library() -> dict[str, WarningMessage]:
    raw = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    messages: dict[str, WarningMessage] = {}
    for key, texts in raw.items():
        missing = [lang for lang in LANGUAGES if not texts.get(lang)]
        if missing:
            raise ValueError(f"warning message {key!r} lacks {', '.join(missing)}")
        messages[str(key)] = WarningMessage(str(key), {k: str(v) for k, v in texts.items()})
    return messages
