"""load_model: pick the loader from what a path is (file suffix, directory contents)."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path

from .. import registry
from .._validation import EnsembleInputError
from .base import MODEL_FILE_LIMIT, Lazy, LoadedModel, directory_files, hash_files, read_regular
from .cache import MODEL_INFO_FIELDS, PredictionCache
from .embedding_head import SPEC_FILE
from .estimator import estimator_model
from .pickle_loader import load_pickle, refuse_pickle
from .skops_loader import load_skops

SUPPORTED = (
    "a .skops file, an .onnx file, a transformers model directory (config.json, model.safetensors, "
    "tokenizer), a directory with ensemble_model.json, or a trusted .pkl/.pickle/.joblib file"
)


def load_skops_model(path: Path, data: bytes, *, name: str, content_hash: str) -> LoadedModel:
    """The ``skops`` loader kind: a scikit-learn classifier through the allow-list (:mod:`.skops_loader`)."""
    estimator = load_skops(path, data=data)
    return estimator_model(estimator, name=name, kind="skops", content_hash=content_hash, source=str(path))


def load_onnx_model(path: Path, data: bytes, *, name: str, content_hash: str) -> LoadedModel:
    """The ``onnx`` loader kind: an ONNX classifier in a capped worker process (:mod:`.onnx`)."""
    from .onnx import load_onnx

    return load_onnx(str(path), data, name=name, content_hash=content_hash)


def load_pickle_model(path: Path, data: bytes, *, name: str, content_hash: str) -> LoadedModel:
    """The ``pickle`` loader kind (trusted files only: the caller has checked the trust)."""
    return load_pickle(path, trust_pickle=True, name=name, data=data)


def directory_hash(folder: Path) -> str:
    """SHA-256 over every file of a model directory (the ``transformers`` kind's content hash)."""
    return hash_files(directory_files(folder), folder)


def load_stacker(path: str | Path):
    """A stacker saved by ``evaluate --save-meta`` (:meth:`~ensemble_core.stacking.StackingModel.save`),
    read through the skops loader's allow-list and checks.

    Returns
    -------
    StackingModel

    Raises
    ------
    EnsembleInputError
        As :func:`.skops_loader.load_skops`, or when the file is not a saved stacker.
    """
    from ..stacking import StackingModel

    return StackingModel.from_saved(load_skops(path), source=path)


def _file_kind(path: Path, *, hint: str) -> registry.LoaderSpec:
    """The loader kind of a model file, by its suffix (``hint`` ends the refusal of an unknown one)."""
    spec = registry.loader_for_file(path.name)
    if spec is None:
        suffix = path.suffix.lower()
        raise EnsembleInputError(f"{path}: unknown model format {suffix or '(no suffix)'!r}; {hint}")
    return spec


def _from_bytes(spec: registry.LoaderSpec, path: Path, data: bytes, name: str) -> LoadedModel:
    if len(data) > MODEL_FILE_LIMIT.bytes:
        raise MODEL_FILE_LIMIT.refuse(path, len(data))
    return spec.implementation()(path, data, name=name, content_hash=hashlib.sha256(data).hexdigest())


def model_name_for(path: str | Path) -> str:
    """The name a model file or directory gets by default (its stem, or the directory's name),
    known before anything is loaded."""
    path = Path(path)
    return path.resolve().name if path.is_dir() else path.stem


def loader_spec_for(path: str | Path) -> registry.LoaderSpec:
    """The loader kind of a model path, from its suffix or, for a directory, its contents (the
    registry's recognisers, in order); nothing is parsed.

    Raises
    ------
    EnsembleInputError
        On a missing path, a directory that is no model, or an unknown suffix.
    """
    path = Path(path)
    if not path.exists():
        raise EnsembleInputError(f"{path}: no such file or directory")
    if path.is_dir():
        for spec in registry.LOADER_SPECS:
            if spec.directory and spec.recognises(path):
                return spec
        raise EnsembleInputError(
            f"{path}: not a model directory; expected a transformers model (config.json, model.safetensors, "
            f"tokenizer files) or {SPEC_FILE}"
        )
    return _file_kind(path, hint=f"expected {SUPPORTED}")


def _plan(path: Path, trust_pickle: bool, name: str | None) -> tuple[str, str, Callable[[], LoadedModel]]:
    """The model's content hash (cheap: hashing, no parsing), its name, and how to load it fully."""
    spec = loader_spec_for(path)
    name = name or model_name_for(path)
    if spec.directory:
        load = spec.implementation()
        return spec.content_hash(path), name, lambda: load(path, name=name)
    if spec.needs_trust and not trust_pickle:
        raise refuse_pickle(path)
    data = read_regular(path, MODEL_FILE_LIMIT)
    return hashlib.sha256(data).hexdigest(), name, lambda: _from_bytes(spec, path, data, name)


def _info(model: LoadedModel) -> dict:
    """The model's description as JSON keeps it (tuples become lists)."""
    return json.loads(json.dumps({f: getattr(model, f) for f in MODEL_INFO_FIELDS}))


def _describe(cache: PredictionCache, model: LoadedModel) -> None:
    """Store what loading ``model`` taught (a cache that cannot be written only warns)."""
    try:
        cache.put_model_info(model.content_hash, _info(model))
    except OSError as exc:
        warnings.warn(f"prediction cache not written ({cache.root}): {exc}", stacklevel=3)
    except ValueError:
        pass  # a description the cache's schema cannot hold: the model is simply loaded each time


def _deferred(path: Path, info: dict, content_hash: str, build: Callable[[], LoadedModel], name: str,
              cache: PredictionCache) -> LoadedModel:
    """A model described by cached info, loaded (with every safety check) on its first prediction."""
    def load_and_check() -> LoadedModel:
        model = build()
        if model.content_hash != content_hash:
            raise EnsembleInputError(f"{path}: the model changed on disk while being loaded; load it again")
        if _info(model) != info:
            # The entry passed its checksum yet lies (written by an older version, or by hand):
            # correct it, so only this run pays for it.
            _describe(cache, model)
            raise EnsembleInputError(
                f"{path}: the prediction cache described this model wrongly (classes, input or features); "
                "the entry is corrected now: run again"
            )
        return model

    full = Lazy(load_and_check)
    tuples = {k: tuple(v) if isinstance(v, list) else v for k, v in info.items()}
    return LoadedModel(
        name=name, content_hash=content_hash, source=str(path),
        _predict=lambda batch: full.get().predict_proba(batch), **tuples,
    )


def load_model(
    path: str | Path,
    *,
    trust_pickle: bool = False,
    name: str | None = None,
    cache: PredictionCache | None = None,
) -> LoadedModel:
    """Load a classifier from a local file or directory, safely.

    Parameters
    ----------
    path : a ``.skops`` or ``.onnx`` file; a transformers sequence-classifier
        directory; a directory with ``ensemble_model.json`` (sentence embeddings
        + a skops head); or a ``.pkl``/``.pickle``/``.joblib`` file
    trust_pickle : load a pickle/joblib file (runs any code it contains); only
        for a local file the user made or trusts
    name : the model's name; defaults to the file's stem or the directory's name
    cache : when given, a model this cache has seen (same content hash) is only
        hashed now and loaded, with all its checks, on its first prediction, so
        scoring that hits the prediction cache never pays for loading
        (scikit-learn, torch); a model seen for the first time is loaded now and
        described in the cache

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
    content_hash, name, build = _plan(path, trust_pickle, name)
    if cache is not None:
        info = cache.get_model_info(content_hash)
        if info is not None:
            return _deferred(path, info, content_hash, build, name, cache)
    model = build()
    if cache is not None:
        _describe(cache, model)
    return model


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
    uploads = " or ".join(x for spec in registry.LOADER_SPECS if spec.uploadable for x in spec.suffixes)
    spec = _file_kind(path, hint=f"uploads may be {uploads} (score other models with 'ensemble-explorer score' "
                      "and upload the prediction file)")
    if spec.needs_trust:
        raise EnsembleInputError(
            f"{name}: uploaded pickle/joblib files are never loaded (unpickling runs any code the file "
            "contains); save the model with skops, or score it locally with "
            "'ensemble-explorer score --trust-pickle' and upload the prediction file"
        )
    if not spec.uploadable:
        raise EnsembleInputError(f"{name}: {spec.label} models cannot be uploaded; uploads may be {uploads}")
    return _from_bytes(spec, path, data, path.stem)
