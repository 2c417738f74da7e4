"""``ensemble-explorer lm``: language-model fusion on the command line.

``lm evaluate`` scores an evaluation text with each causal LM, fuses them with a pool and
prints each model's and the fusion's perplexity, bits per byte and top-1 accuracy;
``lm generate`` continues a prompt with the fused model and with each model alone.
This module imports only the standard library and the registry at the top, so that
registering the command (and ``--help``) loads neither NumPy nor torch.
"""

from __future__ import annotations

import json
import sys

from .._validation import EnsembleInputError
from ..registry import LM_POOL_SPECS, LM_POOLS


def add_lm_command(sub) -> None:
    """Register ``lm`` (``lm evaluate``, ``lm generate``) and ``lm-eval``, ``lm-generate`` (the same
    commands under the names the issue gave them) on the main parser's subcommands."""
    lm = sub.add_parser("lm", help="fuse causal language models: perplexity, bits per byte, accuracy",
                        description="Language-model fusion: combine the next-token distributions of causal LMs.")
    commands = lm.add_subparsers(dest="lm_command", required=True)
    ev = commands.add_parser(
        "evaluate", help="score a text with each model and with their fusion",
        description="Score an evaluation text with each causal LM directory (safetensors, local files only, "
        "one shared tokenizer) and with their fusion; print perplexity, bits per byte and next-token top-1 "
        "accuracy (teacher forcing) for each.",
    )
    _evaluate_arguments(ev)
    gen = commands.add_parser(
        "generate", help="continue a prompt with the fused model, and with each model alone",
        description="Continue a prompt with the fused next-token distribution (each model keeps its own "
        "key-value cache: a fused step is one forward step per model), and with each model alone beside it.",
    )
    _generate_arguments(gen)
    # The names, as top-level commands: the same arguments and handlers.
    _evaluate_arguments(sub.add_parser("lm-eval", help="the same as 'lm evaluate'"))
    _generate_arguments(sub.add_parser("lm-generate", help="the same as 'lm generate'"))


