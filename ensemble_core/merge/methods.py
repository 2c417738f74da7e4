"""Weight-space merges, streamed tensor by tensor.

Every method is a rule that turns one parameter's values in the k models (and the base)
into the merged value. :func:`stream_merge` applies a rule to each parameter in turn: it
reads that parameter from one model at a time (``safetensors.safe_open``, no pickle),
accumulates in float64, and writes the float32 result straight into the output file, whose
header is written first (every offset is known from the shapes). Peak memory is therefore
a few copies of the largest tensor, whatever the number of models and their size.

Integer tensors (token-type or position-id buffers) are not parameters: they must be equal
in every model and are copied from the first. The output directory holds ``model.safetensors``
(float32), the first model's other files (config, tokenizer) and ``merge.json`` saying what
was combined; ``ensemble-explorer score`` loads it like any transformers directory.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError
from ..models.base import directory_files
from ..models.transformers_loader import PICKLED_WEIGHTS, SAFETENSORS
from .checks import WEIGHTS_FILE, MergeInput, TensorInfo

#: ``read(i)``: the current parameter in model ``i`` (the base is the last index), float64.
TensorReader = Callable[[int], np.ndarray]
#: A merge rule: the merged value of one parameter from its reader.
MergeRule = Callable[[TensorReader], np.ndarray]

_NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
                 "I8": "i1", "U8": "u1", "BOOL": "?"}


@dataclass(frozen=True)
class MergeResult:
    """What a merge wrote: the output folder, the method, the coefficient of each model
    (``weights``; for task arithmetic the λ of each task vector), the models merged, the
    parameters written and the seconds it took. ``soup`` holds a greedy soup's trace."""

    out: Path
    method: str
    models: tuple[str, ...]
    weights: tuple[float, ...]
    n_parameters: int
    seconds: float
    base: str | None = None
    soup: GreedySoupTrace | None = None

    def to_dict(self) -> dict:
        out = {
            "method": self.method, "out": str(self.out), "models": list(self.models),
            "weights": list(self.weights), "base": self.base, "n_parameters": self.n_parameters,
            "seconds": self.seconds,
        }
        if self.soup is not None:
            out["greedy_soup"] = self.soup.to_dict()
        return out


@dataclass(frozen=True)
class GreedySoupTrace:
    """A greedy soup's steps: ``order`` (model indices by tune accuracy, best first), their
    ``tune_accuracy``, for each candidate after the first the soup's tune accuracy with it
    (``candidate_accuracy``) and whether it was kept, the final ``kept`` indices, and (with a
    held-out split) the held-out accuracy of the soup, the best single model (by tune
    accuracy) and the uniform output ensemble of all models."""

    order: tuple[int, ...]
    tune_accuracy: tuple[float, ...]
    candidate_accuracy: tuple[float, ...]
    kept_step: tuple[bool, ...]
    kept: tuple[int, ...]
    soup_tune_accuracy: float
    heldout: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "order": list(self.order), "tune_accuracy": list(self.tune_accuracy),
            "candidate_accuracy": list(self.candidate_accuracy), "kept_step": list(self.kept_step),
            "kept": list(self.kept), "soup_tune_accuracy": self.soup_tune_accuracy, "heldout": dict(self.heldout),
        }


# --- rules -----------------------------------------------------------------------------------


def weighted_sum_rule(weights: Sequence[float]) -> MergeRule:
    """θ = Σ_i w_i·θ_i, summed in model order in float64.

    >>> rule = weighted_sum_rule([0.25, 0.75])
    >>> rule(lambda i: np.array([4.0, 8.0]) * (i + 1)).tolist()
    [7.0, 14.0]
    """
    coefficients = [float(w) for w in weights]

    def rule(read: TensorReader) -> np.ndarray:
        acc = read(0)
        acc *= coefficients[0]
        for i, w in enumerate(coefficients[1:], start=1):
            term = read(i)  # scaled in place: no third tensor-sized temporary
            term *= w
            acc += term
            del term  # else the previous term is still held while the next one is read
        return acc

    return rule


