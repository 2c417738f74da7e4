"""Weight search: Caruana selection on known cases, planted weights recovered, honest nested CV."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ensemble_core.weight_search as ws
from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet, _threads
from ensemble_core._folds import kfold_test_indices
from ensemble_core.weight_search import (
    caruana_selection,
    log_loss_weights,
    suggest_weights,
    true_class_matrix,
)
from tests.conftest import random_probas


def _pset(probas, y) -> PredictionSet:
    return PredictionSet(probas, y, np.arange(probas.shape[2]), tuple(f"m{i}" for i in range(probas.shape[0])))


def _soft_log_loss(probas, y, w) -> float:
    return float(-np.mean(np.log(np.maximum(true_class_matrix(probas, y) @ w, 1e-15))))


@pytest.fixture(scope="module")
def complementary():
    """Two-class rows of two kinds: model A knows the first kind, B the second (each 0.5 elsewhere)."""
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 2, size=n)
    kind = rng.random(n) < 0.6
    sure = np.where(rng.random(n) < 0.9, y, 1 - y)
    informed = np.eye(2)[sure] * 0.8 + 0.1
    a = np.where(kind[:, None], informed, 0.5)
    b = np.where(~kind[:, None], informed, 0.5)
    return np.stack([a, b]).astype(np.float32), y


@pytest.mark.parametrize("metric", ["log_loss", "accuracy"])
def test_a_dominant_model_gets_all_picks(metric):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=500)
    noise = random_probas(rng, 3, 500, 3)
    oracle = np.full((1, 500, 3), 0.05, np.float32)
    oracle[0, np.arange(500), y] = 0.9
    probas = np.concatenate([noise[:1], oracle, noise[1:]])
    sel = caruana_selection(probas, y, metric=metric)
    np.testing.assert_array_equal(sel.weights, [0, 1, 0, 0])
    assert sel.path[0].model == 1 and sel.n_kept == 1
    assert len(sel.path) == 25


def test_identical_models_share_the_picks(complementary):
    probas, y = complementary
    alone = caruana_selection(probas, y)
    dup = caruana_selection(np.stack([probas[0], probas[0], probas[1]]), y)
    assert 0.3 < alone.weights[0] < 0.9  # the optimum needs both models
    assert dup.weights[0] + dup.weights[1] == pytest.approx(alone.weights[0])
    assert abs(dup.weights[0] - dup.weights[1]) <= 1 / dup.n_kept + 1e-12
    assert dup.weights[2] == pytest.approx(alone.weights[1])


@pytest.mark.parametrize("metric", ["log_loss", "accuracy"])
def test_each_round_is_the_greedy_choice_and_the_path_metrics_are_real(metric):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, size=300)
    probas = random_probas(rng, 5, 300, 3)
    probas[:, np.arange(300), y] += rng.uniform(0.2, 1.0, size=(5, 1)).astype(np.float32)
    probas /= probas.sum(axis=2, keepdims=True)
    sel = caruana_selection(probas, y, rounds=12, metric=metric)
    ev = EnsembleEvaluator(_pset(probas, y))
    picks = np.zeros(5)
    for t, step in enumerate(sel.path):
        options = []
        for m in range(5):
            cand = picks.copy()
            cand[m] += 1
            r = ev.evaluate("soft", cand).metrics
            options.append((r.accuracy, -r.log_loss) if metric == "accuracy" else (-r.log_loss,))
        if t > 0:  # round 0 is the sorted initialisation: the best single model
            assert options[step.model] >= tuple(o - 1e-6 for o in max(options))
        picks[step.model] += 1
        direct = ev.evaluate("soft", picks).metrics
        assert step.accuracy == pytest.approx(direct.accuracy)
        assert step.log_loss == pytest.approx(direct.log_loss, rel=1e-5)
    kept = [(s.accuracy, -s.log_loss) if metric == "accuracy" else (-s.log_loss,) for s in sel.path]
    best_so_far = np.maximum.accumulate([k[0] for k in kept])
    assert np.all(np.diff(best_so_far) >= 0)
    assert kept[sel.n_kept - 1] >= tuple(k - 1e-12 for k in max(kept))
    counts = np.bincount([s.model for s in sel.path[: sel.n_kept]], minlength=5)
    np.testing.assert_allclose(sel.weights, counts / sel.n_kept)


def test_sorted_initialisation_starts_with_the_best_singles(complementary):
    rng = np.random.default_rng(3)
    probas, y = complementary
    probas = np.concatenate([probas, random_probas(rng, 2, len(y), 2)])
    single = [_soft_log_loss(probas[m : m + 1], y, np.ones(1)) for m in range(4)]
    sel = caruana_selection(probas, y, init_size=3)
    assert [s.model for s in sel.path[:3]] == list(np.argsort(single)[:3])


def test_bagged_selection_averages_runs_over_model_subsets(complementary):
    rng = np.random.default_rng(4)
    probas, y = complementary
    probas = np.concatenate([probas, random_probas(rng, 4, len(y), 2)])
    sel = caruana_selection(probas, y, bags=8, bag_fraction=0.5, seed=1)
    assert sel.bag_weights.shape == (8, 6)
    assert np.all((sel.bag_weights > 0).sum(axis=1) <= 3)
    np.testing.assert_allclose(sel.weights, sel.bag_weights.mean(axis=0))
    np.testing.assert_allclose(sel.weights.sum(), 1.0)


def test_continuous_weights_recover_a_planted_mixture():
    rng = np.random.default_rng(5)
    n, planted = 30_000, np.array([0.6, 0.3, 0.1])
    probas = random_probas(rng, 3, n, 4)
    mixture = np.tensordot(planted, probas.astype(np.float64), axes=1)
    y = (mixture.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)  # labels drawn from the mixture
    w = log_loss_weights(probas, y)
    np.testing.assert_allclose(w, planted, atol=0.04)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_models=st.integers(1, 6),
    n_classes=st.integers(2, 5),
    method=st.sampled_from(["logloss", "caruana", "accuracy"]),
)
def test_weights_are_on_the_simplex_and_never_worse_than_uniform_or_single(seed, n_models, n_classes, method):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=120)
    probas = random_probas(rng, n_models, 120, n_classes)
    w, path, n_kept = ws.fit_weights(probas, y, method)
    assert w.shape == (n_models,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    assert (len(path) == 0) == (n_kept == 0) == (method == "logloss")
    if method == "logloss":
        loss = _soft_log_loss(probas, y, w)
        assert loss <= _soft_log_loss(probas, y, np.full(n_models, 1 / n_models)) + 1e-12
        assert all(loss <= _soft_log_loss(probas, y, e) + 1e-12 for e in np.eye(n_models))


@pytest.fixture(scope="module")
def noise_problem():
    """20 pure-noise models and random labels: no weights can truly help."""
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, size=600)
    probas = rng.dirichlet(np.full(3, 0.5), size=(20, 600)).astype(np.float32)
    return _pset(probas, y)


@pytest.mark.parametrize("method", ["logloss", "caruana"])
def test_nested_cv_gain_on_noise_stays_near_zero_while_in_sample_looks_positive(noise_problem, method):
    s = suggest_weights(noise_problem, method)
    in_sample_gain = s.uniform.log_loss - s.in_sample.log_loss
    heldout_gain = s.uniform.log_loss - s.heldout.log_loss
    assert in_sample_gain > 0.005  # fitting to noise looks like progress on the fitting rows
    assert heldout_gain < 0.002  # ...and none of it survives on rows the weights never saw
    assert s.best_single.log_loss > s.uniform.log_loss  # a noise model alone is worse than the average


def test_accuracy_search_on_noise_gains_nothing_held_out(noise_problem):
    s = suggest_weights(noise_problem, "accuracy")
    assert s.in_sample.accuracy - s.uniform.accuracy > 0.02
    assert abs(s.heldout.accuracy - 1 / 3) < 0.06  # chance level, whatever it did in sample


def test_weights_are_never_chosen_with_the_rows_they_are_scored_on(noise_problem, monkeypatch):
    rng = np.random.default_rng(7)
    probas = noise_problem.probas.copy()
    probas[0, :, 0] = rng.permutation(600) / 1000 + 0.0005  # a row tag
    probas[0, :, 1:] = (1 - probas[0, :, :1]) / 2
    pset = _pset(probas, noise_problem.y_true)
    seen = []
    real = ws.fit_weights

    def spy(p, y, method, **kw):  # the rows a fit reads: those it names (all when None)
        rows = kw.get("rows")
        seen.append(set(np.round(p[0, :, 0] if rows is None else p[0, rows, 0], 6).tolist()))
        return real(p, y, method, **kw)

    monkeypatch.setattr(ws, "fit_weights", spy)
    s = suggest_weights(pset, "logloss", folds=4, seed=3)
    tags = np.round(probas[0, :, 0], 6)
    tests = kfold_test_indices(pset.y_true, 4, 3)
    assert len(seen) == 5  # the folds and the final fit may run in any order (threads)
    for test in tests:  # one fit saw exactly the other folds' rows
        assert set(tags.tolist()) - set(tags[test].tolist()) in seen
    assert set(tags.tolist()) in seen  # the final fit uses all rows
    oof = np.empty((600, 3), np.float32)
    for f, test in enumerate(tests):
        oof[test] = np.tensordot(s.fold_weights[f], probas[:, test], axes=1)
    assert s.heldout.accuracy == pytest.approx(np.mean(oof.argmax(axis=1) == pset.y_true))


def test_suggestion_beats_uniform_and_best_single_where_a_mixture_helps(complementary):
    probas, y = complementary
    rng = np.random.default_rng(8)
    probas = np.concatenate([probas, random_probas(rng, 2, len(y), 2)])
    for method in ("logloss", "caruana"):
        s = suggest_weights(_pset(probas, y), method, calibrate=(method == "logloss"))
        assert s.heldout.log_loss < s.uniform.log_loss
        assert s.heldout.log_loss < s.best_single.log_loss
        assert s.weights[2:].sum() < 0.05
    d = s.to_dict()
    assert set(d["weights"]) == {"m0", "m1", "m2", "m3"}
    assert d["path"][0]["model"] in {"m0", "m1"} and len(d["path"]) == 25
    assert d["calibrated"] is False and d["temperatures"] is None


def test_calibrated_suggestion_reports_temperatures(complementary):
    probas, y = complementary
    s = suggest_weights(_pset(probas, y), "logloss", calibrate=True)
    assert s.temperatures.shape == (2,) and np.all(s.temperatures > 0)
    assert s.to_dict()["calibrated"] is True


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: suggest_weights(p, "magic"), "unknown optimisation method 'magic'"),
        (lambda p: suggest_weights(p, folds=1), "folds must be at least 2; got 1"),
        (lambda p: caruana_selection(p.probas, p.y_true, rounds=0), "rounds must be at least 1; got 0"),
        (lambda p: caruana_selection(p.probas, p.y_true, metric="f1"), "unknown selection metric 'f1'"),
        (lambda p: caruana_selection(p.probas, p.y_true, bags=0), "bags must be >= 1"),
        (lambda p: suggest_weights(p.select([0]).__class__(p.probas[:, :3], p.y_true[:3], p.classes, p.names),
                                   folds=5), "needs at least 5 examples; got 3"),
    ],
    ids=["method", "folds", "rounds", "metric", "bags", "too-few-rows"],
)
def test_rejected_inputs(noise_problem, call, match):
    with pytest.raises(EnsembleInputError, match=match):
        call(noise_problem)


@settings(max_examples=50, deadline=None)
@given(n_classes=st.integers(1, 6), n=st.integers(1, 30), levels=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_top_two_gap_is_the_sorted_difference(n_classes, n, levels, seed):
    from ensemble_core.weight_search import _top_two_gap

    rng = np.random.default_rng(seed)
    scores = (rng.integers(0, levels + 1, size=(n_classes, n)) / levels).astype(np.float32)  # shared tops too
    gap = _top_two_gap(scores)
    if n_classes == 1:
        assert np.isinf(gap).all()
    else:
        ordered = np.sort(scores, axis=0)
        np.testing.assert_array_equal(gap, ordered[-1] - ordered[-2])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_correct_class_major_takes_small_label_types(dtype):
    """The true-class position is computed in intp: int8 labels times n overflowed."""
    rng = np.random.default_rng(5)
    scores = rng.random((3, 4, 20_000), dtype=np.float32)
    y = rng.integers(0, 4, 20_000)
    np.testing.assert_array_equal(ws.correct_class_major(scores, y.astype(dtype)), ws.correct_class_major(scores, y))


def test_suggesting_on_a_thread_pool_leaves_blas_threads_as_they_were(monkeypatch):
    """threadpoolctl's limits are process-wide: the folds' overlapping limits once left BLAS
    at one thread for the rest of the process (every later slider move included)."""
    import scipy.optimize  # noqa: F401  (scipy brings its own BLAS: load it before counting)
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    monkeypatch.setitem(_threads.POLICY, "weight_search", _threads.Threads(blas=1, workers=4))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    rng = np.random.default_rng(0)
    probas = rng.dirichlet(np.ones(5), size=(8, 4000)).astype(np.float32)
    pset = PredictionSet(probas, rng.integers(0, 5, 4000), np.arange(5), tuple(f"m{i}" for i in range(8)))
    for _ in range(6):
        suggest_weights(pset, "logloss")
    assert blas_threads() == before


@settings(max_examples=100, deadline=None)
@given(
    n_sets=st.integers(1, 3),
    n_classes=st.integers(1, 12),
    n=st.integers(1, 30),
    picks=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
)
def test_correct_class_major_is_decide_on_the_same_sums(n_sets, n_classes, n, picks, seed):
    """The selection's class-major fast path decides as decide() does, on sums of ``picks``
    models' float32 probabilities with ``picks`` times the tolerance: exact and near ties."""
    from ensemble_core.decision import DECISION_ATOL, decide

    rng = np.random.default_rng(seed)
    levels = rng.choice([0.0, 0.25, 0.5], size=(n_sets, n_classes, n)) * picks
    near = rng.choice([0.0, 0.5, 0.99, 1.0, 1.01, 3.0], size=levels.shape) * picks * DECISION_ATOL
    sums = (levels + near).astype(np.float32)
    y = rng.integers(0, n_classes, size=n)
    atol = picks * DECISION_ATOL
    expected = decide(sums.transpose(0, 2, 1), atol=atol) == y
    np.testing.assert_array_equal(ws.correct_class_major(sums, y, atol=atol), expected)
