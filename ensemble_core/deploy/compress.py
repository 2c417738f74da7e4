"""Compression of a saved scikit-learn student (a ``.skops`` pipeline ending in
``LogisticRegression`` or ``MLPClassifier``, as :mod:`.distill` saves):

* ``prune``: magnitude pruning — the smallest ``sparsity`` share of the classifier's weights
  (biases kept; one threshold over all its weight matrices) set to zero, for good; saved as a
  deflated ``.skops`` (zeros deflate to almost nothing);
* ``int8``: an ONNX export (skl2onnx) then onnxruntime's dynamic int8 quantisation of its
  weights; feature students only (a TF-IDF graph is refused); saved as ``.onnx`` with the
  classes in its metadata.

Both are scored on a held-out split beside the uncompressed model through the project's own
loaders (:func:`~ensemble_core.models.loading.load_model`, :func:`~ensemble_core.models.scoring.score_model`),
so the numbers are what ``score`` gives.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import registry
from .._validation import EnsembleInputError


@dataclass(frozen=True)
class CompressionRow:
    """One model on the held-out split."""

    name: str
    path: str
    accuracy: float
    agreement: float
    ms_per_1000: float
    size_bytes: int


@dataclass(frozen=True)
class CompressionReport:
    method: str
    sparsity: float | None
    original: CompressionRow
    compressed: CompressionRow

    def to_dict(self) -> dict:
        return {"method": self.method, "sparsity": self.sparsity, "original": asdict(self.original),
                "compressed": asdict(self.compressed)}


def _classifier(pipeline, source):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    last = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
    if not isinstance(last, (LogisticRegression, MLPClassifier)):
        raise EnsembleInputError(f"{source}: compress takes a pipeline ending in LogisticRegression or MLPClassifier "
                                 f"(a student saved by 'distill'); got {type(last).__name__}")
    return last


def prune(pipeline, sparsity: float, *, source: str = "model"):
    """A copy of ``pipeline`` whose classifier's smallest-magnitude weights (the ``sparsity``
    share of all of them, biases kept) are zero.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> m = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9]], [0, 1, 0])
    >>> float((prune(m, 0.5).coef_ == 0).mean())
    0.5
    """
    if not 0.0 <= sparsity < 1.0:
        raise EnsembleInputError(f"--sparsity must be in [0, 1); got {sparsity:g}")
    pruned = copy.deepcopy(pipeline)
    clf = _classifier(pruned, source)
    mats = [clf.coef_] if hasattr(clf, "coef_") else list(clf.coefs_)
    magnitudes = np.sort(np.concatenate([np.abs(m).ravel() for m in mats]))
    k = int(round(sparsity * magnitudes.size))
    if k:
        threshold = magnitudes[k - 1]
        dropped = 0
        for m in mats:
            # Weights equal to the threshold are dropped only until k are gone (ties stay exact).
            small = np.abs(m) < threshold
            m[small] = 0.0
            dropped += int(small.sum())
        for m in mats:
            at = np.flatnonzero(np.abs(m) == threshold)[: max(0, k - dropped)]
            m[np.unravel_index(at, m.shape)] = 0.0  # in place whatever the memory order
            dropped += at.size
    return pruned


def to_int8_onnx(pipeline, classes, n_features: int, *, source: str = "model") -> bytes:
    """ONNX bytes of ``pipeline`` with int8 weights (onnxruntime's dynamic quantisation)."""
    import logging
    import tempfile

    from sklearn.feature_extraction.text import TfidfVectorizer

    try:  # optional dependencies (the 'test' and 'demo' extras), not core ones
        from onnxruntime.quantization import QuantType, quantize_dynamic  # imports onnx
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError:
        raise EnsembleInputError("int8 needs skl2onnx and onnx: pip install 'ensemble-explorer[demo]'") from None

    _classifier(pipeline, source)
    if any(isinstance(step, TfidfVectorizer) for _, step in getattr(pipeline, "steps", [])):
        raise EnsembleInputError(f"{source}: int8 takes a feature-column student; a TF-IDF student can be pruned")
    onx = convert_sklearn(pipeline, initial_types=[("features", FloatTensorType([None, n_features]))],
                          options={id(pipeline[-1]): {"zipmap": False}}, target_opset=17)
    meta = onx.metadata_props.add()
    meta.key, meta.value = "classes", json.dumps([c.item() if hasattr(c, "item") else c for c in classes])
    with tempfile.TemporaryDirectory() as tmp:
        plain, quant = Path(tmp) / "plain.onnx", Path(tmp) / "int8.onnx"
        plain.write_bytes(onx.SerializeToString())
        logging.disable(logging.WARNING)  # its advice to pre-process, on the root logger, for every call
        try:
            quantize_dynamic(str(plain), str(quant), weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
        return quant.read_bytes()


def compress(model_path: str | Path, method: str, *, labels: str | Path, out: str | Path,
             sparsity: float = 0.5) -> CompressionReport:
    """Compress a saved student and score both on the held-out ``labels`` split.

    Raises
    ------
    EnsembleInputError
        On an unknown method, a model that is not a ``.skops`` student, an output of the wrong
        kind (``prune`` writes ``.skops``, ``int8`` ``.onnx``), or a sparsity outside [0, 1).
    """
    import zipfile

    import skops.io as sio

    from ..io import LabelsFile
    from ..models.skops_loader import load_skops

    try:
        spec = registry.compression(method)
    except KeyError as exc:
        raise EnsembleInputError(str(exc.args[0])) from None
    model_path, out = Path(model_path), Path(out)
    if model_path.suffix.lower() != ".skops":
        raise EnsembleInputError(f"{model_path}: compress takes a .skops student (as 'distill' saves)")
    if out.suffix.lower() != spec.suffix:
        raise EnsembleInputError(f"{out}: {method} writes {spec.suffix}; give a path ending in {spec.suffix}")
    pipeline = load_skops(model_path)
    clf = _classifier(pipeline, str(model_path))
    if method == "prune":
        out.write_bytes(sio.dumps(prune(pipeline, sparsity, source=str(model_path)),
                                  compression=zipfile.ZIP_DEFLATED))
    else:
        out.write_bytes(to_int8_onnx(pipeline, clf.classes_, clf.n_features_in_, source=str(model_path)))
    held = LabelsFile(labels)
    original = _score(model_path, held)
    compressed = _score(out, held)
    reference = original[0]
    return CompressionReport(
        method=method, sparsity=sparsity if method == "prune" else None,
        original=_row(model_path, held, original, reference), compressed=_row(out, held, compressed, reference),
    )


def _score(path: Path, held):
    from ..decision import decide
    from ..models.loading import load_model
    from ..models.scoring import score_model
    from .costs import measure_call

    model = load_model(path)
    content = held.content
    score_model(model, content[:8], classes=held.classes)  # warm-up (worker start, lazy imports)
    probas, cost = measure_call(lambda: score_model(model, content, classes=held.classes), name=model.name,
                                n_rows=len(content), batch_size=model.batch_size)
    return decide(probas), cost.ms_per_1000


def _row(path: Path, held, scored, reference) -> CompressionRow:
    pred, ms = scored
    return CompressionRow(path.name, str(path), float(np.mean(pred == held.y_true)),
                          float(np.mean(pred == reference)), ms, path.stat().st_size)
