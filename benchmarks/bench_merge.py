"""Weight-space merging: the streamed merge against loading both models and averaging state_dicts.

Builds BERT sequence classifiers from a config (``--hidden 384 --layers 6 --vocab 12000``: about
15 M parameters each, 60 MB in float32 — not the issue's 100 M, which this 2-core shared machine
cannot hold for several processes at once), saves them with safetensors, then times, each in a
fresh process so that peak memory is its own:

- ``streamed``: :func:`ensemble_core.merge.methods.linear_merge` of the two at α = 0.5 (tensor by
  tensor, the output written as it is computed), and of ``--k`` models (memory independent of k);
- ``state_dict``: what a user would write: ``AutoModelForSequenceClassification.from_pretrained``
  for both, the average of the two ``state_dict``s, ``save_pretrained``.

Peak memory is the process's peak resident set (``VmHWM``) minus its resident set after the
imports (torch, transformers, ensemble_core), so the libraries' own memory is not counted.
Candidates alternate (A B A B …) ``--repeats`` times; medians with min–max.

Run: ``python benchmarks/bench_merge.py [--repeats 3] [--k 4] [--busy]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _timing import Timings, busy, conditions  # noqa: E402

CHILD = r"""
import json, os, shutil, sys, time
sys.path.insert(0, {root!r})
os.environ["HF_HUB_OFFLINE"] = "1"

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

import torch
torch.set_num_threads(2)
from transformers import AutoModelForSequenceClassification
from ensemble_core.merge.checks import read_merge_inputs
from ensemble_core.merge.methods import linear_merge
from safetensors import safe_open
from transformers import BertForSequenceClassification  # the model's module, imported before timing

kind, out, models = sys.argv[1], sys.argv[2], sys.argv[3:]
before = status("VmRSS")
t0 = time.perf_counter()
if kind == "streamed":
    linear_merge(read_merge_inputs(models), out)
else:
    loaded = [AutoModelForSequenceClassification.from_pretrained(m, local_files_only=True) for m in models]
    states = [m.state_dict() for m in loaded]
    merged = {{k: sum(s[k].double() for s in states).div(len(states)).float() for k in states[0]}}
    loaded[0].load_state_dict(merged)
    loaded[0].save_pretrained(out, safe_serialization=True)
seconds = time.perf_counter() - t0
print(json.dumps({{"seconds": seconds, "peak": status("VmHWM") - before}}))
shutil.rmtree(out)
"""


def build(root: Path, n: int, *, hidden: int, layers: int, vocab: int) -> tuple[list[Path], int]:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"[PAD]": 0, "[UNK]": 1}, unk_token="[UNK]")),
        pad_token="[PAD]", unk_token="[UNK]",
    )
    config = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=max(1, hidden // 64), intermediate_size=4 * hidden,
                        id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    folders = []
    for seed in range(n):
        torch.manual_seed(seed)
        model = BertForSequenceClassification(config)
        folder = root / f"m{seed}"
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        folders.append(folder)
    return folders, sum(p.numel() for p in model.parameters())


def run(kind: str, out: Path, models: list[Path]) -> dict:
    code = CHILD.format(root=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, kind, str(out), *map(str, models)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=4, help="models in the k-model streamed merge")
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--vocab", type=int, default=12000)
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core throughout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders, n_params = build(root, max(2, args.k), hidden=args.hidden, layers=args.layers, vocab=args.vocab)
        candidates = {
            "state_dict (2 models)": ("state_dict", folders[:2]),
            "streamed (2 models)": ("streamed", folders[:2]),
            f"streamed ({args.k} models)": ("streamed", folders[: args.k]),
        }
        seconds: dict[str, list[float]] = {name: [] for name in candidates}
        peaks: dict[str, list[int]] = {name: [] for name in candidates}
        with busy(args.busy):
            header = conditions(args.busy)
            for _ in range(args.repeats):
                for name, (kind, models) in candidates.items():
                    result = run(kind, root / "out", models)
                    seconds[name].append(result["seconds"])
                    peaks[name].append(result["peak"])
    size_mb = n_params * 4 / 2**20
    print(f"{n_params:,} parameters per model ({size_mb:.0f} MB in float32); {header}; "
          f"median (min–max) of {args.repeats} alternating runs, each in a fresh process\n")
    print("| candidate | seconds | peak memory over the imports, MB | peak / one model |")
    print("|---|---|---|---|")
    for name in candidates:
        peak = sorted(peaks[name])[len(peaks[name]) // 2] / 2**20
        print(f"| {name} | {Timings(tuple(seconds[name])).describe()} | {peak:.0f} "
              f"({min(peaks[name]) / 2**20:.0f}–{max(peaks[name]) / 2**20:.0f}) | {peak / size_mb:.2f} |")


if __name__ == "__main__":
    main()
