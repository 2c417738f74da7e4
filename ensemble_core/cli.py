"""The ``ensemble-explorer`` command line: the dashboard's numbers without a browser.

Every user error is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from ._validation import MAX_SEED, EnsembleInputError, first_line, one_line, problems_of
from . import registry
from .registry import META_LEARNERS, METHODS, STRATEGIES

EXIT_USAGE = 2
EXIT_INTERNAL = 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (no usage dump) with status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise EnsembleInputError(f"{message} (see '{self.prog} --help')")


def _weights(text: str) -> list[float] | dict[str, float]:
    """One weight per model in order (``1,2,0.5``) or by model name (``forest=3,knn=1``)."""
    items = text.split(",")
    try:
        if not any("=" in item for item in items):
            return [float(w) for w in items]
        named: dict[str, float] = {}
        for item in items:
            name, equals, value = item.rpartition("=")
            name = name.strip()
            if not equals or not name:
                raise ValueError(item)
            if name in named:
                raise argparse.ArgumentTypeError(f"names model {name!r} twice; got {text!r}")
            named[name] = float(value)
        return named
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated numbers like 1,2,0.5 or name=number pairs like forest=3,knn=1; got {text!r}"
        ) from None


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_SEED}; got {text!r}")
    return seed


def _add_evaluation_arguments(ev) -> None:
    """The inputs and settings ``evaluate`` and ``report`` share."""
    ev.add_argument("--labels", required=True, help="labels file (CSV or Parquet) with a 'label' column")
    ev.add_argument("--predictions", required=True, nargs="+", help="one prediction file per model")
    ev.add_argument("--names", nargs="+", help="model names (default: each file's stem)")
    # None = not given: the defaults are applied after --config (see _settings).
    ev.add_argument("--strategy", choices=STRATEGIES, help="default: soft")
    ev.add_argument(
        "--weights", type=_weights,
        help="one per model, in order (1,2,0.5) or by name (forest=3,knn=1); ignored by stacking",
    )
    ev.add_argument("--meta", choices=META_LEARNERS, help="stacking meta-learner (default: logistic)")
    ev.add_argument("--folds", type=int, help="cross-fitting folds (stacking, --optimize; default: 5)")
    ev.add_argument("--seed", type=_seed, help=f"fold shuffling and bootstrap seed (0 to {MAX_SEED}; default: 0)")
    ev.add_argument(
        "--config",
        help="an ensemble config exported by the Ensemble page (JSON): strategy, weights by model name, "
        "meta-learner, left-out models, temperatures",
    )
    ev.add_argument(
        "--optimize",
        choices=METHODS,
        help="also suggest soft-voting weights, with held-out (nested-CV) metrics",
    )
    ev.add_argument(
        "--calibrate", action="store_true", help="with --optimize: temperature-scale each model first"
    )
    ev.add_argument(
        "--temperature-scale", action="store_true",
        help="temperature-scale every model first, cross-fitted (each example with temperatures fitted on the other "
        "--folds; seed --seed): the dashboard's 'Temperature-scaled members'",
    )
    ev.add_argument(
        "--slice-by", action="append", metavar="COLUMN",
        help="also break the numbers down by a content column of the labels file (or 'label': the true "
        "class); repeat for several",
    )
    ev.add_argument("--bins", type=int, default=4, help="quantile bins for numeric columns and text length (default: 4)")
    low, high = registry.LABELS_ONLY_SMOOTHING_RANGE
    ev.add_argument(
        "--labels-only-smoothing", type=float, metavar="EPSILON",
        help="a labels-only model (a 'prediction' column) enters every combination as its one-hot row "
        f"label-smoothed with this ε ({low:g} to {high:g}; default: {registry.LABELS_ONLY_SMOOTHING:g})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ensemble-explorer", description="Explore classifier ensembles.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ev = sub.add_parser("evaluate", help="combine prediction files and report the ensemble's metrics")
    _add_evaluation_arguments(ev)
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--out", help="write the ensemble's per-example predictions here")
    ev.add_argument(
        "--save-meta",
        help="stacking only: fit the meta-learner on all rows and save it (skops) for new data",
    )
    ev.add_argument(
        "--explain", action="store_true",
        help="stacking only: also show what the meta-learner learned: each model's permutation importance "
        "(cross-fitted: measured on rows the meta-learner did not see) and, for logistic, its coefficients per "
        "model and class",
    )
    ev.add_argument(
        "--stream", action="store_true",
        help="read Parquet prediction files in the labels' row order (a prediction store) --batch-rows "
        "rows at a time, for files larger than memory: the soft vote with fixed weights; no intervals",
    )
    ev.add_argument("--batch-rows", type=int, default=65_536, help="with --stream: rows read at a time (default 65,536)")
    ev.add_argument(
        "--memory-budget", type=float, metavar="MB",
        help="prediction arrays (rows x classes x 4 bytes per file, read from Parquet footers) over this many MB "
        f"are streamed as with --stream (default: {registry.MEMORY_BUDGET_FRACTION * 100:g}%% of the machine's RAM)",
    )
    ev.set_defaults(handler=_evaluate)

    ap = sub.add_parser("apply", help="apply a saved stacker to new prediction files")
    ap.add_argument("--meta-model", required=True, help="a stacker saved with evaluate --save-meta")
    ap.add_argument(
        "--data", "--labels", dest="data", required=True,
        help="the new rows (sets row order and ids); with a 'label' column the stacked accuracy is reported",
    )
    ap.add_argument(
        "--predictions", required=True, nargs="+",
        help="one prediction file per model the stacker was fitted on, matched by model name (any order)",
    )
    ap.add_argument("--names", nargs="+", help="model names (default: each file's stem)")
    ap.add_argument("--out", required=True, help="where to write the stacked predictions")
    ap.set_defaults(handler=_apply)
    rp = sub.add_parser("report", help="write a self-contained HTML report of the ensemble, to hand out")
    _add_evaluation_arguments(rp)
    rp.add_argument("--out", required=True, help="the HTML file to write")
    rp.set_defaults(handler=_report)
    _add_model_commands(sub)
    from .lm.cli import add_lm_command  # the language-model family: torch and NumPy load only when it runs

    add_lm_command(sub)
    from .deploy.cli import add_deploy_commands  # costs, frontier, distillation: NumPy loads only when run

    add_deploy_commands(sub)
    from .merge.cli import add_merge_commands  # weight-space merging: torch and NumPy load only when it runs

    add_merge_commands(sub)
    return parser


def _add_model_commands(sub) -> None:
    """Hook for the model-scoring commands (``score``), registered when available."""
    try:
        from .models.cli import add_score_command
    except ImportError:
        return
    add_score_command(sub)


def evaluation_report(pset, result, evaluator, *, seed: int = 0) -> dict:
    """The JSON-able report of ``evaluate`` (:func:`ensemble_core.report.summary.evaluation_summary`)."""
    from .report.summary import evaluation_summary

    return evaluation_summary(pset, result, evaluator, seed=seed)


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.4f}"


def _print_table(report: dict) -> None:
    rows = [("ENSEMBLE (" + report["strategy"] + ")", report)] + list(report["models"].items())
    width = max(len(name) for name, _ in rows)
    print(f"{report['n_samples']} examples, {len(report['classes'])} classes, {len(report['models'])} models")
    print(f"{'':{width}}  accuracy  macro_f1  log_loss     brier       ece")
    for name, m in rows:
        print(
            f"{name:{width}}  {_fmt(m['accuracy']):>8}  {_fmt(m['macro_f1']):>8}  "
            f"{_fmt(m['log_loss']):>8}  {_fmt(m['brier']):>8}  {_fmt(m['ece']):>8}"
        )
    best = report["best_single"]
    print(
        f"gain over best single on all rows ({best['name']}, {best['accuracy']:.4f}): {report['gain_over_best']:+.4f}; "
        f"fixes {report['fixes']}, breaks {report['breaks']}"
    )
    if "gain_summary" in report:  # a streamed evaluation has no intervals
        print(f"  {report['gain_summary']} (accuracy 95% CI {report['accuracy_ci'][0]:.4f} to {report['accuracy_ci'][1]:.4f})")
    print(
        f"oracle accuracy {report['oracle_accuracy']:.4f}; models disagree on "
        f"{report['disagreement_rate']:.1%} of examples"
    )
    if report["weights"]:
        pairs = zip(report["names"], report["weights"])
        print("weights: " + ", ".join(f"{k}={v:.3f}" for k, v in pairs))
    print("confusion matrix (rows = true, columns = predicted): " + ", ".join(report["classes"]))
    for cls, row in zip(report["classes"], report["confusion_matrix"]):
        print(f"  {cls:>10} " + " ".join(f"{v:>7}" for v in row))
    for note in report["notes"]:
        print(f"note: {note}")
    if "suggestion" in report:
        _print_suggestion(report["suggestion"])
    if "meta_learner" in report:
        _print_meta_learner(report["meta_learner"], report["names"])


def _print_meta_learner(m: dict, names: list[str]) -> None:
    width = max(len(n) for n in names)
    print(f"\nwhat the {m['meta']} meta-learner learned ({m['folds']}-fold cross-fitted; out-of-fold accuracy "
          f"{m['accuracy']:.4f}, log loss {m['log_loss']:.4f}):")
    print(f"permutation importance (each model's inputs shuffled {m['n_repeats']} times on rows the meta-learner "
          "did not see; mean ± sd):")
    print(f"  {'':{width}}  {'accuracy_drop':<16}  log_loss_increase")
    for name in names:
        i = m["permutation_importance"][name]
        print(f"  {name:{width}}  {i['accuracy_drop']:+.4f} ± {i['accuracy_drop_std']:.4f}  "
              f"{i['log_loss_increase']:+.4f} ± {i['log_loss_increase_std']:.4f}")
    if m["coefficients"] is None:
        return
    scores = list(m["coefficients"])
    cells = max(8, *(len(c) for c in scores))
    print("coefficients (fitted on all rows): the weight of each model's probability of a class in that class's "
          "score" + (f" (the log-odds of {scores[0]})" if len(scores) == 1 else ""))
    print(f"  {'':{width}}  " + "  ".join(f"{c:>{cells}}" for c in scores))
    for name in names:
        print(f"  {name:{width}}  " + "  ".join(f"{m['coefficients'][c][name][c]:>+{cells}.3f}" for c in scores))


def _print_suggestion(s: dict) -> None:
    calibrated = ", members temperature-scaled" if s["calibrated"] else ""
    print(f"\nsuggested soft-voting weights ({s['method']}{calibrated}; fitted on all rows):")
    print("  " + ", ".join(f"{k}={v:.3f}" for k, v in s["weights"].items()))
    if s["temperatures"]:
        print("  temperatures: " + ", ".join(f"{k}={v:.2f}" for k, v in s["temperatures"].items()))
    print(f"held-out ({s['folds']}-fold nested CV: weights chosen without the rows they are scored on):")
    print("                       accuracy  log_loss")
    for label, key in [("suggested weights", "heldout"), ("uniform soft vote", "uniform"),
                       ("best single, per fold", "best_single"), ("(in-sample, optimistic)", "in_sample")]:
        print(f"  {label:<23} {_fmt(s[key]['accuracy']):>8}  {_fmt(s[key]['log_loss']):>8}")
    print("  (the best single model per fold is picked on the other folds, as the weights are; the headline's is "
          "the best on all rows, picked after seeing every row)")
    if s["path"]:
        kept = s["path_kept"]
        print(f"selection path (weights from the first {kept} of {len(s['path'])} picks): "
              + " → ".join(step["model"] for step in s["path"]))


@dataclass(frozen=True)
class _Settings:
    """What ``evaluate`` runs: the flags, else the config, else the defaults."""

    strategy: str
    weights: list[float] | dict[str, float] | None
    meta: str
    folds: int
    seed: int
    smoothing: float


def _settings(args, config) -> _Settings:
    given = {"--strategy": args.strategy, "--weights": args.weights, "--meta": args.meta,
             "--folds": args.folds, "--seed": args.seed, "--labels-only-smoothing": args.labels_only_smoothing}
    if config is not None:
        from_config = {"--strategy": config.strategy, "--weights": config.weights, "--meta": config.meta,
                       "--folds": config.folds, "--seed": config.seed,
                       "--labels-only-smoothing": config.labels_only_smoothing}
        clash = [flag for flag, value in given.items() if value is not None and from_config[flag] is not None]
        if clash:
            raise EnsembleInputError(f"{clash[0]} and --config {args.config} both set it; give it in one place")
        given = {flag: from_config[flag] if value is None else value for flag, value in given.items()}
    defaults = {"--strategy": "soft", "--meta": "logistic", "--folds": 5, "--seed": 0,
                "--labels-only-smoothing": registry.LABELS_ONLY_SMOOTHING}
    resolved = {flag: defaults.get(flag) if value is None else value for flag, value in given.items()}
    return _Settings(resolved["--strategy"], resolved["--weights"], resolved["--meta"], resolved["--folds"],
                     resolved["--seed"], resolved["--labels-only-smoothing"])


@dataclass(frozen=True)
class _Evaluation:
    """One run of ``evaluate``'s computation: what ``evaluate`` prints and ``report`` draws."""

    pset: object
    evaluator: object
    result: object
    report: dict
    temperatures: object
    settings: _Settings
    slicings: tuple


