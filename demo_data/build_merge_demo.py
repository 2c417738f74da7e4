"""Build the merge demo: small BERT classifiers fine-tuned from one shared start, and one from another.

Usage (from the repository root, after the sentiment demo exists)::

    .venv/bin/python demo_data/build_merge_demo.py [--out demo_data/merge]

Nothing can be downloaded here, so the demo makes its own "pre-trained" start: a tiny BERT
(WordPiece vocabulary of 1,000 learnt on the training reviews, hidden 32, one layer) trained
briefly on the first half of the sentiment demo's training reviews. Three fine-tunes of that
one start on the second half differ in their seed (batch order) and learning rate; they sit in
one basin, so averaging their weights works. One more model, ``other_start``, is made the same
way from a different random initialisation: between it and the others the interpolation curve
shows a barrier. Seeded (torch, the batch order); torch runs on two threads.

Writes ``OUT/<model>/`` (config.json, model.safetensors, tokenizer files) for ``base``,
``tuned_1``, ``tuned_2``, ``tuned_3`` and ``other_start``, and ``OUT/models.json`` saying how
each was made; prints each model's accuracy on the sentiment validation split and the barrier
between pairs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ensemble_core.merge._tiny import fine_tune, init_classifier, save_classifier, tiny_bert_config  # noqa: E402

LABELS = ["fresh", "rotten"]
#: Model size: about 0.2 MB each in float32, so five of them stay small enough to commit. (Hidden 64 and
#: two layers learnt less in the same steps: 0.60 validation accuracy against a majority class of 0.58.)
SIZE = {"hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64, "max_positions": 64}
VOCAB = 1000
#: The shared start: steps on the first half of the training reviews.
BASE_STEPS, BASE_RATE = 400, 2e-3
#: The fine-tunes on the second half: name → (seed, learning rate, steps).
TUNES = {"tuned_1": (1, 1e-3, 150), "tuned_2": (2, 1e-3, 150), "tuned_3": (3, 5e-4, 150)}
#: The validation reviews the Merge page measures on (``dashboard.merge.DEFAULT_ROWS``).
ROWS = 400
#: The torch initialisation of the shared start and of the other one.
SHARED_INIT, OTHER_INIT = 0, 7


def _describe(name: str) -> str:
    if name == "base":
        return (f"the shared start: random initialisation (seed {SHARED_INIT}), {BASE_STEPS} steps on the first "
                "half of the training reviews")
    if name == "other_start":
        return (f"another start (initialisation seed {OTHER_INIT}, the same {BASE_STEPS} steps), then fine-tuned "
                "like tuned_1: shares no starting point with the others")
    seed, rate, steps = TUNES[name]
    return f"fine-tuned from base: {steps} steps on the second half, batch-order seed {seed}, learning rate {rate:g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "merge", help="where to write the models")
    args = parser.parse_args(argv)
    from ensemble_core._threads import import_torch
    from ensemble_core.models._tiny import train_wordpiece_tokenizer

    torch = import_torch()
    torch.set_num_threads(2)
    started = time.perf_counter()
    train = pd.read_csv(HERE / "sentiment" / "train.csv")
    y = train["label"].map({label: i for i, label in enumerate(LABELS)}).to_numpy()
    half = len(train) // 2
    first, second = train["text"].iloc[:half].tolist(), train["text"].iloc[half:].tolist()
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = train_wordpiece_tokenizer(train["text"], Path(scratch) / "tokenizer", vocab_size=VOCAB,
                                              model_max_length=SIZE["max_positions"])
    config = tiny_bert_config(len(tokenizer), labels=LABELS, **SIZE)

    def start(seed: int):
        return fine_tune(init_classifier(config, seed=seed), tokenizer, first, y[:half], seed=seed,
                         steps=BASE_STEPS, learning_rate=BASE_RATE)

    base = start(SHARED_INIT)
    models = {"base": base}
    for name, (seed, rate, steps) in TUNES.items():
        models[name] = fine_tune(base, tokenizer, second, y[half:], seed=seed, steps=steps, learning_rate=rate)
    seed, rate, steps = TUNES["tuned_1"]
    models["other_start"] = fine_tune(start(OTHER_INIT), tokenizer, second, y[half:], seed=seed, steps=steps,
                                      learning_rate=rate)
    if args.out.exists():
        shutil.rmtree(args.out)
    for name, model in models.items():
        save_classifier(model, tokenizer, args.out / name)
    (args.out / "models.json").write_text(json.dumps(
        {"shared_start": ["base", *TUNES], "models": {name: _describe(name) for name in models}}, indent=2) + "\n")
    print(f"built {len(models)} models in {time.perf_counter() - started:.0f} s; "
          f"{sum(p.numel() for p in base.parameters()):,} parameters each", flush=True)
    _report(args.out)


def _report(out: Path) -> None:
    """The curves the Merge page opens on (the first ``ROWS`` validation reviews): a pair from one
    start and a pair from two."""
    from ensemble_core.io import LabelsFile
    from ensemble_core.merge.interpolate import interpolation_curve

    val = LabelsFile(HERE / "sentiment" / "val.csv")
    rows, y = val.content.head(ROWS), val.y_true[:ROWS]
    for a, b in (("tuned_1", "tuned_2"), ("tuned_1", "other_start")):
        t0 = time.perf_counter()
        curve = interpolation_curve(out / a, out / b, rows, classes=val.classes, y_true=y, text_column="text")
        acc = np.round(curve.weight_space.accuracy, 4).tolist()
        print(f"{a} ~ {b} on the first {ROWS} validation reviews ({time.perf_counter() - t0:.0f} s): weight-space "
              f"accuracy {acc}; output-space {np.round(curve.output_space.accuracy, 4).tolist()}; "
              f"{curve.describe_barrier()}", flush=True)


if __name__ == "__main__":
    main()
