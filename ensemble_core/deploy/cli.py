"""``ensemble-explorer frontier`` and ``ensemble-explorer distill``.

Imports only the standard library at the top, so that registering the commands (and
``--help``) loads neither NumPy nor torch.
"""

from __future__ import annotations

import json


def add_deploy_commands(sub) -> None:
    """Register ``frontier`` and ``distill`` on the main parser's subcommands."""
    from ..cli import _weights

    fr = sub.add_parser(
        "frontier", help="soft-vote accuracy against cost for every subset of the models; the Pareto front",
        description="Every subset of the models (all subsets up to 12 models, a greedy forward path beyond): "
        "its soft-vote accuracy (the weights renormalised over the subset) and its cost, the sum of its models' "
        "milliseconds per 1,000 examples — from --costs, else from each prediction file's NAME.cost.json "
        "sidecar (written by 'score').",
    )
    fr.add_argument("--labels", required=True, help="labels file (CSV or Parquet) with a 'label' column")
    fr.add_argument("--predictions", required=True, nargs="+", help="one prediction file per model")
    fr.add_argument("--names", nargs="+", help="model names (default: each file's stem)")
    fr.add_argument("--weights", type=_weights, help="one per model, in order (1,2,0.5) or by name (forest=3,knn=1)")
    fr.add_argument("--costs", help="ms per 1,000 examples by model name (rf=12.5,knn=3); wins over a sidecar")
    fr.add_argument("--all", action="store_true", help="list every subset, not only the Pareto front")
    fr.add_argument("--json", action="store_true", help="print one JSON object")
    fr.set_defaults(handler=_frontier)
    add_distill_command(sub)
    add_compress_command(sub)


def _frontier(args) -> int:
    from ..config import weights_by_name
    from ..io import load_prediction_set
    from .costs import costs_for, parse_costs
    from .frontier import cost_accuracy_frontier

    pset = load_prediction_set(args.labels, args.predictions, args.names)
    entered = parse_costs(args.costs) if args.costs else None
    costs = costs_for(pset.names, args.predictions, entered)
    weights = args.weights
    if isinstance(weights, dict):
        weights = weights_by_name(weights, pset.names)
    frontier = cost_accuracy_frontier(pset, [c.ms_per_1000 for c in costs], weights)
    if args.json:
        print(json.dumps({**frontier.to_dict(), "n_samples": pset.n_samples,
                          "costs": [c.to_dict() for c in costs]}, allow_nan=False))
        return 0
    for c in costs:
        print(f"{c.name}: {c.ms_per_1000:.3g} ms per 1,000 examples ({c.source})")
    shown = frontier.points if args.all else frontier.pareto
    title = "every subset" if args.all else "Pareto front (cheapest first)"
    print(f"{len(frontier.points)} subsets ({frontier.method}), {pset.n_samples} rows; {title}:")
    for p in sorted(shown, key=lambda p: (p.cost, -p.accuracy)):
        mark = "*" if p.pareto else " "
        print(f"{mark} {p.accuracy:.4f}  {p.cost:10.3g} ms/1000  {'+'.join(p.models)}")
    return 0


def add_distill_command(sub) -> None:
    """Register ``distill``."""
    from ..cli import _seed, _weights
    from ..registry import STRATEGIES, STUDENTS
    from . import DEFAULT_ALPHA, DEFAULT_TEMPERATURE

    di = sub.add_parser(
        "distill", help="train one student on the ensemble's outputs; compare it on a held-out split",
        description="Train a student on a transfer set (labelled rows with their content and the members' "
        "predictions on them) with (1-λ)·CE(labels) + λ·T²·KL(teacher_T ‖ student_T), the teacher being the "
        "ensemble; report the student, the same student on hard labels only (λ=0), the ensemble and each member "
        "on the held-out split, which no training step sees. The student is saved as .skops, the transformer "
        "student as a transformers folder ('score' loads both).",
    )
    di.add_argument("--train-labels", required=True, help="the transfer set: labels file with content columns")
    di.add_argument("--train-predictions", required=True, nargs="+", help="the members' predictions on it")
    di.add_argument("--labels", required=True, help="the held-out split: labels file with content columns")
    di.add_argument("--predictions", required=True, nargs="+",
                    help="the members' predictions on it (matched to --train-predictions by file name)")
    di.add_argument("--strategy", choices=STRATEGIES, default="soft", help="the teacher ensemble (default: soft)")
    di.add_argument("--weights", type=_weights, help="one per model, in --predictions order, or by name")
    di.add_argument("--student", required=True, choices=STUDENTS)
    columns = di.add_mutually_exclusive_group()
    columns.add_argument("--text-column", help="for tfidf-* students (default: 'text', or the only text column)")
    columns.add_argument("--feature-columns", nargs="+", help="for logistic/mlp (default: every content column)")
    di.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE,
                    help=f"T (default: {DEFAULT_TEMPERATURE:g})")
    di.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help=f"λ in [0, 1] (default: {DEFAULT_ALPHA:g})")
    di.add_argument("--epochs", type=int, default=30, help="passes over the transfer set (default: 30)")
    di.add_argument("--seed", type=_seed, default=0, help="initialisation and shuffling (default: 0)")
    di.add_argument("--costs", help="members' ms per 1,000 examples (rf=12.5,...); else their held-out sidecars")
    di.add_argument("--out", required=True,
                    help="where to save the student (.skops; for --student transformer a new folder)")
    di.add_argument("--json", action="store_true", help="print one JSON object")
    di.set_defaults(handler=_distill)