def _slicings(pset, columns, bins: int) -> tuple:
    from .report.slices import CLASS_SLICING, slice_by_class, slice_values

    out = []
    for column in dict.fromkeys(columns or ()):
        if column == CLASS_SLICING:
            out.append(slice_by_class(pset.y_true, pset.classes))
        elif pset.content is None or column not in pset.content.columns:
            found = [] if pset.content is None else [str(c) for c in pset.content.columns]
            raise EnsembleInputError(
                f"--slice-by {column!r}: no such content column in the labels file; it has "
                f"{', '.join(map(repr, found)) or 'none'} (or use 'label' for the true class)"
            )
        else:
            out.append(slice_values(pset.content[column], name=column, bins=bins))
    return tuple(out)


def _run_evaluation(args) -> _Evaluation:
    from .config import read_config, weights_by_name
    from .ensemble import EnsembleEvaluator
    from .io import load_prediction_set
    from .labels_only import check_smoothing, smooth_labels_only

    config = read_config(args.config) if args.config else None
    run = _settings(args, config)
    for flag in ("save_meta", "explain"):
        if getattr(args, flag, None) and not registry.strategy(run.strategy).uses_meta_learner:
            meta_strategies = [s.name for s in registry.STRATEGY_SPECS if s.uses_meta_learner]
            raise EnsembleInputError(f"--{flag.replace('_', '-')} needs --strategy {' or '.join(meta_strategies)}")
    if run.folds < 2:
        raise EnsembleInputError(f"--folds must be at least 2; got {run.folds}")
    if args.calibrate and not args.optimize:
        raise EnsembleInputError("--calibrate needs --optimize (it calibrates the models the weights are chosen for)")
    epsilon = check_smoothing(run.smoothing, source="--labels-only-smoothing")
    pset = smooth_labels_only(load_prediction_set(args.labels, args.predictions, args.names), epsilon)
    notes, temperatures = [], None
    if config is not None:
        pset, notes, temperatures = config.apply_to(pset, source=args.config)
    as_loaded = pset  # what a suggestion is made for: with --calibrate it fits its own temperatures, as the app's
    if args.temperature_scale:
        if temperatures is not None:
            raise EnsembleInputError(f"--temperature-scale and --config {args.config}'s temperatures both scale the "
                                     "models; give one")
        from .calibration import cross_fit_temperatures, cross_fitted_note, temperature_scaled_set

        calibration = cross_fit_temperatures(pset.probas, pset.y_true, hard=pset.hard, folds=run.folds, seed=run.seed)
        pset = temperature_scaled_set(pset, calibration)
        notes.append(cross_fitted_note(run.folds, run.seed))
        temperatures = [float(t) for t in calibration.temperatures]  # a saved stacker scales new data with these
    slicings = _slicings(pset, args.slice_by, args.bins)
    weights = run.weights
    if isinstance(weights, dict):
        source = "--weights" if args.weights is not None else f"{args.config}: 'weights'"
        weights = weights_by_name(weights, pset.names, source=source)
    evaluator = EnsembleEvaluator(pset)
    result = evaluator.evaluate(run.strategy, weights, meta=run.meta, folds=run.folds, seed=run.seed)
    report = evaluation_report(pset, result, evaluator, seed=run.seed)
    report["notes"] += notes
    if slicings:
        from .report.summary import slice_rows

        report["slices"] = slice_rows(pset, result, evaluator, slicings, seed=run.seed)
    if args.optimize:
        from .weight_search import suggest_weights

        report["suggestion"] = suggest_weights(
            as_loaded, args.optimize, folds=run.folds, seed=run.seed, calibrate=args.calibrate
        ).to_dict()
    return _Evaluation(pset, evaluator, result, report, temperatures, run, slicings)


