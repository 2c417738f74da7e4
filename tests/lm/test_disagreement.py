"""Token-level comparison of the models and their fusion, against a direct computation."""

from __future__ import annotations

import math

import numpy as np

from ensemble_core.lm.disagreement import token_comparison
from ensemble_core.lm.pools import fuse
from tests.lm.conftest import random_scores


def test_token_comparison_against_a_direct_computation():
    scores = random_scores(3, n_tokens=80)
    cmp = token_comparison(scores, [0.2, 0.3, 0.5], "loglinear")
    fused = fuse(scores.log_probs, [0.2, 0.3, 0.5], "loglinear")
    for t in (0, 17, 79):
        y = scores.targets[t]
        p = [math.exp(scores.log_probs[m, t, y]) for m in range(3)]
        assert cmp.winner[t] == int(np.argmax(p))
        assert np.allclose(cmp.model_surprisal[:, t], -np.log2(p), atol=1e-5)
        assert math.isclose(cmp.fused_surprisal[t], -fused[t, y] / math.log(2), rel_tol=1e-6)
        assert cmp.fused_correct[t] == (np.argmax(fused[t]) == y)
        assert list(cmp.model_correct[:, t]) == [np.argmax(scores.log_probs[m, t]) == y for m in range(3)]
    assert sum(cmp.win_share.values()) == 1 and set(cmp.win_share) == {"m0", "m1", "m2"}
    fixes, breaks = cmp.fixes_and_breaks(1)
    assert fixes == np.sum(cmp.fused_correct & ~cmp.model_correct[1])
    assert breaks == np.sum(~cmp.fused_correct & cmp.model_correct[1])
