"""dashboard.caches outside a running app: what is shared between sessions cannot be written,
and what goes through st.cache_data survives pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dashboard.caches import cached_calibration, cached_landscape, cached_suggestion, loaded_for, prediction_set
from dashboard.sources import demo_source
from dashboard.view import View
from ensemble_core import EnsembleEvaluator
from ensemble_core.demo import load_demo


@pytest.fixture(scope="module")
def digits():
    return demo_source("digits")


def test_shared_prediction_sets_are_read_only(digits):
    loaded = loaded_for(digits, View(off=("knn",)))
    for pset in (loaded.full.pset, loaded.pset):
        for array in (pset.probas, pset.y_true, pset.classes, pset.hard):
            assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            pset.probas[0, 0, 0] = 1.0
    assert loaded.pset.names == ("forest", "logreg", "mlp", "naive_bayes") and loaded.excluded == ["knn"]


def test_the_view_picks_the_models_and_the_temperature_scaling(digits):
    plain = loaded_for(digits, View())
    calibrated = loaded_for(digits, View(calibrated=True, off=("naive_bayes",)))
    assert calibrated.calibrated and calibrated.as_loaded.pset.names == calibrated.pset.names
    assert calibrated.key != plain.key
    cal = cached_calibration(plain.key, plain.full.pset)
    assert not cal.probas.flags.writeable
    np.testing.assert_array_equal(calibrated.full.pset.probas, cal.probas)
    # The numbers are the core's, computed directly.
    direct = EnsembleEvaluator(load_demo("digits"))
    ours, theirs = (ev.evaluate("soft", [1, 2, 1, 1, 0]).metrics for ev in (plain.full, direct))
    assert (ours.accuracy, ours.log_loss) == (theirs.accuracy, theirs.log_loss)
    np.testing.assert_array_equal(ours.confusion_matrix, theirs.confusion_matrix)


def test_small_results_survive_the_pickling_of_st_cache_data(digits):
    loaded = loaded_for(digits, View(off=("forest", "logreg")))
    pset = loaded.pset
    suggestion = cached_suggestion(loaded.key, pset.names, "caruana", False, pset)
    landscape = cached_landscape(loaded.key, pset.names, "soft", pset)
    for result in (suggestion, landscape, loaded.diversity()):
        copy = pickle.loads(pickle.dumps(result))
        for field in vars(result):
            a, b = getattr(result, field), getattr(copy, field)
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
            else:
                assert repr(a) == repr(b)
