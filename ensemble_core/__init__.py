"""ensemble_core: combine classifiers' predictions and measure the result.

Pure Python/NumPy; the Streamlit app and the command line sit on top of it.
"""

from ._validation import EnsembleInputError, check_weights
from .config import EnsembleConfig, read_config
from .combine import STRATEGIES, geometric_vote, hard_vote, log_probas, soft_vote
from .disagreement import DiversityMatrices, diversity_matrices, example_disagreement, vote_entropy
from .ensemble import EnsembleEvaluator, EnsembleResult
from .io import LabelsFile, load_prediction_set, read_prediction_table, write_predictions
from .metrics import ClassifierMetrics, classifier_metrics
from .models import LoadedModel, PredictionCache, load_model, load_model_bytes, score_model
from .predictions import PredictionSet
from .stacking import META_LEARNERS, StackingModel, cross_fit_stacking, fit_stacker
from .calibration import CalibrationResult, cross_fit_temperatures
from .landscape import Landscape, WeightSweeps, simplex_landscape, weight_sweeps
from .significance import GainStatistics, describe_gain, gain_statistics, mcnemar_test
from .weight_search import METHODS, WeightSuggestion, caruana_selection, log_loss_weights, suggest_weights

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
