from __future__ import annotations

from pathlib import Path

import pytest

from app.report import fonts
from app.report.fonts import ChineseFontMissing, FontFile


def test_missing_font_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "KNOWN", (FontFile(Path("/nonexistent/font.ttf")),))
    monkeypatch.setattr(fonts, "_from_fontconfig", list)
    fonts.chinese_font.cache_clear()

    with pytest.raises(ChineseFontMissing, match="fonts-noto-cjk"):
        fonts.chinese_font()

    fonts.chinese_font.cache_clear()


def test_missing_font_is_a_503_not_a_500() -> None:
    assert ChineseFontMissing.status_code == 503
