"""Which model directories can be merged in weight space, checked before any tensor is read.

A merge input is a transformers sequence-classification directory that passes the
classifier loader's checks (:func:`~ensemble_core.models.transformers_loader.check_transformers_dir`:
regular files of bounded size, no outward links, ``model.safetensors`` weights — a pickle
is refused — and tokenizer files; no ``auto_map`` code). Models merge only when they share
the architecture (config ``model_type``, ``architectures`` and the settings that change the
computation without changing a shape), the parameter names, shapes and dtypes, and the label
mapping (``id2label``). Anything else is refused in one line naming the first mismatch.

Tensors are read with ``safetensors.safe_open`` (no pickle), one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .._validation import EnsembleInputError
from ..models.transformers_loader import _id2label, check_transformers_dir, refuse_remote_code

#: The one weights file a merge input has (a sharded checkpoint is not merged).
WEIGHTS_FILE = "model.safetensors"

#: Config settings that change what the network computes but no tensor's shape: two models
#: that differ in one have the same parameters but are not the same function family.
ARCHITECTURE_KEYS = (
    "model_type", "architectures", "num_attention_heads", "num_key_value_heads", "hidden_act",
    "position_embedding_type", "layer_norm_eps",
)


@dataclass(frozen=True)
class TensorInfo:
    """One stored tensor's shape and safetensors dtype name (``F32``, ``F16``, ``BF16``, ``I64``)."""

    shape: tuple[int, ...]
    dtype: str

    @property
    def floating(self) -> bool:
        """Whether the tensor holds floating-point parameters (merged) rather than integers (copied)."""
        return self.dtype.startswith(("F", "BF"))

    @property
    def size(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class MergeInput:
    """A checked merge input: its folder, parsed config, classes (id order) and tensors.

    ``tensors`` maps each parameter name to its :class:`TensorInfo`, in the file's order.
    """

    folder: Path
    config: dict
    classes: tuple[str, ...]
    tensors: dict[str, TensorInfo]

    @property
    def weights_path(self) -> Path:
        return self.folder / WEIGHTS_FILE

    @property
    def n_parameters(self) -> int:
        return sum(t.size for t in self.tensors.values())


def read_merge_input(folder: str | Path) -> MergeInput:
    """Check one directory and read its tensor index (names, shapes, dtypes; no tensor data).

    Raises
    ------
    EnsembleInputError
        On anything :func:`check_transformers_dir` refuses, remote code, a sharded or
        unreadable ``model.safetensors``, or a config without a usable ``id2label``.

    Examples
    --------
    >>> read_merge_input("models/a").tensors["classifier.weight"]  # doctest: +SKIP
    TensorInfo(shape=(2, 32), dtype='F32')
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EnsembleInputError(f"{folder}: no such model directory")
    config = check_transformers_dir(folder, what="transformers classifier")
    refuse_remote_code(folder, config)
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise EnsembleInputError(
            f"{folder}: sharded weights (model.safetensors.index.json) are not merged; "
            "save the model as one model.safetensors (save_pretrained(..., max_shard_size='100GB'))"
        )
    classes = tuple(_id2label(folder, config))
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            tensors = {}
            for name in fh.keys():
                piece = fh.get_slice(name)
                tensors[name] = TensorInfo(tuple(int(d) for d in piece.get_shape()), str(piece.get_dtype()))
    except EnsembleInputError:
        raise
    except Exception as exc:
        raise EnsembleInputError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc})") from None
    if not tensors:
        raise EnsembleInputError(f"{path}: holds no tensors")
    return MergeInput(folder=folder, config=config, classes=classes, tensors=tensors)


def check_compatible(inputs: Sequence[MergeInput]) -> None:
    """Refuse models that cannot be merged, naming the first mismatch against the first model.

    The order of the checks: architecture settings (:data:`ARCHITECTURE_KEYS`), labels
    (``id2label``, id by id), parameter names (the first missing or extra), then each
    shared parameter's shape and dtype, in the first model's order.

    Raises
    ------
    EnsembleInputError
        One line naming both folders and the setting, label or tensor that differs.
    """
    first = inputs[0]
    for other in inputs[1:]:
        pair = f"{first.folder} and {other.folder}"
        for key in ARCHITECTURE_KEYS:
            a, b = first.config.get(key), other.config.get(key)
            if a != b:
                raise EnsembleInputError(
                    f"{pair} have different architectures: config {key} is {a!r} and {b!r}"
                )
        for i in range(max(len(first.classes), len(other.classes))):
            a = first.classes[i] if i < len(first.classes) else None
            b = other.classes[i] if i < len(other.classes) else None
            if a != b:
                raise EnsembleInputError(
                    f"{pair} have different label maps: id2label[{i}] is {a!r} and {b!r}"
                )
        missing = [n for n in first.tensors if n not in other.tensors]
        if missing:
            raise EnsembleInputError(f"{other.folder}: has no tensor {missing[0]!r} (which {first.folder} has)")
        extra = [n for n in other.tensors if n not in first.tensors]
        if extra:
            raise EnsembleInputError(f"{other.folder}: has a tensor {extra[0]!r} that {first.folder} lacks")
        for name, info in first.tensors.items():
            theirs = other.tensors[name]
            if info.shape != theirs.shape:
                raise EnsembleInputError(
                    f"{pair}: tensor {name!r} has shape {list(info.shape)} and {list(theirs.shape)}"
                )
            if info.dtype != theirs.dtype:
                raise EnsembleInputError(f"{pair}: tensor {name!r} has dtype {info.dtype} and {theirs.dtype}")


def read_merge_inputs(folders: Sequence[str | Path], *, base: str | Path | None = None) -> list[MergeInput]:
    """Check every directory (the base, when given, last) and that they can be merged.

    Returns
    -------
    list of MergeInput, in the order given, the base last

    Raises
    ------
    EnsembleInputError
        On fewer than two models, a folder named twice, or anything :func:`read_merge_input`
        or :func:`check_compatible` refuses.
    """
    if len(folders) < 2:
        raise EnsembleInputError(f"merging needs at least two models; got {len(folders)}")
    named = [Path(f) for f in folders] + ([Path(base)] if base is not None else [])
    seen: dict[Path, Path] = {}
    for folder in named:
        real = folder.resolve()
        if real in seen:
            raise EnsembleInputError(f"{folder}: the same directory is given twice ({seen[real]})")
        seen[real] = folder
    inputs = [read_merge_input(f) for f in named]
    check_compatible(inputs)
    return inputs


def describe_compatible(inputs: Sequence[MergeInput], *, has_base: bool = False) -> str:
    """The compatibility check's answer in words, for checked inputs (:func:`read_merge_inputs`;
    with ``has_base`` the last is the base).

    >>> m = MergeInput(Path("a"), {"model_type": "bert", "architectures": ["BertForSequenceClassification"]},
    ...                ("fresh", "rotten"), {"w": TensorInfo((2, 3), "F32"), "ids": TensorInfo((3,), "I64")})
    >>> describe_compatible([m, MergeInput(Path("b"), m.config, m.classes, m.tensors)])
    'These 2 models can be merged: the same architecture (bert, BertForSequenceClassification), the same 2 labels (fresh, rotten), and the same 2 tensors of the same shapes and dtypes (1 of them floating point and merged: 6 parameters each).'
    """
    first = inputs[0]
    architecture = ", ".join([str(first.config.get("model_type"))] + list(first.config.get("architectures") or []))
    floating = [t for t in first.tensors.values() if t.floating]
    models = f"These {len(inputs) - 1} models and their base" if has_base else f"These {len(inputs)} models"
    return (f"{models} can be merged: the same architecture ({architecture}), the same "
            f"{len(first.classes)} labels ({', '.join(map(str, first.classes))}), and the same "
            f"{len(first.tensors)} tensors of the same shapes and dtypes ({len(floating)} of them floating point and "
            f"merged: {sum(t.size for t in floating):,} parameters each).")
