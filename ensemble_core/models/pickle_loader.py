"""Pickle and joblib files: loaded only when the user explicitly trusts the local file.

Unpickling runs whatever code the file names, so refusing must happen before a
single byte is unpickled; the refusal says why and how to trust the file.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

from .._validation import EnsembleInputError
from .base import MODEL_FILE_LIMIT, LoadedModel, read_regular
from .estimator import estimator_model


def refuse_pickle(path: str | Path) -> EnsembleInputError:
    """The error for an untrusted pickle: why it is refused and how to trust it."""
    return EnsembleInputError(
        f"{path}: refused to load a pickle/joblib file: unpickling runs any code the file contains; "
        "if you made this local file or trust its author, pass --trust-pickle "
        "(load_model(..., trust_pickle=True)), or better, save the model with skops"
    )


def load_pickle(path: Path, *, trust_pickle: bool, name: str, data: bytes | None = None) -> LoadedModel:
    """Unpickle a scikit-learn classifier from a local ``.pkl``/``.pickle``/``.joblib`` file.

    ``data``: the file's bytes when the caller has read them (bounded), so that what was
    hashed is what is loaded; else the file is read here.

    Raises
    ------
    EnsembleInputError
        Unless ``trust_pickle`` (nothing is read then); if the file does not
        unpickle or does not hold a fitted classifier.
    """
    if not trust_pickle:
        raise refuse_pickle(path)
    if data is None:
        data = read_regular(path, MODEL_FILE_LIMIT)
    try:
        if path.suffix.lower() == ".joblib":
            import joblib

            obj = joblib.load(io.BytesIO(data))
        else:
            obj = pickle.loads(data)
    except Exception as exc:
        raise EnsembleInputError(f"{path}: could not unpickle ({type(exc).__name__}: {exc})") from None
    return estimator_model(
        obj, name=name, kind="pickle", content_hash=hashlib.sha256(data).hexdigest(), source=str(path)
    )