def _evaluate(args) -> int:
    from .io import write_predictions
    from .stacking import fit_stacker

    from .scale.budget import stream_by_budget

    over = stream_by_budget(args)
    if over is not None:
        args.stream = True
        print(f"evaluate: {over.describe()}: streaming them {args.batch_rows:,} rows at a time (as --stream)",
              file=sys.stderr)
    if args.stream:
        from .scale.streaming import streamed_report

        report = streamed_report(args)
        if over is not None:
            report["memory_budget"] = {**over.to_dict(), "streamed": "automatically"}
        print(json.dumps(report, allow_nan=False, default=_json_default)) if args.json else _print_table(report)
        return 0
    ev = _run_evaluation(args)
    pset, result, run = ev.pset, ev.result, ev.settings
    if args.explain:
        from .stacking_insight import explain_stacking

        ev.report["meta_learner"] = explain_stacking(
            pset.probas, pset.y_true, pset.classes, pset.names, meta=run.meta, folds=run.folds, seed=run.seed
        ).to_dict()
    if args.out:
        if result.has_probas:
            write_predictions(args.out, pset.classes, probas=result.probas, ids=pset.ids)
        else:
            write_predictions(args.out, pset.classes, labels=result.y_pred, ids=pset.ids)
    if args.save_meta:
        fit_stacker(
            pset.probas, pset.y_true, pset.classes, pset.names, meta=run.meta, seed=run.seed, ids=pset.ids,
            temperatures=ev.temperatures, smoothing=pset.smoothing,
        ).save(args.save_meta)
    if args.json:
        print(json.dumps(ev.report, allow_nan=False, default=_json_default))
    else:
        _print_table(ev.report)
    return 0


