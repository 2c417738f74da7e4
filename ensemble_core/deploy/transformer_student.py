"""The transformer student: a small BERT (the sentiment demo's tiny-BERT architecture) built
from a config, with a WordPiece vocabulary learnt from the transfer set's texts, trained from
scratch with the distillation loss (:func:`~ensemble_core.deploy.distill.distillation_loss`)
and saved as a transformers directory (``config.json`` with ``id2label``, ``model.safetensors``,
the tokenizer), which ``score`` loads.

Sizes come from :class:`~ensemble_core.deploy.distill.StudentSettings`: ``hidden`` is the
hidden size (2 layers, 2 heads, a feed-forward of twice the hidden size), ``max_features``
the vocabulary; AdamW at :data:`LEARNING_RATE` (the linear students' rate is far too high for
a transformer) over mini-batches of :data:`BATCH_SIZE`, gradients clipped at 1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .._threads import import_torch

#: AdamW's learning rate and the mini-batch size (those the demo's tiny BERT was trained with).
LEARNING_RATE = 5e-4
BATCH_SIZE = 32
#: Tokens per text at most.
MAX_LENGTH = 128


def fit_transformer_student(texts, y: np.ndarray, teacher: np.ndarray | None, classes: np.ndarray, settings,
                            out: str | Path, *, progress=None, should_stop=None, epochs_before: int = 0,
                            epochs_total: int | None = None) -> Path:
    """Train the transformer student on the transfer set and save it to the folder ``out``.

    Parameters
    ----------
    texts : Series of str, the transfer set's texts
    y : ndarray of shape (n,), int class indices
    teacher : ndarray of shape (n, n_classes), the ensemble's probabilities; None with ``alpha == 0``
    classes : the dataset's classes (``id2label`` in this order)
    settings : :class:`~ensemble_core.deploy.distill.StudentSettings`
    out : the folder to write (created)
    progress, should_stop, epochs_before, epochs_total : as :func:`~ensemble_core.deploy.distill.fit_student`'s

    Returns
    -------
    Path of the saved folder

    Raises
    ------
    Stopped
        When ``should_stop()`` said so (the folder is removed).
    """
    from ..models._tiny import train_wordpiece_tokenizer
    from . import Stopped

    torch = import_torch()
    from transformers import BertConfig, BertForSequenceClassification

    out = Path(out)
    texts = [str(t) for t in texts]
    torch.manual_seed(settings.seed)
    tokenizer = train_wordpiece_tokenizer(texts, out, vocab_size=settings.max_features, model_max_length=MAX_LENGTH)
    names = [c.item() if hasattr(c, "item") else c for c in classes]
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=settings.hidden, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=2 * settings.hidden, max_position_embeddings=MAX_LENGTH, num_labels=len(classes),
        id2label={i: str(c) for i, c in enumerate(names)}, label2id={str(c): i for i, c in enumerate(names)},
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForSequenceClassification(config)
    encoded = tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    y_t = torch.as_tensor(np.array(y, dtype=np.int64))
    t_t = None if teacher is None else torch.as_tensor(np.array(teacher, dtype=np.float32))
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    generator = torch.Generator().manual_seed(settings.seed)
    total = settings.epochs if epochs_total is None else epochs_total
    model.train()
    try:
        _train(model, tokenizer, encoded, y_t, t_t, optimiser, generator, settings, progress, should_stop,
               epochs_before, total)
    except Stopped:
        shutil.rmtree(out, ignore_errors=True)  # the tokenizer was written first
        raise
    model.eval().save_pretrained(out, safe_serialization=True)
    return out


def _train(model, tokenizer, encoded, y_t, t_t, optimiser, generator, settings, progress, should_stop,
           epochs_before: int, total: int) -> None:
    from . import Stopped
    from .distill import distillation_loss

    torch = import_torch()
    for epoch in range(settings.epochs):
        for batch in torch.randperm(len(encoded), generator=generator).split(BATCH_SIZE):
            if should_stop is not None and should_stop():
                raise Stopped(epochs_before + epoch, total)
            rows = batch.tolist()
            enc = tokenizer.pad({"input_ids": [encoded[i] for i in rows]}, return_tensors="pt")
            logits = model(**enc).logits
            loss = distillation_loss(logits, y_t[batch], None if t_t is None else t_t[batch],
                                     alpha=settings.alpha, temperature=settings.temperature)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
        if progress is not None:
            progress(epochs_before + epoch + 1, total)
