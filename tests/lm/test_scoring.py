"""Teacher-forced scoring: equal to transformers run directly, every token once, bounded memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ensemble_core import EnsembleInputError
from ensemble_core.lm import read_documents, score_models
from ensemble_core.lm.scoring import (
    check_distribution_memory,
    distribution_bytes,
    score_model,
    tokenize_documents,
    windows,
)

SHORT = "A sharp, funny film about growing up."
#: About 150 tokens: longer than the tiny models' 64 positions.
LONG = " ".join(["The plot drifts, but the cast is wonderful and the ending earns its tears."] * 9)


def _target_log_probs(scores, model: int = 0) -> np.ndarray:
    return scores.log_probs[model, np.arange(scores.n_tokens), scores.targets]


def test_mean_nll_of_a_short_document_is_the_models_own_loss(lms, reference_models):
    import torch

    lm = lms[0]
    scores = score_models([lm], [SHORT])
    ids = torch.tensor([[lm.tokenizer.bos_token_id, *lm.tokenizer(SHORT)["input_ids"]]])
    with torch.no_grad():
        out = reference_models["fresh"](input_ids=ids, labels=ids)
    assert scores.n_tokens == ids.shape[1] - 1  # every token of the document, none of the BOS
    assert -_target_log_probs(scores).mean() == pytest.approx(out.loss.item(), rel=1e-5)
    # The whole distributions, not only the targets: the log-softmax of the logits.
    expected = torch.log_softmax(out.logits[0, :-1], dim=-1).numpy()
    np.testing.assert_allclose(scores.log_probs[0], expected, atol=1e-5)


def _strided_reference(model, ids: list[int], context: int, stride: int) -> float:
    """Total NLL by the loop of transformers' perplexity guide (labels -100 outside the new tokens)."""
    import torch

    ids_t = torch.tensor([ids])
    total, prev_end = 0.0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + context, len(ids))
        new = end - prev_end
        window = ids_t[:, begin:end]
        labels = window.clone()
        labels[:, :-new] = -100
        with torch.no_grad():
            loss = model(window, labels=labels).loss
        total += loss.item() * (labels[:, 1:] != -100).sum().item()
        prev_end = end
        if end == len(ids):
            break
    return total


def test_sliding_windows_equal_transformers_strided_perplexity(lms, reference_models):
    lm, stride = lms[0], 24
    tokens = [lm.tokenizer.bos_token_id, *lm.tokenizer(LONG)["input_ids"]]
    # A length where the guide's last window is ours too (it ends exactly a stride further).
    length = lm.context + 3 * stride
    assert len(tokens) > length
    document = lm.tokenizer.decode(tokens[1:length])
    tokens = [lm.tokenizer.bos_token_id, *lm.tokenizer(document)["input_ids"]]
    assert len(tokens) == length
    scores = score_models([lm], [document], stride=stride)
    assert scores.n_tokens == length - 1
    expected = _strided_reference(reference_models["fresh"], tokens, lm.context, stride)
    assert -_target_log_probs(scores).sum() == pytest.approx(expected, rel=1e-5)


def test_each_windowed_token_is_predicted_from_its_own_window(lms, reference_models):
    """Spot checks against a direct forward pass over exactly the window's tokens."""
    import torch

    lm, stride = lms[1], 20
    scores = score_models([lm], [SHORT, LONG], stride=stride)
    tokens = [lm.tokenizer.bos_token_id, *lm.tokenizer(LONG)["input_ids"]]
    start = int(scores.doc_starts[1])
    for begin, first, end in windows(len(tokens), lm.context, stride)[1:]:
        for j in (first, end - 1):
            with torch.no_grad():
                logits = reference_models["rotten"](torch.tensor([tokens[begin:j]])).logits[0, -1]
            np.testing.assert_allclose(scores.log_probs[0, start + j - 1], torch.log_softmax(logits, -1).numpy(),
                                       atol=1e-5)


def test_a_document_within_the_context_is_one_full_forward_pass(lms):
    lm = lms[0]
    full = score_models([lm], [SHORT]).log_probs
    for stride in (1, 7, lm.context - 1):
        np.testing.assert_array_equal(score_models([lm], [SHORT], stride=stride).log_probs, full)


def test_padding_and_batching_do_not_change_the_numbers(lms):
    docs = [SHORT, LONG, "Meh.", SHORT + " " + SHORT]
    text = tokenize_documents(lms[0].tokenizer, docs)
    one = score_model(lms[0], text, stride=16, batch_size=1)
    batched = score_model(lms[0], text, stride=16, batch_size=32)
    np.testing.assert_allclose(batched, one, atol=2e-5)