@pytest.mark.parametrize("method, calibrate, rare", [("logloss", False, False), ("caruana", True, False),
                                                    ("accuracy", False, False), ("logloss", True, True)])
def test_nested_cv_equals_a_plain_stratified_loop(method, calibrate, rare):
    """Pins the numbers: every fold (scikit-learn's shuffled StratifiedKFold) is fitted on the
    other folds and predicted with its weights; the best single model is picked on them too.
    A class rarer than the folds used to switch the split to a plain KFold; stratified now too."""
    import warnings

    from sklearn.model_selection import StratifiedKFold

    from ensemble_core.calibration import apply_temperatures, fit_temperatures
    from ensemble_core.combine import soft_vote

    rng = np.random.default_rng(9)
    y = rng.integers(0, 3, size=500)
    probas = random_probas(rng, 4, 500, 3)
    probas[:2, np.arange(500), y] += np.float32(0.6)
    probas /= probas.sum(axis=2, keepdims=True)
    if rare:
        y = np.where(y == 2, 1, y)
        y[[7, 70]] = 2
    pset = _pset(probas, y)
    s = suggest_weights(pset, method, folds=4, seed=6, calibrate=calibrate)
    oof, best_oof, best = np.empty((500, 3), np.float32), np.empty((500, 3), np.float32), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the least populated class has fewer rows than folds
        splits = list(StratifiedKFold(4, shuffle=True, random_state=6).split(y, y))
    for f, (train, test) in enumerate(splits):
        p_train, p_test = probas[:, train], probas[:, test]
        if calibrate:
            t = fit_temperatures(p_train, y[train], pset.hard)
            p_train, p_test = apply_temperatures(p_train, t), apply_temperatures(p_test, t)
        w = ws.fit_weights(p_train, y[train], method, seed=6)[0]
        np.testing.assert_array_equal(s.fold_weights[f], w)
        oof[test] = soft_vote(p_test, w)
        raw = probas[:, train]
        per_model = (-(raw.argmax(axis=2) == y[train]).mean(axis=1) if method == "accuracy"
                     else ws._nll(true_class_matrix(raw, y[train])))
        best.append(int(np.argmin(per_model)))
        best_oof[test] = probas[best[-1], test]
    np.testing.assert_array_equal(s.heldout_probas, oof)
    assert s.best_single_names == tuple(pset.names[b] for b in best)
    assert s.best_single.log_loss == ws._scores(y, best_oof).log_loss
    t_all = fit_temperatures(probas, y, pset.hard) if calibrate else None
    p_all = apply_temperatures(probas, t_all) if calibrate else probas
    np.testing.assert_array_equal(s.weights, ws.fit_weights(p_all, y, method, seed=6)[0])
    assert s.in_sample == ws._scores(y, soft_vote(p_all, s.weights))
    if calibrate:
        np.testing.assert_array_equal(s.temperatures, t_all)


