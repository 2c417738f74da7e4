"""UI helpers every page uses: page set-up, the sidebar (navigation and what is
loaded), and showing user errors without a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from ensemble_core._validation import EnsembleInputError
from ensemble_core.demo import DEMOS
from ensemble_core.explore import STRATEGY_LABELS

from . import keys as K
from .sources import ROOT_VARIABLE, local_root
from .state import Loaded, current, init_session, sync_url, view_params
from .text import literal

#: (page file, label, icon) in sidebar order.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("app.py", "Start", ":material/home:"),
    ("pages/1_Data_and_models.py", "Data & models", ":material/upload_file:"),
    ("pages/2_Ensemble.py", "Ensemble", ":material/tune:"),
    ("pages/3_Disagreement.py", "Disagreement", ":material/call_split:"),
    ("pages/4_Diversity.py", "Diversity", ":material/grid_view:"),
    ("pages/5_Learn.py", "Learn", ":material/school:"),
)


def page_link(page: str, label: str, icon: str | None = None) -> None:
    """A link to another page that keeps the current view in its URL."""
    st.page_link(page, label=label, icon=icon, query_params=view_params(current()))


def setup_page(title: str, explanation: str, *, icon: str) -> Loaded | None:
    """Configure the page, set up the session, draw the sidebar and the header.

    Returns what is loaded (None when nothing is).
    """
    st.set_page_config(page_title=f"{title} · ensemble-explorer", page_icon=icon, layout="wide")
    init_session()
    loaded = current()
    with st.sidebar:
        st.markdown("### ensemble-explorer")
        for page, label, page_icon in PAGES:
            page_link(page, label, page_icon)
        st.divider()
        sidebar_summary(loaded)
    st.title(title)
    st.markdown(explanation)
    flash = st.session_state.pop(K.FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    return loaded


def sidebar_summary(loaded: Loaded | None) -> None:
    """What is loaded now, in a few lines."""
    st.markdown("**Loaded now**")
    if loaded is None:
        st.caption("Nothing yet: pick a demo on Start or load files on Data & models.")
        return
    text = _summary_text(loaded)
    st.session_state[K.SIDEBAR_TEXT] = text
    st.markdown(text)
    if loaded.excluded:
        st.caption("Left out: " + literal(", ".join(loaded.excluded)))


def _summary_text(loaded: Loaded) -> str:
    full, pset = loaded.full.pset, loaded.pset
    ss = st.session_state
    return (
        f"{literal(loaded.source.title)}  \n"
        f"{full.n_samples:,} examples · {full.n_classes} classes  \n"
        f"{pset.n_models} of {full.n_models} models in the ensemble  \n"
        f"Strategy: {STRATEGY_LABELS[ss[K.STRATEGY]]}"
        + (f" ({ss[K.META]})" if ss[K.STRATEGY] == "stacking" else "")
        + ("  \nMembers temperature-scaled" if loaded.calibrated else "")
    )


def refresh_sidebar_if_stale(loaded: Loaded) -> None:
    """From inside a fragment: rerun the whole page when the sidebar's summary no longer
    says what is set (a strategy or calibration change; a weight move never changes it)."""
    if st.session_state.get(K.SIDEBAR_TEXT) != _summary_text(loaded):
        st.rerun()


def require_data(loaded: Loaded | None) -> Loaded:
    """Stop the page with a pointer to where data is loaded when nothing is."""
    if loaded is None:
        st.info("No data is loaded. Pick a bundled demo on the Start page, or load your own files.",
                icon=":material/info:")
        page_link("app.py", "Start: pick a demo", ":material/home:")
        page_link("pages/1_Data_and_models.py", "Data & models: load your files", ":material/upload_file:")
        sync_url(None)
        st.stop()
    return loaded


@contextmanager
def user_errors() -> Iterator[None]:
    """Show an :class:`EnsembleInputError` as an error box (as text: it quotes file names and
    values); the rest of the page goes on."""
    try:
        yield
    except EnsembleInputError as exc:
        st.error(literal(exc), icon=":material/error:")


def local_root_note() -> None:
    """Say under which folder paths are read, and how to choose another (or why none can be read)."""
    with user_errors():
        root = local_root()
        st.caption(f"Paths are read only under **{literal(root)}** (where they really are: a symlink that leads "
                   f"out is refused). To read elsewhere, start the app with `{ROOT_VARIABLE}` set to that folder, "
                   f"e.g. `{ROOT_VARIABLE}=/data bash scripts/run-demo.sh`.")


def percent(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


def signed_points(x: float, digits: int = 2) -> str:
    """A difference of two shares in percentage points, with its sign."""
    return f"{100 * x:+.{digits}f} pts"


def text_column(loaded: Loaded) -> str | None:
    """The content column holding each example's text, if there is one."""
    content = loaded.pset.content
    if content is None:
        return None
    demo = DEMOS.get(loaded.source.demo or "")
    for column in ([demo.text_column] if demo and demo.text_column else []) + ["text"]:
        if column in content.columns:
            return column
    return None


def image_columns(loaded: Loaded) -> tuple[list[str], tuple[int, int]] | None:
    """The pixel columns and image shape when the content is a square image
    (``pixel_0`` … ``pixel_{k²−1}``, as in the digits demo)."""
    content = loaded.pset.content
    if content is None:
        return None
    pixels = [c for c in content.columns if c.startswith("pixel_")]
    side = int(round(len(pixels) ** 0.5))
    if not pixels or side * side != len(pixels):
        return None
    ordered = [f"pixel_{i}" for i in range(len(pixels))]
    return (ordered, (side, side)) if set(ordered) == set(pixels) else None
