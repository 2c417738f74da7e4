"""Teacher-forced scoring: each model's next-token distribution at every token of a text.

The evaluation text is a list of documents (:func:`read_documents`). Each document is
tokenized once with the shared tokenizer (:func:`tokenize_documents`); when the tokenizer
has a BOS token (GPT-2's ``<|endoftext|>``) it is put before the document as context, so
that every token of the document is scored (as lm-evaluation-harness does), else the first
token is context only. A document longer than a model's context is scored in sliding
windows (:func:`windows`): each token exactly once, with as much left context as the
window allows, and at least ``context - stride`` tokens once the document is that long.

What comes out (:class:`LMScores`) is every model's full log-softmax at every scored
token, float32: the pools need whole distributions. That is
``n_tokens × vocab_size × 4 bytes × n_models``: 2,000 tokens of two GPT-2 models
(50,257 tokens) take 0.8 GB; 100,000 tokens of two 600-token demo models 0.5 GB.
:data:`DISTRIBUTION_LIMIT` (2 GiB unless ``ENSEMBLE_EXPLORER_MAX_LM_MB`` says otherwise)
bounds it before any model runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError
from ..models.base import GiB, SizeLimit, read_regular
from .loading import CausalLM, check_same_vocabulary

#: Windows per forward pass, at most.
BATCH_SIZE = 32
#: The most bytes of float32 logits one forward pass may make (windows × width × vocabulary × 4):
#: a full 1,024-token GPT-2 window (50,257 words) makes 206 MB, so GPT-2 runs one window at a
#: time; the 64-token demo models (500 words) take the full batch.
LOGITS_BUDGET = 256 << 20
#: The most bytes of next-token distributions kept in memory (all models together).
DISTRIBUTION_LIMIT = SizeLimit(2 * GiB, "ENSEMBLE_EXPLORER_MAX_LM_MB", "the models' next-token distributions")
#: The largest .txt evaluation file read.
TEXT_FILE_LIMIT = SizeLimit(256 << 20, "ENSEMBLE_EXPLORER_MAX_TEXT_MB", "an evaluation text file")
TEXT_SUFFIXES = (".txt",)


def read_documents(path: str | Path, *, column: str | None = None) -> list[str]:
    """The documents of an evaluation text.

    A ``.txt`` file (UTF-8) holds one document per line, blank lines skipped; a CSV or
    Parquet file one per row of its text column (``text`` unless ``column`` names another;
    :func:`ensemble_core.models.scoring.text_values` chooses).

    Parameters
    ----------
    path : path
    column : str, optional
        CSV/Parquet only.

    Returns
    -------
    list of str
        At least one non-blank document.

    Raises
    ------
    EnsembleInputError
        A missing, oversized or non-UTF-8 file, a missing column or cell, or no text at all.

    Examples
    --------
    >>> read_documents("reviews.txt")  # doctest: +SKIP
    ['A fine film.', 'A dull film.']
    """
    path = Path(path)
    if path.name.lower().endswith(TEXT_SUFFIXES):
        if column is not None:
            raise EnsembleInputError(f"{path}: a .txt file has one document per line and no columns; drop --column")
        try:
            text = read_regular(path, TEXT_FILE_LIMIT).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EnsembleInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        documents = [line for line in text.splitlines() if line.strip()]
    else:
        from ..io import read_table
        from ..models.scoring import text_values

        try:
            texts, column = text_values(read_table(path), column, reader="a language model")
        except EnsembleInputError as exc:
            raise EnsembleInputError(f"{path}: {exc}") from None
        documents = [t for t in texts if t.strip()]
    if not documents:
        raise EnsembleInputError(f"{path}: no text to score (every document is blank)")
    return documents


@dataclass(frozen=True)
class TokenizedText:
    """Documents as token ids, and which of them are scored.

    Attributes
    ----------
    input_ids : tuple of ndarray of shape (length_d,), int64
        Per document, the BOS token first when :attr:`prefixed`.
    doc_starts : ndarray of shape (n_docs + 1,), int64
        Document ``d``'s scored tokens are rows ``doc_starts[d]:doc_starts[d + 1]`` of the
        flat per-token arrays; token ``j`` of ``input_ids[d]`` (``j >= 1``) is row
        ``doc_starts[d] + j - 1``.
    targets : ndarray of shape (n_tokens,), int64
        The scored tokens: ``input_ids[d][1:]`` for every document, concatenated.
    n_bytes : ndarray of shape (n_docs,), int64
        UTF-8 bytes of each document's scored text (all of it when prefixed).
    prefixed : bool
        Whether a BOS token was put before each document.
    doc_index : ndarray of shape (n_docs,), int64
        Each kept document's position in the documents given (a document with nothing to
        score is left out; so are those past ``max_tokens``).
    spans : ndarray of shape (n_tokens, 2), int64, or None
        Each scored token's characters in its document, ``[start, end)``: consecutive, so a
        document's spans tile its scored text exactly once (a character split across tokens
        goes to the first). None for a tokenizer without offsets (not a fast tokenizer).
    """

    input_ids: tuple[np.ndarray, ...]
    doc_starts: np.ndarray
    targets: np.ndarray
    n_bytes: np.ndarray
    prefixed: bool
    doc_index: np.ndarray
    spans: np.ndarray | None

    @property
    def n_tokens(self) -> int:
        return int(self.targets.shape[0])


def tokenize_documents(tokenizer, documents: Sequence[str], *, max_tokens: int | None = None) -> TokenizedText:
    """Tokenize the documents once for every model sharing ``tokenizer``.

    Parameters
    ----------
    tokenizer : transformers tokenizer
    documents : sequence of str
    max_tokens : int, optional
        Score at most this many tokens: documents are taken in order and the last one cut.

    Returns
    -------
    TokenizedText

    Raises
    ------
    EnsembleInputError
        When no token is left to score.
    """
    if max_tokens is not None and max_tokens < 1:
        raise EnsembleInputError(f"--max-tokens must be at least 1; got {max_tokens}")
    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else None
    fast = bool(getattr(tokenizer, "is_fast", False))
    # verbose=False: a document longer than the model's maximum is expected (windows score it),
    # not the "will result in indexing errors" transformers would log.
    encoded = tokenizer(list(documents), add_special_tokens=False, return_offsets_mapping=fast, verbose=False)
    ids_list, starts, n_bytes, kept, spans, budget = [], [0], [], [], [], max_tokens
    for d, ids in enumerate(encoded["input_ids"]):
        ids = ([prefix] if prefix is not None else []) + list(ids)
        scored = max(len(ids) - 1, 0)
        cut = budget is not None and scored > budget
        if cut:
            ids, scored = ids[: budget + 1], budget
        if scored == 0:
            continue
        text = documents[d]
        if fast:
            span = _spans(encoded["offset_mapping"][d], scored, len(text), prefixed=prefix is not None, cut=cut)
            spans.append(span)
            text = text[span[0, 0] : span[-1, 1]]
        ids_list.append(np.asarray(ids, dtype=np.int64))
        starts.append(starts[-1] + scored)
        n_bytes.append(len(text.encode("utf-8")))
        kept.append(d)
        if budget is not None:
            budget -= scored
            if budget == 0:
                break
    if not ids_list:
        raise EnsembleInputError("no token to score: every document is a single token and the tokenizer has no BOS token")
    targets = np.concatenate([ids[1:] for ids in ids_list])
    return TokenizedText(tuple(ids_list), np.asarray(starts, dtype=np.int64), targets,
                         np.asarray(n_bytes, dtype=np.int64), prefix is not None, np.asarray(kept, dtype=np.int64),
                         np.concatenate(spans) if fast else None)


def _spans(offsets, scored: int, length: int, *, prefixed: bool, cut: bool) -> np.ndarray:
    """The characters of a document's scored tokens, consecutive: each token from the end of
    the one before (the document's start, or the end of the unscored first token) to its own
    end; the last reaches the end of the text unless the document was cut."""
    doc_tokens = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    lo = 0 if prefixed else 1  # the first scored token of the document's own
    first = 0 if prefixed else int(doc_tokens[0, 1])
    ends = np.maximum.accumulate(np.maximum(doc_tokens[lo : lo + scored, 1], first))
    if not cut:
        ends[-1] = length
    return np.stack([np.concatenate([[first], ends[:-1]]), ends], axis=1)


def windows(length: int, context: int, stride: int) -> list[tuple[int, int, int]]:
    """The sliding windows that score a document of ``length`` tokens.

    Tokens ``1 .. length - 1`` are scored (token 0 is context only). The first window is
    ``[0, min(context, length))``; each next one ends ``stride`` tokens later and starts
    ``context`` tokens before its end, scoring only the tokens past the previous end. So
    every token is scored once, a token in a later window sees at least
    ``context - stride`` tokens before it, and the last window reaches back as far as the
    context allows.

    Parameters
    ----------
    length : int
    context : int
        The most tokens one forward pass takes.
    stride : int
        From 1 to ``context - 1``.

    Returns
    -------
    list of (begin, first, end)
        Run tokens ``begin:end`` and keep the predictions of tokens ``first .. end - 1``.

    Examples
    --------
    >>> windows(10, 6, 2)
    [(0, 1, 6), (2, 6, 8), (4, 8, 10)]
    """
    if not 1 <= stride < context:
        raise EnsembleInputError(f"--stride must be from 1 to {context - 1} (the context less one); got {stride}")
    end = min(context, length)
    out = [(0, 1, end)] if end > 1 else []
    while end < length:
        first, end = end, min(end + stride, length)
        out.append((max(0, end - context), first, end))
    return out


def distribution_bytes(n_tokens: int, vocab_size: int, n_models: int) -> int:
    """Bytes of the models' float32 next-token distributions over ``n_tokens`` tokens."""
    return n_tokens * vocab_size * 4 * n_models


def check_distribution_memory(n_tokens: int, vocab_size: int, n_models: int) -> None:
    """Refuse, before any model runs, distributions over :data:`DISTRIBUTION_LIMIT`.

    Raises
    ------
    EnsembleInputError
        Saying how many tokens fit.
    """
    size, limit = distribution_bytes(n_tokens, vocab_size, n_models), DISTRIBUTION_LIMIT.bytes
    if size > limit:
        fits = limit // distribution_bytes(1, vocab_size, n_models)
        raise EnsembleInputError(
            f"refused: {n_tokens:,} tokens × {vocab_size:,} vocabulary × {n_models} models × 4 bytes = "
            f"{size / GiB:,.2f} GiB of next-token distributions, over the {limit / GiB:,.2f} GiB limit; "
            f"score at most {fits:,} tokens (--max-tokens) or raise {DISTRIBUTION_LIMIT.env}=MEGABYTES"
        )


def score_model(
    lm: CausalLM,
    text: TokenizedText,
    *,
    stride: int | None = None,
    batch_size: int = BATCH_SIZE,
    out: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """One model's log-softmax at every scored token of ``text``.

    Parameters
    ----------
    lm : CausalLM
    text : TokenizedText
    stride : int, optional
        Tokens a window moves (:func:`windows`); default half the model's context.
    batch_size : int
        Windows per forward pass at most, fewer when their logits would pass
        :data:`LOGITS_BUDGET`; shorter ones are padded on the right (a causal model's
        outputs at real tokens do not see the padding).
    out : ndarray of shape (n_tokens, vocab_size), float32, optional
        Where to write.
    progress : callable (done, total), optional
        Called after each batch with windows done.

    Returns
    -------
    ndarray of shape (n_tokens, vocab_size), float32
        Row ``i`` is ``log p(· | context)`` for the token ``text.targets[i]``.
    """
    import torch

    stride = lm.context // 2 if stride is None else stride
    if out is None:
        out = np.empty((text.n_tokens, lm.vocab_size), dtype=np.float32)
    jobs = []  # (length, document, begin, first, end)
    for d, ids in enumerate(text.input_ids):
        for begin, first, end in windows(len(ids), lm.context, stride):
            jobs.append((end - begin, d, begin, first, end))
    jobs.sort(key=lambda job: job[0])  # similar lengths together: little padding
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    done = 0
    for batch in _batches(jobs, batch_size, lm.vocab_size):
        width = batch[-1][0]
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (n, d, begin, _, end) in enumerate(batch):
            ids[row, :n] = torch.from_numpy(text.input_ids[d][begin:end])
            mask[row, :n] = 1
        with torch.inference_mode():
            logits = lm.model(input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device)).logits
            log_p = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
        for row, (_, d, begin, first, end) in enumerate(batch):
            # Token j is predicted at position j - 1 of the document, j - 1 - begin of the window.
            rows = slice(text.doc_starts[d] + first - 1, text.doc_starts[d] + end - 1)
            out[rows] = log_p[row, first - 1 - begin : end - 1 - begin]
        done += len(batch)
        if progress is not None:
            progress(done, len(jobs))
    return out


def _batches(jobs: list[tuple[int, ...]], batch_size: int, vocab_size: int):
    """Consecutive runs of ``jobs`` (sorted by length, first) of at most ``batch_size`` windows
    whose padded logits stay within :data:`LOGITS_BUDGET`; a window alone may pass it."""
    start = 0
    while start < len(jobs):
        stop = start + 1
        while (stop < len(jobs) and stop - start < batch_size
               and (stop - start + 1) * jobs[stop][0] * vocab_size * 4 <= LOGITS_BUDGET):
            stop += 1
        yield jobs[start:stop]
        start = stop


@dataclass(frozen=True)
class LMScores:
    """Every model's next-token distribution at every scored token of an evaluation text.

    Attributes
    ----------
    names : tuple of str
    log_probs : ndarray of shape (n_models, n_tokens, vocab_size), float32
        Log-softmax of each model's logits.
    targets : ndarray of shape (n_tokens,), int64
        The actual next tokens.
    doc_starts : ndarray of shape (n_docs + 1,), int64
        Document ``d`` is rows ``doc_starts[d]:doc_starts[d + 1]``.
    n_bytes : ndarray of shape (n_docs,), int64
        UTF-8 bytes of each document's scored text.
    strides : tuple of int
        The stride each model was scored with.
    seconds : tuple of float
        Wall time each model took to score.
    doc_index : ndarray of shape (n_docs,), int64, or None
        Each document's position in the documents given (see :class:`TokenizedText`).
    spans : ndarray of shape (n_tokens, 2), int64, or None
        Each scored token's characters in its document (see :class:`TokenizedText`).
    """

    names: tuple[str, ...]
    log_probs: np.ndarray
    targets: np.ndarray
    doc_starts: np.ndarray
    n_bytes: np.ndarray
    strides: tuple[int, ...]
    seconds: tuple[float, ...]
    doc_index: np.ndarray | None = None
    spans: np.ndarray | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.targets.shape[0])

    @property
    def n_documents(self) -> int:
        return int(self.n_bytes.shape[0])

    def documents(self, which: np.ndarray) -> LMScores:
        """The scores of some documents only (a tune or held-out split).

        Parameters
        ----------
        which : ndarray of shape (n_docs,), bool
        """
        which = np.asarray(which, dtype=bool)
        lengths = np.diff(self.doc_starts)
        rows = np.repeat(which, lengths)
        starts = np.concatenate([[0], np.cumsum(lengths[which])]).astype(np.int64)
        return LMScores(self.names, self.log_probs[:, rows], self.targets[rows], starts, self.n_bytes[which],
                        self.strides, self.seconds, None if self.doc_index is None else self.doc_index[which],
                        None if self.spans is None else self.spans[rows])