def _report(args) -> int:
    from .report.html import build_report, render_html
    from .report.summary import as_json

    if not args.out.lower().endswith((".html", ".htm")):
        raise EnsembleInputError(f"--out {args.out}: the report is HTML; give a file name ending in .html")
    ev = _run_evaluation(args)
    summary = as_json(ev.report)
    files = [args.labels, *args.predictions] + ([args.config] if args.config else [])
    report = build_report(ev.pset, ev.evaluator, ev.result, summary, slicings=ev.slicings, files=files,
                          seed=ev.settings.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(render_html(report))
    print(f"wrote {args.out}: {ev.pset.n_samples} examples, {len(ev.pset.names)} models, "
          f"{ev.report['strategy']}, accuracy {ev.report['accuracy']:.4f}")
    return 0


def _apply(args) -> int:
    from .decision import decide
    from .io import LabelsFile, prediction_entries, read_aligned_predictions, write_predictions
    from .models.loading import load_stacker

    stacker = load_stacker(args.meta_model)
    entries, names = prediction_entries(args.predictions, args.names)
    order = stacker.model_order(names, source=args.meta_model)
    rows = LabelsFile(args.data, classes=stacker.classes)
    probas, hard = read_aligned_predictions(rows, [entries[i] for i in order])
    probas = stacker.scale(probas, hard)  # as it was fitted: the config's temperatures, labels-only rows smoothed
    stacked = stacker.predict_proba(probas)
    write_predictions(args.out, stacker.classes, probas=stacked, ids=rows.ids)
    summary = f"wrote {args.out}: {rows.n_samples} examples"
    if rows.labelled:
        correct = decide(stacked) == rows.y_true
        summary += f", stacked accuracy {correct.mean():.4f}"
    else:
        summary += f" ({rows.path.name} has no 'label' column: no accuracy)"
    seen = stacker.fitted_rows(probas, rows.ids)
    if seen is None:
        _warn(
            f"{args.meta_model} was saved before fingerprints of its training rows were kept; cannot tell "
            "whether these are its training rows (where its accuracy would be in-sample, not evidence)"
        )
    elif seen.any():
        n_seen = int(seen.sum())
        if n_seen == rows.n_samples:
            what = f"these are the rows the stacker was fitted on (all {n_seen} match)"
        else:
            what = f"{n_seen} of {rows.n_samples} rows are rows the stacker was fitted on"
            if rows.labelled:
                summary += f"; {correct[~seen].mean():.4f} on the {rows.n_samples - n_seen} other rows"
        _warn(
            f"{what}: its predictions and accuracy there are in-sample, not evidence (a row matches when "
            "every model's probabilities for it are a training row's, in any order, or its id is a training row's id); "
            "for an honest estimate use evaluate --strategy stacking (out-of-fold)"
        )
    print(summary)
    return 0


def _warn(message: str) -> None:
    print(f"ensemble-explorer: warning: {message}", file=sys.stderr)


def _json_default(obj):
    from .report.summary import json_default

    return json_default(obj)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 1 internal error).

    Python warnings raised on the way are held back: after a run that fails,
    the error line is all that is printed; after a run that succeeds, each
    distinct warning is one line, never the source line Python would add.
    """
    with warnings.catch_warnings(record=True) as caught:
        status = _run(argv)
    if status == 0:
        for line in dict.fromkeys(_warning_line(w) for w in caught):
            print(line, file=sys.stderr)
    return status


def _warning_line(caught: warnings.WarningMessage) -> str:
    return f"ensemble-explorer: warning: {first_line(caught.message)} ({caught.category.__name__})"


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except EnsembleInputError as exc:
        for problem in problems_of(exc):  # several bad files: one line each
            print(f"ensemble-explorer: error: {one_line(problem)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"ensemble-explorer: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ensemble-explorer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for users; ask for one when debugging
        if os.environ.get("ENSEMBLE_EXPLORER_DEBUG"):
            raise
        print(
            f"ensemble-explorer: internal error: {type(exc).__name__}: {first_line(exc)} "
            "(set ENSEMBLE_EXPLORER_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
