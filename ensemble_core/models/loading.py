"""load_model: pick the loader from what a path is (file suffix, directory contents)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .._validation import EnsembleInputError
from .base import LoadedModel
from .embedding_head import SPEC_FILE, load_embedding_head
from .estimator import estimator_model
from .pickle_loader import PICKLE_SUFFIXES, load_pickle
from .skops_loader import load_skops
from .transformers_loader import is_transformers_dir, load_transformers

SUPPORTED = (
    "a .skops file, an .onnx file, a transformers model directory (config.json, model.safetensors, "
    "tokenizer), a directory with ensemble_model.json, or a trusted .pkl/.pickle/.joblib file"
)


def _from_bytes(path: Path, data: bytes, name: str) -> LoadedModel:
    content_hash = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix == ".skops":
        estimator = load_skops(path, data=data)
        return estimator_model(estimator, name=name, kind="skops", content_hash=content_hash, source=str(path))
    from .onnx import load_onnx

    return load_onnx(str(path), data, name=name, content_hash=content_hash)


def load_model(path: str | Path, *, trust_pickle: bool = False, name: str | None = None) -> LoadedModel:
    """Load a classifier from a local file or directory, safely.

    Parameters
    ----------
    path : a ``.skops`` or ``.onnx`` file; a transformers sequence-classifier
        directory; a directory with ``ensemble_model.json`` (sentence embeddings
        + a skops head); or a ``.pkl``/``.pickle``/``.joblib`` file
    trust_pickle : load a pickle/joblib file (runs any code it contains); only
        for a local file the user made or trusts
    name : the model's name; defaults to the file's stem or the directory's name

    Raises
    ------
    EnsembleInputError
        On a missing path, an unknown format, an untrusted pickle, a skops file
        with types outside the allow-list, or a directory that is not a model.

    Examples
    --------
    >>> model = load_model("models/tfidf_lr.skops")  # doctest: +SKIP
    >>> model.classes, model.input  # doctest: +SKIP
    (('fresh', 'rotten'), 'text')
    """
    path = Path(path)
    if not path.exists():
        raise EnsembleInputError(f"{path}: no such file or directory")
    if path.is_dir():
        name = name or path.resolve().name
        if (path / SPEC_FILE).is_file():
            return load_embedding_head(path, name=name)
        if is_transformers_dir(path):
            return load_transformers(path, name=name)
        raise EnsembleInputError(
            f"{path}: not a model directory; expected a transformers model (config.json, model.safetensors, "
            f"tokenizer files) or {SPEC_FILE}"
        )
    name = name or path.stem
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        return load_pickle(path, trust_pickle=trust_pickle, name=name)
    if suffix not in (".skops", ".onnx"):
        raise EnsembleInputError(f"{path}: unknown model format {suffix or '(no suffix)'!r}; expected {SUPPORTED}")
    return _from_bytes(path, path.read_bytes(), name)


def load_model_bytes(name: str, data: bytes) -> LoadedModel:
    """Load an uploaded model from its bytes: ``.skops`` or ``.onnx`` only.

    Parameters
    ----------
    name : the upload's file name (its suffix picks the format; its stem names the model)
    data : the file's content

    Raises
    ------
    EnsembleInputError
        For a pickle/joblib upload (always refused: it could run code on the
        server), an unknown suffix, or an invalid or disallowed model.
    """
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise EnsembleInputError(
            f"{name}: uploaded pickle/joblib files are never loaded (unpickling runs any code the file "
            "contains); save the model with skops, or score it locally with "
            "'ensemble-explorer score --trust-pickle' and upload the prediction file"
        )
    if suffix not in (".skops", ".onnx"):
        raise EnsembleInputError(
            f"{name}: unknown model format {suffix or '(no suffix)'!r}; uploads may be .skops or .onnx "
            "(score other models with 'ensemble-explorer score' and upload the prediction file)"
        )
    return _from_bytes(path, data, path.stem)
