"""Tuning assistance: speed of suggesting weights and of the landscape, and the quality check.

Speed, on 10 models × 100,000 examples × 10 classes (the core benchmark's problem), as
medians of repeats and ratios to baselines measured in the same run (``probas.sum()``,
one read of the array; one ``EnsembleEvaluator.evaluate("soft", w)``, one slider move):

- suggesting weights, final fit on all rows, per method; then the nested 5-fold
  cross-validated evaluation (which includes the final fit);
- a ternary landscape at resolution 50 (1,326 points) of three of the models;
- per-weight sweeps of all ten models; bootstrap interval + McNemar at 100,000.

Quality, on a synthetic suite (numbers of models and classes, miscalibrated members,
redundant models, noise models) and the bundled demos (sentiment, digits) where present: held-out
(nested 5-fold) log loss of the suggested weights against uniform soft voting, the
best single model (chosen on the other folds) and 25-round Caruana selection, with
paired bootstrap intervals on the differences.

Run: ``python benchmarks/bench_tuning.py [--n 100000] [--quality-n 5000]``.
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
from bench_core import make_problem
from _timing import timed

from ensemble_core import EnsembleEvaluator, PredictionSet, soft_vote
from ensemble_core._folds import kfold_test_indices
from ensemble_core.landscape import simplex_landscape, weight_sweeps
from ensemble_core.metrics import LOG_LOSS_EPS
from ensemble_core.significance import bootstrap_mean_ci, gain_statistics
from ensemble_core.weight_search import fit_weights, suggest_weights


def speed(n: int) -> None:
    pset = make_problem(n)
    ev = EnsembleEvaluator(pset)
    rng = np.random.default_rng(0)
    floor = timed(lambda: pset.probas.sum(), 20)
    ev.evaluate("soft", rng.uniform(size=10))
    evaluate = timed(lambda: ev.evaluate("soft", rng.uniform(size=10)), 20)
    print(f"baselines: probas.sum() {floor * 1e3:.1f} ms; one evaluate('soft', w) {evaluate * 1e3:.1f} ms\n")
    print("| task (10 models × {:,} examples × 10 classes) | time (s) | / evaluate | / sum | target |".format(n))
    print("|---|---|---|---|---|")

    def row(label: str, seconds: float, target: str = "") -> None:
        print(f"| {label} | {seconds:.3f} | {seconds / evaluate:.0f}× | {seconds / floor:.0f}× | {target} |")

    for method in ("logloss", "caruana", "accuracy"):
        t = timed(lambda: fit_weights(pset.probas, pset.y_true, method), 3)
        row(f"suggest weights, final fit: {method}", t, "< 2 s" + (" ✓" if t < 2 else " ✗ missed"))
    for method in ("logloss", "caruana", "accuracy"):
        row(f"nested 5-fold CV + final fit: {method}", timed(lambda: suggest_weights(pset, method), 1))
    row("nested 5-fold CV + final fit: logloss, calibrated", timed(lambda: suggest_weights(pset, "logloss", calibrate=True), 1))
    three = pset.probas[:3]
    for strategy, with_ll in [("soft", False), ("soft", True), ("hard", False), ("geometric", False)]:
        t = timed(lambda: simplex_landscape(three, pset.y_true, strategy=strategy, resolution=50, with_log_loss=with_ll), 3)
        label = f"ternary landscape 50×50 (1,326 points), {strategy} accuracy" + (" + log loss" if with_ll else "")
        row(label, t, "< 1 s" + (" ✓" if t < 1 else " ✗ missed"))
    row("weight sweeps, 10 models × 21 points, soft accuracy + log loss",
        timed(lambda: weight_sweeps(pset.probas, pset.y_true, np.ones(10), resolution=20), 3))
    correct = ev.evaluate("soft").y_pred == pset.y_true
    row("gain statistics: 2,000 bootstrap resamples × 2 + McNemar",
        timed(lambda: gain_statistics(correct, ev.correct_[ev.best_index_]), 5))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def synthetic_case(
    seed: int, n: int, n_classes: int, noise: list[float], sharpness: list[float], *, shared: float = 0.0
) -> PredictionSet:
    """Labels drawn from a latent softmax; model m sees the logits plus its own noise (and a
    noise component shared by all, ``shared``), and reports them with logits × sharpness
    (> 1 over-confident, < 1 timid)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(n, n_classes))
    y = (_softmax(z).cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    common = rng.normal(size=(n, n_classes))
    probas = np.stack([
        _softmax(s * (z + shared * common + e * rng.normal(size=(n, n_classes))))
        for e, s in zip(noise, sharpness)
    ]).astype(np.float32)
    return PredictionSet(probas, y, np.arange(n_classes), tuple(f"m{i}" for i in range(len(noise))))


def cases(n: int) -> dict[str, PredictionSet]:
    out = {
        "3 models, 3 classes, calibrated": synthetic_case(1, n, 3, [1.0, 1.5, 2.0], [1, 1, 1]),
        "binary, 6 models": synthetic_case(2, n, 2, [0.5, 1, 1.5, 2, 2.5, 3], [1] * 6),
        "10 models, 10 classes": synthetic_case(3, n, 10, list(np.linspace(0.5, 3, 10)), [1] * 10),
        "miscalibrated members": synthetic_case(4, n, 4, [0.8, 1.0, 1.2, 1.5], [4.0, 0.3, 2.5, 1.0]),
        "over-confident best model": synthetic_case(5, n, 3, [0.5, 1.5, 1.5], [6.0, 1, 1]),
        "correlated errors": synthetic_case(6, n, 5, [0.5, 0.6, 2.0, 2.0], [1, 1, 1, 1], shared=1.5),
        "1 good + 7 noise models": synthetic_case(7, n, 4, [0.7] + [30.0] * 7, [1] + [0.2] * 7),
        "20 classes, 8 models": synthetic_case(8, n, 20, list(np.linspace(0.8, 2.5, 8)), [1.5] * 8),
    }
    redundant = synthetic_case(9, n, 3, [0.8, 1.6], [1, 1])
    p = redundant.probas
    out["redundant: 3 copies of one model + 1 other"] = PredictionSet(
        np.stack([p[0], p[0], p[0], p[1]]), redundant.y_true, redundant.classes, ("a", "a2", "a3", "b"))
    try:
        from ensemble_core.demo import DEMOS, load_demo

        for demo in ("sentiment", "digits"):
            for split in ("val", "test"):
                if DEMOS[demo].available(split):
                    out[f"{demo} demo ({split} split)"] = load_demo(demo, split)
    except ImportError:
        pass
    return out


def _row_losses(y: np.ndarray, probas: np.ndarray) -> np.ndarray:
    return -np.log(np.maximum(probas[np.arange(y.size), y].astype(np.float64), LOG_LOSS_EPS))


def _diff(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Mean per-row log-loss difference a − b and its paired bootstrap 95% interval."""
    d = a - b
    return float(d.mean()), bootstrap_mean_ci(d, n_resamples=1000)


def quality(n: int) -> None:
    print("\nHeld-out (nested 5-fold) log loss; 'best single' is chosen on the other folds. Differences are "
          "paired (same rows), with a bootstrap 95% CI. ✓: logloss ≤ uniform and ≤ best single; "
          "≈: worse than one of them by less than the noise (the CI spans 0); ✗: clearly worse.\n")
    print("| case | n | models | classes | logloss | + calibration | Caruana 25 | Caruana (accuracy) | "
          "uniform soft | best single | logloss − uniform | logloss − best single | logloss − Caruana | check |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, pset in cases(n).items():
        y = pset.y_true
        s = {m: suggest_weights(pset, m) for m in ("logloss", "caruana", "accuracy")}
        cal = suggest_weights(pset, "logloss", calibrate=True)
        ours = _row_losses(y, s["logloss"].heldout_probas)
        uniform = _row_losses(y, soft_vote(pset.probas, np.full(pset.n_models, 1 / pset.n_models)))
        best = np.empty(pset.n_samples)
        for test, chosen in zip(kfold_test_indices(y, 5, 0), s["logloss"].best_single_names):
            best[test] = _row_losses(y[test], pset.probas[pset.names.index(chosen), test])
        caruana = _row_losses(y, s["caruana"].heldout_probas)
        diffs = [_diff(ours, other) for other in (uniform, best, caruana)]
        worse = [d for d, _ in diffs[:2] if d > 0]
        clearly = [ci for d, ci in diffs[:2] if ci[0] > 0]
        check = "✗" if clearly else ("≈" if worse else "✓")
        cells = " | ".join(f"{d:+.4f} ({lo:+.4f} to {hi:+.4f})" for d, (lo, hi) in diffs)
        print(
            f"| {name} | {pset.n_samples:,} | {pset.n_models} | {pset.n_classes} | {ours.mean():.4f} | "
            f"{cal.heldout.log_loss:.4f} | {caruana.mean():.4f} | {s['accuracy'].heldout.log_loss:.4f} | "
            f"{uniform.mean():.4f} | {best.mean():.4f} | {cells} | {check} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--quality-n", type=int, default=5_000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
          f"numpy {np.__version__}\n")
    speed(args.n)
    quality(args.quality_n)


if __name__ == "__main__":
    main()