def task_arithmetic_rule(lambdas: Sequence[float]) -> MergeRule:
    """θ = base + Σ_i λ_i·(θ_i − base), the base being the reader's last index.

    >>> rule = task_arithmetic_rule([0.5, 0.5])
    >>> rule(lambda i: np.array([[2.0], [4.0], [1.0]][i])).tolist()  # 1 + 0.5·(2 − 1) + 0.5·(4 − 1)
    [3.0]
    """
    coefficients = [float(w) for w in lambdas]
    base_index = len(coefficients)

    def rule(read: TensorReader) -> np.ndarray:
        base = read(base_index)
        acc = base.copy()
        for i, lam in enumerate(coefficients):
            acc += lam * (read(i) - base)
        return acc

    return rule


def ties_rule(lambdas: Sequence[float], density: float = 0.2) -> MergeRule:
    """TIES-merging (Yadav et al. 2023) per tensor: trim each task vector τ_i = θ_i − base to its
    ``density`` share of largest magnitudes, elect each entry's sign as that of Σ_i λ_i·τ_i
    (trimmed), and average the λ_i·τ_i that agree with it; θ = base + that mean.

    Holds all k trimmed task vectors of one tensor at once (k copies of that tensor).

    >>> rule = ties_rule([1.0, 1.0], density=1.0)
    >>> rule(lambda i: np.array([[3.0, -1.0], [1.0, 2.0], [0.0, 0.0]][i])).tolist()
    [2.0, 2.0]
    """
    coefficients = [float(w) for w in lambdas]
    base_index = len(coefficients)

    def rule(read: TensorReader) -> np.ndarray:
        base = read(base_index)
        taus = []
        for i, lam in enumerate(coefficients):
            tau = read(i) - base
            keep = max(1, int(np.ceil(density * tau.size)))
            if keep < tau.size:
                threshold = np.partition(np.abs(tau).ravel(), tau.size - keep)[tau.size - keep]
                tau[np.abs(tau) < threshold] = 0.0
            taus.append(lam * tau)
        stacked = np.stack(taus)
        sign = np.sign(stacked.sum(axis=0))
        agree = (np.sign(stacked) == sign) & (stacked != 0)
        count = agree.sum(axis=0)
        merged = np.where(agree, stacked, 0.0).sum(axis=0) / np.maximum(count, 1)
        return base + merged

    return rule


# --- streaming --------------------------------------------------------------------------------


