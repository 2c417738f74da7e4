"""UI helpers the frame and the pages share: the page's header, the sidebar's summary,
links that keep the view, fragments that keep the URL, and user errors without a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ensemble_core import EnsembleInputError, EnsembleResult, figures
from ensemble_core._validation import problems_of
from ensemble_core.demo import DEMOS
from ensemble_core.explore import STRATEGY_LABELS
from ensemble_core.labels_only import describe, is_labels_only

from . import keys as K
from .actions import current, evaluate, sync_url, view
from .caches import Loaded
from .navigation import DATA, START, PageEntry
from .sources import ROOT_VARIABLE, local_root
from .text import literal, literal_problems
from .view import to_query


def page_link(entry: PageEntry, label: str | None = None, icon: str | None = None, help: str | None = None) -> None:
    """A link to another page that carries the current view in its URL (``help``: its tooltip)."""
    st.page_link(entry.path, label=label or entry.title, icon=icon or entry.icon, query_params=to_query(view()),
                 help=help)


def page_header(entry: PageEntry) -> None:
    """The page's title and introduction, the shared link's notes on the page it opened
    (and on Start), a note where labels-only models take part, and a message left by the last action."""
    st.title(entry.heading or entry.title)
    st.markdown(entry.intro)
    if entry.needs_data:  # Data & models draws it by the model table, after a load in the same run
        labels_only_note(current())
    ss = st.session_state
    if entry.url_path == ss.get(K.LANDING) or entry is START:
        for note in ss.get(K.URL_NOTES, []):
            st.warning(f"Shared link: {literal(note)}.", icon=":material/link_off:")
    flash = ss.pop(K.FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")


def labels_only_note(loaded: Loaded | None) -> None:
    """Say how the included labels-only models enter the combinations (one sentence,
    :func:`ensemble_core.labels_only.describe`), where ε is changed, and nothing when there are none."""
    if loaded is None:
        return
    pset = loaded.pset
    names = [n for n, hard in zip(pset.names, is_labels_only(pset)) if hard]
    if names:
        st.info(literal(describe(names, pset.smoothing, pset.n_classes)) + ". Change ε on Data & models.",
                icon=":material/label:")


def no_data() -> None:
    """What a page that needs data shows when none is loaded: where to load it."""
    st.info("No data is loaded. Pick a bundled demo on the Start page, or load your own files.",
            icon=":material/info:")
    page_link(START, "Start: pick a demo", ":material/home:")
    page_link(DATA, "Data & models: load your files", ":material/upload_file:")


def fragment(draw: Callable[[], None]) -> Callable[[], None]:
    """``st.fragment`` that writes the view into the URL after each of its own reruns
    (the frame does after a full run)."""

    @functools.wraps(draw)
    def run() -> None:
        try:
            draw()
        finally:
            sync_url()

    return st.fragment(run)


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
    v = view()
    return (
        f"{literal(loaded.source.title)}  \n"
        f"{full.n_samples:,} examples · {full.n_classes} classes  \n"
        f"{pset.n_models} of {full.n_models} models in the ensemble  \n"
        f"Strategy: {STRATEGY_LABELS[v.strategy]}"
        + ("" if v.uses_weights else f" ({v.meta})")
        + ("  \nMembers temperature-scaled" if loaded.calibrated else "")
    )


def refresh_sidebar_if_stale(loaded: Loaded) -> None:
    """From inside a fragment: rerun the whole page when the sidebar's summary no longer
    says what is set (a strategy or calibration change; a weight move never changes it)."""
    if st.session_state.get(K.SIDEBAR_TEXT) != _summary_text(loaded):
        st.rerun()


@contextmanager
def user_errors() -> Iterator[None]:
    """Show an :class:`EnsembleInputError` as an error box (as text: it quotes file names and
    values); the rest of the page goes on."""
    try:
        yield
    except EnsembleInputError as exc:
        st.error(literal_problems(problems_of(exc)), icon=":material/error:")


def evaluated() -> tuple[Loaded, EnsembleResult]:
    """The loaded data and its ensemble under the view; on a user error (all weights zero, say)
    the error is shown and the page stops there."""
    loaded = current()
    result = None
    with user_errors():
        result = evaluate(loaded)
    if result is None:
        st.stop()
    return loaded, result


def local_root_note() -> None:
    """Say under which folder paths are read, and how to choose another (or why none can be read)."""
    with user_errors():
        root = local_root()
        st.caption(f"Paths are read only under **{literal(root)}** (where they really are: a symlink that leads "
                   f"out is refused). To read elsewhere, start the app with `{ROOT_VARIABLE}` set to that folder, "
                   f"e.g. `{ROOT_VARIABLE}=/data bash scripts/run-demo.sh`.")


#: Every chart's Plotly config, the one place it is declared (pages pass ``config=CHART_CONFIG``):
#: the toolbar shows on hover, so each chart can be saved as an image ("Download plot as a PNG",
#: at twice the screen's resolution, for slides) and zoomed and reset. Streamlit sends the config
#: as JSON, so the toolbar can hold Plotly's own buttons only: one image format (the HTML report
#: has every figure as SVG).
CHART_CONFIG: dict = {"displayModeBar": "hover", "displaylogo": False,
                      "toImageButtonOptions": {"format": "png", "scale": 2}}


def model_colours(loaded: Loaded) -> dict[str, str]:
    """Each loaded model's colour in every chart (:func:`ensemble_core.figures.model_colours`, over
    all loaded models: leaving one out of the ensemble does not repaint the others)."""
    return figures.model_colours(loaded.full.pset.names)


def metric_row() -> DeltaGenerator:
    """A row for headline metrics (``st.metric(..., width="content")`` inside it) that wraps
    to the next line where the page is too narrow: equal columns cut a number ("97.0…")."""
    return st.container(horizontal=True, gap="medium")


def formula(pieces: list[list[str]]) -> None:
    """A combination rule, one wrapping row per equation (:func:`ensemble_core.explore.formula_pieces`):
    it breaks between terms at the width there is, where one display formula would be cut."""
    for row in pieces:
        with st.container(horizontal=True, gap=None, vertical_alignment="center"):
            for piece in row:
                st.latex(piece, width="content")


def percent(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


#: The two "best single model"s, named apart (issue 12): the headline's is the best on every row,
#: the suggestion's is picked on the training folds only, as the weights are.
BEST_ON_ALL_ROWS = "best single model (on all rows)"
BEST_PER_FOLD = "best single model, chosen per fold"
BEST_MODELS_DIFFER = (
    "The best single model on all rows is picked after seeing every example, so it can be a lucky pick; the one "
    "chosen per fold is picked without the examples it is scored on, as the suggested weights are, so it can "
    "differ from fold to fold and score lower."
)


#: How a table shows a gain (a difference of two shares, given in points): as the metrics do, "+0.73 pts".
POINTS_FORMAT = "%+.2f pts"
#: What a table shows where a number does not exist (log loss of a labels-only model or of a hard vote).
MISSING = "—"


def points_column(label: str | None = None, **kwargs) -> st.column_config.NumberColumn:
    """A table column of gains in percentage points (multiply the shares by 100 first)."""
    return st.column_config.NumberColumn(label, format=POINTS_FORMAT, **kwargs)


def number_or_dash(values, digits: int = 4) -> list[str]:
    """Numbers as text with ``digits`` decimals, and a dash where there is none (None or NaN): a
    number column would show "None" there."""
    return [MISSING if v is None or v != v else f"{v:.{digits}f}" for v in values]


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