@given(length=st.integers(1, 300), context=st.integers(2, 80), data=st.data())
def test_windows_score_every_token_once_with_bounded_context(length, context, data):
    stride = data.draw(st.integers(1, context - 1))
    scored = []
    for begin, first, end in windows(length, context, stride):
        assert 0 <= begin < first <= end <= length and end - begin <= context
        # Each token sees the whole window before it: at least context - stride tokens, or all from 0.
        assert begin == 0 or first - begin >= context - stride
        # As much left context as the window allows: a full window unless the document is shorter.
        assert end - begin == min(context, end)
        scored.extend(range(first, end))
    assert scored == list(range(1, length))


@pytest.mark.parametrize("stride", [0, 64, 100])
def test_stride_outside_the_context_is_refused(lms, stride):
    with pytest.raises(EnsembleInputError, match=r"fresh: --stride must be from 1 to 63 .*got " + str(stride)):
        score_models(lms, [SHORT], stride=stride)


def test_tokens_bytes_and_documents_line_up(lms):
    docs = [SHORT, "Très bien — ☃.", LONG]
    scores = score_models(lms, docs)
    assert scores.names == ("fresh", "rotten") and scores.strides == (32, 32)
    assert scores.log_probs.shape == (2, scores.n_tokens, 500) and scores.log_probs.dtype == np.float32
    assert scores.n_bytes.tolist() == [len(d.encode("utf-8")) for d in docs]
    lengths = [len(lms[0].tokenizer(d)["input_ids"]) for d in docs]
    assert np.diff(scores.doc_starts).tolist() == lengths
    np.testing.assert_allclose(np.exp(scores.log_probs).sum(axis=-1), 1, atol=1e-4)
    # The two models differ: fusion has something to combine.
    assert np.abs(scores.log_probs[0] - scores.log_probs[1]).max() > 0.1
    split = scores.documents(np.array([True, False, True]))
    assert split.n_documents == 2 and split.n_tokens == lengths[0] + lengths[2]
    np.testing.assert_array_equal(split.log_probs[:, lengths[0]:], scores.log_probs[:, -lengths[2]:])


def test_max_tokens_cuts_the_last_document_and_its_bytes(lms):
    tok = lms[0].tokenizer
    n_short = len(tok(SHORT)["input_ids"])
    scores = score_models(lms[:1], [SHORT, LONG, SHORT], max_tokens=n_short + 5)
    assert scores.n_tokens == n_short + 5 and scores.n_documents == 2
    kept = tok.decode(tok(LONG)["input_ids"][:5])
    assert scores.n_bytes.tolist() == [len(SHORT.encode()), len(kept.encode())]
    with pytest.raises(EnsembleInputError, match="--max-tokens must be at least 1"):
        score_models(lms[:1], [SHORT], max_tokens=0)


def test_memory_over_the_limit_is_refused_before_scoring(lms, monkeypatch):
    assert distribution_bytes(1000, 500, 2) == 4_000_000
    monkeypatch.setenv("ENSEMBLE_EXPLORER_MAX_LM_MB", "1")
    with pytest.raises(EnsembleInputError, match=r"^refused: 1,000 tokens × 500 vocabulary × 2 models × 4 bytes = "
                       r"0\.00 GiB .*score at most 262 tokens \(--max-tokens\) or raise ENSEMBLE_EXPLORER_MAX_LM_MB"):
        check_distribution_memory(1000, 500, 2)
    with pytest.raises(EnsembleInputError, match="score at most 262 tokens"):
        score_models(lms, [LONG] * 3)


def test_text_file_one_document_per_line(tmp_path):
    path = tmp_path / "eval.txt"
    path.write_text("first review\n\n   \nsecond, with ☃\r\nthird\n", encoding="utf-8")
    assert read_documents(path) == ["first review", "second, with ☃", "third"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_text_column(tmp_path, suffix):
    frame = pd.DataFrame({"id": [1, 2], "review": ["good", "bad, really"]})
    path = tmp_path / f"eval{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    assert read_documents(path, column="review") == ["good", "bad, really"]
    assert read_documents(path) == ["good", "bad, really"]  # the only text column


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("name", "content", "column", "message"), [
    ("blank.txt", b"\n  \n", None, "no text to score"),
    ("latin1.txt", "caf\xe9".encode("latin-1"), None, r"not UTF-8 text \(byte 3\)"),
    ("cols.txt", b"hello", "text", "no columns; drop --column"),
    ("missing.csv", b"text\nfine\n\n", "review", "no text column 'review'"),
    ("hole.csv", b"id,text\n1,fine\n2,\n", None, r"hole\.csv: column 'text': row 2: text is missing"),
    ("eval.json", b"{}", None, "unknown file type"),
], ids=lambda x: x if isinstance(x, str) and "." in x else "")
def test_bad_evaluation_text_is_one_line(tmp_path, name, content, column, message):
    with pytest.raises(EnsembleInputError, match=message):
        read_documents(_write(tmp_path, name, content), column=column)