def _header(first: MergeInput) -> tuple[bytes, list[tuple[str, TensorInfo, str]]]:
    """The output file's header and, per tensor, (name, info, output numpy dtype)."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    plan, offset = [], 0
    for name, info in first.tensors.items():
        dtype = "F32" if info.floating else info.dtype
        if dtype not in _NUMPY_DTYPES:
            raise EnsembleInputError(f"{first.weights_path}: tensor {name!r} has dtype {info.dtype}, which is not merged")
        nbytes = info.size * np.dtype(_NUMPY_DTYPES[dtype]).itemsize
        header[name] = {"dtype": dtype, "shape": list(info.shape), "data_offsets": [offset, offset + nbytes]}
        plan.append((name, info, _NUMPY_DTYPES[dtype]))
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    return struct.pack("<Q", len(text)) + text, plan


def read_tensor(model: MergeInput, name: str) -> np.ndarray:
    """One tensor of ``model`` as a NumPy array (float64 for floating tensors).

    The file is opened for this one tensor and closed again: safetensors maps the file into
    memory, and a mapping kept open while every tensor is read would leave the whole file of
    every model resident (measured: peak memory grew by one model per model merged).
    """
    from safetensors import safe_open

    with safe_open(str(model.weights_path), framework="pt") as fh:
        return _as_numpy(fh.get_tensor(name))


def _as_numpy(tensor) -> np.ndarray:
    torch = _torch()
    if tensor.is_floating_point():
        return tensor.to(torch.float64).numpy()
    return tensor.numpy()


def _torch():
    from .._threads import import_torch

    return import_torch()


def stream_merge(inputs: Sequence[MergeInput], out_file: Path, rule: MergeRule) -> int:
    """Write ``rule`` applied to every floating parameter of ``inputs`` into ``out_file``.

    Parameters
    ----------
    inputs : checked, compatible models (:func:`.checks.read_merge_inputs`); the rule's reader
        index ``i`` is ``inputs[i]``
    out_file : the safetensors file to write (float32 parameters; integer tensors copied)
    rule : see :data:`MergeRule`

    Returns
    -------
    int : the number of elements written

    Raises
    ------
    EnsembleInputError
        If an integer tensor differs between models, or a merged value is not finite.
    """
    _torch()  # the "pt" framework reads every dtype (bfloat16 included), unlike "numpy"
    header, plan = _header(inputs[0])
    written = 0
    with open(out_file, "wb") as out:
        out.write(header)
        for name, info, dtype in plan:
            if info.floating:
                value = rule(lambda i, name=name: read_tensor(inputs[i], name))
                if not np.isfinite(value).all():
                    raise EnsembleInputError(f"tensor {name!r}: the merged values are not all finite")
            else:
                value = read_tensor(inputs[0], name)
                for m in inputs[1:]:
                    if not np.array_equal(value, read_tensor(m, name)):
                        raise EnsembleInputError(
                            f"{inputs[0].folder} and {m.folder}: integer tensor {name!r} differs; "
                            "it is a buffer, not a parameter, and cannot be averaged"
                        )
            out.write(memoryview(np.ascontiguousarray(value, dtype=dtype)).cast("B"))
            written += info.size
    return written


def _prepare_out(out: Path, inputs: Sequence[MergeInput]) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EnsembleInputError(f"--out {out}: exists and is not an empty directory; name a new directory")
    for m in inputs:
        if out.resolve() == m.folder.resolve():
            raise EnsembleInputError(f"--out {out}: is an input model's directory")
    out.mkdir(parents=True, exist_ok=True)


_NOT_COPIED = frozenset((*SAFETENSORS, *PICKLED_WEIGHTS, "merge.json"))


def write_merged(
    inputs: Sequence[MergeInput], out: str | Path, rule: MergeRule, *, method: str,
    weights: Sequence[float], n_models: int | None = None,
) -> MergeResult:
    """Merge ``inputs`` with ``rule`` into a new transformers directory ``out``.

    The first model's files other than weights are copied (its config with the dtype set to
    float32); ``merge.json`` records the method, the models and their coefficients.
    ``n_models`` of the inputs are merged models; any after them is the base.

    Raises
    ------
    EnsembleInputError
        If ``out`` exists and is not empty, or is an input's directory.
    """
    started = time.perf_counter()
    out = Path(out)
    n_models = len(inputs) if n_models is None else n_models
    _prepare_out(out, inputs)
    first = inputs[0]
    partial = out / (WEIGHTS_FILE + ".partial")
    try:
        n = stream_merge(inputs, partial, rule)
        os.replace(partial, out / WEIGHTS_FILE)
    finally:
        partial.unlink(missing_ok=True)
    for path in directory_files(first.folder):
        relative = path.relative_to(first.folder)
        if str(relative) in _NOT_COPIED:
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if str(relative) == "config.json":
            config = dict(first.config)
            for key in ("torch_dtype", "dtype"):
                if key in config:
                    config[key] = "float32"
            target.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        else:
            shutil.copyfile(path, target)
    result = MergeResult(
        out=out, method=method, models=tuple(str(m.folder) for m in inputs[:n_models]),
        weights=tuple(float(w) for w in weights), n_parameters=n,
        seconds=time.perf_counter() - started,
        base=str(inputs[n_models].folder) if len(inputs) > n_models else None,
    )
    (out / "merge.json").write_text(json.dumps(result.to_dict() | {"seconds": None}, indent=2) + "\n")
    return result


# --- methods ----------------------------------------------------------------------------------


def simplex_weights(weights: Sequence[float] | None, n: int) -> np.ndarray:
    """Weights on the simplex: equal without ``weights``, else ``weights`` divided by their sum.

    Raises
    ------
    EnsembleInputError
        If there is not one weight per model, one is negative or not finite, or all are 0.

    >>> simplex_weights([1, 3], 2).tolist()
    [0.25, 0.75]
    """
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise EnsembleInputError(f"--weights: expected one weight per model ({n}); got {w.size}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise EnsembleInputError(f"--weights: must be non-negative numbers, not all 0; got {w.tolist()}")
    return w / w.sum()


def _task_lambdas(weights: Sequence[float] | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all():
        raise EnsembleInputError(f"--weights: expected one finite λ per model ({n}); got {list(weights)}")
    return w


def _split(inputs: Sequence[MergeInput], base: bool) -> int:
    n = len(inputs) - (1 if base else 0)
    if n < 2:
        raise EnsembleInputError(f"merging needs at least two models; got {n}")
    return n


def linear_merge(inputs: Sequence[MergeInput], out: str | Path, *, weights: Sequence[float] | None = None,
                 **_: object) -> MergeResult:
    """θ = Σ_i w_i·θ_i with weights on the simplex (normalised; default equal). Two models at α
    are ``weights=[1 - α, α]``.

    Examples
    --------
    >>> linear_merge(read_merge_inputs(["a", "b"]), "ab", weights=[0.7, 0.3])  # doctest: +SKIP
    """
    w = simplex_weights(weights, _split(inputs, False))
    return write_merged(inputs, out, weighted_sum_rule(w), method="linear", weights=w)


def uniform_soup(inputs: Sequence[MergeInput], out: str | Path, **_: object) -> MergeResult:
    """The mean of all models' parameters (a uniform model soup)."""
    w = simplex_weights(None, _split(inputs, False))
    return write_merged(inputs, out, weighted_sum_rule(w), method="uniform-soup", weights=w)


