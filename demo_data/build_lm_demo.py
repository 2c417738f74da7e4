"""Build the language-model demo: two small GPT-2s that share one tokenizer, to fuse.

Usage (from the repository root, after the sentiment demo exists)::

    .venv/bin/python demo_data/build_lm_demo.py [--steps 1500] [--out demo_data/lm]

Nothing can be downloaded here, so the demo trains its own causal language models on the
sentiment demo's training reviews (Rotten Tomatoes snippets): one byte-level BPE tokenizer
learnt on all of them, then ``fresh`` trained on the fresh reviews and ``rotten`` on the
rotten ones (GPT-2 architecture, 2 layers, 128 wide, 128-token context). Each model knows
one kind of review well; their fusion should do better than either on the test split,
which holds both kinds. Seeded (torch, the batch order); torch runs on two threads.

Writes ``OUT/fresh/`` and ``OUT/rotten/`` (config.json, model.safetensors, tokenizer files)
and prints ``ensemble-explorer lm evaluate`` on the test reviews, per model and fused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd  # noqa: E402

from ensemble_core.lm._tiny import build_model, train_tokenizer  # noqa: E402

SEED = 0
#: Model size: small enough to commit (about 1.5 MB each) and to train in minutes on two cores.
SIZE = {"n_positions": 128, "n_embd": 128, "n_layer": 2, "n_head": 4}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="optimiser steps per model (default: 1500)")
    parser.add_argument("--out", type=Path, default=HERE / "lm", help="where to write the models")
    parser.add_argument("--keep", action="store_true",
                        help="keep a model already built under OUT (same tokenizer: it is learnt the same way)")
    args = parser.parse_args(argv)
    from ensemble_core._threads import import_torch

    torch = import_torch()
    torch.set_num_threads(2)
    train = pd.read_csv(HERE / "sentiment" / "train.csv")
    t0 = time.perf_counter()
    tokenizer = train_tokenizer(train["text"].tolist(), vocab_size=1000)
    print(f"tokenizer: {len(tokenizer)} tokens, learnt in {time.perf_counter() - t0:.1f} s", flush=True)
    for k, kind in enumerate(("fresh", "rotten")):
        if args.keep and (args.out / kind / "model.safetensors").is_file():
            built = json.loads((args.out / kind / "tokenizer.json").read_text(encoding="utf-8"))
            if built != json.loads(tokenizer.backend_tokenizer.to_str()):
                sys.exit(f"{args.out / kind}: built with another tokenizer; rebuild without --keep")
            print(f"{kind}: kept", flush=True)
            continue
        t0 = time.perf_counter()
        texts = train.loc[train["label"] == kind, "text"].tolist()
        build_model(args.out / kind, tokenizer, texts, seed=SEED + k, steps=args.steps, **SIZE)
        print(f"{kind}: {len(texts)} reviews, {args.steps} steps, trained in {time.perf_counter() - t0:.0f} s",
              flush=True)
    from ensemble_core.cli import main as cli

    test = HERE / "sentiment" / "test.csv"
    print(f"\nensemble-explorer lm evaluate on {test.relative_to(HERE.parent)} (column text), equal weights:")
    for pool in ("linear", "loglinear"):
        cli(["lm", "evaluate", "--models", str(args.out / "fresh"), str(args.out / "rotten"), "--text", str(test),
             "--column", "text", "--pool", pool])


if __name__ == "__main__":
    main()
