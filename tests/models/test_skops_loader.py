"""skops: the demo's three TF-IDF pipelines load under the allow-list; anything else is refused."""

from __future__ import annotations

import os

import numpy as np
import pytest
import skops.io as sio

from ensemble_core import EnsembleInputError
from ensemble_core.models import load_model
from ensemble_core.models.skops_loader import load_skops


@pytest.mark.parametrize("name", ["tfidf_lr", "tfidf_cnb", "tfidf_rf"])
def test_text_pipelines_load_and_agree_with_sklearn(text_pipelines, text_data, name):
    pipe, path = text_pipelines[name]
    model = load_model(path)
    assert (model.kind, model.input, model.name) == ("skops", "text", name)
    assert model.classes == ("fresh", "rotten")
    texts = text_data["text"].tolist()
    np.testing.assert_allclose(model.predict_proba(texts), pipe.predict_proba(texts), rtol=1e-12)


def test_rf_pipeline_holds_only_allowed_untrusted_types(text_pipelines):
    # Trees are stored as sklearn.tree._tree.Tree, which skops does not trust by default.
    untrusted = sio.get_untrusted_types(file=text_pipelines["tfidf_rf"][1])
    assert untrusted == ["sklearn.tree._tree.Tree"]


def test_loading_from_bytes_matches_loading_from_file(text_pipelines):
    _, path = text_pipelines["tfidf_lr"]
    from_file = load_skops(path)
    from_bytes = load_skops(path, data=path.read_bytes())
    texts = ["a clever film", "boring"]
    np.testing.assert_array_equal(from_file.predict_proba(texts), from_bytes.predict_proba(texts))


def test_function_outside_allow_list_is_refused(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.linear_model import LogisticRegression

    # numpy.save could write files when the model runs: a function, never allowed.
    pipe = make_pipeline(FunctionTransformer(np.save), LogisticRegression())
    path = tmp_path / "sneaky.skops"
    sio.dump(pipe, path)
    with pytest.raises(EnsembleInputError, match=r"sneaky\.skops: refused to load.*numpy\.save"):
        load_model(path)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a valid skops file"), (b"PK\x03\x04 not really a zip", "not a valid skops file")],
    ids=["empty", "corrupt"],
)
def test_invalid_skops_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.skops"
    path.write_bytes(content)
    with pytest.raises(EnsembleInputError, match=message):
        load_model(path)


def _skops_naming(module: str, name: str) -> bytes:
    """A skops file whose FunctionTransformer holds ``module.name`` where it held numpy.log1p."""
    import io
    import json
    import zipfile

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(np.eye(4), [0, 1, 0, 1])
    original = zipfile.ZipFile(io.BytesIO(sio.dumps(pipe)))

    def rename(node):
        if isinstance(node, dict):
            if node.get("__class__") == "log1p":
                node.update({"__class__": name, "__module__": module})
            for value in node.values():
                rename(value)
        elif isinstance(node, list):
            for value in node:
                rename(value)
        return node

    schema = json.dumps(rename(json.loads(original.read("schema.json"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in original.namelist():
            z.writestr(item, schema if item == "schema.json" else original.read(item))
    return out.getvalue()


def test_checking_a_type_never_imports_the_module_the_file_names(tmp_path):
    # Importing numpy.f2py.__main__ runs f2py on the process's arguments (and exits):
    # deciding whether to trust a name must not run code the file chose.
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "evil.skops").write_bytes(_skops_naming("numpy.f2py.__main__", "main"))
    (tmp_path / "d.csv").write_text("text,label\na,0\nb,1\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "ensemble_core.cli", "score", "--model", "evil.skops", "--data", "d.csv",
         "--out", "p.csv", "--no-cache"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "refused to load" in done.stderr and "numpy.f2py.__main__.main" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "evil.skops"]


@pytest.mark.parametrize(
    "module, name",
    [("sklearn.datasets._lfw", "Memory"), ("sklearn.callback._transport", "Listener")],
    ids=["joblib-Memory", "multiprocessing-Listener"],
)
def test_a_foreign_class_imported_into_sklearn_is_refused(tmp_path, module, name):
    # joblib's Memory creates a folder per call and multiprocessing's Listener binds a
    # socket; both are reachable under scikit-learn module names.
    path = tmp_path / "reexport.skops"
    path.write_bytes(_skops_naming(module, name))
    with pytest.raises(EnsembleInputError, match=rf"refused to load.*allow-list: {module}\.{name}$"):
        load_model(path)