def task_arithmetic(inputs: Sequence[MergeInput], out: str | Path, *, weights: Sequence[float] | None = None,
                    **_: object) -> MergeResult:
    """θ = base + Σ_i λ_i·(θ_i − base); ``inputs[-1]`` is the base; λ default 1 each."""
    n = _split(inputs, True)
    lambdas = _task_lambdas(weights, n)
    return write_merged(inputs, out, task_arithmetic_rule(lambdas), method="task-arithmetic",
                        weights=lambdas, n_models=n)


def ties_merge(inputs: Sequence[MergeInput], out: str | Path, *, weights: Sequence[float] | None = None,
               density: float = 0.2, **_: object) -> MergeResult:
    """TIES-merging with ``inputs[-1]`` the base (see :func:`ties_rule`); λ default 1 each."""
    n = _split(inputs, True)
    if not 0 < density <= 1:
        raise EnsembleInputError(f"--density must be in (0, 1]; got {density}")
    lambdas = _task_lambdas(weights, n)
    return write_merged(inputs, out, ties_rule(lambdas, density), method="ties", weights=lambdas, n_models=n)


# --- greedy soup ------------------------------------------------------------------------------


def greedy_soup_steps(
    tune_accuracy: Sequence[float], soup_accuracy: Callable[[tuple[int, ...]], float]
) -> GreedySoupTrace:
    """The greedy soup algorithm (Wortsman et al. 2022, recipe 1), independent of how a soup is scored.

    Models are taken in order of ``tune_accuracy`` (best first; ties in the given order); the
    soup starts as the best model; each next model is added if the uniform soup with it,
    scored by ``soup_accuracy(indices)``, is at least as accurate as the soup without it.

    >>> acc = {(1,): 0.8, (1, 0): 0.85, (1, 0, 2): 0.7}
    >>> trace = greedy_soup_steps([0.7, 0.8, 0.6], lambda s: acc[s])
    >>> trace.order, trace.kept, trace.soup_tune_accuracy
    ((1, 0, 2), (1, 0), 0.85)
    """
    order = tuple(sorted(range(len(tune_accuracy)), key=lambda i: -tune_accuracy[i]))
    kept = (order[0],)
    best = float(tune_accuracy[order[0]])
    candidates, steps = [], []
    for i in order[1:]:
        accuracy = float(soup_accuracy((*kept, i)))
        candidates.append(accuracy)
        steps.append(accuracy >= best)
        if accuracy >= best:
            kept, best = (*kept, i), accuracy
    return GreedySoupTrace(
        order=order, tune_accuracy=tuple(float(tune_accuracy[i]) for i in order),
        candidate_accuracy=tuple(candidates), kept_step=tuple(steps), kept=kept, soup_tune_accuracy=best,
    )


@dataclass(frozen=True)
class LabelledSplit:
    """Rows to score: the table, its classes, true class indices and text column."""

    content: object
    classes: object
    y_true: np.ndarray
    text_column: str | None = None


def _probas(folder: Path, split: LabelledSplit, cache=None) -> np.ndarray:
    from ..models.scoring import score_model
    from ..models.transformers_loader import load_transformers

    model = load_transformers(folder, name=folder.name)
    return score_model(model, split.content, classes=split.classes, text_column=split.text_column, cache=cache)


def _accuracy(probas: np.ndarray, y_true: np.ndarray) -> float:
    from ..decision import decide

    return float(np.mean(decide(probas) == y_true))


