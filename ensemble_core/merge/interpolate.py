"""The interpolation curve of two models: weight space against output space.

At each α the weight-space model is θ(α) = (1−α)·θ_A + α·θ_B (the same rule and float32
rounding as ``merge --method linear``), loaded into one network in memory and scored through
:func:`ensemble_core.models.score_model` in the transformers loader's batches, so each point's
probabilities are those ``score`` gives for the merged directory. The texts are tokenised once
and the encodings reused at every α. The output-space curve is the soft vote of the end
models' probabilities with weights 1−α, α. The barrier is the worst drop of the weight-space
accuracy below the straight line between its end points (and the worst rise of its log loss
above theirs): near 0 when the two models sit in one basin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError
from ..combine import soft_vote
from ..decision import decide
from ..metrics import log_loss
from .checks import read_merge_inputs
from .methods import _as_numpy, weighted_sum_rule

#: Points on the curve unless told otherwise: α = 0, 0.1, …, 1.
DEFAULT_POINTS = 11


@dataclass(frozen=True)
class CurveMetrics:
    """Accuracy and log loss at each α."""

    accuracy: tuple[float, ...]
    log_loss: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"accuracy": list(self.accuracy), "log_loss": list(self.log_loss)}


@dataclass(frozen=True)
class Barrier:
    """The worst accuracy drop below the end points' straight line (``accuracy``, at
    ``alpha``), and the worst log-loss rise above it (``log_loss``); both at least 0."""

    accuracy: float
    alpha: float
    log_loss: float

    def to_dict(self) -> dict:
        return {"accuracy": self.accuracy, "alpha": self.alpha, "log_loss": self.log_loss}


@dataclass(frozen=True)
class InterpolationCurve:
    """Both curves at ``alphas`` and the weight-space barrier; ``probas`` holds the weight-space
    model's probabilities at each α, ndarray of shape (n_alphas, n_samples, n_classes), float32."""

    models: tuple[str, str]
    alphas: tuple[float, ...]
    weight_space: CurveMetrics
    output_space: CurveMetrics
    barrier: Barrier
    probas: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def to_dict(self) -> dict:
        return {
            "models": list(self.models), "alphas": list(self.alphas),
            "weight_space": self.weight_space.to_dict(), "output_space": self.output_space.to_dict(),
            "barrier": self.barrier.to_dict(),
        }

    def describe_barrier(self) -> str:
        """The barrier in words.

        >>> c = InterpolationCurve(("a", "b"), (0.0, 0.5, 1.0), CurveMetrics((0.9, 0.6, 0.8), (0.3, 0.7, 0.4)),
        ...                        CurveMetrics((0.9, 0.92, 0.8), (0.3, 0.25, 0.4)), Barrier(0.25, 0.5, 0.35))
        >>> c.describe_barrier()
        'Averaging the weights loses up to 25.0 accuracy points below the line between the two models (at α = 0.5): a barrier, so they do not sit in one basin.'
        """
        b = self.barrier
        if b.accuracy <= 0.01:
            return (f"No barrier: along the line between the two models the accuracy never drops more than "
                    f"{100 * b.accuracy:.1f} points below the straight line between its end points.")
        return (f"Averaging the weights loses up to {100 * b.accuracy:.1f} accuracy points below the line "
                f"between the two models (at α = {b.alpha:g}): a barrier, so they do not sit in one basin.")


def alpha_grid(points: int = DEFAULT_POINTS) -> np.ndarray:
    """``points`` evenly spaced α from 0 to 1, rounded to 10 decimals (0.1, not 0.30000000000000004).

    >>> alpha_grid(5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise EnsembleInputError(f"--points must be a whole number of at least 2; got {points!r}")
    return np.round(np.linspace(0.0, 1.0, points), 10)


def barrier(alphas: np.ndarray, accuracy: np.ndarray, loss: np.ndarray) -> Barrier:
    """The worst drop of ``accuracy`` below, and rise of ``loss`` above, the straight line between
    the end points.

    >>> barrier(np.array([0, .5, 1]), np.array([.9, .6, .8]), np.array([.3, .7, .4]))
    Barrier(accuracy=0.25, alpha=0.5, log_loss=0.35)
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    line_acc = (1 - alphas) * accuracy[0] + alphas * accuracy[-1]
    line_loss = (1 - alphas) * loss[0] + alphas * loss[-1]
    drop = line_acc - np.asarray(accuracy)
    worst = int(np.argmax(drop))
    return Barrier(
        accuracy=round(max(0.0, float(drop[worst])), 12), alpha=float(alphas[worst]),
        log_loss=round(max(0.0, float(np.max(np.asarray(loss) - line_loss))), 12),
    )


def _metrics(probas: np.ndarray, y_true: np.ndarray) -> tuple[float, float]:
    return float(np.mean(decide(probas) == y_true)), log_loss(y_true, probas)