def _evaluate_arguments(ev) -> None:
    from .._validation import MAX_SEED
    from ..cli import _seed, _weights

    ev.add_argument("--model", "--models", action="extend", nargs="+", required=True, metavar="DIR",
                    help="causal LM directories (config.json, model.safetensors, tokenizer): --model A --model B "
                    "or --models A B")
    ev.add_argument("--names", nargs="+", help="model names (default: each directory's name)")
    ev.add_argument("--text", required=True, metavar="FILE",
                    help="evaluation text: .txt (one document per line) or CSV/Parquet with a text column")
    ev.add_argument("--column", "--text-column", dest="column", help="the CSV/Parquet text column (default: 'text')")
    ev.add_argument("--weights", type=_weights,
                    help="one per model, in order (1,2) or by name (fresh=3,rotten=1); default: equal")
    ev.add_argument("--pool", choices=LM_POOLS, default="linear",
                    help=", ".join(f"{s.name}: {s.label.lower()}" for s in LM_POOL_SPECS) + " (default: linear)")
    ev.add_argument("--stride", type=int,
                    help="tokens a window moves on documents longer than a model's context (default: half the context)")
    ev.add_argument("--max-tokens", type=int, help="score at most this many tokens (documents in order)")
    ev.add_argument("--optimize", action="store_true",
                    help="also fit the pool's weights on a random part of the documents (EM for linear, least NLL "
                    "for log-linear) and report them on the rest against equal weights and each model alone")
    ev.add_argument("--tune-fraction", type=float, default=0.5,
                    help="with --optimize: the share of documents the weights are fitted on (default: 0.5)")
    ev.add_argument("--seed", type=_seed, default=0,
                    help=f"with --optimize: which documents are tune documents (0 to {MAX_SEED}; default: 0)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(handler=_evaluate)


def _generate_arguments(gen) -> None:
    from .._validation import MAX_SEED
    from ..cli import _seed, _weights

    gen.add_argument("--model", "--models", action="extend", nargs="+", required=True, metavar="DIR",
                     help="causal LM directories: --model A --model B or --models A B")
    gen.add_argument("--names", nargs="+", help="model names (default: each directory's name)")
    gen.add_argument("--prompt", required=True, help="the text to continue")
    gen.add_argument("--weights", type=_weights, help="one per model, in order or by name; default: equal")
    gen.add_argument("--pool", choices=LM_POOLS, default="linear", help="default: linear")
    gen.add_argument("--max-new-tokens", type=int, default=50, help="default: 50")
    gen.add_argument("--greedy", action="store_true",
                     help="the most probable token at each step (the default unless a sampling option is given)")
    gen.add_argument("--temperature", type=float, help="sample, dividing log-probabilities by T")
    gen.add_argument("--top-k", type=int, help="sample among the K most probable tokens")
    gen.add_argument("--top-p", type=float, help="sample among the most probable tokens whose mass reaches P")
    gen.add_argument("--seed", type=_seed, default=0, help=f"sampling seed (0 to {MAX_SEED}; default: 0)")
    gen.add_argument("--json", action="store_true", help="print one JSON object")
    gen.set_defaults(handler=_generate)


def _evaluate(args) -> int:
    from tqdm import tqdm
    from transformers.utils import logging as transformers_logging

    from ..config import weights_by_name
    from .loading import load_causal_lms
    from .pools import evaluate_fusion
    from .scoring import read_documents, score_models
    from .weights import split_documents, suggest_lm_weights

    documents = read_documents(args.text, column=args.column)
    if args.optimize:
        split_documents(len(documents), args.tune_fraction, args.seed)  # a bad split is refused before scoring
    transformers_logging.disable_progress_bar()  # a bar per model load; the scoring bars are ours
    models = load_causal_lms(args.model, args.names)
    names = [m.name for m in models]
    weights = args.weights
    if isinstance(weights, dict):
        weights = weights_by_name(weights, names)
    if weights is not None and len(weights) != len(models):
        raise EnsembleInputError(f"--weights: got {len(weights)} weights for {len(models)} models")
    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int) -> None:
        bar = bars.setdefault(name, tqdm(total=total, desc=name, unit="windows", file=sys.stderr, disable=None))
        bar.update(done - bar.n)

    try:
        scores = score_models(models, documents, stride=args.stride, max_tokens=args.max_tokens, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    result = evaluate_fusion(scores, weights, args.pool)
    report = {
        **result.to_dict(),
        "names": names,
        "documents": scores.n_documents,
        "strides": dict(zip(names, scores.strides)),
        "contexts": {m.name: m.context for m in models},
        "seconds": dict(zip(names, scores.seconds)),
    }
    if args.optimize:
        report["suggestion"] = suggest_lm_weights(
            scores, args.pool, tune_fraction=args.tune_fraction, seed=args.seed
        ).to_dict()
    if args.json:
        print(json.dumps(report, allow_nan=False))
    else:
        _print_table(report)
    return 0


def _generate(args) -> int:
    from transformers.utils import logging as transformers_logging

    from ..config import weights_by_name
    from .generation import Sampling, generate
    from .loading import load_causal_lms

    sampled = [flag for flag, value in (("--temperature", args.temperature), ("--top-k", args.top_k),
                                        ("--top-p", args.top_p)) if value is not None]
    if args.greedy and sampled:
        raise EnsembleInputError(f"--greedy and {sampled[0]} contradict each other; give one")
    sampling = Sampling(greedy=not sampled, temperature=1.0 if args.temperature is None else args.temperature,
                        top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    transformers_logging.disable_progress_bar()
    models = load_causal_lms(args.model, args.names)
    weights = args.weights
    if isinstance(weights, dict):
        weights = weights_by_name(weights, [m.name for m in models])
    if weights is not None and len(weights) != len(models):
        raise EnsembleInputError(f"--weights: got {len(weights)} weights for {len(models)} models")
    options = {"max_new_tokens": args.max_new_tokens, "sampling": sampling}
    fused = generate(models, args.prompt, weights=weights, pool=args.pool, **options)
    alone = {m.name: generate([m], args.prompt, **options) for m in models} if len(models) > 1 else {}
    if args.json:
        print(json.dumps({"prompt": args.prompt, "fused": fused.to_dict(),
                          "models": {name: g.to_dict() for name, g in alone.items()}}, allow_nan=False))
        return 0
    how = "greedy" if sampling.greedy else "sampled"
    print(f"prompt: {args.prompt!r}")
    weights_text = ", ".join(f"{n}={w:.3f}" for n, w in zip(fused.names, fused.weights))
    print(f"fused ({fused.pool}, {weights_text}; {how}): {fused.text!r}")
    for name, g in alone.items():
        print(f"{name} alone: {g.text!r}")
    rows = [("fused", fused), *alone.items()]
    print("ms per token: " + ", ".join(f"{n} {1000 * g.seconds / max(len(g.token_ids), 1):.1f}" for n, g in rows))
    return 0


def _print_table(report: dict) -> None:
    names = report["names"]
    fused = f"FUSED ({report['pool']})"
    width = max(len(fused), *(len(n) for n in names))
    strides = ", ".join(f"{n} {report['strides'][n]}/{report['contexts'][n]}" for n in names)
    print(f"{report['documents']:,} documents, {report['tokens']:,} tokens, {report['bytes']:,} bytes; "
          f"stride/context: {strides}")
    print(f"{'':{width}}  weight  perplexity  bits/byte  accuracy")
    rows = [(fused, None, report)] + [(n, w, report["models"][n]) for n, w in zip(names, report["weights"])]
    for name, weight, m in rows:
        shown = "" if weight is None else f"{weight:.3f}"
        print(f"{name:{width}}  {shown:>6}  {m['perplexity']:>10.4f}  {m['bits_per_byte']:>9.4f}  {m['accuracy']:>8.4f}")
    per_k = ", ".join(f"{n} {1000 * s / report['tokens']:.3f} s" for n, s in report["seconds"].items())
    print(f"scoring time per 1,000 tokens: {per_k}")
    if "suggestion" in report:
        _print_suggestion(report["suggestion"])


def _print_suggestion(s: dict) -> None:
    how = "EM" if s["pool"] == "linear" else "least NLL"
    print(f"\nsuggested {s['pool']}-pool weights ({how} on {s['tune_documents']} tune documents): "
          + ", ".join(f"{k}={v:.3f}" for k, v in s["weights"].items()))
    print(f"held out: the other {s['heldout_documents']} documents, {s['heldout']['tokens']:,} tokens")
    print(f"  {'':<34} {'perplexity':>10}  {'bits/byte':>9}  {'accuracy':>8}")
    best = s["best_single"]
    for label, m in [("suggested weights", s["heldout"]), ("equal weights", s["uniform"]),
                     (f"best single ({best['name']})", best), ("(tune documents, optimistic)", s["tune"])]:
        print(f"  {label:<34} {m['perplexity']:>10.4f}  {m['bits_per_byte']:>9.4f}  {m['accuracy']:>8.4f}")
