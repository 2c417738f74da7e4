"""Favicons served from this machine.

Streamlit makes a ``:material/…:`` page icon into a favicon fetched from fonts.gstatic.com
(its sidebar and in-page icons come from the Material Symbols font it bundles, and need
nothing outside; so do emoji favicons, drawn inline). :func:`favicon` gives Streamlit a
local SVG of the same glyph instead, drawn by ``scripts/build_favicons.py``; Streamlit
sends an SVG page icon inline, as a ``data:`` URL.
"""

from __future__ import annotations

from pathlib import Path

#: The SVG files, one per icon name (``home.svg`` for ``:material/home:``).
ICON_DIR = Path(__file__).resolve().parent / "icons"
#: The app's own icon: the favicon until the page's arrives, and of a page whose own icon
#: has not been drawn yet (a new page before the script ran).
APP_ICON = ":material/hub:"


def icon_name(icon: str) -> str:
    """The Material Symbols name in a ``:material/name:`` icon code.

    >>> icon_name(":material/home:")
    'home'
    """
    return icon.removeprefix(":material/").removesuffix(":")


def favicon(icon: str) -> str:
    """A page icon for ``st.set_page_config`` that the browser does not fetch from outside:
    the path of the local SVG of ``icon`` (a ``:material/…:`` code), or of the fallback.

    >>> Path(favicon(":material/home:")).name
    'home.svg'
    >>> Path(favicon(":material/not_drawn_yet:")).name
    'hub.svg'
    """
    path = ICON_DIR / f"{icon_name(icon)}.svg"
    return str(path if path.is_file() else ICON_DIR / f"{icon_name(APP_ICON)}.svg")
