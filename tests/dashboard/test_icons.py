"""Every page's favicon is a local SVG (Streamlit sends it inline), never a ``:material/`` code
(which the browser would fetch from fonts.gstatic.com)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.icons import APP_ICON, ICON_DIR, favicon, icon_name
from dashboard.navigation import SECTIONS

ENTRIES = [entry for entries in SECTIONS.values() for entry in entries]


@pytest.mark.parametrize("icon", [APP_ICON] + [e.icon for e in ENTRIES], ids=lambda i: icon_name(i))
def test_favicon_is_a_local_svg(icon):
    path = Path(favicon(icon))
    assert path.parent == ICON_DIR and path.is_file()
    assert path.read_text().startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_an_icon_not_drawn_yet_gets_the_apps_own():
    assert favicon(":material/no_such_icon_here:") == favicon(APP_ICON)
