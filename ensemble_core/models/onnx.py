"""ONNX classifiers through onnxruntime on the CPU, in a worker process under limits.

One input: a float tensor of shape (n, n_features) (features) or a string tensor
(text). The probabilities come from the output that is a float tensor of shape
(n, n_classes) or skl2onnx's ZipMap (a list of {class: probability} dicts); the
class order from the model's metadata ``classes`` (a JSON list) if it has one,
else from the ``classlabels_*`` attribute of its ZipMap or classifier node.

onnxruntime never runs in this process: the model's bytes go to an
:class:`~ensemble_core.models.onnx_worker.OnnxWorker`, which builds the session, reads
the graph's classes and scores each batch under a time limit and a memory cap
(:class:`~ensemble_core.models.onnx_worker.OnnxLimits`). This module decides, from the
worker's plain description of the model, what its input, probability output and
classes are.
"""

from __future__ import annotations

import json

import numpy as np

from .._validation import EnsembleInputError
from ..io import label_key
from ._onnx_child import array_bytes, read_array
from .base import TABULAR_BATCH_SIZE, LoadedModel, class_keys, thread_count
from .onnx_worker import LOAD, OnnxLimits, OnnxWorker, Task

_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}


def _probability_output(outputs: list[dict], source: str) -> dict:
    """The output holding probabilities: a ZipMap sequence or a float matrix."""
    candidates = [o for o in outputs if o["type"].startswith("seq(map(") or o["type"] in _FLOAT_TYPES]
    if len(candidates) > 1:
        named = [o for o in candidates if "prob" in o["name"].lower()]
        candidates = named or candidates
    if len(candidates) != 1:
        described = ", ".join(f"{o['name']} ({o['type']})" for o in outputs)
        raise EnsembleInputError(
            f"{source}: cannot tell which output holds the probabilities; outputs are {described}; "
            "expected one float tensor of shape (n, n_classes) or a ZipMap output"
        )
    return candidates[0]


def _zipmap_order(row_keys: list, keys: tuple[str, ...], source: str) -> list[int]:
    """For each of the model's classes, its column in the worker's ZipMap matrix."""
    row_keys = [label_key(k) for k in row_keys]
    if sorted(row_keys) != sorted(keys):
        raise EnsembleInputError(
            f"{source}: the probability output names classes {', '.join(row_keys)}, "
            f"but the model declares {', '.join(keys)}"
        )
    return [row_keys.index(k) for k in keys]


def _model_classes(description: dict, source: str) -> list:
    """The classes from the metadata ``classes`` (a JSON list), else from the graph."""
    meta_classes = description["meta_classes"]
    if meta_classes is not None:
        try:
            classes = json.loads(meta_classes)
        except ValueError:
            classes = None
        if not isinstance(classes, list):
            raise EnsembleInputError(
                f"{source}: metadata 'classes' must be a JSON list of class labels; got {meta_classes!r}"
            )
        return classes
    if description["graph_error"] is not None:
        raise EnsembleInputError(f"{source}: not a valid ONNX model ({description['graph_error']})")
    if description["graph_classes"] is None:
        raise EnsembleInputError(
            f"{source}: cannot tell the model's classes; add metadata 'classes' (a JSON list, in the "
            "order of the probability columns) or export with skl2onnx, whose classifier nodes name them"
        )
    return description["graph_classes"]


class _OnnxPredictor:
    """``predict(batch)`` for a loaded ONNX model: one request to its worker per batch.

    Holds the worker, so the worker lives exactly as long as the :class:`LoadedModel`.
    """

    def __init__(self, worker: OnnxWorker, source: str, inp: dict, output: dict,
                 dtype: type | None, keys: tuple[str, ...]) -> None:
        self._worker, self._source, self._keys = worker, source, keys
        self._dtype = dtype
        self._request = {"op": "predict", "input": inp["name"], "output": output["name"], "n_classes": len(keys)}
        if dtype is None:
            self._request["column"] = len(inp["shape"]) == 2

    def __call__(self, batch) -> np.ndarray:
        if self._dtype is None:
            header, blobs = {**self._request, "texts": list(batch)}, []
        else:
            header, blobs = self._request, [array_bytes(np.ascontiguousarray(batch, dtype=self._dtype))]
        n, k = len(batch), len(self._keys)
        task = Task.batch(n)
        # float64 and an .npy header: an upper bound on an honest answer's size.
        reply, reply_blobs = self._worker.request(header, blobs, task=task, max_blob_bytes=n * k * 8 + 4096)
        if not reply["ok"]:
            if reply["kind"] == "shape":
                raise EnsembleInputError(
                    f"{self._source}: the model returned probabilities of shape {tuple(reply['shape'])}, "
                    f"expected ({n}, {k}) for {n} examples and classes {', '.join(self._keys)}"
                )
            raise EnsembleInputError(f"{self._source}: the ONNX model failed {task.tail} ({reply['message']})")
        order = None
        if reply.get("zipmap_keys") is not None:
            order = _zipmap_order(reply["zipmap_keys"], self._keys, self._source)
        probas = _answer(reply_blobs, n, k, self._source)
        return probas if order is None else probas[:, order]


