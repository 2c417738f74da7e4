"""Every page of the dashboard, once, grouped in the sidebar's sections.

A page is one :class:`PageEntry` in :data:`SECTIONS` plus its file under ``app_pages/``.
The frame (``app.py``) draws its title and introduction, stops with a pointer to the
data when the page needs data and none is loaded, and keeps the URL in step; the
page file only draws what is its own. Links between pages name the entry
(:func:`dashboard.ui.page_link`).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage


@dataclass(frozen=True)
class PageEntry:
    """One page: its script (relative to ``app.py``), its title and icon in the sidebar
    and the browser tab, its URL path (shared links name it: keep it when renaming),
    the introduction under its heading (the title, unless given), and whether it needs
    loaded data."""

    path: str
    title: str
    icon: str
    url_path: str
    intro: str
    needs_data: bool = True
    heading: str = ""


START = PageEntry(
    "app_pages/start.py", "Start", ":material/home:", "",
    "Combine several classifiers' predictions by voting, averaging or stacking, move a weight per model, "
    "and see at once what the ensemble gets right, what it breaks, and where the models disagree. "
    "Everything is computed from your labelled examples; nothing leaves this machine.",
    needs_data=False,
    heading="ensemble-explorer",
)
DATA = PageEntry(
    "app_pages/classifiers/data_and_models.py", "Data & models", ":material/upload_file:", "Data_and_models",
    "Load a labelled dataset and one prediction file per model, check how good and how well calibrated "
    "each model is, and choose which models join the ensemble.",
    needs_data=False,
)
ENSEMBLE = PageEntry(
    "app_pages/classifiers/ensemble.py", "Ensemble", ":material/tune:", "Ensemble",
    "Choose how the models are combined and how much each one counts; the metrics, confusion "
    "matrices and formula follow every move.",
)
DISAGREEMENT = PageEntry(
    "app_pages/classifiers/disagreement.py", "Disagreement", ":material/call_split:", "Disagreement",
    "Every example the models do not all agree on, most contested first. Filter them, pick one, "
    "and see what each model and the ensemble said.",
)
DIVERSITY = PageEntry(
    "app_pages/classifiers/diversity.py", "Diversity", ":material/grid_view:", "Diversity",
    "An ensemble helps only where its models make different mistakes. These model-by-model maps "
    "show how alike the models are; the table shows which pairs gain most from being combined.",
)
SLICES = PageEntry(
    "app_pages/classifiers/slices.py", "Slices", ":material/splitscreen:", "Slices",
    "Where does the ensemble help? Its accuracy against the best single model's, slice by slice of a "
    "column of your data (or by the true class), with an interval for each gain. Click a slice to see its "
    "examples on the Disagreement page.",
)
LEARN = PageEntry(
    "app_pages/learn/combining_classifiers.py", "Learn", ":material/school:", "Learn",
    "Six short steps through the ways to combine classifiers, with numbers from the data loaded now. "
    "Each step's button sets the live controls, so the Ensemble page shows exactly that step.",
)

#: The sidebar: section title → its pages, in order ("" is the top, without a title).
SECTIONS: dict[str, tuple[PageEntry, ...]] = {
    "": (START,),
    "Classifier ensembles": (DATA, ENSEMBLE, DISAGREEMENT, DIVERSITY, SLICES),
    "Learn": (LEARN,),
}


def navigation() -> tuple[StreamlitPage, dict[str, PageEntry]]:
    """Streamlit's navigation over :data:`SECTIONS` (drawn in the sidebar), and each
    page's entry by its URL path."""
    pages = {
        section: [st.Page(e.path, title=e.title, icon=e.icon, url_path=e.url_path or None, default=e is START)
                  for e in entries]
        for section, entries in SECTIONS.items()
    }
    by_path = {e.url_path: e for entries in SECTIONS.values() for e in entries}
    return st.navigation(pages), by_path
