"""The registry: every named implementation exists, every consumer reads it, unknown names
give the same one-line errors everywhere, and a new entry reaches the consumers."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from ensemble_core import EnsembleEvaluator, EnsembleInputError, PredictionSet, registry
from ensemble_core.cli import build_parser

FAMILIES = {
    "strategy": registry.STRATEGY_SPECS,
    "meta-learner": registry.META_LEARNER_SPECS,
    "method": registry.METHOD_SPECS,
    "loader": registry.LOADER_SPECS,
    "build method": registry.BUILD_METHOD_SPECS,
    "base learner": registry.BASE_LEARNER_SPECS,
    "engine": registry.ENGINE_SPECS,
    "student": registry.STUDENT_SPECS,
    "compression": registry.COMPRESSION_SPECS,
}
SPECS = [(family, spec) for family, specs in FAMILIES.items() for spec in specs]


@pytest.mark.parametrize("family, spec", SPECS, ids=[f"{f}-{s.name}" for f, s in SPECS])
def test_every_named_implementation_resolves_and_is_callable(family, spec):
    assert callable(spec.implementation())
    if isinstance(spec, registry.StrategySpec):
        assert callable(spec.evaluate()) and callable(spec.latex())
        if spec.scores_path:
            assert callable(spec.scores())
    if isinstance(spec, registry.LoaderSpec):
        assert spec.directory == bool(spec.recognise_path) == bool(spec.hash_path)
        assert spec.directory != bool(spec.suffixes)
        if spec.directory:
            assert callable(registry.resolve(spec.recognise_path)) and callable(registry.resolve(spec.hash_path))


def test_every_path_names_a_module_and_an_attribute():
    paths = [getattr(spec, f.name) for _, spec in SPECS for f in dataclasses.fields(spec) if f.name.endswith("_path")]
    assert all(re.fullmatch(r"ensemble_core(\.\w+)+:\w+", p) for p in paths if p)


def test_names_are_unique_within_each_family():
    for specs in (*FAMILIES.values(), registry.TABLE_FORMAT_SPECS):
        names = [s.name for s in specs]
        assert len(names) == len(set(names))


def test_suffixes_belong_to_one_kind_each():
    for suffixes in (registry.MODEL_SUFFIXES, registry.TABLE_SUFFIXES):
        assert len(suffixes) == len(set(suffixes))
    assert registry.TABLE_SUFFIXES.index(".csv.gz") < registry.TABLE_SUFFIXES.index(".csv")


def test_the_command_line_offers_the_registry_choices():
    evaluate = build_parser()._subparsers._group_actions[0].choices["evaluate"]
    choices = {a.dest: tuple(a.choices) for a in evaluate._actions if a.choices}
    assert choices == {"strategy": registry.STRATEGIES, "meta": registry.META_LEARNERS,
                       "optimize": registry.METHODS}
    score = build_parser()._subparsers._group_actions[0].choices["score"]
    assert {a.dest: tuple(a.choices) for a in score._actions if a.choices} == {"engine": registry.ENGINES}


def _pset() -> PredictionSet:
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], size=(3, 60)).astype(np.float32)
    return PredictionSet(p, rng.integers(0, 3, 60), np.array(["a", "b", "c"]), ("m1", "m2", "m3"))


def _unknown_name_cases():
    from ensemble_core.config import EnsembleConfig
    from ensemble_core.explore import formula_latex
    from ensemble_core.landscape import simplex_landscape
    from ensemble_core.models import load_model, load_model_bytes
    from ensemble_core.stacking import make_meta_learner
    from ensemble_core.weight_search import fit_weights, suggest_weights

    pset = _pset()
    return [
        ("evaluator-strategy", lambda tmp: EnsembleEvaluator(pset).evaluate("median"),
         "unknown strategy 'median'; expected one of hard, soft, geometric, stacking"),
        ("evaluator-meta", lambda tmp: EnsembleEvaluator(pset).evaluate("stacking", meta="xgb"),
         "unknown meta-learner 'xgb'; expected one of logistic, gbm, mlp"),
        ("meta-learner", lambda tmp: make_meta_learner("xgb"),
         "unknown meta-learner 'xgb'; expected one of logistic, gbm, mlp"),
        ("fit-weights", lambda tmp: fit_weights(pset.probas, pset.y_true, "magic"),
         "unknown optimisation method 'magic'; expected one of caruana, logloss, accuracy"),
        ("suggest-weights", lambda tmp: suggest_weights(pset, "magic"),
         "unknown optimisation method 'magic'; expected one of caruana, logloss, accuracy"),
        ("landscape", lambda tmp: simplex_landscape(pset.probas, pset.y_true, strategy="stacking"),
         "unknown landscape strategy 'stacking'; expected one of hard, soft, geometric"),
        ("formula", lambda tmp: formula_latex("median", ["m1"], np.ones(1)), "unknown strategy 'median'"),
        ("config", lambda tmp: EnsembleConfig.from_dict({"strategy": "median", "models": ["m1"]}, source="c.json"),
         "c.json: 'strategy' must be one of hard, soft, geometric, stacking; got 'median'"),
        ("model-file", lambda tmp: load_model(_touch(tmp / "m.h5")),
         "m.h5: unknown model format '.h5'; expected a .skops file, an .onnx file"),
        ("upload", lambda tmp: load_model_bytes("m.h5", b"x"),
         "m.h5: unknown model format '.h5'; uploads may be .skops or .onnx (score other models"),
        ("upload-pickle", lambda tmp: load_model_bytes("m.pkl", b"x"),
         "m.pkl: uploaded pickle/joblib files are never loaded"),
    ]


def _touch(path: Path) -> Path:
    path.write_bytes(b"x")
    return path


@pytest.mark.parametrize("case", range(11), ids=[c[0] for c in _unknown_name_cases()])
def test_unknown_names_give_one_line_errors(tmp_path, case):
    _, call, message = _unknown_name_cases()[case]
    with pytest.raises(EnsembleInputError) as raised:
        call(tmp_path)
    text = str(raised.value)
    assert message in text and "\n" not in text


def test_a_new_strategy_entry_reaches_the_evaluator_and_the_formula(monkeypatch):
    """The seam: one entry (here a copy of soft voting under another name) and its functions."""
    from ensemble_core.explore import formula_latex

    copy = dataclasses.replace(registry.strategy("soft"), name="soft_copy", label="Soft, again")
    monkeypatch.setattr(registry, "STRATEGY_SPECS", (*registry.STRATEGY_SPECS, copy))
    ev = EnsembleEvaluator(_pset())
    got, expected = ev.evaluate("soft_copy", [1, 2, 3]), ev.evaluate("soft", [1, 2, 3])
    np.testing.assert_array_equal(got.y_pred, expected.y_pred)
    assert got.metrics.to_dict() == expected.metrics.to_dict() and got.strategy == "soft_copy"
    assert formula_latex("soft_copy", ["m1", "m2", "m3"], got.weights) == formula_latex(
        "soft", ["m1", "m2", "m3"], got.weights)
