"""Hugging Face transformers sequence classifiers from a local directory.

Safety: ``local_files_only=True`` (the hub is never contacted), weights only from
``model.safetensors`` (a ``pytorch_model.bin`` is a pickle and is refused), and
never ``trust_remote_code``. torch and transformers are imported only when the
model first predicts, so a prediction-cache hit never pays for them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._threads import import_torch
from .._validation import EnsembleInputError
from .base import (
    JSON_FILE_LIMIT,
    TORCH_BATCH_SIZE,
    Lazy,
    LoadedModel,
    class_keys,
    directory_files,
    hash_files,
    read_regular,
    thread_count,
)

#: Longest input in tokens when neither the tokenizer nor the config says less.
MAX_LENGTH = 512
SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


def is_transformers_dir(folder: Path) -> bool:
    """Whether ``folder`` looks like a saved transformers model (it has a config.json)."""
    return (folder / "config.json").is_file()


def read_json(path: Path) -> object:
    """A model's JSON file, read through the regular-file and size checks.

    Raises
    ------
    EnsembleInputError
        If it is not a regular file, too large, or (ValueError) not valid UTF-8 JSON.
    """
    data = read_regular(path, JSON_FILE_LIMIT)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(str(exc)) from None


def check_transformers_dir(folder: Path, what: str = "transformers model") -> dict:
    """Check a model directory's files and return its parsed config.json.

    Every entry must be a regular file or directory within the size limit, and no
    symbolic link may leave the directory (see :func:`.base.directory_files`): the
    files are opened by transformers, not here.

    Raises
    ------
    EnsembleInputError
        Without config.json, safetensors weights or tokenizer files; on a FIFO, device,
        socket, outward link or oversized file in the directory.
    """
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise EnsembleInputError(f"{folder}: not a {what} directory; it has no config.json")
    directory_files(folder)
    try:
        config = read_json(config_path)
    except ValueError:
        config = None
    if not isinstance(config, dict):  # a real check: ``assert`` is stripped by ``python -O``
        raise EnsembleInputError(f"{config_path}: not a valid JSON object")
    if not any((folder / f).is_file() for f in SAFETENSORS):
        pickled = [f for f in PICKLED_WEIGHTS if (folder / f).is_file()]
        if pickled:
            raise EnsembleInputError(
                f"{folder}: refused to load {pickled[0]}: only model.safetensors weights are loaded "
                "(a .bin file is a pickle and can run code); convert it with "
                "model.save_pretrained(folder, safe_serialization=True)"
            )
        raise EnsembleInputError(f"{folder}: {what} directory has no model.safetensors")
    if not any((folder / f).is_file() for f in TOKENIZER_FILES):
        raise EnsembleInputError(
            f"{folder}: {what} directory has no tokenizer (expected tokenizer.json or tokenizer_config.json); "
            "save it with tokenizer.save_pretrained(folder)"
        )
    return config


def refuse_remote_code(folder: Path, config: dict) -> None:
    """Refuse a directory whose config.json or tokenizer_config.json names code (``auto_map``).

    Such code is never run; readers that do not go through ``trust_remote_code=False``
    (causal LMs, weight-space merging) call this so that nothing of the kind is accepted.

    Raises
    ------
    EnsembleInputError
        Naming the file whose ``auto_map`` names code.
    """
    named = [("config.json", config)]
    tokenizer_config = folder / "tokenizer_config.json"
    if tokenizer_config.is_file():
        try:
            named.append(("tokenizer_config.json", read_json(tokenizer_config)))
        except ValueError:
            raise EnsembleInputError(f"{tokenizer_config}: not valid JSON") from None
    for file, content in named:
        if isinstance(content, dict) and content.get("auto_map"):
            raise EnsembleInputError(
                f"{folder / file}: refused: auto_map names code shipped with the model (remote code), "
                "which is never run; use a model whose architecture transformers has built in"
            )


def torch_device():
    """Set a bounded thread count and return the device to run on (CUDA when present)."""
    torch = import_torch()

    if torch.get_num_threads() > thread_count():
        torch.set_num_threads(thread_count())
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def max_length(tokenizer, config: dict, limit: int = MAX_LENGTH) -> int:
    """The truncation length: the smallest of the tokenizer's, the config's and ``limit``."""
    lengths = [limit, config.get("max_position_embeddings") or limit]
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and model_max > 0:
        lengths.append(model_max)
    return int(min(lengths))


def load_tokenizer(folder: Path):
    """AutoTokenizer from local files only, without remote code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import_torch()  # before transformers, which imports torch
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise EnsembleInputError(f"{folder}: could not load the tokenizer ({type(exc).__name__}: {_first_line(exc)})") from None


