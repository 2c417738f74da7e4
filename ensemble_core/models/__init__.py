"""Model loaders (skops, ONNX, transformers, embedding + head, trusted pickle), scoring and its cache.

torch, transformers and onnxruntime are imported inside the loaders, on first
use, so importing this package stays fast.
"""

from .base import LoadedModel
from .cache import SCORER_VERSION, PredictionCache, default_cache_dir
from .loading import load_model, load_model_bytes
from .scoring import score_model

__all__ = [
    "SCORER_VERSION",
    "LoadedModel",
    "PredictionCache",
    "default_cache_dir",
    "load_model",
    "load_model_bytes",
    "score_model",
]
