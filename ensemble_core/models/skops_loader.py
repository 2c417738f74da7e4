"""Load skops files, admitting only scikit-learn, SciPy and NumPy types."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError

#: Top-level packages whose classes (and NumPy ufuncs) a skops file may contain.
ALLOWED_PACKAGES: frozenset[str] = frozenset({"sklearn", "numpy", "scipy"})


def _is_allowed(type_name: str) -> bool:
    """A dotted name is allowed if it resolves to a class defined in an allowed package, or a ufunc.

    Functions are refused even from allowed packages: a ``FunctionTransformer``
    holding ``numpy.save`` could write files when the model is used. The name is
    resolved only in modules already imported: importing a module the file names
    runs that module's code (``numpy.f2py.__main__`` runs f2py on the process's
    arguments). ``import skops.io`` has already imported every scikit-learn
    estimator's module (its default trusted types come from ``all_estimators``).
    """
    module_name, _, attr = type_name.rpartition(".")
    if module_name.split(".")[0] not in ALLOWED_PACKAGES:
        return False
    obj = getattr(sys.modules.get(module_name), attr, None)
    if isinstance(obj, np.ufunc):
        return True
    # A class is judged by where it is defined, not by the name the file gives it: these
    # packages' modules import hundreds of foreign classes (``sklearn.datasets._lfw.Memory``
    # is joblib's Memory, which creates folders; ``...Listener`` opens sockets).
    return isinstance(obj, type) and obj.__module__.split(".")[0] in ALLOWED_PACKAGES


def load_skops(path: str | Path, data: bytes | None = None):
    """Load a ``.skops`` file after checking every type it holds against the allow-list.

    Parameters
    ----------
    path : the file, or (with ``data``) only the name used in messages
    data : the file's bytes (an upload), read instead of ``path``

    Raises
    ------
    EnsembleInputError
        If the file is missing, unreadable, or holds a type outside the allow-list
        (the message names those types).
    """
    import skops.io as sio

    path = Path(path)
    if data is None and not path.is_file():
        raise EnsembleInputError(f"{path}: no such file")
    source = {"file": path} if data is None else {"data": data}
    try:
        untrusted = sio.get_untrusted_types(**source)
    except Exception as exc:  # skops raises zipfile/json/key errors on corrupt files
        raise EnsembleInputError(f"{path}: not a valid skops file ({type(exc).__name__}: {exc})") from None
    refused = [t for t in untrusted if not _is_allowed(t)]
    if refused:
        raise EnsembleInputError(
            f"{path}: refused to load; it holds types outside the scikit-learn/NumPy/SciPy "
            f"allow-list: {', '.join(refused)}"
        )
    try:
        if data is None:
            return sio.load(path, trusted=untrusted)
        return sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise EnsembleInputError(f"{path}: could not load skops file ({type(exc).__name__}: {exc})") from None
