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

from .._lazy import lazy_exports  # noqa: E402

# Imported on first use (PEP 562): registering the ``score`` command (models.cli) must not load
# NumPy and pandas for every other command's --help.
_EXPORTS = {
    "LoadedModel": ".base",
    "ModelSpec": ".spec",
    "spec_for": ".spec",
    "SCORER_VERSION": ".cache",
    "PredictionCache": ".cache",
    "default_cache_dir": ".cache",
    "load_model": ".loading",
    "load_model_bytes": ".loading",
    "model_name_for": ".loading",
    "score_model": ".scoring",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "SCORER_VERSION",
    "LoadedModel",
    "ModelSpec",
    "PredictionCache",
    "default_cache_dir",
    "load_model",
    "load_model_bytes",
    "model_name_for",
    "score_model",
    "spec_for",
]
