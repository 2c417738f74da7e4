"""Generation with the fused next-token distribution, each model keeping its own key-value cache.

At each step every model runs one forward step on the newest token (its cache holds the
rest), the pool fuses their next-token distributions (:func:`ensemble_core.lm.pools.fuse`),
and the next token is chosen from the fused distribution (:func:`choose_token`): greedily, or
sampled after temperature, top-k and top-p. The prompt follows the tokenizer's BOS token, as
in scoring. Once a sequence reaches a model's context, that model re-reads its last
``context`` tokens at each step (no cache: positions would shift).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import EnsembleInputError, check_weights
from ..registry import LMPool
from .loading import CausalLM, check_same_vocabulary
from .pools import fuse


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen from a distribution.

    Attributes
    ----------
    greedy : bool
        The most probable token (the first on a tie); the other fields are then unused.
    temperature : float
        > 0; log-probabilities are divided by it before sampling.
    top_k : int or None
        Sample among the k most probable tokens only.
    top_p : float or None
        Sample among the smallest set of most probable tokens whose mass reaches p (nucleus).
    seed : int
    """

    greedy: bool = True
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise EnsembleInputError(f"--temperature must be > 0; got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise EnsembleInputError(f"--top-k must be at least 1; got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise EnsembleInputError(f"--top-p must be in (0, 1]; got {self.top_p}")


def choose_token(log_p: np.ndarray, sampling: Sampling, rng: np.random.Generator) -> int:
    """The next token from a log-probability vector.

    Parameters
    ----------
    log_p : ndarray of shape (vocab_size,)
    sampling : Sampling
    rng : numpy Generator
        Used only when sampling.

    Returns
    -------
    int

    Examples
    --------
    >>> choose_token(np.log([0.1, 0.6, 0.3]), Sampling(), np.random.default_rng(0))
    1
    """
    if sampling.greedy:
        return int(np.argmax(log_p))
    z = np.asarray(log_p, dtype=np.float64) / sampling.temperature
    order = np.argsort(-z, kind="stable")
    keep = order.shape[0] if sampling.top_k is None else min(sampling.top_k, order.shape[0])
    p = np.exp(z[order[:keep]] - z[order[0]])
    p /= p.sum()
    if sampling.top_p is not None:
        # The smallest prefix whose mass reaches top_p (at least one token).
        keep = int(np.searchsorted(np.cumsum(p), sampling.top_p * (1 - 1e-12))) + 1
        p = p[:keep] / p[:keep].sum()
    return int(order[rng.choice(p.shape[0], p=p)])


class _Runner:
    """One model's side of a generation: its tokens so far and its key-value cache."""

    def __init__(self, lm: CausalLM, ids: list[int]) -> None:
        self.lm, self.ids, self.past = lm, list(ids), None

    def next_log_probs(self) -> np.ndarray:
        import torch

        lm, n = self.lm, len(self.ids)
        if n > lm.context:  # past the context: re-read the last window, positions from 0
            feed, self.past = self.ids[-lm.context:], None
        elif self.past is None:
            feed = self.ids
        else:
            feed = self.ids[-1:]
        with torch.inference_mode():
            out = lm.model(input_ids=torch.tensor([feed], device=lm.device), past_key_values=self.past,
                           use_cache=n < lm.context)
        self.past = out.past_key_values if n < lm.context else None
        return torch.log_softmax(out.logits[0, -1].float(), dim=-1).cpu().numpy()


@dataclass(frozen=True)
class Generation:
    """A finished generation.

    Attributes
    ----------
    names : tuple of str
        The models fused (one: that model alone).
    pool : str
    weights : tuple of float
    prompt : str
    token_ids : tuple of int
        The new tokens.
    text : str
        Their text (special tokens left out).
    stopped : {"eos", "max_new_tokens"}
    seconds : float
    """

    names: tuple[str, ...]
    pool: str
    weights: tuple[float, ...]
    prompt: str
    token_ids: tuple[int, ...]
    text: str
    stopped: str
    seconds: float

    def to_dict(self) -> dict:
        return {"names": list(self.names), "pool": self.pool, "weights": list(self.weights), "prompt": self.prompt,
                "text": self.text, "tokens": len(self.token_ids), "token_ids": list(self.token_ids),
                "stopped": self.stopped, "seconds": self.seconds}


def prompt_ids(lm: CausalLM, prompt: str) -> list[int]:
    """The prompt's tokens after the BOS token (when the tokenizer has one), as scoring reads a document.

    Raises
    ------
    EnsembleInputError
        On an empty prompt with no BOS token to start from.
    """
    tok = lm.tokenizer
    ids = ([tok.bos_token_id] if tok.bos_token_id is not None else []) + list(
        tok(prompt, add_special_tokens=False, verbose=False)["input_ids"])
    if not ids:
        raise EnsembleInputError("--prompt is empty and the tokenizer has no BOS token to start from")
    return ids


def generate_stream(
    models: Sequence[CausalLM],
    prompt: str,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    pool: LMPool = "linear",
    max_new_tokens: int = 50,
    sampling: Sampling = Sampling(),
) -> Iterator[int]:
    """Yield the fused model's new tokens one at a time (for a page that streams them).

    Each step costs one forward step per model (its own cache). Stops after
    ``max_new_tokens`` or at the EOS token (not yielded).

    Parameters
    ----------
    models : sequence of CausalLM sharing a vocabulary
    prompt : str
    weights : array-like of shape (n_models,), optional
    pool : {"linear", "loglinear"}
    max_new_tokens : int
    sampling : Sampling

    Yields
    ------
    int
        Token ids.
    """
    check_same_vocabulary(models)
    w = check_weights(weights, len(models))
    if max_new_tokens < 1:
        raise EnsembleInputError(f"--max-new-tokens must be at least 1; got {max_new_tokens}")
    ids = prompt_ids(models[0], prompt)
    runners = [_Runner(m, ids) for m in models]
    rng = np.random.default_rng(sampling.seed)
    eos = models[0].tokenizer.eos_token_id
    log_probs = np.empty((len(models), 1, models[0].vocab_size), dtype=np.float32)
    for _ in range(max_new_tokens):
        for m, runner in enumerate(runners):
            log_probs[m, 0] = runner.next_log_probs()
        token = choose_token(fuse(log_probs, w, pool)[0], sampling, rng)
        if token == eos:
            return
        for runner in runners:
            runner.ids.append(token)
        yield token


def generate(
    models: Sequence[CausalLM],
    prompt: str,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    pool: LMPool = "linear",
    max_new_tokens: int = 50,
    sampling: Sampling = Sampling(),
) -> Generation:
    """The fused model's continuation of ``prompt`` (see :func:`generate_stream`).

    Examples
    --------
    >>> g = generate(models, "The film", weights=[0.5, 0.5], max_new_tokens=20)  # doctest: +SKIP
    >>> g.text  # doctest: +SKIP
    ' is a fine, funny and moving'
    """
    started = time.perf_counter()
    tokens = list(generate_stream(models, prompt, weights=weights, pool=pool, max_new_tokens=max_new_tokens,
                                  sampling=sampling))
    w = check_weights(weights, len(models))
    return Generation(
        names=tuple(m.name for m in models), pool=pool, weights=tuple(float(x) for x in w), prompt=prompt,
        token_ids=tuple(tokens), text=models[0].tokenizer.decode(tokens, skip_special_tokens=True),
        stopped="max_new_tokens" if len(tokens) == max_new_tokens else "eos",
        seconds=time.perf_counter() - started,
    )
