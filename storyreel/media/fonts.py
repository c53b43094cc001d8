"""The subtitles' fonts: one for every script, and which of them has a glyph.

Burned subtitles are drawn by libass with the fonts copied into ffmpeg's work folder
(``fontsdir``), never with whatever fontconfig finds. DejaVu Sans Bold comes from the system
(English films have always used it); the Noto families come as Python packages that the
project installs (fontpkg-noto-sans, -arabic, -devanagari; cvttf-notosanscjk-regular).
fontTools reads each font's character map, so a glyph no font has is known before anything is
drawn (:func:`missing_glyphs`): a test failure and a logged warning, never silent tofu.
"""

from __future__ import annotations

import logging
import shutil
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storyreel.core import languages
from storyreel.media.ffmpeg import CHAR_WIDTH, SUBS_FONTS

log = logging.getLogger(__name__)

# The packaged Noto families (fontpkg) and the family that draws each script's subtitles; the
# CJK font comes from cvttf-notosanscjk-regular.
PACKAGED_FONTS = ("Noto Sans", "Noto Sans Arabic", "Noto Sans Devanagari")
SCRIPT_FONTS = {"ARABIC": "Noto Sans Arabic", "DEVANAGARI": "Noto Sans Devanagari",
                "CJK": "Noto Sans CJK TC Regular"}
SYSTEM_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
                "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
                "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf",
                "/usr/local/share/fonts/DejaVuSans-Bold.ttf",
                "/Library/Fonts/DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class SubtitleFont:
    """A font the subtitles may be drawn with: its family name, file and the characters it
    has glyphs for (its cmap, read with fontTools)."""

    family: str
    path: Path
    chars: frozenset[int]

    def covers(self, char: str) -> bool:
        return ord(char) in self.chars


@cache
def _font(path: Path) -> SubtitleFont:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        names = font["name"]
        # the family libass matches FontName against (name 1: "Noto Sans CJK TC Regular")
        family = (names.getDebugName(1) or path.stem).strip()
        return SubtitleFont(family, path, frozenset(font.getBestCmap()))


def _packaged_fonts() -> list[Path]:
    """The Noto fonts the project installs as packages (Latin, Greek and Cyrillic; Arabic;
    Devanagari; Chinese and Japanese)."""
    import cvttf_NotoSansCJK_Regular
    import fontpkg

    paths = [fontpkg.path(family, weight=700, nearest=True) for family in PACKAGED_FONTS]
    return paths + [Path(cvttf_NotoSansCJK_Regular.get_TTF_path())]


def subtitle_fonts() -> tuple[SubtitleFont, ...]:
    """Every font the subtitles may use, in order of preference: the system's DejaVu Sans Bold
    (which English films have always used), then the packaged Noto fonts (Noto Sans in its
    place where the system has none)."""
    system = [Path(c) for c in SYSTEM_FONTS if Path(c).is_file()][:1]
    return tuple(_font(path) for path in system + _packaged_fonts())


def _shown(text: str) -> set[str]:
    """The characters of ``text`` that are drawn (not spaces or controls)."""
    return {c for c in text if not c.isspace() and unicodedata.category(c)[0] != "C"}


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` no subtitle font has a glyph for (they would show as tofu)."""
    fonts = subtitle_fonts()
    return {c for c in _shown(text) if not any(f.covers(c) for f in fonts)}


def fonts_for(text: str) -> list[SubtitleFont]:
    """The fonts that draw ``text``: first the font of its main script (Noto Sans Arabic,
    Devanagari or CJK for those scripts; else the first font that has every glyph, DejaVu for
    Latin, Greek and Cyrillic), then, for glyphs it lacks (a Latin name in Arabic text), the
    first font that has each (libass falls back to the other fonts of the folder)."""
    fonts = subtitle_fonts()
    shown = _shown(text)
    counts = languages.scripts(text)
    main = max(counts, key=counts.__getitem__) if counts else "LATIN"
    family = SCRIPT_FONTS.get(main)
    first = next((f for f in fonts if f.family == family), None) or max(
        fonts, key=lambda f: (sum(f.covers(c) for c in shown), -fonts.index(f)))
    chosen = [first]
    for char in sorted(shown):
        if not any(f.covers(char) for f in chosen):
            extra = next((f for f in fonts if f.covers(char)), None)
            if extra is not None:
                chosen.append(extra)
    return chosen


def install_subtitle_font(work: str | Path, text: str = "") -> str:
    """Put the fonts that draw ``text`` (the subtitles) into ``work/fonts`` and return the
    family to name in the style (:func:`fonts_for`): libass draws with what the folder holds,
    never with whatever fontconfig finds. A character no font has is logged (tofu)."""
    folder = Path(work) / SUBS_FONTS
    folder.mkdir(parents=True, exist_ok=True)
    fonts = fonts_for(text)
    for font in fonts:
        shutil.copyfile(font.path, folder / font.path.name)
    missing = missing_glyphs(text)
    if missing:
        log.warning("no subtitle font has glyphs for %s", " ".join(sorted(missing)))
    return fonts[0].family


def line_width(line: str) -> float:
    """A subtitle line's width in average Latin characters: a wide (CJK) character is a full
    em, about 1.6 of them (:data:`CHAR_WIDTH`)."""
    return sum(1 / CHAR_WIDTH if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
