"""The names the command line and the dashboard offer: strategies, meta-learners, weight-search
methods. Plain tuples with no imports, so that building the command line's parser (and
``--help``) loads neither NumPy nor pandas."""

from __future__ import annotations

from typing import Literal

Strategy = Literal["hard", "soft", "geometric", "stacking"]
STRATEGIES: tuple[str, ...] = ("hard", "soft", "geometric", "stacking")

MetaLearner = Literal["logistic", "gbm", "mlp"]
META_LEARNERS: tuple[str, ...] = ("logistic", "gbm", "mlp")

Method = Literal["caruana", "logloss", "accuracy"]
METHODS: tuple[str, ...] = ("caruana", "logloss", "accuracy")
