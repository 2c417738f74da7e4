"""Model loaders (skops, ONNX, transformers, embedding + head, trusted pickle), scoring and its cache.

torch, transformers and onnxruntime are imported inside the loaders, on first
use, so importing this package stays fast.

Before torch loads, OpenMP's waiting threads are told to sleep rather than spin
(``OMP_WAIT_POLICY=PASSIVE``, unless the environment already says otherwise): on a
machine shared with the dashboard's server or other work, spinning threads made the
demo's tiny BERT score 3,827 reviews in 104 s instead of 4-7 s (measured at a load
average of 7 on 2 cores); on an idle machine the two policies measured the same.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .base import LoadedModel
from .cache import SCORER_VERSION, PredictionCache, default_cache_dir
from .loading import load_model, load_model_bytes, model_name_for
from .scoring import score_model

__all__ = [
    "SCORER_VERSION",
    "LoadedModel",
    "PredictionCache",
    "default_cache_dir",
    "load_model",
    "load_model_bytes",
    "model_name_for",
    "score_model",
]
