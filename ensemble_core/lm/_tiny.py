"""Tiny GPT-2-architecture causal language models trained here, for tests and the demo.

Nothing can be downloaded, so the fixtures (and later the demo build) train their own:
a byte-level BPE tokenizer learnt with ``tokenizers`` and small GPT-2 networks trained
for a few hundred steps on review text. They need not be good, only real: saved with
safetensors, loaded by :func:`ensemble_core.lm.load_causal_lm` like any downloaded model.

Examples
--------
>>> tok = train_tokenizer(["a fine film", "a dull film"] * 50, vocab_size=300)  # doctest: +SKIP
>>> build_model(folder, tok, texts, seed=0, steps=50)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: The one special token, GPT-2's: it separates documents and is the context of a first token.
END_OF_TEXT = "<|endoftext|>"


def train_tokenizer(texts: Sequence[str], *, vocab_size: int = 600):
    """A byte-level BPE tokenizer (GPT-2's scheme) learnt from ``texts``, as a transformers
    fast tokenizer with ``<|endoftext|>`` as its BOS, EOS and padding token.

    Parameters
    ----------
    texts : sequence of str
    vocab_size : int
        Tokens in the vocabulary, the 256 bytes and the special token included.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[END_OF_TEXT], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(texts), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT, pad_token=END_OF_TEXT,
        model_max_length=1 << 20,
    )


def build_model(
    folder: str | Path,
    tokenizer,
    texts: Sequence[str],
    *,
    seed: int = 0,
    steps: int = 150,
    n_positions: int = 64,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 2,
    batch_size: int = 16,
    learning_rate: float = 3e-3,
) -> Path:
    """Train a small GPT-2 on ``texts`` and save it with its tokenizer under ``folder``.

    The texts are joined with ``<|endoftext|>`` into one token stream, cut into blocks of
    ``n_positions`` tokens; each step trains on ``batch_size`` blocks drawn at random.

    Parameters
    ----------
    folder : path
        Created; receives config.json, model.safetensors and the tokenizer files.
    tokenizer : transformers.PreTrainedTokenizerFast
        From :func:`train_tokenizer`; models meant to be fused share one.
    texts : sequence of str
    seed : int
        Initialisation and batch order.
    steps : int
        Optimiser steps (AdamW).

    Returns
    -------
    Path
        ``folder``.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = Path(folder)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    eos = tokenizer.convert_tokens_to_ids(END_OF_TEXT)
    stream: list[int] = []
    for ids in tokenizer(list(texts))["input_ids"]:
        stream.extend([eos, *ids])
    n_blocks = len(stream) // n_positions
    if n_blocks < 1:
        raise ValueError(f"{len(stream)} tokens of text; a model needs at least {n_positions}")
    blocks = torch.tensor(stream[: n_blocks * n_positions]).view(n_blocks, n_positions)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
        bos_token_id=eos, eos_token_id=eos,
    )
    model = GPT2LMHeadModel(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    model.train()
    for _ in range(steps):
        batch = blocks[torch.randint(n_blocks, (batch_size,), generator=generator)]
        loss = model(input_ids=batch, labels=batch).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
