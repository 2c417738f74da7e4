"""``ensemble-explorer score`` with several models or ``--engine ray``: fill a prediction store."""

from __future__ import annotations

import sys
import time

from .._validation import EnsembleInputError


def make_engine(args):
    """The engine ``--engine`` names, built from ``--address``, ``--workers`` and ``--gpus-per-worker``."""
    from .. import registry

    cls = registry.engine(args.engine).implementation()
    if args.engine == "ray":
        if args.workers is not None and args.workers < 1:
            raise EnsembleInputError(f"--workers must be at least 1; got {args.workers}")
        if args.gpus_per_worker < 0:
            raise EnsembleInputError(f"--gpus-per-worker must be at least 0; got {args.gpus_per_worker}")
        return cls(args.address, workers=args.workers, num_gpus=args.gpus_per_worker)
    return cls()


def score_store(args) -> int:
    """Score every ``--model`` over ``--data`` into the store folder ``--out``; print one line per model."""
    from tqdm import tqdm

    from ..models.spec import spec_for
    from .store import DEFAULT_SHARD_ROWS, score_to_store

    if args.batch_size is not None and args.batch_size < 1:
        raise EnsembleInputError(f"--batch-size must be at least 1; got {args.batch_size}")
    shard_rows = DEFAULT_SHARD_ROWS if args.shard_rows is None else args.shard_rows
    if shard_rows < 1:
        raise EnsembleInputError(f"--shard-rows must be at least 1; got {shard_rows}")
    specs = [spec_for(m, trust_pickle=args.trust_pickle) for m in args.model]
    engine = make_engine(args)
    started = time.perf_counter()
    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int) -> None:
        if name not in bars:
            # disable=None: a bar on a terminal, nothing when stderr is a file or a pipe.
            bars[name] = tqdm(total=total, desc=name, unit="rows", file=sys.stderr, disable=None)
        bars[name].update(done - bars[name].n)

    try:
        result = score_to_store(
            specs, args.data, args.out, engine=engine, text_column=args.text_column,
            feature_columns=args.feature_columns, batch_size=args.batch_size, shard_rows=shard_rows,
            progress=progress,
        )
    finally:
        for bar in bars.values():
            bar.close()
    seconds = time.perf_counter() - started
    for spec, path, scored in zip(specs, result.files, result.scored):
        before = "" if scored == result.n_shards else f" ({result.n_shards - scored} done by an earlier run)"
        print(f"{spec.options.name}: {result.n_rows} rows, scored {scored} of {result.n_shards} shards{before}; "
              f"wrote {path}")
    print(f"{len(specs)} models, {result.n_rows} rows on the {args.engine} engine in {seconds:.2f} s; "
          f"evaluate with: ensemble-explorer evaluate --labels {args.data} --predictions {args.out}/*.parquet")
    return 0
