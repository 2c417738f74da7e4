"""The Language models page's shared work: loaded models and scored texts, cached once for
every session (read-only arrays; a :class:`~ensemble_core.lm.ReweightCache` only reads after
it is built), and what the page remembers between runs.

Models are read by path under :func:`~dashboard.sources.local_root`, like the classifier
page's local model paths; the cache key is each directory's real path with the size and
modification time of its files, so a model saved again is loaded again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ensemble_core import EnsembleInputError

from .sources import path_under_root

#: Tokens scored at most, unless the user asks for more (a page should answer in seconds on a CPU).
DEFAULT_MAX_TOKENS = 2000
#: Tokens of context shown before a contested token.
CONTEXT_TOKENS = 12


@dataclass(frozen=True)
class LMRun:
    """What was scored: model directories and the evaluation text (real paths), its column, the token cap."""

    models: tuple[str, ...]
    text: str
    column: str | None
    max_tokens: int


def _stamp(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        stat = p.stat()
        h.update(f"{p}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return h.hexdigest()


def lm_run(model_paths: list[str], text_path: str, column: str, max_tokens: int) -> LMRun:
    """The run for paths a user typed: each resolved under the local root (refused outside it).

    Raises
    ------
    EnsembleInputError
        No model or no text given, or a path outside the root.
    """
    paths = [p.strip() for p in model_paths if p.strip()]
    if not paths:
        raise EnsembleInputError("give at least one causal language model directory")
    if not text_path.strip():
        raise EnsembleInputError("give an evaluation text file (.txt, one document per line; or CSV/Parquet)")
    models = tuple(str(path_under_root(p)) for p in paths)
    return LMRun(models, str(path_under_root(text_path.strip())), column.strip() or None, int(max_tokens))


@st.cache_resource(max_entries=8, show_spinner="Loading the language models…")
def _cached_models(folders: tuple[str, ...], stamps: tuple[str, ...]):
    from ensemble_core.lm import load_causal_lms

    return tuple(load_causal_lms(list(folders)))


def models_for(run: LMRun):
    """The run's models, loaded once (they must share one vocabulary)."""
    return _cached_models(run.models, tuple(_stamp(Path(p)) for p in run.models))


@dataclass(frozen=True, eq=False)
class Scored:
    """A scored text: the distributions, what a weight move needs, and each model alone (per pool)."""

    scores: object
    reweight: object
    alone: dict


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_scores(run: LMRun, stamps: tuple[str, ...], _models) -> Scored:
    from ensemble_core.lm import ReweightCache, evaluate_fusion, read_documents, score_models
    from ensemble_core.registry import LM_POOLS

    documents = read_documents(run.text, column=run.column)
    scores = score_models(_models, documents, max_tokens=run.max_tokens)
    for array in (scores.log_probs, scores.targets, scores.doc_starts, scores.n_bytes, scores.spans):
        if array is not None:
            array.setflags(write=False)
    alone = {pool: evaluate_fusion(scores, None, pool).models for pool in LM_POOLS}
    return Scored(scores, ReweightCache(scores), alone)


def scored_for(run: LMRun) -> Scored:
    """The run's text scored by its models (under a spinner the first time)."""
    models = models_for(run)
    with st.spinner(f"Scoring up to {run.max_tokens:,} tokens with {len(models)} models…", show_time=True):
        return _cached_scores(run, tuple(_stamp(Path(p)) for p in (*run.models, run.text)), models)


@st.cache_data(max_entries=16, show_spinner="Fitting weights on half of the documents…")
def cached_suggestion(run: LMRun, pool: str, _scored: Scored):
    from ensemble_core.lm import suggest_lm_weights

    return suggest_lm_weights(_scored.scores, pool)


@st.cache_data(max_entries=16, show_spinner="Measuring the fusion over the weights…")
def cached_landscape(run: LMRun, pool: str, _scored: Scored):
    from ensemble_core.lm import weight_landscape

    return weight_landscape(_scored.scores, pool, resolution=20 if len(run.models) == 2 else 10)


def token_context(scores, tokenizer, row: int, width: int = CONTEXT_TOKENS) -> tuple[str, str]:
    """The text of up to ``width`` tokens before token ``row`` in its document, and the token's own text."""
    start = int(scores.doc_starts[scores.doc_starts <= row].max())
    before = scores.targets[max(start, row - width):row].tolist()
    return (tokenizer.decode(before, skip_special_tokens=True),
            tokenizer.decode([int(scores.targets[row])], skip_special_tokens=True))