def score_models(
    models: Sequence[CausalLM],
    documents: Sequence[str],
    *,
    stride: int | None = None,
    max_tokens: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str, int, int], None] | None = None,
) -> LMScores:
    """Score ``documents`` with every model (they must share a vocabulary).

    Parameters
    ----------
    models : sequence of CausalLM
    documents : sequence of str
    stride : int, optional
        Default: half of each model's context.
    max_tokens : int, optional
        Score at most this many tokens.
    progress : callable (model name, done, total), optional

    Returns
    -------
    LMScores

    Raises
    ------
    EnsembleInputError
        Models with different tokenizers, a stride outside 1 .. context - 1, no token to
        score, or distributions over :data:`DISTRIBUTION_LIMIT`.

    Examples
    --------
    >>> scores = score_models(load_causal_lms(["gpt2", "distilgpt2"]), ["Hello world."])  # doctest: +SKIP
    >>> scores.log_probs.shape  # doctest: +SKIP
    (2, 3, 50257)
    """
    check_same_vocabulary(models)
    text = tokenize_documents(models[0].tokenizer, documents, max_tokens=max_tokens)
    vocab = models[0].vocab_size
    check_distribution_memory(text.n_tokens, vocab, len(models))
    strides = tuple(m.context // 2 if stride is None else stride for m in models)
    for m, s in zip(models, strides):
        if not 1 <= s < m.context:
            raise EnsembleInputError(
                f"{m.source}: --stride must be from 1 to {m.context - 1} (its context less one); got {s}"
            )
    log_probs = np.empty((len(models), text.n_tokens, vocab), dtype=np.float32)
    seconds = []
    for i, (m, s) in enumerate(zip(models, strides)):
        started = time.perf_counter()
        report = None if progress is None else (lambda done, total, name=m.name: progress(name, done, total))
        score_model(m, text, stride=s, batch_size=batch_size, out=log_probs[i], progress=report)
        seconds.append(time.perf_counter() - started)
    return LMScores(tuple(m.name for m in models), log_probs, text.targets, text.doc_starts, text.n_bytes,
                    strides, tuple(seconds), text.doc_index, text.spans)