def greedy_soup(
    inputs: Sequence[MergeInput], out: str | Path, *, tune: LabelledSplit | None = None,
    heldout: LabelledSplit | None = None, cache=None, **_: object,
) -> MergeResult:
    """A greedy soup chosen on ``tune`` (see :func:`greedy_soup_steps`), each candidate soup merged
    into a scratch directory and scored through :func:`ensemble_core.models.score_model`; the
    chosen soup is written to ``out``. With ``heldout``, the trace reports held-out accuracy of
    the soup, of the best single model and of the uniform output ensemble (soft vote of all).

    Raises
    ------
    EnsembleInputError
        Without ``tune``, or anything merging or scoring refuses.
    """
    import tempfile

    if tune is None:
        raise EnsembleInputError("--method greedy-soup needs --tune-labels: the split the soup is chosen on")
    n = _split(inputs, False)
    out = Path(out)
    _prepare_out(out, inputs)
    started = time.perf_counter()
    tune_accuracy = [_accuracy(_probas(m.folder, tune, cache), tune.y_true) for m in inputs]
    with tempfile.TemporaryDirectory(prefix="greedy-soup-", dir=out) as scratch:

        def soup_accuracy(members: tuple[int, ...]) -> float:
            folder = Path(scratch) / "-".join(map(str, members))
            soup = [inputs[i] for i in members]
            write_merged(soup, folder, weighted_sum_rule(simplex_weights(None, len(soup))),
                         method="uniform-soup", weights=simplex_weights(None, len(soup)))
            return _accuracy(_probas(folder, tune), tune.y_true)

        trace = greedy_soup_steps(tune_accuracy, soup_accuracy)
    weights = np.zeros(n)
    weights[list(trace.kept)] = 1.0 / len(trace.kept)
    # The kept models in the greedy order: the same sum as the scored candidate, bit for bit.
    kept = [inputs[i] for i in trace.kept]
    written = write_merged(kept, out, weighted_sum_rule(simplex_weights(None, len(kept))),
                           method="greedy-soup", weights=simplex_weights(None, len(kept)))
    if heldout is not None:
        from ..combine import soft_vote

        members = np.stack([_probas(m.folder, heldout, cache) for m in inputs])
        trace = GreedySoupTrace(**{**trace.__dict__, "heldout": {
            "soup": _accuracy(_probas(out, heldout), heldout.y_true),
            "best_single": _accuracy(members[trace.order[0]], heldout.y_true),
            "output_ensemble": _accuracy(soft_vote(members, np.full(n, 1.0 / n)), heldout.y_true),
        }})
    result = MergeResult(
        out=out, method="greedy-soup", models=tuple(str(m.folder) for m in inputs),
        weights=tuple(float(w) for w in weights), n_parameters=written.n_parameters,
        seconds=time.perf_counter() - started, soup=trace,
    )
    (out / "merge.json").write_text(json.dumps(result.to_dict() | {"seconds": None}, indent=2) + "\n")
    return result


def merge_models(
    method: str, models: Sequence[str | Path], out: str | Path, *, weights: Sequence[float] | None = None,
    base: str | Path | None = None, tune: LabelledSplit | None = None, heldout: LabelledSplit | None = None,
    cache=None,
) -> MergeResult:
    """Check the models and merge them with the method called ``method``
    (:data:`ensemble_core.registry.MERGE_METHOD_SPECS`).

    Raises
    ------
    EnsembleInputError
        On an unknown method, a missing or needless base, weights the method does not take,
        or anything the checks refuse (one line naming the first mismatch).

    Examples
    --------
    >>> merge_models("linear", ["a", "b"], "merged", weights=[0.5, 0.5])  # doctest: +SKIP
    """
    from ..registry import merge_method
    from .checks import read_merge_inputs

    try:
        spec = merge_method(method)
    except KeyError as exc:
        raise EnsembleInputError(str(exc.args[0])) from None
    if spec.model_kind == "sklearn":
        if base is not None or tune is not None:
            raise EnsembleInputError(f"--method {method} takes neither --base nor --tune-labels")
        return spec.implementation()(models, out, weights=weights)
    if spec.needs_base and base is None:
        raise EnsembleInputError(f"--method {method} needs --base: the pre-trained model the task vectors start from")
    if not spec.needs_base and base is not None:
        raise EnsembleInputError(f"--base is only used by task-arithmetic and ties, not --method {method}")
    if not spec.takes_weights and weights is not None:
        raise EnsembleInputError(f"--method {method} takes no --weights")
    inputs = read_merge_inputs(models, base=base)
    return spec.implementation()(inputs, out, weights=weights, tune=tune, heldout=heldout, cache=cache)
