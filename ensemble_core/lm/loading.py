"""Causal language models from local directories, under the classifiers' safety rules.

A directory must hold ``config.json``, ``model.safetensors`` and tokenizer files; every entry
is a regular file of bounded size and no link leaves it (the checks of
:func:`ensemble_core.models.transformers_loader.check_transformers_dir`, shared with the
classifiers). Weights load with ``local_files_only=True`` and ``use_safetensors=True``
(``pytorch_model.bin`` is a pickle: refused), never with remote code: a config or tokenizer
config that names code (``auto_map``) is refused outright, since a causal LM is a new kind
of input here and nothing depends on loading one without its code.

Fusion needs one vocabulary: :func:`check_same_vocabulary` compares a hash of what the
tokenizer maps text to (vocabulary, merges, added and special tokens), never file names.
torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._validation import EnsembleInputError
from ..models.base import directory_files, hash_files
from ..models.transformers_loader import (
    check_transformers_dir,
    load_pretrained,
    load_tokenizer,
    max_length,
    refuse_remote_code,
    torch_device,
)

#: The longest window scored when neither the config nor the tokenizer says less.
MAX_CONTEXT = 8192


@dataclass(frozen=True)
class CausalLM:
    """A causal language model and its tokenizer, loaded and checked.

    Attributes
    ----------
    name : str
        The directory's name unless given: shown in tables and messages.
    source : str
        The directory.
    content_hash : str
        SHA-256 of the directory's files (names and contents).
    vocabulary_hash : str
        SHA-256 of the tokenizer's vocabulary, merges and special tokens
        (:func:`vocabulary_hash`): equal for models that can be fused.
    vocab_size : int
        Width of the model's next-token distribution (its output layer).
    context : int
        The most tokens one forward pass sees (``n_positions``).
    n_parameters : int
    model, tokenizer
        The torch module (in eval mode, on :attr:`device`) and the transformers tokenizer.
    device : torch.device
    """

    name: str
    source: str
    content_hash: str
    vocabulary_hash: str
    vocab_size: int
    context: int
    n_parameters: int
    model: object = field(repr=False, compare=False)
    tokenizer: object = field(repr=False, compare=False)
    device: object = field(repr=False, compare=False)


def vocabulary_hash(tokenizer) -> str:
    """SHA-256 of what decides the token ids a text gets and what each id means.

    The vocabulary (token → id, added tokens included), the BPE merges when the tokenizer
    has them, and the special tokens (BOS, EOS, UNK, PAD). Two tokenizers saved
    separately, or under other file names, hash the same when they tokenize the same.

    Parameters
    ----------
    tokenizer : transformers tokenizer

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    merges = None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        merges = json.loads(backend.to_str()).get("model", {}).get("merges")
    special = {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items()) if isinstance(v, str)}
    payload = json.dumps(
        {"vocab": sorted(tokenizer.get_vocab().items()), "merges": merges, "special": special},
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def load_causal_lm(folder: str | Path, *, name: str | None = None) -> CausalLM:
    """Load a local causal LM directory (``AutoModelForCausalLM``) safely.

    Parameters
    ----------
    folder : path
        A directory saved with ``save_pretrained``: config.json, model.safetensors,
        tokenizer files.
    name : str, optional
        Default: the directory's name.

    Returns
    -------
    CausalLM

    Raises
    ------
    EnsembleInputError
        A missing directory or file, pickled weights, ``auto_map`` (remote code), a FIFO,
        device, outward link or oversized file in the directory, or a model that will
        not load; one line naming the directory.

    Examples
    --------
    >>> lm = load_causal_lm("models/distilgpt2")  # doctest: +SKIP
    >>> lm.context, lm.vocab_size  # doctest: +SKIP
    (1024, 50257)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EnsembleInputError(f"{folder}: no such model directory")
    config = check_transformers_dir(folder, what="causal language model")
    refuse_remote_code(folder, config)
    content_hash = hash_files(directory_files(folder), folder)
    from transformers import AutoModelForCausalLM

    device = torch_device()
    tokenizer = load_tokenizer(folder)
    model = load_pretrained(AutoModelForCausalLM, folder, missing_hint=(
        "Is it a causal language model? (a classifier or an encoder has no next-token head)")).to(device).eval()
    positions = getattr(model.config, "max_position_embeddings", None) or MAX_CONTEXT
    context = max_length(tokenizer, {"max_position_embeddings": positions}, limit=MAX_CONTEXT)
    return CausalLM(
        name=name or folder.name,
        source=str(folder),
        content_hash=content_hash,
        vocabulary_hash=vocabulary_hash(tokenizer),
        vocab_size=int(model.get_output_embeddings().weight.shape[0]),
        context=context,
        n_parameters=sum(p.numel() for p in model.parameters()),
        model=model,
        tokenizer=tokenizer,
        device=device,
    )


def check_same_vocabulary(models: Sequence[CausalLM]) -> None:
    """Refuse models that cannot be fused: another tokenizer, or another output width.

    Raises
    ------
    EnsembleInputError
        Naming the first model and the first that differs from it.
    """
    if not models:
        raise EnsembleInputError("no language models given")
    first = models[0]
    for other in models[1:]:
        if other.vocabulary_hash != first.vocabulary_hash:
            raise EnsembleInputError(
                f"{other.source} and {first.source}: the tokenizers differ (vocabulary hashes "
                f"{other.vocabulary_hash[:12]} and {first.vocabulary_hash[:12]}); fusion needs models "
                "that share one tokenizer"
            )
        if other.vocab_size != first.vocab_size:
            raise EnsembleInputError(
                f"{other.source} and {first.source}: next-token distributions over {other.vocab_size} and "
                f"{first.vocab_size} tokens; fusion needs one vocabulary"
            )


def load_causal_lms(folders: Sequence[str | Path], names: Sequence[str] | None = None) -> list[CausalLM]:
    """Load several directories (:func:`load_causal_lm`) and check they share a vocabulary.

    Names default to the directories' names; a repeated name is refused.
    """
    if names is not None and len(names) != len(folders):
        raise EnsembleInputError(f"{len(names)} names for {len(folders)} models")
    models = [load_causal_lm(f, name=None if names is None else names[i]) for i, f in enumerate(folders)]
    seen: set[str] = set()
    for model in models:
        if model.name in seen:
            raise EnsembleInputError(f"{model.source}: two models are called {model.name!r}; give each its own name")
        seen.add(model.name)
    check_same_vocabulary(models)
    return models
