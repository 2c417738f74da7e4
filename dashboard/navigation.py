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
COST_FRONTIER = PageEntry(
    "app_pages/deploy/cost_frontier.py", "Cost frontier", ":material/payments:", "Cost_frontier",
    "What each model costs to run, and what every subset of the models would give for its price: soft-vote "
    "accuracy against total cost, the Pareto front of the subsets worth shipping. Click a point to open that "
    "subset on the Ensemble page.",
)
DISTILL = PageEntry(
    "app_pages/deploy/distill.py", "Distill", ":material/science:", "Distill",
    "Train one small student on the ensemble's outputs over a transfer set (the hard labels plus λ times the "
    "ensemble's softened probabilities at temperature T), then compare it on the loaded rows, which it never "
    "saw, with the ensemble, each member and the same student trained on the labels alone.",
)
COMPRESS = PageEntry(
    "app_pages/deploy/compress.py", "Compress", ":material/compress:", "Compress",
    "Make a saved student (or another linear or MLP scikit-learn model) smaller: magnitude pruning at chosen "
    "sparsities, int8 quantisation through ONNX; each compressed model saved and scored on the loaded rows "
    "beside the original, the ensemble and its members.",
)
LEARN = PageEntry(
    "app_pages/learn/combining_classifiers.py", "Learn", ":material/school:", "Learn",
    "Seven short steps through the ways to combine classifiers, and why combining works, with numbers from the data loaded now. "
    "Each step's button sets the live controls, so the Ensemble page shows exactly that step; the end points to "
    "distillation, merging and language-model fusion.",
)

BUILD_LAB = PageEntry(
    "app_pages/learn/build_lab.py", "Build lab", ":material/construction:", "Build_lab",
    "How ensembles are built: bagging, random subspaces, random forests and boosting, grown member by member "
    "on the demo's training split and measured on its test split, against one base learner alone; and what "
    "they change, bias or variance.",
)
LANGUAGE_MODELS = PageEntry(
    "app_pages/language_models/fusion.py", "LM fusion", ":material/text_fields:", "LM_fusion",
    "Fuse causal language models: each model's next-token distribution and their linear or log-linear pool, "
    "measured on your text (perplexity, bits per byte, next-token accuracy), with a weight per model, weights "
    "fitted on half the documents and measured on the other half, the tokens where the models disagree, and "
    "text generated by the fusion.",
    needs_data=False,
    heading="Language-model fusion",
)
MERGE = PageEntry(
    "app_pages/merge/merge_models.py", "Merge", ":material/merge:", "Merge",
    "Average the *weights* of models fine-tuned from one start, and get much of an ensemble's gain for the cost of "
    "one model (model soups). Check that the models can be merged, follow accuracy and log loss along the line from "
    "one model to another — weights averaged against outputs averaged, a barrier marked —, merge with a soup, task "
    "arithmetic or TIES, and download the merged model.",
    needs_data=False,
    heading="Merge models in weight space",
)
PREDICTION_STORE = PageEntry(
    "app_pages/scale/prediction_store.py", "Prediction store", ":material/database:", "Prediction_store",
    "A prediction store is a folder of one Parquet prediction file per model, filled shard by shard by "
    "`ensemble-explorer score` on this machine or on Ray. See what a store holds, score models into it here, "
    "compute its exact numbers without loading it, or open it in the explorer.",
    needs_data=False,
)

#: The sidebar: section title → its pages, in order ("" is the top, without a title).
SECTIONS: dict[str, tuple[PageEntry, ...]] = {
    "": (START,),
    "Classifier ensembles": (DATA, ENSEMBLE, DISAGREEMENT, DIVERSITY, SLICES),
    "Deploy": (COST_FRONTIER, DISTILL, COMPRESS),
    "Scale": (PREDICTION_STORE,),
    "Language models": (LANGUAGE_MODELS,),
    "Merge models": (MERGE,),
    "Learn": (LEARN, BUILD_LAB),
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
    # Every page listed: with more than twelve, Streamlit would otherwise hide all but ten behind "View more".
    return st.navigation(pages, expanded=True), by_path
