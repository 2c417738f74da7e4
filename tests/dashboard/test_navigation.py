"""dashboard.navigation: one entry per page, each with its file, a unique URL path and title."""

from __future__ import annotations

from pathlib import Path

from dashboard.navigation import SECTIONS, START

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = [entry for entries in SECTIONS.values() for entry in entries]


def test_every_page_has_its_file_outside_the_legacy_pages_folder():
    for entry in ENTRIES:
        assert (ROOT / entry.path).is_file(), entry.path
        assert not entry.path.startswith("pages/")
    assert not (ROOT / "pages").exists()  # Streamlit would list that folder's files as pages too


def test_url_paths_and_titles_are_unique_and_the_start_page_is_the_root():
    assert len({e.url_path for e in ENTRIES}) == len({e.title for e in ENTRIES}) == len(ENTRIES)
    assert [e for e in ENTRIES if not e.url_path] == [START] and not START.needs_data


def test_shared_links_keep_their_page_paths():
    """Links shared before the pages moved name these paths."""
    assert {e.url_path for e in ENTRIES} >= {"Data_and_models", "Ensemble", "Disagreement", "Diversity", "Learn"}


def test_a_section_is_listed_only_with_a_page():
    assert all(SECTIONS.values())