def _answer(blobs: list[bytes], n: int, k: int, source: str) -> np.ndarray:
    """The worker's probabilities: one ``.npy`` of numbers, of shape (n, k)."""
    try:
        (blob,) = blobs
        probas = read_array(blob)
    except ValueError:  # no array, or bytes that are not one
        probas = None
    if probas is None or probas.dtype.kind not in "biuf" or probas.shape != (n, k):
        what = "no readable array" if probas is None else f"an array of {probas.dtype} and shape {probas.shape}"
        raise EnsembleInputError(f"{source}: the ONNX worker answered {what} for {n} examples and {k} classes")
    return probas


def load_onnx(
    path: str, model_bytes: bytes, *, name: str, content_hash: str, limits: OnnxLimits | None = None
) -> LoadedModel:
    """Load an ONNX classifier from its bytes, into a worker process under limits.

    Parameters
    ----------
    path : where the model came from (names it in messages)
    model_bytes : the ``.onnx`` file's content
    name, content_hash : for the :class:`LoadedModel`
    limits : time and memory limits for the worker; default
        :meth:`OnnxLimits.from_env` (60 s per request, 4 GiB)

    Raises
    ------
    EnsembleInputError
        On an invalid model, a model that reads external data files, an input that
        is neither one float nor one string tensor, no probability output, classes
        that cannot be determined, or a model that takes longer than the time limit
        or more memory than the cap to load.

    Examples
    --------
    >>> from pathlib import Path
    >>> data = Path("demo_data/digits/models/logreg.onnx").read_bytes()  # doctest: +SKIP
    >>> model = load_onnx("logreg.onnx", data, name="logreg", content_hash="...")  # doctest: +SKIP
    >>> model.predict_proba(X[:5]).shape  # doctest: +SKIP
    (5, 10)
    """
    limits = OnnxLimits.from_env() if limits is None else limits
    worker = OnnxWorker(path, limits)
    try:
        description, _ = worker.request({"op": "load", "threads": thread_count()}, [model_bytes], task=LOAD)
        return _loaded_model(worker, description, path, name=name, content_hash=content_hash)
    except BaseException:
        # Not left to the garbage collector: the traceback keeps this frame, and the worker, alive.
        worker.close()
        raise


def _loaded_model(worker: OnnxWorker, description: dict, path: str, *, name: str, content_hash: str) -> LoadedModel:
    """The model the worker described, or the first reason it cannot be used."""
    if not description["ok"]:
        if description["kind"] == "external":
            raise EnsembleInputError(
                f"{path}: the model refers to external data files; only self-contained .onnx files are loaded"
            )
        raise EnsembleInputError(f"{path}: not a valid ONNX model ({description['message']})")
    inputs = description["inputs"]
    if len(inputs) != 1:
        raise EnsembleInputError(
            f"{path}: the model has {len(inputs)} inputs ({', '.join(i['name'] for i in inputs)}); "
            "expected one: a float tensor of features or a string tensor of texts"
        )
    inp = inputs[0]
    if inp["type"] in _FLOAT_TYPES:
        input_kind, dtype = "features", _FLOAT_TYPES[inp["type"]]
    elif inp["type"] == "tensor(string)":
        input_kind, dtype = "text", None
    else:
        raise EnsembleInputError(
            f"{path}: input {inp['name']!r} is {inp['type']}; expected tensor(float), tensor(double) or tensor(string)"
        )
    shape = inp["shape"]
    n_features = shape[1] if input_kind == "features" and len(shape) == 2 and isinstance(shape[1], int) else None
    output = _probability_output(description["outputs"], path)
    keys = class_keys(path, _model_classes(description, path))
    return LoadedModel(
        name=name,
        kind="onnx",
        classes=keys,
        input=input_kind,
        feature_names=None,
        content_hash=content_hash,
        source=path,
        n_features=n_features,
        batch_size=TABULAR_BATCH_SIZE,
        _predict=_OnnxPredictor(worker, path, inp, output, dtype, keys),
    )
