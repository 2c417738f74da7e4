"""ensemble_core: combine classifiers' predictions and measure the result.

Pure Python/NumPy; the Streamlit app and the command line sit on top of it.
"""

import os

# Before any OpenMP runtime loads, its idle threads are told to sleep rather than spin, unless the
# environment says otherwise: importing the package always did this (through .models, which explains
# the measurement), and the lazy imports below must not lose it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Each public name and the module it lives in. Names are imported on first use
#: (PEP 562), so that ``import ensemble_core`` (and the command line's ``--help``)
#: loads neither NumPy, pandas nor any model library.
_EXPORTS = {
    "EnsembleInputError": "._validation",
    "check_weights": "._validation",
    "EnsembleConfig": ".config",
    "read_config": ".config",
    "STRATEGIES": ".registry",
    "geometric_vote": ".combine",
    "hard_vote": ".combine",
    "log_probas": ".combine",
    "soft_vote": ".combine",
    "DiversityMatrices": ".disagreement",
    "diversity_matrices": ".disagreement",
    "example_disagreement": ".disagreement",
    "vote_entropy": ".disagreement",
    "EnsembleEvaluator": ".ensemble",
    "EnsembleResult": ".ensemble",
    "LabelsFile": ".io",
    "load_prediction_set": ".io",
    "read_prediction_table": ".io",
    "write_predictions": ".io",
    "ClassifierMetrics": ".metrics",
    "classifier_metrics": ".metrics",
    "LoadedModel": ".models",
    "PredictionCache": ".models",
    "load_model": ".models",
    "load_model_bytes": ".models",
    "score_model": ".models",
    "PredictionSet": ".predictions",
    "META_LEARNERS": ".registry",
    "StackingModel": ".stacking",
    "cross_fit_stacking": ".stacking",
    "fit_stacker": ".stacking",
    "CalibrationResult": ".calibration",
    "cross_fit_temperatures": ".calibration",
    "Landscape": ".landscape",
    "WeightSweeps": ".landscape",
    "simplex_landscape": ".landscape",
    "weight_sweeps": ".landscape",
    "GainStatistics": ".significance",
    "describe_gain": ".significance",
    "gain_statistics": ".significance",
    "mcnemar_test": ".significance",
    "METHODS": ".registry",
    "WeightSuggestion": ".weight_search",
    "caruana_selection": ".weight_search",
    "log_loss_weights": ".weight_search",
    "suggest_weights": ".weight_search",
}


from ._lazy import lazy_exports  # noqa: E402 - after the environment is set

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "METHODS",
    "CalibrationResult",
    "GainStatistics",
    "Landscape",
    "WeightSuggestion",
    "WeightSweeps",
    "caruana_selection",
    "cross_fit_temperatures",
    "describe_gain",
    "gain_statistics",
    "log_loss_weights",
    "mcnemar_test",
    "simplex_landscape",
    "suggest_weights",
    "weight_sweeps",
    "META_LEARNERS",
    "STRATEGIES",
    "ClassifierMetrics",
    "DiversityMatrices",
    "EnsembleConfig",
    "EnsembleEvaluator",
    "EnsembleInputError",
    "EnsembleResult",
    "LabelsFile",
    "LoadedModel",
    "PredictionCache",
    "PredictionSet",
    "StackingModel",
    "check_weights",
    "classifier_metrics",
    "cross_fit_stacking",
    "diversity_matrices",
    "example_disagreement",
    "fit_stacker",
    "geometric_vote",
    "hard_vote",
    "load_model",
    "load_model_bytes",
    "load_prediction_set",
    "log_probas",
    "read_config",
    "read_prediction_table",
    "score_model",
    "soft_vote",
    "vote_entropy",
    "write_predictions",
]
