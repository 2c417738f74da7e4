"""ModelSpec: a model named, not loaded, that any process can load itself.

A :class:`~ensemble_core.models.base.LoadedModel` holds live objects (a scikit-learn
estimator, an ONNX worker process, a torch network) and stays in the process that
loaded it. A :class:`ModelSpec` is three small, picklable values (the path, its loader
kind from :data:`ensemble_core.registry.LOADER_SPECS`, and how to load it), so a
worker process, or later a machine of a distributed executor, receives the spec and
loads the model itself, through the same :func:`~ensemble_core.models.loading.load_model`
with every check (regular files, size limits, the skops allow-list, trust for pickles).

A spec names a file, not its content: the loaded model's ``content_hash`` says what was
read. A spec made with ``trust_pickle=True`` carries that trust to whoever loads it:
send it only to processes that read the same local file the user trusted.

Examples
--------
>>> import pickle
>>> spec = spec_for("models/tfidf_lr.skops")  # doctest: +SKIP
>>> spec.kind, spec.options.name  # doctest: +SKIP
('skops', 'tfidf_lr')
>>> pickle.loads(pickle.dumps(spec)) == spec  # doctest: +SKIP
True
>>> spec.load().predict_proba(["a moving film"])  # doctest: +SKIP
array([[0.8, 0.2]])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import registry
from .._validation import EnsembleInputError
from .base import LoadedModel
from .cache import PredictionCache
from .loading import load_model, loader_spec_for, model_name_for
from .pickle_loader import refuse_pickle


@dataclass(frozen=True)
class LoadOptions:
    """How a spec's model is loaded: ``name`` (what it is called in messages and prediction
    files) and ``trust_pickle`` (whether a pickle/joblib file may be unpickled)."""

    name: str | None = None
    trust_pickle: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A model file or directory, its loader kind and its load options; loads on request.

    Attributes
    ----------
    path : str
        Absolute path of the file or directory.
    kind : str
        A name in :data:`ensemble_core.registry.LOADER_KINDS`.
    options : LoadOptions
    """

    path: str
    kind: str
    options: LoadOptions = LoadOptions()

    def __post_init__(self) -> None:
        if self.kind not in registry.LOADER_KINDS:
            raise EnsembleInputError(
                f"{self.path}: unknown model kind {self.kind!r}; expected one of {', '.join(registry.LOADER_KINDS)}"
            )

    def load(self, *, cache: PredictionCache | None = None) -> LoadedModel:
        """The model, loaded in this process by :func:`~ensemble_core.models.loading.load_model`.

        Raises
        ------
        EnsembleInputError
            As ``load_model`` does, or when the path is now another kind of model than
            when the spec was made.
        """
        now = kind_of(self.path)
        if now != self.kind:
            raise EnsembleInputError(
                f"{self.path}: the spec says a {self.kind} model, the path now holds a {now} model; make the spec again"
            )
        return load_model(self.path, trust_pickle=self.options.trust_pickle, name=self.options.name, cache=cache)


def kind_of(path: str | Path) -> str:
    """The loader kind of a model path (a name in :data:`ensemble_core.registry.LOADER_KINDS`),
    from its suffix or, for a directory, its contents; nothing is read beyond that.

    The rule :func:`~ensemble_core.models.loading.load_model` loads by
    (:func:`~ensemble_core.models.loading.loader_spec_for`).

    Raises
    ------
    EnsembleInputError
        On a missing path, a directory that is no model, or an unknown suffix.
    """
    return loader_spec_for(path).name


def spec_for(path: str | Path, *, trust_pickle: bool = False, name: str | None = None) -> ModelSpec:
    """A :class:`ModelSpec` for a model path, without loading it.

    Parameters
    ----------
    path : a model file or directory (as :func:`~ensemble_core.models.loading.load_model` takes)
    trust_pickle : allow a pickle/joblib file (it runs code when loaded)
    name : the model's name; defaults to the file's stem or the directory's name

    Returns
    -------
    ModelSpec, its path absolute and its name fixed, so that it means the same in any
    process started in any directory (of this machine).

    Raises
    ------
    EnsembleInputError
        On a missing path, an unknown format, or an untrusted pickle (refused here, as
        ``load_model`` would refuse it).

    Examples
    --------
    >>> spec_for("models/forest.pkl")  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    ensemble_core._validation.EnsembleInputError: models/forest.pkl: refused to load a pickle/joblib file: ...
    """
    kind = kind_of(path)
    if registry.loader(kind).needs_trust and not trust_pickle:
        raise refuse_pickle(path)
    return ModelSpec(os.path.abspath(path), kind, LoadOptions(name or model_name_for(path), trust_pickle))
