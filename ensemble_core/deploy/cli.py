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