@pytest.mark.parametrize("method", ["logloss", "caruana", "accuracy"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fitting_on_named_rows_equals_fitting_on_a_copy_of_them(method, seed):
    """The nested cross-validation's folds name their rows instead of copying them (bounded
    memory); the weights, path and picks must be exactly those of a fit on the copied rows,
    and nothing outside the rows may count."""
    rng = np.random.default_rng(seed)
    n, c = 500, 3
    y = rng.integers(0, c, n)
    probas = random_probas(rng, 4, n, c)
    probas[1] = np.round(probas[1], 1)  # ties between classes
    probas[1] /= probas[1].sum(axis=1, keepdims=True)
    rows = np.sort(rng.choice(n, size=350, replace=False))
    on_copy = ws.fit_weights(probas[:, rows], y[rows], method, bags=2, seed=seed)
    shared = ws.shared_arrays(probas, y)
    named = ws.fit_weights(probas, y, method, rows=rows, shared=shared, bags=2, seed=seed)
    np.testing.assert_array_equal(named[0], on_copy[0])
    assert named[1:] == on_copy[1:]
    others = np.setdiff1d(np.arange(n), rows)
    scrambled = probas.copy()
    scrambled[:, others] = scrambled[::-1][:, others]  # what the rows outside say must not matter
    again = ws.fit_weights(scrambled, y, method, rows=rows, bags=2, seed=seed)
    np.testing.assert_array_equal(again[0], on_copy[0])


def test_the_nested_selection_does_not_copy_each_folds_rows():
    """Peak memory of a Caruana suggestion beyond the probability array (tracemalloc): the folds
    read shared arrays at their rows. Copying each fold's rows, as before, peaked at 7.4x here;
    now 5.4x."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, c = 20_000, 5
    y = rng.integers(0, c, n)
    probas = random_probas(rng, 6, n, c)
    pset = _pset(probas, y)
    tracemalloc.start()
    try:
        suggest_weights(pset, "caruana")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / probas.nbytes < 6.4
