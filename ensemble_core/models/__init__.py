"""Model loaders (skops, ONNX, transformers, embedding + head, trusted pickle), scoring and its cache.

torch, transformers and onnxruntime are imported inside the loaders, on first
use, so importing this package stays fast. torch is imported through
:func:`ensemble_core._threads.import_torch`, which tells torch's OpenMP runtime alone to let
idle threads sleep (the process's environment is left as it was).
"""

from .._lazy import lazy_exports

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