#: What load_pretrained says to do when weights are missing (a classifier's usual cause).
MISSING_WEIGHTS_HINT = (
    "Save the trained model with save_pretrained (a base model saved without its classification head cannot classify)"
)


def load_pretrained(auto_class, folder: Path, *, missing_hint: str = MISSING_WEIGHTS_HINT):
    """``auto_class.from_pretrained`` with the safety options, errors as one line.

    ``missing_hint`` ends the message when the checkpoint lacks weights the model needs.

    Raises
    ------
    EnsembleInputError
        If loading fails, or the checkpoint lacks weights the model needs.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        model, info = auto_class.from_pretrained(
            folder, local_files_only=True, use_safetensors=True, trust_remote_code=False,
            output_loading_info=True,
        )
    except Exception as exc:
        raise EnsembleInputError(f"{folder}: could not load the model ({type(exc).__name__}: {_first_line(exc)})") from None
    # transformers fills weights the checkpoint lacks (a classification head saved
    # from a base model) with random values and only logs it: every load would
    # then give different, meaningless probabilities.
    absent = [*info.get("missing_keys", ()), *info.get("mismatched_keys", ())]
    if absent:
        names = sorted(k if isinstance(k, str) else k[0] for k in absent)
        raise EnsembleInputError(
            f"{folder}: model.safetensors lacks weights the model needs ({', '.join(names[:5])}"
            f"{', ...' if len(names) > 5 else ''}); they would be random. {missing_hint}"
        )
    return model


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _id2label(folder: Path, config: dict) -> list[str]:
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise EnsembleInputError(f"{folder / 'config.json'}: no id2label; cannot tell the model's classes")
    try:
        by_id = {int(k): str(v) for k, v in id2label.items()}
    except ValueError:
        raise EnsembleInputError(f"{folder / 'config.json'}: id2label keys must be integers") from None
    if sorted(by_id) != list(range(len(by_id))):
        raise EnsembleInputError(
            f"{folder / 'config.json'}: id2label ids must be 0..{len(by_id) - 1}; got {sorted(by_id)}"
        )
    return [by_id[i] for i in range(len(by_id))]


def load_transformers(folder: Path, *, name: str) -> LoadedModel:
    """A transformers sequence classifier directory as a :class:`LoadedModel` (input: text).

    The network loads on the first prediction. Probabilities are the softmax of
    the logits, classes ``config.id2label`` in id order.

    Raises
    ------
    EnsembleInputError
        On missing files, pickled weights, a multi-label model or a bad id2label.
    """
    folder = Path(folder)
    config = check_transformers_dir(folder)
    if config.get("problem_type") == "multi_label_classification":
        raise EnsembleInputError(
            f"{folder}: a multi-label model (independent sigmoid per class) has no class "
            "probabilities that sum to 1; ensemble-explorer needs a single-label classifier"
        )
    classes = class_keys(folder, _id2label(folder, config))

    def build():
        import_torch()  # before transformers, which imports torch
        from transformers import AutoModelForSequenceClassification

        device = torch_device()
        tokenizer = load_tokenizer(folder)
        model = load_pretrained(AutoModelForSequenceClassification, folder).to(device).eval()
        return tokenizer, model, device, max_length(tokenizer, config)

    network = Lazy(build)

    def predict(batch) -> np.ndarray:
        torch = import_torch()

        tokenizer, model, device, length = network.get()
        encoded = tokenizer(
            list(batch), padding=True, truncation=True, max_length=length, return_tensors="pt"
        ).to(device)
        with torch.inference_mode():
            logits = model(**encoded).logits
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    return LoadedModel(
        name=name,
        kind="transformers",
        classes=classes,
        input="text",
        feature_names=None,
        content_hash=hash_files(directory_files(folder), folder),
        source=str(folder),
        batch_size=TORCH_BATCH_SIZE,
        _predict=predict,
    )
