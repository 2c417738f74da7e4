"""``ensemble-explorer score``: run models over a dataset and write their prediction files.

One model and a file (or folder) ``--out``, on the local engine, writes one prediction
file, as it always has. Several models, or ``--engine ray``, write a prediction store
(:mod:`ensemble_core.scale.store`): the folder ``--out`` with one Parquet prediction file
per model, scored shard by shard and resumable.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .. import registry
from .._validation import EnsembleInputError


def add_score_command(sub) -> None:
    """Register ``score`` on the main parser's subcommands."""
    sc = sub.add_parser(
        "score",
        help="run models over a dataset and write their prediction files (cached; Ray optional)",
        description=(
            "Load a model safely (skops, ONNX, transformers directory, embedding-head directory, "
            "or a trusted pickle), score every row of DATA and write a prediction file. Several "
            "--model, or --engine ray, write a prediction store: the folder --out with one "
            "Parquet prediction file per model (read it with evaluate --predictions OUT/*.parquet); "
            "a run that stopped resumes at the first unfinished shard."
        ),
    )
    sc.add_argument("--model", required=True, action="append",
                    help="a .skops/.onnx file, a model directory, or a .pkl/.joblib with --trust-pickle; "
                         "repeat for several models")
    sc.add_argument("--data", required=True, help="CSV or Parquet; a labels file ('label' column) or unlabelled rows")
    columns = sc.add_mutually_exclusive_group()
    columns.add_argument("--text-column", help="the column of texts (default: 'text', or the only text column)")
    columns.add_argument("--feature-columns", nargs="+", help="feature columns in the model's order (default: the model's own names)")
    sc.add_argument("--name", help="the model's name (default: the model file's stem)")
    sc.add_argument("--out", required=True, help="prediction file to write (.csv, .csv.gz, .parquet); a directory gets NAME.csv")
    sc.add_argument("--trust-pickle", action="store_true", help="allow a local pickle/joblib file (it can run any code)")
    sc.add_argument("--batch-size", type=int, help="rows per batch (default: 32 for transformers, 2048 otherwise)")
    sc.add_argument("--no-cache", action="store_true", help="neither read nor write the prediction cache")
    sc.add_argument("--engine", choices=registry.ENGINES, default="local",
                    help="where to score: " + "; ".join(f"{s.name}: {s.help.rstrip('.')}" for s in registry.ENGINE_SPECS))
    sc.add_argument("--address", help="with --engine ray: 'auto' or HOST:PORT of a running Ray cluster "
                                      "(default: start Ray here on every usable core)")
    sc.add_argument("--workers", type=int, help="with --engine ray: actors per model (default: one per CPU)")
    sc.add_argument("--gpus-per-worker", type=float, default=0,
                    help="with --engine ray: GPUs each actor reserves (default 0: CPU only)")
    sc.add_argument("--shard-rows", type=int, help="rows per shard of a prediction store (default 10,000)")
    sc.add_argument("--cache-dir", help="prediction cache folder (default: $ENSEMBLE_EXPLORER_CACHE or ~/.cache/ensemble-explorer)")
    sc.set_defaults(handler=_score)


def read_scoring_data(path: str):
    """(content, classes or None, ids or None, y_true or None) of a labelled or unlabelled file."""
    from ..io import ID_COLUMN, LABEL_COLUMN, LabelsFile, check_ids, read_table

    table = read_table(path)
    if LABEL_COLUMN in table.columns:
        labels = LabelsFile(path)
        return labels.content, labels.classes, labels.ids, labels.y_true
    ids = check_ids(Path(path), table[ID_COLUMN]) if ID_COLUMN in table.columns else None
    return table.drop(columns=[ID_COLUMN], errors="ignore"), None, ids, None


def _writes_store(args) -> bool:
    """Whether this run writes a prediction store (several models or the ray engine) rather
    than one prediction file; refuses options that only one of the two takes."""
    store = len(args.model) > 1 or args.engine != "local"
    if store:
        if args.name is not None:
            raise EnsembleInputError("--name names one model; a prediction store names each by its file's stem")
        if registry.table_format(args.out) is not None:
            raise EnsembleInputError(
                f"--out {args.out}: several models or --engine ray write a prediction store: give a folder"
            )
    else:
        for flag, value in (("--shard-rows", args.shard_rows),):
            if value is not None:
                raise EnsembleInputError(f"{flag} is for a prediction store (several models or --engine ray)")
    if args.engine != "ray":
        for flag, value in (("--address", args.address), ("--workers", args.workers)):
            if value is not None:
                raise EnsembleInputError(f"{flag} is for --engine ray")
    return store


def _score(args) -> int:
    if _writes_store(args):
        from ..scale.cli import score_store

        return score_store(args)
    args.model = args.model[0]
    import numpy as np

    from ..decision import decide
    from ..deploy.costs import measure_call, write_cost
    from ..io import table_format, write_predictions
    from .cache import PredictionCache
    from .loading import load_model
    from .scoring import score_model

    if args.batch_size is not None and args.batch_size < 1:
        raise EnsembleInputError(f"--batch-size must be at least 1; got {args.batch_size}")
    if not Path(args.out).is_dir():
        table_format(args.out)  # an output type we cannot write is refused before any scoring
    started = time.perf_counter()
    content, classes, ids, y_true = read_scoring_data(args.data)
    cache = None if args.no_cache else PredictionCache(args.cache_dir)
    model = load_model(args.model, trust_pickle=args.trust_pickle, name=args.name, cache=cache)
    if classes is None:
        classes = np.array(model.classes, dtype=object)
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing when stderr is a file or a pipe.
    with tqdm(total=len(content), desc=model.name, unit="rows", file=sys.stderr, disable=None) as bar:
        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        batch_size = args.batch_size or model.batch_size
        probas, cost = measure_call(
            lambda: score_model(
                model, content, classes=classes, text_column=args.text_column,
                feature_columns=args.feature_columns, batch_size=batch_size,
                progress=progress, cache=cache,
            ),
            name=model.name, n_rows=len(content), batch_size=batch_size, model_path=args.model,
        )
    out = Path(args.out)
    if out.is_dir():
        out = out / f"{model.name}.csv"
    write_predictions(out, classes, probas=probas, ids=ids)
    seconds = time.perf_counter() - started
    if cache is None:
        source = "no cache"
    elif cache.hits:
        source = "cache hit"
    else:
        # A cache folder that cannot be written only warns: say so rather than claim it cached.
        source = "cache miss, now cached" if cache.stored else "cache miss, not cached"
    if cache is not None and cache.hits:
        # A cache hit measures the cache, not the model: an earlier sidecar stays as it was.
        cost_note = "; cost not measured (cache hit)"
    else:
        cost_note = f"; {cost.ms_per_1000:.1f} ms per 1,000 rows (batch {cost.batch_size}) in {write_cost(out, cost)}"
    accuracy = "" if y_true is None else f", accuracy {np.mean(decide(probas) == y_true):.4f}"
    print(f"{model.name}: scored {len(content)} rows in {seconds:.2f} s ({source}){accuracy}; wrote {out}{cost_note}")
    return 0
