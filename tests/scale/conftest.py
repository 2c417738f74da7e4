"""The scale tests' fixtures: the model tests' small models (skops text pipelines, the wine
ONNX export), their data as files, and one local Ray per test session."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

# The small models are built by tests/models/conftest.py; its fixtures are reused here, not copied.
_spec = importlib.util.spec_from_file_location("_model_fixtures", Path(__file__).parents[1] / "models" / "conftest.py")
_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_models)
text_data = _models.text_data
model_dir = _models.model_dir
text_pipelines = _models.text_pipelines
wine = _models.wine
wine_onnx = _models.wine_onnx
tiny_bert = _models.tiny_bert

#: The folder that holds this checkout's ensemble_core: Ray's workers import the code under test.
ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="session")
def data_files(tmp_path_factory, text_data, wine):
    """reviews.csv (24 labelled texts), unlabelled.csv (the same without labels), wine.csv (178 rows)."""
    d = tmp_path_factory.mktemp("scale_data")
    text_data.to_csv(d / "reviews.csv", index=False)
    text_data.drop(columns="label").to_csv(d / "unlabelled.csv", index=False)
    wine[0].rename_axis("id").reset_index().to_csv(d / "wine.csv", index=False)
    return d


@pytest.fixture(scope="session")
def local_ray():
    """Ray started once in this process on two CPUs, shut down at the end of the session."""
    ray = pytest.importorskip("ray")
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()