def test_absent_text_file_is_refused(tmp_path):
    with pytest.raises(EnsembleInputError, match="no such file"):
        read_documents(tmp_path / "absent.txt")


def test_batches_keep_the_logits_within_the_budget(lms, monkeypatch):
    from ensemble_core.lm import scoring

    jobs = [(n, 0, 0, 1, n) for n in (3, 5, 8, 8, 10, 20)]
    monkeypatch.setattr(scoring, "LOGITS_BUDGET", 2 * 8 * 100 * 4)  # two windows of 8 tokens, vocabulary 100
    assert [[j[0] for j in b] for b in scoring._batches(jobs, 32, 100)] == [[3, 5], [8, 8], [10], [20]]
    assert [[j[0] for j in b] for b in scoring._batches(jobs, 1, 100)] == [[n] for n in (3, 5, 8, 8, 10, 20)]
    # The numbers do not depend on how the windows are grouped.
    text = tokenize_documents(lms[0].tokenizer, [SHORT, LONG, "Meh."])
    unbounded = score_model(lms[0], text, stride=16)
    monkeypatch.setattr(scoring, "LOGITS_BUDGET", 1)
    np.testing.assert_allclose(score_model(lms[0], text, stride=16), unbounded, atol=2e-5)


def test_without_a_bos_token_the_first_token_is_context_and_its_bytes_do_not_count(lms, reference_models):
    import copy

    import torch

    tok = copy.deepcopy(lms[0].tokenizer)
    tok.bos_token = None
    text = tokenize_documents(tok, [SHORT, "Meh."])
    ids = tok(SHORT)["input_ids"]
    assert not text.prefixed and text.n_tokens == len(ids) - 1 + len(tok("Meh.")["input_ids"]) - 1
    first = tok.decode(ids[:1])
    assert text.n_bytes[0] == len(SHORT.encode()) - len(first.encode())
    log_p = score_model(lms[0], text)
    with torch.no_grad():
        loss = reference_models["fresh"](input_ids=torch.tensor([ids]), labels=torch.tensor([ids])).loss.item()
    start, stop = text.doc_starts[:2]
    assert -log_p[np.arange(start, stop), text.targets[start:stop]].mean() == pytest.approx(loss, rel=1e-5)


def test_long_documents_raise_no_tokenizer_warning(lms, monkeypatch, caplog):
    monkeypatch.setattr(lms[0].tokenizer, "model_max_length", 10)
    with caplog.at_level("WARNING"):
        text = tokenize_documents(lms[0].tokenizer, [LONG])
    assert text.n_tokens > 100 and "indexing errors" not in caplog.text


def test_token_spans_tile_each_documents_scored_text(lms):
    import copy

    docs = [SHORT, "Très bien — ☃ 🎬!", "  spaced  out  ", LONG]
    scores = score_models(lms[:1], docs)
    assert scores.doc_index.tolist() == [0, 1, 2, 3]
    for d, doc in enumerate(docs):
        spans = scores.spans[scores.doc_starts[d] : scores.doc_starts[d + 1]]
        assert "".join(doc[a:b] for a, b in spans) == doc
    tok = lms[0].tokenizer
    # Each span is the text of its token, where the token is whole characters.
    pieces = [tok.decode([t]) for t in scores.targets[: scores.doc_starts[1]]]
    assert [SHORT[a:b] for a, b in scores.spans[: scores.doc_starts[1]]] == pieces
    # Without a BOS token the first token is context: the spans start after it; a one-token
    # document has nothing to score and is left out, and the cut keeps the last one's own text.
    plain = copy.deepcopy(tok)
    plain.bos_token = None
    text = tokenize_documents(plain, [SHORT, "a", SHORT], max_tokens=len(tok(SHORT)["input_ids"]) + 2)
    assert text.doc_index.tolist() == [0, 2]
    first = tok.decode(tok(SHORT)["input_ids"][:1])
    spans = text.spans[: text.doc_starts[1]]
    assert "".join(SHORT[a:b] for a, b in spans) == SHORT[len(first):]
    kept = tok.decode(tok(SHORT)["input_ids"][:4])
    assert "".join(SHORT[a:b] for a, b in text.spans[text.doc_starts[1]:]) == kept[len(first):]
    split = scores.documents(np.array([False, True, False, True]))
    assert split.doc_index.tolist() == [1, 3] and split.spans.shape == (split.n_tokens, 2)