def _distill(args) -> int:
    from ..config import weights_by_name
    from ..io import load_prediction_set
    from .costs import model_cost, parse_costs
    from .distill import StudentSettings, distill

    settings = StudentSettings(kind=args.student, alpha=args.alpha, temperature=args.temperature,
                               epochs=args.epochs, seed=args.seed)
    held_out = load_prediction_set(args.labels, args.predictions)
    transfer = load_prediction_set(args.train_labels, args.train_predictions)
    weights = args.weights
    if isinstance(weights, dict):
        weights = weights_by_name(weights, held_out.names)
    entered = parse_costs(args.costs) if args.costs else None
    costs = [model_cost(name, file, entered) for name, file in zip(held_out.names, args.predictions)]
    report = distill(transfer, held_out, settings=settings, out=args.out, strategy=args.strategy,
                     weights=weights, text_column=args.text_column, feature_columns=args.feature_columns,
                     member_costs=costs)
    if args.json:
        print(json.dumps(report.to_dict(), allow_nan=False))
        return 0
    print(f"{held_out.n_samples} held-out rows; trained on {transfer.n_samples} transfer rows")
    print(f"{'':44s} accuracy  log loss  agreement  ms/1000  size (bytes)")
    for row in (report.ensemble, report.student, report.hard_label_student, *report.members):
        def fmt(v, spec):
            return "-" if v is None else format(v, spec)
        print(f"{row.name:44s} {row.accuracy:8.4f}  {fmt(row.log_loss, '8.4f')}  {fmt(row.agreement, '9.4f')}  "
              f"{fmt(row.ms_per_1000, '7.3g')}  {fmt(row.size_bytes, 'd')}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"student saved to {report.student_path}")
    return 0


def add_compress_command(sub) -> None:
    """Register ``compress``."""
    from ..registry import COMPRESSIONS

    co = sub.add_parser(
        "compress", help="prune or int8-quantise a saved student; compare it with the original on held-out rows",
        description="Magnitude pruning (.skops out) or dynamic int8 quantisation through ONNX (.onnx out) of a "
        "student saved by 'distill'; both models are scored on the held-out labels file as 'score' would.",
    )
    co.add_argument("--model", required=True, help="a .skops student")
    co.add_argument("--method", required=True, choices=COMPRESSIONS)
    co.add_argument("--sparsity", type=float, default=0.5, help="prune: the share of weights set to zero (default: 0.5)")
    co.add_argument("--labels", required=True, help="the held-out split (labels file with the content columns)")
    co.add_argument("--out", required=True, help="the compressed model (.skops for prune, .onnx for int8)")
    co.add_argument("--json", action="store_true", help="print one JSON object")
    co.set_defaults(handler=_compress)


def _compress(args) -> int:
    from .compress import compress

    report = compress(args.model, args.method, labels=args.labels, out=args.out, sparsity=args.sparsity)
    if args.json:
        print(json.dumps(report.to_dict(), allow_nan=False))
        return 0
    print(f"{'':32s} accuracy  agreement  ms/1000  size (bytes)")
    for row in (report.original, report.compressed):
        print(f"{row.name:32s} {row.accuracy:8.4f}  {row.agreement:9.4f}  {row.ms_per_1000:7.3g}  {row.size_bytes}")
    return 0
