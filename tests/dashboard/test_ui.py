"""dashboard.ui: the shared chart config reaches every chart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.ui import CHART_CONFIG

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("app_pages/**/*.py"), *ROOT.glob("dashboard/*.py"), ROOT / "app.py"])


def _chart_calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "plotly_chart"]


def test_every_chart_uses_the_one_chart_config():
    """Each ``plotly_chart`` passes ``config=CHART_CONFIG`` (issue 17: every chart can be saved as an
    image; the toolbar was switched off on the Ensemble, Learn and other pages)."""
    calls = {f"{path.relative_to(ROOT)}:{call.lineno}": call for path in SOURCES for call in _chart_calls(path)}
    assert len(calls) >= 16
    wrong = [where for where, call in calls.items()
             if not any(k.arg == "config" and isinstance(k.value, ast.Name) and k.value.id == "CHART_CONFIG"
                        for k in call.keywords)]
    assert wrong == []


def test_the_chart_config_shows_the_toolbar_with_an_image_download():
    assert CHART_CONFIG["displayModeBar"] in (True, "hover")
    assert "toImage" not in CHART_CONFIG.get("modeBarButtonsToRemove", [])
    assert CHART_CONFIG["toImageButtonOptions"]["format"] in ("png", "svg")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_switches_the_toolbar_off(path):
    assert "displayModeBar" not in path.read_text() or path.name == "ui.py"
