"""The ensemble config the Ensemble page exports (``explore.ensemble_config``), read back.

A JSON object: ``strategy``, ``models`` (the included models, by name),
``weights`` (name → weight; null for stacking), for stacking ``meta``, ``folds``
and ``seed``, optionally ``excluded`` (models left out), ``temperatures``
(name → temperature, when the members were temperature-scaled) and
``labels_only_smoothing`` (the ε labels-only models were label-smoothed with).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import registry
from ._validation import MAX_SEED, EnsembleInputError
from .calibration import TEMPERATURE_RANGE
from .labels_only import check_smoothing
from .registry import META_LEARNERS, STRATEGIES

if TYPE_CHECKING:
    from .predictions import PredictionSet

#: A config is a few hundred bytes; anything much larger is not one.
MAX_CONFIG_BYTES = 1 * 2**20
#: Every key a config may have ("note" is the page's remark on stacking); any other is a typo.
CONFIG_KEYS = ("strategy", "models", "weights", "meta", "folds", "seed", "excluded", "temperatures", "note",
               "labels_only_smoothing")


@dataclass(frozen=True)
class EnsembleConfig:
    """A validated ensemble config.

    Attributes
    ----------
    strategy : one of ``STRATEGIES``
    models : the included models' names, in the config's order
    weights : name → raw weight for every included model; None for stacking
    meta, folds, seed : stacking's meta-learner and cross-fitting (None where not given)
    excluded : models left out of the ensemble
    temperatures : name → temperature of every included model, or None
    labels_only_smoothing : the ε of labels-only models' rows (:mod:`.labels_only`), or None
    """

    strategy: str
    models: tuple[str, ...]
    weights: Mapping[str, float] | None = None
    meta: str | None = None
    folds: int | None = None
    seed: int | None = None
    excluded: tuple[str, ...] = ()
    temperatures: Mapping[str, float] | None = None
    labels_only_smoothing: float | None = None

    def apply_to(self, pset: PredictionSet, *, source: object = "config") -> tuple[PredictionSet, list[str], list[float] | None]:
        """The prediction set as this config has it: its models, in the set's order (any
        others must be ones it left out), each temperature-scaled with the config's
        temperature when it has them.

        Returns
        -------
        pset : PredictionSet
        notes : list of str, what the scaling means for the numbers
        temperatures : list of float in the returned set's model order, or None

        Raises
        ------
        EnsembleInputError
            When a config model has no prediction file, or a file's model is neither
            in the config's models nor in its excluded ones.
        """
        from .calibration import apply_temperatures
        from .labels_only import smooth_labels_only
        from .predictions import PredictionSet

        self.check_models(pset.names, source=source)
        pset = pset.select([n for n in pset.names if n in self.models])
        if self.labels_only_smoothing is not None:
            pset = smooth_labels_only(pset, self.labels_only_smoothing)
        if self.temperatures is None:
            return pset, [], None
        temperatures = [self.temperatures[n] for n in pset.names]
        scaled = PredictionSet(apply_temperatures(pset.probas, temperatures), pset.y_true, pset.classes,
                               pset.names, hard=pset.hard, ids=pset.ids, content=pset.content,
                               smoothing=pset.smoothing)
        note = ("members temperature-scaled with the config's temperatures, as given (fitted on the data the "
                "config was made on: on those rows the scaling is in-sample, unlike the page's cross-fitted members)")
        return scaled, [note], temperatures

    def check_models(self, names: Sequence[str], *, source: object = "config") -> None:
        """Refuse loaded models ``names`` that do not fit this config: each of its models must
        be loaded, and each loaded model must be in its models or its excluded ones.

        Raises
        ------
        EnsembleInputError
            Naming the first model that does not fit.

        Examples
        --------
        >>> EnsembleConfig("soft", ("a", "b"), {"a": 1.0, "b": 2.0}).check_models(["b", "a"])
        >>> EnsembleConfig("soft", ("a", "c"), {"a": 1.0, "c": 2.0}).check_models(["a", "b"])
        Traceback (most recent call last):
        ...
        ensemble_core._validation.EnsembleInputError: config: no prediction file for model 'c' (files give the models a, b; a file's model name is its stem, or use --names)
        """
        missing = [m for m in self.models if m not in names]
        if missing:
            raise EnsembleInputError(
                f"{source}: no prediction file for model {missing[0]!r} (files give the models "
                f"{', '.join(names)}; a file's model name is its stem, or use --names)"
            )
        unknown = [n for n in names if n not in self.models and n not in self.excluded]
        if unknown:
            raise EnsembleInputError(f"{source}: model {unknown[0]!r} is neither in its 'models' nor in 'excluded'")

    @classmethod
    def from_dict(cls, obj: object, *, source: object = "config") -> EnsembleConfig:
        """Validate a decoded JSON object; every problem is one line naming the key."""

        def fail(message: str) -> EnsembleInputError:
            return EnsembleInputError(f"{source}: {message}")

        if not isinstance(obj, dict):
            raise fail(f"expected a JSON object; got {type(obj).__name__}")
        unknown_keys = [k for k in obj if k not in CONFIG_KEYS]
        if unknown_keys:
            raise fail(f"unknown key {unknown_keys[0]!r}; a config has {', '.join(CONFIG_KEYS)}")
        strategy = obj.get("strategy")
        if strategy not in STRATEGIES:
            raise fail(f"'strategy' must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
        models = _names(obj.get("models"), "models", fail)
        if not models:
            raise fail("'models' must name at least one model")
        excluded = _names(obj.get("excluded", []), "excluded", fail)
        both = set(models) & set(excluded)
        if both:
            raise fail(f"{sorted(both)[0]!r} is both in 'models' and in 'excluded'")
        weights = obj.get("weights")
        if not registry.strategy(strategy).uses_weights:
            weights = None  # the page writes null: stacking ignores weights
        else:
            weights = _numbers(weights, "weights", fail, positive=False)
            missing = [m for m in models if m not in weights]
            if missing:
                raise fail(f"'weights' has no weight for model {missing[0]!r}")
            unknown = [m for m in weights if m not in models]
            if unknown:
                raise fail(f"'weights' names {unknown[0]!r}, which is not in 'models'")
        meta = obj.get("meta")
        if meta is not None and meta not in META_LEARNERS:
            raise fail(f"'meta' must be one of {', '.join(META_LEARNERS)}; got {meta!r}")
        folds, seed = obj.get("folds"), obj.get("seed")
        if folds is not None and (type(folds) is not int or folds < 2):
            raise fail(f"'folds' must be a whole number of at least 2; got {folds!r}")
        if seed is not None and (type(seed) is not int or not 0 <= seed <= MAX_SEED):
            raise fail(f"'seed' must be a whole number from 0 to {MAX_SEED}; got {seed!r}")
        temperatures = obj.get("temperatures")
        if temperatures is not None:
            temperatures = _numbers(temperatures, "temperatures", fail, positive=True)
            low, high = TEMPERATURE_RANGE
            outside = [m for m, t in temperatures.items() if not low <= t <= high]
            if outside:
                raise fail(
                    f"'temperatures': {outside[0]!r} must be from {low:g} to {high:g} (the range temperature "
                    f"scaling fits); got {temperatures[outside[0]]!r}"
                )
            missing = [m for m in models if m not in temperatures]
            if missing:
                raise fail(f"'temperatures' has no temperature for model {missing[0]!r}")
        smoothing = obj.get("labels_only_smoothing")
        if smoothing is not None:
            if type(smoothing) not in (int, float):
                raise fail(f"'labels_only_smoothing' must be a number; got {smoothing!r}")
            check_smoothing(smoothing, source=f"{source}: 'labels_only_smoothing'")
            smoothing = float(smoothing)
        return cls(strategy, models, weights, meta, folds, seed, excluded, temperatures, smoothing)


def _names(value: object, key: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"{key!r} must be a list of model names; got {value!r}")
    if len(set(value)) != len(value):
        dup = next(v for v in value if value.count(v) > 1)
        raise fail(f"{key!r} names {dup!r} twice")
    return tuple(value)


def _numbers(value: object, key: str, fail, *, positive: bool) -> dict[str, float]:
    if not isinstance(value, dict):
        raise fail(f"{key!r} must be an object of model name → number; got {value!r}")
    out = {}
    for name, number in value.items():
        if type(number) not in (int, float) or not math.isfinite(number) or number < 0 or (positive and number == 0):
            expected = "a positive number" if positive else "a number >= 0"
            raise fail(f"{key!r}: {name!r} must be {expected}; got {number!r}")
        out[name] = float(number)
    return out


def read_config(path: str | Path) -> EnsembleConfig:
    """Read an ensemble config JSON file (a regular file of at most ``MAX_CONFIG_BYTES``).

    Examples
    --------
    >>> cfg = read_config("ensemble-config.json")  # doctest: +SKIP
    >>> cfg.strategy, dict(cfg.weights)  # doctest: +SKIP
    ('soft', {'forest': 3.0, 'knn': 1.0})
    """
    from .models.base import read_regular

    path = Path(path)
    return parse_config(read_regular(path, MAX_CONFIG_BYTES), source=path)


def parse_config(data: bytes | str, *, source: object = "config") -> EnsembleConfig:
    """An ensemble config from its JSON text (a file's bytes, or text pasted in the app): the
    one reading both :func:`read_config` and the dashboard use.

    Raises
    ------
    EnsembleInputError
        One line naming ``source``: too large, not JSON, a key twice, or a bad value.

    Examples
    --------
    >>> parse_config('{"strategy": "soft", "models": ["a", "b"], "weights": {"a": 3, "b": 1}}').weights
    {'a': 3.0, 'b': 1.0}
    >>> parse_config("{strategy: soft}")
    Traceback (most recent call last):
    ...
    ensemble_core._validation.EnsembleInputError: config: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_CONFIG_BYTES:
        raise EnsembleInputError(f"{source}: {len(data):,} bytes is too large for a config "
                                 f"(at most {MAX_CONFIG_BYTES:,})")
    try:
        obj = json.loads(data.decode("utf-8-sig"), object_pairs_hook=_no_repeated_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnsembleInputError(f"{source}: not valid JSON ({exc})") from None
    except _RepeatedKey as exc:
        raise EnsembleInputError(f"{source}: key {exc.args[0]!r} appears twice in one object; give it once") from None
    return EnsembleConfig.from_dict(obj, source=source)


class _RepeatedKey(Exception):
    pass


def _no_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    """json's object hook: a key given twice is refused (json alone would keep the last)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _RepeatedKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


def weights_by_name(
    weights: Mapping[str, float], names: Sequence[str], *, source: str = "--weights"
) -> list[float]:
    """Named weights as a list in ``names`` order; every model named, no other name.

    Raises
    ------
    EnsembleInputError
        Naming a model that is not loaded, or a loaded model without a weight.
    """
    unknown = [n for n in weights if n not in names]
    if unknown:
        raise EnsembleInputError(
            f"{source}: {unknown[0]!r} is not one of the models ({', '.join(names)})"
        )
    missing = [n for n in names if n not in weights]
    if missing:
        raise EnsembleInputError(
            f"{source}: no weight for model {missing[0]!r}; give one for every model (0 leaves one out)"
        )
    return [float(weights[n]) for n in names]