def interpolation_curve(
    model_a: str | Path, model_b: str | Path, data, *, classes: Sequence[object], y_true: np.ndarray,
    text_column: str | None = None, points: int = DEFAULT_POINTS,
    progress: Callable[[int, int], None] | None = None, cache=None,
) -> InterpolationCurve:
    """Accuracy and log loss along θ(α) = (1−α)·θ_A + α·θ_B and along the soft vote (1−α)·p_A + α·p_B.

    Parameters
    ----------
    model_a, model_b : mergeable transformers classifier directories (:mod:`.checks`)
    data : DataFrame of the rows (a labels file's ``content``)
    classes : the dataset's classes; y_true : ndarray of shape (n_samples,), class indices
    text_column : as in :func:`ensemble_core.models.score_model`
    points : number of α from 0 to 1 (default 11: 0, 0.1, …, 1)
    progress : ``progress(done, total)`` in rows over all points
    cache : a :class:`~ensemble_core.models.cache.PredictionCache`: a point scored before
        (same models, α and rows) is read back instead of run

    Returns
    -------
    InterpolationCurve

    Raises
    ------
    EnsembleInputError
        If the models cannot be merged or the data cannot be scored.

    Examples
    --------
    >>> curve = interpolation_curve("a", "b", labels.content, classes=labels.classes, y_true=labels.y_true)  # doctest: +SKIP
    >>> curve.barrier.accuracy  # doctest: +SKIP
    0.0
    """
    from safetensors import safe_open

    from .._threads import import_torch
    from ..models.base import TORCH_BATCH_SIZE, LoadedModel, class_keys, directory_files, hash_files
    from ..models.scoring import score_model
    from ..models.transformers_loader import load_pretrained, load_tokenizer, max_length, torch_device

    alphas = alpha_grid(points)
    inputs = read_merge_inputs([model_a, model_b])
    torch = import_torch()
    from transformers import AutoModelForSequenceClassification

    a, b = inputs
    device = torch_device()
    tokenizer = load_tokenizer(a.folder)
    length = max_length(tokenizer, a.config)
    network = load_pretrained(AutoModelForSequenceClassification, a.folder).to(device).eval()
    ends = []
    for m in inputs:
        with safe_open(str(m.weights_path), framework="pt") as fh:
            ends.append({name: fh.get_tensor(name) for name, info in m.tensors.items() if info.floating})
    hashes = [hash_files(directory_files(m.folder), m.folder) for m in inputs]
    encodings: dict[tuple[str, ...], object] = {}

    def encode(batch: Sequence[str]):
        key = tuple(batch)
        if key not in encodings:
            encodings[key] = tokenizer(list(batch), padding=True, truncation=True, max_length=length,
                                       return_tensors="pt").to(device)
        return encodings[key]

    def predict(batch) -> np.ndarray:
        with torch.inference_mode():
            logits = network(**encode(batch)).logits
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    n = len(data)
    probas = []
    for k, alpha in enumerate(alphas):
        rule = weighted_sum_rule([1.0 - alpha, alpha])
        state = {
            name: torch.from_numpy(rule(lambda i, name=name: _as_numpy(ends[i][name])).astype(np.float32))
            for name in ends[0]
        }
        try:
            unexpected = network.load_state_dict(state, strict=False).unexpected_keys
        except RuntimeError as exc:
            unexpected = [str(exc).splitlines()[0]]
        if unexpected:  # a tensor the network would silently ignore: its points would be wrong
            raise EnsembleInputError(f"{a.folder}: the network has no parameter {unexpected[0]!r}")
        digest = hashlib.sha256(f"interpolate\0{hashes[0]}\0{hashes[1]}\0{alpha!r}".encode()).hexdigest()
        model = LoadedModel(
            name=f"{a.folder.name}~{b.folder.name}@{alpha:g}", kind="transformers",
            classes=class_keys(a.folder, a.classes), input="text", feature_names=None,
            content_hash=digest, source=str(a.folder), batch_size=TORCH_BATCH_SIZE, _predict=predict,
        )

        def step(done: int, total: int, k: int = k) -> None:
            if progress is not None:
                progress(k * n + done, len(alphas) * n)

        probas.append(score_model(model, data, classes=classes, text_column=text_column, progress=step, cache=cache))
    y_true = np.asarray(y_true)
    weight = [_metrics(p, y_true) for p in probas]
    stacked = np.stack([probas[0], probas[-1]])
    output = [_metrics(soft_vote(stacked, np.array([1.0 - alpha, alpha])), y_true) for alpha in alphas]
    weight_acc, weight_loss = (np.array(v) for v in zip(*weight))
    return InterpolationCurve(
        models=(str(a.folder), str(b.folder)),
        alphas=tuple(float(x) for x in alphas),
        weight_space=CurveMetrics(tuple(weight_acc.tolist()), tuple(weight_loss.tolist())),
        output_space=CurveMetrics(*(tuple(v) for v in zip(*output))),
        barrier=barrier(alphas, weight_acc, weight_loss),
        probas=np.stack(probas),
    )
