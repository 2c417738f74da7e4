"""The bundled demos: where their files live, and loading them as a PredictionSet.

Layout, for each demo NAME under ``demo_data/NAME/``, written by
``demo_data/build_demo.py``: ``train.csv``, ``val.csv`` and ``test.csv`` (the labels
files of a fixed stratified split), ``predictions/<split>/<model>.csv`` for each of
the three splits (one prediction file per model; on ``train`` they are in-sample, the
models having been fitted there: a distillation transfer set, not an evaluation), and
``models/`` (the trained models: skops pipelines, an ONNX export, transformers directories).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._validation import EnsembleInputError
from .io import load_prediction_set
from .predictions import PredictionSet

DEMO_ROOT = Path(__file__).resolve().parent.parent / "demo_data"

#: The splits that have prediction files (the models were trained on ``train``: their
#: predictions there are in-sample).
Split = Literal["train", "val", "test"]
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    description: str
    text_column: str | None = None
    image_shape: tuple[int, int] | None = None

    @property
    def folder(self) -> Path:
        return DEMO_ROOT / self.name

    @property
    def labels_path(self) -> Path:
        return self.split_labels_path("test")

    @property
    def models_folder(self) -> Path:
        return self.folder / "models"

    def split_labels_path(self, split: Split = "test") -> Path:
        return self.folder / f"{split}.csv"

    def prediction_paths(self, split: Split = "test") -> list[Path]:
        return sorted((self.folder / "predictions" / split).glob("*.csv"))

    def available(self, split: Split = "test") -> bool:
        return self.split_labels_path(split).is_file() and bool(self.prediction_paths(split))


DEMOS: dict[str, Demo] = {
    "sentiment": Demo(
        "sentiment",
        "Movie-review sentiment",
        "Rotten Tomatoes review snippets (fresh vs rotten), five models from TF-IDF to a fine-tuned transformer.",
        text_column="text",
    ),
    "digits": Demo(
        "digits",
        "Handwritten digits",
        "scikit-learn's 8×8 digits, ten classes, five classic classifiers.",
        image_shape=(8, 8),
    ),
}


def load_demo(name: str, split: Split = "test") -> PredictionSet:
    """A demo's split (``"test"``, ``"val"`` or ``"train"``) and its models' predictions on it.

    Examples
    --------
    >>> load_demo("digits").n_classes  # doctest: +SKIP
    10
    """
    if name not in DEMOS:
        raise EnsembleInputError(f"unknown demo {name!r}; expected one of {', '.join(DEMOS)}")
    if split not in SPLITS:
        raise EnsembleInputError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    demo = DEMOS[name]
    if not demo.available(split):
        raise EnsembleInputError(
            f"the {name} demo's files are missing under {demo.folder}; build them with "
            "'python demo_data/build_demo.py'"
        )
    return load_prediction_set(demo.split_labels_path(split), demo.prediction_paths(split))
