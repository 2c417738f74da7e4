"""Write each page's favicon as an SVG file, drawn from Streamlit's own Material Symbols font.

Streamlit turns a ``:material/…:`` page icon into a favicon fetched from fonts.gstatic.com;
the dashboard promises that nothing leaves the machine, so ``dashboard/icons.py`` hands
Streamlit these local files instead (an SVG page icon becomes a ``data:`` URL). Run this
after giving a page a new icon (until then the page shows the app's fallback icon)::

    pip install fonttools brotli   # only this script needs them
    python scripts/build_favicons.py

The glyphs are Google's Material Symbols (Apache License 2.0), as bundled with Streamlit.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import streamlit
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.icons import APP_ICON, ICON_DIR, icon_name  # noqa: E402
from dashboard.navigation import SECTIONS  # noqa: E402

COLOUR = "#1f6fb2"  # the theme's primaryColor (.streamlit/config.toml)


def ligatures(font: TTFont) -> dict[str, str]:
    """Icon name → glyph name, from the font's ligature substitutions ("home" → its glyph)."""
    char = {glyph: chr(code) for code, glyph in font.getBestCmap().items()}
    found: dict[str, str] = {}
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = getattr(table, "ExtSubTable", table)
            for first, ligs in getattr(table, "ligatures", {}).items():
                for lig in ligs:
                    found[char.get(first, "") + "".join(char.get(c, "") for c in lig.Component)] = lig.LigGlyph
    return found


def svg(font: TTFont, glyph: str) -> str:
    size = font["head"].unitsPerEm
    pen = SVGPathPen(font.getGlyphSet())
    font.getGlyphSet()[glyph].draw(TransformPen(pen, (1, 0, 0, -1, 0, size)))  # fonts count y upwards
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">'
            f'<path fill="{COLOUR}" d="{pen.getCommands()}"/></svg>\n')


def main() -> None:
    media = Path(streamlit.__file__).parent / "static" / "static" / "media"
    font = TTFont(next(media.glob("MaterialSymbols-Rounded*.woff2")))
    glyphs = ligatures(font)
    names = {icon_name(e.icon) for entries in SECTIONS.values() for e in entries} | {icon_name(APP_ICON)}
    ICON_DIR.mkdir(exist_ok=True)
    for name in sorted(names):
        if not re.fullmatch(r"[a-z0-9_]+", name) or name not in glyphs:
            raise SystemExit(f"{name!r}: not a Material Symbols icon in {media}")
        (ICON_DIR / f"{name}.svg").write_text(svg(font, glyphs[name]))
        print(ICON_DIR / f"{name}.svg")


if __name__ == "__main__":
    main()
