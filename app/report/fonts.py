"""Find an installed font that can write Chinese, for the PDF report.

Looks with fontconfig (``fc-list :lang=zh-cn``), then at known Debian paths (packages
``fonts-noto-cjk``, ``fonts-droid-fallback``, ``fonts-wqy-microhei``). Never downloads.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.errors import AppError


class ChineseFontMissing(AppError):
    status_code = 503


@dataclass(frozen=True, slots=True)
class FontFile:
    path: Path
    index: int = 0


# Noto Sans CJK SC (face 2 of the collection) and WenQuanYi carry Latin letters and digits
# too; Droid Sans Fallback has only CJK, so it is paired with a Latin font (LATIN).
KNOWN = (
    FontFile(Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),
    FontFile(Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")),
)
LATIN = (
    FontFile(Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
    FontFile(Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")),
)
MISSING = (
    "no font that covers Chinese is installed; install one, e.g. "
    "'apt-get install fonts-noto-cjk' or 'apt-get install fonts-droid-fallback'"
)


def _from_fontconfig() -> list[FontFile]:
    binary = shutil.which("fc-list")
    if binary is None:
        return []
    try:
        output = subprocess.run(
            [binary, ":lang=zh-cn", "-f", "%{file}|%{index}|%{family}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found: list[tuple[int, FontFile]] = []
    for line in output.splitlines():
        path, _, rest = line.partition("|")
        index, _, family = rest.partition("|")
        if not path.endswith((".ttf", ".otf", ".ttc")) or not index.isdigit():
            continue
        if "Mono" in family or "Serif" in family or "Bold" in path:
            continue
        score = 0 if " SC" in family or "Droid" in family else 1
        found.append((score, FontFile(Path(path), int(index))))
    return [font for _, font in sorted(found, key=lambda item: (item[0], str(item[1].path)))]


@lru_cache(maxsize=1)
def chinese_font() -> FontFile:
    """The font the PDF uses; raises ``ChineseFontMissing`` (503) when there is none."""
    for font in (*KNOWN, *_from_fontconfig()):
        if font.path.is_file():
            return font
    raise ChineseFontMissing(MISSING)


def latin_font() -> FontFile | None:
    """A fallback for letters and digits the Chinese font lacks (Droid Sans Fallback)."""
    return next((font for font in LATIN if font.path.is_file()), None)
