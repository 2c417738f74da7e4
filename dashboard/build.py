"""The Build lab's shared work: a demo's training and held-out features, and the lab's results,
cached (features once per demo for every session; curves and decompositions per choice)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ensemble_core import EnsembleInputError
from ensemble_core.build.bias_variance import BiasVariance, bias_variance
from ensemble_core.build.features import Features, content_features
from ensemble_core.build.lab import GrowthCurve, growth_curve, make_base_learner, make_ensemble
from ensemble_core.demo import DEMOS
from ensemble_core.io import LabelsFile

#: The members slider's top on the page (the core allows up to MAX_MEMBERS; this keeps the lab within seconds).
MEMBERS_SHOWN = 100
#: With logistic regression as the base learner: each member is a full lbfgs fit (digits, 50 random-subspace
#: members took 55 s on the busy 2-core machine, about 1.1 s a member), so fewer.
MEMBERS_SHOWN_BY_BASE = {"tree": MEMBERS_SHOWN, "logistic": 8}
#: Bias and variance: bootstrap resamples per learner, and members of the bagged and boosted ensembles.
BV_ROUNDS = 8
BV_MEMBERS = 10
SEED = 0


@dataclass(frozen=True, eq=False)
class LabData:
    """A demo's training split (to learn from) and test split (held out: the rows the explorer shows)."""

    features: Features
    y_train: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray


@st.cache_resource(max_entries=2, show_spinner="Reading the demo's training split and making features…")
def lab_data(demo: str) -> LabData:
    """The features of ``demo``'s train and test splits (TF-IDF of the text, or the numeric columns).

    Raises
    ------
    EnsembleInputError
        For a demo without a training split.
    """
    spec = DEMOS[demo]
    if not spec.split_labels_path("train").is_file():
        raise EnsembleInputError(f"the {demo} demo has no training split under {spec.folder}")
    test = LabelsFile(spec.split_labels_path("test"))
    train = LabelsFile(spec.split_labels_path("train"), classes=test.classes)
    features = content_features(train.content, test.content, text_column=spec.text_column)
    for array in (train.y_true, test.y_true):
        array.setflags(write=False)
    return LabData(features, train.y_true, test.y_true, test.classes)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_curve(demo: str, method: str, base: str, n_members: int) -> GrowthCurve:
    data = lab_data(demo)
    return growth_curve(method, data.features.train, data.y_train, data.features.test, data.y_test, base=base,
                        n_members=n_members, seed=SEED)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_bias_variance(demo: str, base: str) -> dict[str, BiasVariance]:
    """Domingos' decomposition of the held-out 0–1 loss for the base learner alone, bagged and boosted
    (AdaBoost), each trained on :data:`BV_ROUNDS` bootstrap resamples of the training rows."""
    data = lab_data(demo)
    f, n_classes = data.features, len(data.classes)
    makers = {
        "base learner alone": lambda r: make_base_learner(base, seed=r),
        f"bagged ({BV_MEMBERS})": lambda r: make_ensemble("bagging", base, BV_MEMBERS, seed=r),
        f"boosted ({BV_MEMBERS}, AdaBoost)": lambda r: make_ensemble("adaboost", base, BV_MEMBERS, seed=r),
    }
    return {name: bias_variance(make, f.train, data.y_train, f.test, data.y_test, n_classes=n_classes,
                                rounds=BV_ROUNDS, seed=SEED) for name, make in makers.items()}
