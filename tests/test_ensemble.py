"""The evaluator: weights-independent facts, fixes and breaks, and the re-weighting path."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet

# Three models on six examples (true labels 0 0 1 1 2 2); each is right where marked.
Y = np.array([0, 0, 1, 1, 2, 2])
PREDS = np.array(
    [
        [0, 0, 1, 0, 0, 2],  # right on 0,1,2,5  -> 4/6
        [0, 1, 1, 1, 0, 0],  # right on 0,2,3    -> 3/6
        [1, 1, 0, 1, 2, 0],  # right on 3,4      -> 2/6
    ]
)


def _pset(confidence=0.8):
    probas = np.full((3, 6, 3), (1 - confidence) / 2, dtype=np.float32)
    for m in range(3):
        probas[m, np.arange(6), PREDS[m]] = confidence
    return PredictionSet(probas, Y, np.array(["a", "b", "c"]), ("m1", "m2", "m3"))


def test_weights_independent_facts():
    ev = EnsembleEvaluator(_pset())
    assert ev.best_name_ == "m1" and ev.best_accuracy_ == pytest.approx(4 / 6)
    assert ev.oracle_accuracy_ == pytest.approx(1.0)  # every example is right somewhere
    assert ev.disagreement_rate_ == pytest.approx(1.0)  # no example has all three agreeing
    assert ev.model_metrics_["m3"].accuracy == pytest.approx(2 / 6)


def test_fixes_and_breaks_against_the_best_single_model():
    ev = EnsembleEvaluator(_pset())
    result = ev.evaluate("hard")  # majority: [0,1,1,1,0,?]; example 5: 2,0,0 -> 0
    np.testing.assert_array_equal(result.y_pred, [0, 1, 1, 1, 0, 0])
    # ensemble right on 0,2,3; m1 right on 0,1,2,5 -> fixes {3}, breaks {1,5}
    assert (result.fixes, result.breaks) == (1, 2)
    assert result.gain == pytest.approx(3 / 6 - 4 / 6)
    assert result.metrics.log_loss is None and not result.has_probas


def test_geometric_log_probabilities_are_computed_once():
    ev = EnsembleEvaluator(_pset())
    ev.evaluate("geometric", [1, 1, 1])
    first = ev.log_probas_
    ev.evaluate("geometric", [1, 2, 3])
    assert ev.log_probas_ is first


def test_stacking_result_is_cached_per_setting():
    rng = np.random.default_rng(0)
    probas = rng.dirichlet(np.ones(2), size=(2, 50)).astype(np.float32)
    ev = EnsembleEvaluator(PredictionSet(probas, np.array([0, 1] * 25), np.arange(2), ("a", "b")))
    a = ev.stacked_probas(meta="logistic", folds=5, seed=0)
    assert ev.stacked_probas(meta="logistic", folds=5, seed=0) is a
    assert ev.stacked_probas(meta="logistic", folds=5, seed=1) is not a


def test_soft_vote_of_only_hard_label_models_reports_no_log_loss():
    p = _pset(confidence=1.0)
    ps = PredictionSet(np.eye(3, dtype=np.float32)[PREDS], Y, p.classes, p.names, hard=np.ones(3, bool))
    result = EnsembleEvaluator(ps).evaluate("soft")
    assert result.metrics.log_loss is None


def test_unknown_strategy():
    with pytest.raises(EnsembleInputError, match="unknown strategy 'median'"):
        EnsembleEvaluator(_pset()).evaluate("median")


def test_reweighting_does_not_touch_the_models_metrics():
    ev = EnsembleEvaluator(_pset())
    before = {k: v.accuracy for k, v in ev.model_metrics_.items()}
    for w in ([1, 0, 0], [0, 1, 0], [1, 2, 3]):
        ev.evaluate("soft", w)
    assert {k: v.accuracy for k, v in ev.model_metrics_.items()} == before


@pytest.mark.parametrize("block_rows", [1, 7, 64, 10_000], ids=lambda b: f"block={b}")
@pytest.mark.parametrize("n_classes", [4, 40], ids=lambda k: f"classes={k}")  # class-major, then row-wise
@pytest.mark.parametrize("strategy", ["hard", "soft", "geometric"])
def test_blockwise_evaluation_equals_whole_array_reference(monkeypatch, strategy, n_classes, block_rows):
    """Whatever the block size (uneven last block included) and layout, evaluate() gives
    what the pure combination functions and classifier_metrics give on the whole array."""
    from ensemble_core import ensemble
    from ensemble_core.combine import CLASS_MAJOR_MAX_CLASSES, geometric_vote, hard_vote, log_probas, soft_vote
    from ensemble_core.metrics import classifier_metrics

    assert (n_classes <= CLASS_MAJOR_MAX_CLASSES) == (n_classes == 4)
    monkeypatch.setattr(ensemble, "BLOCK_ROWS", block_rows)
    rng = np.random.default_rng(3)
    probas = rng.dirichlet(np.ones(n_classes) * 0.5, size=(3, 101)).astype(np.float32)
    y = rng.integers(0, n_classes, size=101)
    w = np.array([0.5, 0.2, 0.3])
    pset = PredictionSet(probas, y, np.arange(n_classes), ("a", "b", "c"))
    result = EnsembleEvaluator(pset).evaluate(strategy, w)

    if strategy == "hard":
        y_ref, p_ref = hard_vote(probas.argmax(axis=2), w, n_classes)
    else:
        p_ref = soft_vote(probas, w) if strategy == "soft" else geometric_vote(log_probas(probas), w)
        y_ref = p_ref.argmax(axis=1)
    ref = classifier_metrics(y, y_ref, p_ref, has_probas=strategy != "hard")
    np.testing.assert_array_equal(result.y_pred, y_ref)
    np.testing.assert_allclose(result.probas, p_ref, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(result.metrics.confusion_matrix, ref.confusion_matrix)
    for name in ("accuracy", "macro_f1", "brier", "ece"):
        assert getattr(result.metrics, name) == pytest.approx(getattr(ref, name), rel=1e-6), name
    if strategy == "hard":
        assert result.metrics.log_loss is None
    else:
        assert result.metrics.log_loss == pytest.approx(ref.log_loss, rel=1e-6)


@pytest.mark.parametrize("strategy", ["soft", "geometric"])
def test_exact_ties_go_to_the_first_class_whatever_the_model_order(strategy):
    """Vote fractions (fifths, like k-NN) averaged with equal weights tie exactly in exact
    arithmetic; the winner must not depend on the order float32 added the models in."""
    rng = np.random.default_rng(0)
    n, k, m = 3000, 3, 5
    p = (rng.multinomial(5, np.full(k, 1 / k), size=(m, n)) / 5).astype(np.float32)
    y = rng.integers(0, k, n)
    names = tuple("abcde")
    forward = EnsembleEvaluator(PredictionSet(p, y, np.arange(k), names)).evaluate(strategy)
    backward = EnsembleEvaluator(PredictionSet(p[::-1].copy(), y, np.arange(k), names[::-1])).evaluate(strategy)
    np.testing.assert_array_equal(forward.y_pred, backward.y_pred)
    if strategy == "soft":  # where the exact average ties, the class that sorts first wins
        votes = (p * 5).round().astype(int).sum(axis=0)  # exact integer totals
        tied_first = np.array([np.flatnonzero(v == v.max())[0] for v in votes])
        np.testing.assert_array_equal(forward.y_pred, tied_first)


def test_threads_sharing_a_fresh_evaluator_get_the_same_numbers_and_each_lazy_part_is_built_once(monkeypatch):
    """The dashboard shares one evaluator between browser sessions (st.cache_resource)."""
    import threading
    import time

    import ensemble_core.ensemble as ensemble_module

    calls = {"log": 0, "stack": 0}
    real_log, real_stack = ensemble_module.log_probas, ensemble_module.cross_fit_stacking

    def slow(name, real):
        def counted(*args, **kwargs):
            calls[name] += 1
            time.sleep(0.05)  # a wide window for a second thread to start the same work
            return real(*args, **kwargs)
        return counted

    monkeypatch.setattr(ensemble_module, "log_probas", slow("log", real_log))
    monkeypatch.setattr(ensemble_module, "cross_fit_stacking", slow("stack", real_stack))
    rng = np.random.default_rng(3)
    probas = rng.dirichlet(np.ones(3), size=(3, 300)).astype(np.float32)
    pset = PredictionSet(probas, rng.integers(0, 3, 300), np.arange(3), ("a", "b", "c"))
    reference = EnsembleEvaluator(pset)
    expected = (reference.evaluate("geometric", [1, 2, 3]).probas, reference.stacked_probas(folds=3))
    calls.update(log=0, stack=0)
    shared, start, results = EnsembleEvaluator(pset), threading.Barrier(8), []

    def session(i):
        start.wait()
        if i % 2:
            results.append(("geometric", shared.evaluate("geometric", [1, 2, 3]).probas))
        else:
            results.append(("stacking", shared.evaluate("stacking", folds=3).probas))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == {"log": 1, "stack": 1}
    assert len(results) == 8
    for kind, got in results:
        np.testing.assert_array_equal(got, expected[0] if kind == "geometric" else expected[1])
