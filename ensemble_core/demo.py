"""The bundled demos: where their files live, and loading them as a PredictionSet.

Layout, for each demo NAME under ``demo_data/NAME/``: ``test.csv`` (the labels
file of the test split) and ``predictions/test/<model>.csv`` (one prediction file
per model), written by ``demo_data/build_demo.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._validation import EnsembleInputError
from .io import load_prediction_set
from .predictions import PredictionSet

DEMO_ROOT = Path(__file__).resolve().parent.parent / "demo_data"


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
        return self.folder / "test.csv"

    def prediction_paths(self) -> list[Path]:
        return sorted((self.folder / "predictions" / "test").glob("*.csv"))

    def available(self) -> bool:
        return self.labels_path.is_file() and bool(self.prediction_paths())


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


def load_demo(name: str) -> PredictionSet:
    """The demo's test split and its models' predictions."""
    if name not in DEMOS:
        raise EnsembleInputError(f"unknown demo {name!r}; expected one of {', '.join(DEMOS)}")
    demo = DEMOS[name]
    if not demo.available():
        raise EnsembleInputError(
            f"the {name} demo's files are missing under {demo.folder}; build them with "
            "'python demo_data/build_demo.py'"
        )
    return load_prediction_set(demo.labels_path, demo.prediction_paths())
