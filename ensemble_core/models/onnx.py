"""ONNX classifiers through onnxruntime on the CPU.

One input: a float tensor of shape (n, n_features) (features) or a string tensor
(text). The probabilities come from the output that is a float tensor of shape
(n, n_classes) or skl2onnx's ZipMap (a list of {class: probability} dicts); the
class order from the model's metadata ``classes`` (a JSON list) if it has one,
else from the ``classlabels_*`` attribute of its ZipMap or classifier node.
"""

from __future__ import annotations

import json

import numpy as np

from .._validation import EnsembleInputError
from ..io import label_key
from .base import TABULAR_BATCH_SIZE, LoadedModel, class_keys, thread_count

_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}


def _graph_classes(model_bytes: bytes, source: str) -> list | None:
    """Class labels from the ZipMap node, else from the (single) ai.onnx.ml classifier node."""
    try:
        import onnx
    except ImportError:
        return None
    try:
        proto = onnx.load_model_from_string(model_bytes)
    except Exception as exc:
        raise EnsembleInputError(f"{source}: not a valid ONNX model ({type(exc).__name__}: {exc})") from None
    found = []
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.name == "classlabels_strings":
                found.append((node.op_type, [s.decode() for s in attr.strings]))
            elif attr.name in ("classlabels_int64s", "classlabels_ints"):
                # ZipMap and tree ensembles say int64s; LinearClassifier and SVMClassifier ints.
                found.append((node.op_type, [int(v) for v in attr.ints]))
    zipmaps = [labels for op, labels in found if op == "ZipMap"]
    if zipmaps:
        return zipmaps[-1]
    distinct = {tuple(labels) for _, labels in found}
    return list(distinct.pop()) if len(distinct) == 1 else None


def _probability_output(session, source: str):
    """The output holding probabilities: a ZipMap sequence or a float matrix."""
    outputs = session.get_outputs()
    candidates = [o for o in outputs if o.type.startswith("seq(map(") or o.type in _FLOAT_TYPES]
    if len(candidates) > 1:
        named = [o for o in candidates if "prob" in o.name.lower()]
        candidates = named or candidates
    if len(candidates) != 1:
        described = ", ".join(f"{o.name} ({o.type})" for o in outputs)
        raise EnsembleInputError(
            f"{source}: cannot tell which output holds the probabilities; outputs are {described}; "
            "expected one float tensor of shape (n, n_classes) or a ZipMap output"
        )
    return candidates[0]


def _zipmap_matrix(rows: list[dict], keys: tuple[str, ...], source: str) -> np.ndarray:
    """ZipMap's list of {class: probability} dicts as a matrix in ``keys`` order."""
    if not rows:
        return np.zeros((0, len(keys)))
    row_keys = [label_key(k) for k in rows[0]]
    if sorted(row_keys) != sorted(keys):
        raise EnsembleInputError(
            f"{source}: the probability output names classes {', '.join(row_keys)}, "
            f"but the model declares {', '.join(keys)}"
        )
    values = np.array([list(r.values()) for r in rows], dtype=np.float64)
    return values[:, [row_keys.index(k) for k in keys]]


def load_onnx(
    path: str, model_bytes: bytes, *, name: str, content_hash: str
) -> LoadedModel:
    """Load an ONNX classifier from its bytes.

    Parameters
    ----------
    path : where the model came from (names it in messages)
    model_bytes : the ``.onnx`` file's content
    name, content_hash : for the :class:`LoadedModel`

    Raises
    ------
    EnsembleInputError
        On an invalid model, an input that is neither one float nor one string
        tensor, no probability output, or classes that cannot be determined.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = thread_count()
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EnsembleInputError(f"{path}: not a valid ONNX model ({detail})") from None
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise EnsembleInputError(
            f"{path}: the model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
            "expected one: a float tensor of features or a string tensor of texts"
        )
    inp = inputs[0]
    if inp.type in _FLOAT_TYPES:
        input_kind, dtype = "features", _FLOAT_TYPES[inp.type]
    elif inp.type == "tensor(string)":
        input_kind, dtype = "text", None
    else:
        raise EnsembleInputError(
            f"{path}: input {inp.name!r} is {inp.type}; expected tensor(float), tensor(double) or tensor(string)"
        )
    shape = list(inp.shape)
    n_features = shape[1] if input_kind == "features" and len(shape) == 2 and isinstance(shape[1], int) else None
    output = _probability_output(session, path)

    meta = session.get_modelmeta().custom_metadata_map
    if "classes" in meta:
        try:
            classes = json.loads(meta["classes"])
            assert isinstance(classes, list)
        except (ValueError, AssertionError):
            raise EnsembleInputError(
                f"{path}: metadata 'classes' must be a JSON list of class labels; got {meta['classes']!r}"
            ) from None
    else:
        classes = _graph_classes(model_bytes, path)
    if classes is None:
        raise EnsembleInputError(
            f"{path}: cannot tell the model's classes; add metadata 'classes' (a JSON list, in the "
            "order of the probability columns) or export with skl2onnx, whose classifier nodes name them"
        )
    keys = class_keys(path, classes)
    zipmap = output.type.startswith("seq(map(")

    def predict(batch) -> np.ndarray:
        if input_kind == "text":
            feed = np.asarray(list(batch), dtype=object)
            # skl2onnx text models take (n, 1); others a flat (n,) vector.
            feed = feed.reshape(-1, 1) if len(shape) == 2 else feed
        else:
            feed = np.ascontiguousarray(batch, dtype=dtype)
        (result,) = session.run([output.name], {inp.name: feed})
        if zipmap:
            return _zipmap_matrix(result, keys, path)
        return np.asarray(result)

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
        _predict=predict,
    )
