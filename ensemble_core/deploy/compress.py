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
    _one_opset_per_domain(onx)
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


def _checked_method(method: str):
    try:
        return registry.compression(method)
    except KeyError as exc:
        raise EnsembleInputError(str(exc.args[0])) from None


def _write_compressed(pipeline, method: str, sparsity: float, out: Path, source: str) -> None:
    import zipfile

    import skops.io as sio

    clf = _classifier(pipeline, source)
    if method == "prune":
        out.write_bytes(sio.dumps(prune(pipeline, sparsity, source=source), compression=zipfile.ZIP_DEFLATED))
    else:
        out.write_bytes(to_int8_onnx(pipeline, clf.classes_, clf.n_features_in_, source=source))


def _load_student(model_path: Path):
    from ..models.skops_loader import load_skops

    if model_path.suffix.lower() != ".skops":
        raise EnsembleInputError(f"{model_path}: compress takes a .skops student (as 'distill' saves)")
    pipeline = load_skops(model_path)
    _classifier(pipeline, str(model_path))
    return pipeline


def _labels(labels):
    from ..io import LabelsFile

    return labels if isinstance(labels, LabelsFile) else LabelsFile(labels)


def _one_opset_per_domain(onx) -> None:
    """Keep one opset import per domain (the highest): skl2onnx lists the default domain twice for
    some fitted ``LogisticRegression`` (the digits demo's), which onnxruntime's quantiser refuses
    ("Failed to find proper ai.onnx domain")."""
    versions: dict[str, int] = {}
    for opset in onx.opset_import:
        versions[opset.domain] = max(versions.get(opset.domain, 0), opset.version)
    if len(versions) == len(onx.opset_import):
        return
    del onx.opset_import[:]
    for domain, version in versions.items():
        entry = onx.opset_import.add()
        entry.domain, entry.version = domain, version


def compress(model_path: str | Path, method: str, *, labels, out: str | Path,
             sparsity: float = 0.5) -> CompressionReport:
    """Compress a saved student and score both on the held-out ``labels`` split.

    Parameters
    ----------
    model_path : a ``.skops`` pipeline ending in ``LogisticRegression`` or ``MLPClassifier``
    method : a name in :data:`~ensemble_core.registry.COMPRESSIONS`
    labels : the held-out labels file (a path, or a read :class:`~ensemble_core.io.LabelsFile`)
    out : the compressed model (``prune``: ``.skops``; ``int8``: ``.onnx``)
    sparsity : ``prune``'s share of weights set to zero

    Raises
    ------
    EnsembleInputError
        On an unknown method, a model that is not a ``.skops`` student, an output of the wrong
        kind (``prune`` writes ``.skops``, ``int8`` ``.onnx``), or a sparsity outside [0, 1).
    """
    spec = _checked_method(method)
    model_path, out = Path(model_path), Path(out)
    if out.suffix.lower() != spec.suffix:
        raise EnsembleInputError(f"{out}: {method} writes {spec.suffix}; give a path ending in {spec.suffix}")
    pipeline = _load_student(model_path)
    _write_compressed(pipeline, method, sparsity, out, str(model_path))
    held = _labels(labels)
    original = _score(model_path, held)
    compressed = _score(out, held)
    reference = original[0]
    return CompressionReport(
        method=method, sparsity=sparsity if method == "prune" else None,
        original=_row(model_path, held, original, reference), compressed=_row(out, held, compressed, reference),
    )


@dataclass(frozen=True)
class CompressionSetting:
    """One compression to try: ``method`` (a registry name) and, for ``prune``, its ``sparsity``."""

    method: str
    sparsity: float | None = None

    @property
    def label(self) -> str:
        return self.method if self.sparsity is None else f"{self.method} {self.sparsity:.0%}"

    @property
    def file_stem(self) -> str:
        return self.method if self.sparsity is None else f"{self.method}-{round(100 * self.sparsity)}"


def compare_compressions(model_path: str | Path, settings, *, labels, out_dir: str | Path,
                         progress=None, should_stop=None) -> tuple[CompressionRow, tuple[CompressionRow, ...]]:
    """Every compression in ``settings`` of one saved student, each saved in ``out_dir`` and
    scored on the held-out ``labels`` beside the original (scored once).

    Parameters
    ----------
    model_path : as :func:`compress`'s
    settings : sequence of :class:`CompressionSetting`
    labels : the held-out labels file (a path or a :class:`~ensemble_core.io.LabelsFile`)
    out_dir : where the compressed models are written (``<stem>.<method>[-<percent>]<suffix>``)
    progress : ``progress(done, total)`` after the original and after each compression
    should_stop : asked before each compression; True raises :class:`~ensemble_core.deploy.Stopped`

    Returns
    -------
    (the original's row, one row per setting in order)

    Raises
    ------
    EnsembleInputError
        As :func:`compress`; also on an empty ``settings``.
    """
    from . import Stopped

    settings = list(settings)
    if not settings:
        raise EnsembleInputError("choose at least one compression (int8, or prune at a sparsity)")
    for setting in settings:
        _checked_method(setting.method)
        if setting.method == "prune" and not (setting.sparsity is not None and 0.0 <= setting.sparsity < 1.0):
            raise EnsembleInputError(f"--sparsity must be in [0, 1); got {setting.sparsity}")
    model_path, out_dir = Path(model_path), Path(out_dir)
    pipeline = _load_student(model_path)
    held = _labels(labels)
    total = len(settings) + 1
    original = _score(model_path, held)
    reference = original[0]
    if progress is not None:
        progress(1, total)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, setting in enumerate(settings):
        if should_stop is not None and should_stop():
            raise Stopped(i + 1, total)
        out = out_dir / f"{model_path.stem}.{setting.file_stem}{registry.compression(setting.method).suffix}"
        _write_compressed(pipeline, setting.method, setting.sparsity or 0.0, out, str(model_path))
        rows.append(_row(out, held, _score(out, held), reference))
        if progress is not None:
            progress(i + 2, total)
    return _row(model_path, held, original, reference), tuple(rows)


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
