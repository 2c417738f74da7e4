"""Bootstrap intervals cover at the nominal rate; McNemar matches scipy and the textbook formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from ensemble_core import EnsembleInputError
from ensemble_core.significance import (
    EXACT_BELOW,
    bootstrap_accuracy_ci,
    bootstrap_gain_ci,
    bootstrap_mean_ci,
    describe_gain,
    gain_statistics,
    mcnemar_test,
)


def _pairs(b: int, c: int, agree: int = 30) -> tuple[np.ndarray, np.ndarray]:
    a = np.r_[np.ones(b, bool), np.zeros(c, bool), np.ones(agree, bool)]
    base = np.r_[np.zeros(b, bool), np.ones(c, bool), np.ones(agree, bool)]
    return a, base


@pytest.mark.parametrize("b, c", [(0, 0), (3, 0), (7, 2), (10, 14), (12, 12)])
def test_exact_mcnemar_equals_scipy_binomtest(b, c):
    res = mcnemar_test(*_pairs(b, c))
    assert (res.b, res.c, res.method) == (b, c, "exact")
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert res.p_value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("b, c", [(20, 5), (100, 130), (400, 380)])
def test_chi2_mcnemar_equals_the_continuity_corrected_formula(b, c):
    res = mcnemar_test(*_pairs(b, c))
    assert b + c >= EXACT_BELOW and res.method == "chi2"
    stat = (abs(b - c) - 1) ** 2 / (b + c)
    assert res.statistic == pytest.approx(stat)
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(stat / 2)), rel=1e-10)  # chi2(1) survival


def test_mcnemar_p_values_match_scipy_stats_everywhere():
    """The p-values are computed without scipy (its import costs 0.6-0.8 s a run): every exact case,
    and the chi-square branch from 25 to 100,000 discordant rows, against scipy.stats."""
    from scipy.stats import binom, chi2

    for n in range(1, EXACT_BELOW):
        for b in range(n + 1):
            res = mcnemar_test(*_pairs(b, n - b))
            expected = min(1.0, 2.0 * float(binom.cdf(min(b, n - b), n, 0.5)))
            assert res.p_value == pytest.approx(expected, rel=1e-15, abs=0), (b, n - b)
    for n in [EXACT_BELOW, 26, 40, 99, 250, 1000, 3777, 10_000, 100_000]:
        for b in np.unique(np.linspace(0, n, 41).astype(int)):
            stat = (abs(2 * int(b) - n) - 1.0) ** 2 / n
            res = mcnemar_test(*_pairs(int(b), n - int(b), agree=0))
            assert res.statistic == stat
            assert res.p_value == pytest.approx(float(chi2.sf(stat, 1)), rel=2e-13, abs=0), (b, n - b)


def test_mcnemar_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from ensemble_core.significance import mcnemar_test; "
            "mcnemar_test(np.r_[np.ones(40, bool), np.zeros(9, bool)], np.zeros(49, bool)); "
            "mcnemar_test(np.ones(3, bool), np.zeros(3, bool)); print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_accuracy_interval_covers_the_truth_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    true_acc, n, sims = 0.8, 400, 200
    hits = 0
    for s in range(sims):
        lo, hi = bootstrap_accuracy_ci(rng.random(n) < true_acc, seed=s)
        hits += lo <= true_acc <= hi
    assert 0.90 <= hits / sims <= 0.99


def test_gain_interval_covers_the_true_gain_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    n, sims = 500, 200
    # Cells (ensemble right, best right): (1, 0) 0.08, (0, 1) 0.05 → true gain 0.03.
    cells = np.array([0.08, 0.05, 0.70, 0.17])
    hits = 0
    for s in range(sims):
        k = rng.choice(4, size=n, p=cells)
        a, base = np.isin(k, [0, 2]), np.isin(k, [1, 2])
        lo, hi = bootstrap_gain_ci(a, base, seed=s)
        hits += lo <= 0.03 <= hi
    assert 0.90 <= hits / sims <= 0.99


def test_multinomial_bootstrap_matches_resampling_rows():
    rng = np.random.default_rng(2)
    a, base = rng.random(300) < 0.75, rng.random(300) < 0.7
    idx = rng.integers(0, 300, size=(4000, 300))  # the slow, literal row bootstrap
    literal = np.quantile(a[idx].mean(axis=1) - base[idx].mean(axis=1), [0.025, 0.975])
    fast = bootstrap_gain_ci(a, base, n_resamples=4000, seed=3)
    assert np.allclose(fast, literal, atol=0.01)


def test_mean_interval_covers_the_true_mean_and_matches_the_binary_case():
    rng = np.random.default_rng(5)
    hits = 0
    for s in range(200):
        lo, hi = bootstrap_mean_ci(rng.exponential(2.0, size=300), n_resamples=1000, seed=s, chunk_elements=50_000)
        hits += lo <= 2.0 <= hi
    assert 0.89 <= hits / 200 <= 0.99  # a skewed variable: the percentile interval runs a little short
    correct = rng.random(1000) < 0.7
    assert np.allclose(bootstrap_mean_ci(correct.astype(float), n_resamples=4000),
                       bootstrap_accuracy_ci(correct, n_resamples=4000), atol=0.006)


def test_intervals_are_seeded_and_shrink_with_more_rows():
    rng = np.random.default_rng(4)
    small, big = rng.random(200) < 0.7, rng.random(20_000) < 0.7
    assert bootstrap_accuracy_ci(small, seed=5) == bootstrap_accuracy_ci(small, seed=5)
    w_small = np.subtract(*bootstrap_accuracy_ci(small)[::-1])
    w_big = np.subtract(*bootstrap_accuracy_ci(big)[::-1])
    assert w_big < w_small / 5


def test_gain_statistics_and_words():
    a, base = _pairs(30, 10, agree=960)
    oracle = a | base
    s = gain_statistics(a, base, oracle_correct=oracle)
    assert s.gain == pytest.approx(0.02)
    assert s.gain_ci[0] < 0.02 < s.gain_ci[1]
    assert s.headroom == pytest.approx(oracle.mean() - a.mean())
    text = describe_gain(s, baseline="rf")
    assert text.startswith("+2.0 points over rf, 95% CI +")
    assert text.endswith(f"McNemar p = {s.mcnemar.p_value:.3f}")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mcnemar_test(np.ones(3, bool), np.ones(4, bool)), "equal-length"),
        (lambda: gain_statistics(np.ones(0, bool), np.ones(0, bool)), "non-empty"),
        (lambda: bootstrap_accuracy_ci(np.ones(0, bool)), r"non-empty .*; got \(0,\)"),
        (lambda: bootstrap_gain_ci(np.ones(0, bool), np.ones(0, bool)), r"non-empty .*; got \(0,\) and \(0,\)"),
        (lambda: bootstrap_gain_ci(np.ones(3, bool), np.ones(4, bool)), r"equal length; got \(3,\) and \(4,\)"),
        (lambda: bootstrap_accuracy_ci(np.ones(5, bool), level=1.5), r"level must be in \(0, 1\); got 1.5"),
        (lambda: bootstrap_gain_ci(np.ones(5, bool), np.ones(5, bool), n_resamples=0), "at least 1; got 0"),
        (lambda: bootstrap_mean_ci(np.ones((2, 2))), r"non-empty vector; got shape \(2, 2\)"),
    ],
    ids=["mcnemar-length", "empty", "accuracy-empty", "gain-empty", "gain-length", "level", "resamples", "mean-shape"],
)
def test_rejected_inputs(call, match):
    with pytest.raises(EnsembleInputError, match=match):
        call()
