"""PredictionSet validation, selection and fingerprint."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleInputError, PredictionSet


def _ps(**kw):
    args = dict(
        probas=np.full((2, 3, 2), 0.5, dtype=np.float32),
        y_true=np.array([0, 1, 1]),
        classes=np.array(["a", "b"]),
        names=("m1", "m2"),
    )
    args.update(kw)
    return PredictionSet(**args)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"probas": np.zeros((3, 2))}, "shape \\(n_models, n_samples, n_classes\\)"),
        ({"y_true": np.array([0, 1])}, "y_true must have shape \\(3,\\)"),
        ({"y_true": np.array([0, 1, 2])}, "class indices"),
        ({"classes": np.array(["a"])}, "expected 2 classes"),
        ({"names": ("m1",)}, "expected 2 model names"),
        ({"names": ("m", "m")}, "'m' appears twice"),
    ],
    ids=["probas-2d", "y-length", "y-out-of-range", "classes", "names-count", "names-duplicate"],
)
def test_inconsistent_arrays_are_rejected(kw, match):
    with pytest.raises(EnsembleInputError, match=match):
        _ps(**kw)


def test_probas_are_float32_and_hard_defaults_to_false():
    ps = _ps(probas=np.full((2, 3, 2), 0.5))
    assert ps.probas.dtype == np.float32
    assert ps.hard.tolist() == [False, False]


def test_select_reorders_models_by_name_or_index():
    p = np.stack([np.full((3, 2), 0.5), np.tile([1.0, 0.0], (3, 1))]).astype(np.float32)
    ps = _ps(probas=p, hard=np.array([False, True]), smoothing=0.2)
    sel = ps.select(["m2", 0])
    assert sel.names == ("m2", "m1")
    assert sel.hard.tolist() == [True, False]
    assert sel.smoothing == 0.2
    np.testing.assert_allclose(sel.probas[0], np.tile([0.9, 0.1], (3, 1)), rtol=1e-6)
    np.testing.assert_array_equal(sel.probas[1], p[0])
    with pytest.raises(EnsembleInputError, match="at least one model"):
        ps.select([])


def test_fingerprint_changes_with_content_and_is_stable():
    a, b = _ps(), _ps()
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != _ps(y_true=np.array([1, 1, 1])).fingerprint()
    assert a.fingerprint() != _ps(names=("x", "y")).fingerprint()


def test_huge_weights_are_normalised_without_overflow():
    import warnings

    from ensemble_core import check_weights

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(check_weights([1e308, 1e308], 2), [0.5, 0.5])
        np.testing.assert_allclose(check_weights([5e-324, 1e-323], 2), [1 / 3, 2 / 3])
