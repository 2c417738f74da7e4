"""``ensemble-explorer merge`` and ``ensemble-explorer interpolate``: weight-space merging.

Only the standard library and the registry are imported at the top, so that registering the
commands (and ``--help``) loads neither NumPy nor torch.
"""

from __future__ import annotations

import json
import sys

from .._validation import EnsembleInputError
from ..registry import MERGE_METHOD_SPECS, MERGE_METHODS


def add_merge_commands(sub) -> None:
    """Register ``merge`` and ``interpolate`` on the main parser's subcommands."""
    from ..cli import _weights

    mg = sub.add_parser(
        "merge", help="merge transformers classifiers in weight space (soups, interpolation, task arithmetic)",
        description="Merge transformers sequence-classification directories (safetensors; same architecture, "
        "parameter names, shapes, dtypes and labels) tensor by tensor into a new directory that 'score' loads: "
        "float32 weights, the other files copied from the first model.",
    )
    mg.add_argument("--models", action="extend", nargs="+", required=True, metavar="DIR",
                    help="the model directories, in order (coef-average: .skops files)")
    mg.add_argument("--method", choices=MERGE_METHODS, default="linear",
                    help=", ".join(f"{s.name}: {s.label.lower()}" for s in MERGE_METHOD_SPECS) + " (default: linear)")
    mg.add_argument("--weights", type=_weights,
                    help="linear: one weight per model, normalised to sum 1 (default equal); task-arithmetic/ties: "
                    "λ per model (default 1)")
    mg.add_argument("--base", metavar="DIR", help="task-arithmetic/ties: the pre-trained model the models were tuned from")
    mg.add_argument("--tune-labels", metavar="LABELS",
                    help="greedy-soup: the labelled split the soup is chosen on")
    mg.add_argument("--heldout-labels", metavar="LABELS",
                    help="greedy-soup: a separate labelled split to report the soup, the best single model and the "
                    "output ensemble on")
    mg.add_argument("--text-column", help="the text column of the label files (default: 'text', or the only one)")
    mg.add_argument("--out", required=True, metavar="DIR", help="the new model directory (must not exist or be empty); coef-average: a new .skops file")
    mg.add_argument("--json", action="store_true", help="print one JSON object")
    mg.set_defaults(handler=_merge)

    ip = sub.add_parser(
        "interpolate", help="accuracy and log loss along the line between two models: weights against outputs",
        description="Score θ(α) = (1−α)·θ_A + α·θ_B and the soft vote (1−α)·p_A + α·p_B at evenly spaced α from "
        "0 to 1; report both curves and the barrier (the worst drop of the weight-space accuracy below the "
        "straight line between its end points).",
    )
    ip.add_argument("--models", action="extend", nargs="+", required=True, metavar="DIR", help="two model directories")
    ip.add_argument("--labels", required=True, help="the labelled rows to score (CSV or Parquet with 'label')")
    ip.add_argument("--text-column", help="the text column (default: 'text', or the only text column)")
    ip.add_argument("--points", type=int, default=11, help="number of α from 0 to 1 (default: 11: 0, 0.1, ..., 1)")
    ip.add_argument("--no-cache", action="store_true", help="neither read nor write the prediction cache")
    ip.add_argument("--cache-dir", help="prediction cache folder (default: $ENSEMBLE_EXPLORER_CACHE or ~/.cache/ensemble-explorer)")
    ip.add_argument("--json", action="store_true", help="print one JSON object")
    ip.set_defaults(handler=_interpolate)


def _split(path: str | None, text_column: str | None):
    if path is None:
        return None
    from ..io import LabelsFile
    from .methods import LabelledSplit

    labels = LabelsFile(path)
    if labels.y_true is None:
        raise EnsembleInputError(f"{path}: has no 'label' column; the split must be labelled")
    return LabelledSplit(labels.content, labels.classes, labels.y_true, text_column)


def _ordered_weights(weights, models: list[str]):
    if not isinstance(weights, dict):
        return weights
    from pathlib import Path

    names = [Path(m).name for m in models]
    unknown = [n for n in weights if n not in names]
    if unknown:
        raise EnsembleInputError(f"--weights names {unknown[0]!r}, which is none of the models ({', '.join(names)})")
    return [weights.get(n, 0.0) for n in names]


def _merge(args) -> int:
    from .methods import merge_models

    if args.method != "greedy-soup" and (args.tune_labels or args.heldout_labels):
        raise EnsembleInputError(f"--tune-labels and --heldout-labels are for --method greedy-soup, not {args.method}")
    if args.heldout_labels and not args.tune_labels:
        raise EnsembleInputError("--heldout-labels needs --tune-labels")
    result = merge_models(
        args.method, args.models, args.out, weights=_ordered_weights(args.weights, args.models), base=args.base,
        tune=_split(args.tune_labels, args.text_column), heldout=_split(args.heldout_labels, args.text_column),
    )
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    weights = ", ".join(f"{w:.4g}" for w in result.weights)
    print(f"{result.method}: merged {len(result.models)} models ({result.n_parameters:,} parameters, weights "
          f"{weights}{'' if result.base is None else f', base {result.base}'}) in {result.seconds:.2f} s; "
          f"wrote {result.out}")
    soup = result.soup
    if soup is not None:
        from pathlib import Path

        names = [Path(m).name for m in result.models]
        print(f"greedy soup: kept {', '.join(names[i] for i in soup.kept)} of {', '.join(names[i] for i in soup.order)} "
              f"(by tune accuracy); tune accuracy {soup.soup_tune_accuracy:.4f} (best single {soup.tune_accuracy[0]:.4f})")
        if soup.heldout:
            print("held-out accuracy: " + ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in soup.heldout.items())
                  + f" (the soup costs one model, the output ensemble {len(result.models)})")
    return 0


def _interpolate(args) -> int:
    from ..io import LabelsFile
    from ..models.cache import PredictionCache
    from .interpolate import interpolation_curve

    if len(args.models) != 2:
        raise EnsembleInputError(f"--models: interpolate takes exactly two models; got {len(args.models)}")
    labels = LabelsFile(args.labels)
    if labels.y_true is None:
        raise EnsembleInputError(f"{args.labels}: has no 'label' column; the curve needs labels")
    from tqdm import tqdm

    cache = None if args.no_cache else PredictionCache(args.cache_dir)
    with tqdm(total=None, desc="interpolate", unit="rows", file=sys.stderr, disable=None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        curve = interpolation_curve(
            args.models[0], args.models[1], labels.content, classes=labels.classes, y_true=labels.y_true,
            text_column=args.text_column, points=args.points, progress=progress, cache=cache,
        )
    if args.json:
        print(json.dumps(curve.to_dict()))
        return 0
    print(f"{'alpha':>6}  {'weights acc':>11}  {'weights loss':>12}  {'outputs acc':>11}  {'outputs loss':>12}")
    w, o = curve.weight_space, curve.output_space
    for i, alpha in enumerate(curve.alphas):
        print(f"{alpha:>6.2f}  {w.accuracy[i]:>11.4f}  {w.log_loss[i]:>12.4f}  {o.accuracy[i]:>11.4f}  {o.log_loss[i]:>12.4f}")
    print(curve.describe_barrier())
    return 0
