"""skops: the demo's three TF-IDF pipelines load under the allow-list; anything else is refused."""

from __future__ import annotations

import os
import re

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
    with pytest.raises(EnsembleInputError, match=rf"refused to load.*allow-list: {module}\.{name} \(if you"):
        load_model(path)


# --- The allow-list: every model the product makes or ships loads; nothing that touches files is on it. ---

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
DEMO_SKOPS = sorted((ROOT / "demo_data").rglob("*.skops"))


@pytest.mark.parametrize("path", DEMO_SKOPS, ids=lambda p: p.relative_to(ROOT / "demo_data").as_posix())
def test_every_bundled_demo_model_loads(path):
    assert load_skops(path) is not None


@pytest.mark.parametrize("meta", ["logistic", "gbm", "mlp"])
def test_a_saved_stacker_of_every_meta_learner_loads(tmp_path, meta):
    from ensemble_core.models.loading import load_stacker
    from ensemble_core.stacking import fit_stacker

    rng = np.random.default_rng(0)
    probas = rng.dirichlet([1, 1, 1], size=(3, 120)).astype(np.float32)
    stacker = fit_stacker(probas, rng.integers(0, 3, 120), np.array(["a", "b", "c"]), ("m1", "m2", "m3"), meta=meta)
    stacker.save(tmp_path / "meta.skops")
    np.testing.assert_allclose(load_stacker(tmp_path / "meta.skops").predict_proba(probas),
                               stacker.predict_proba(probas), rtol=1e-6)


def _families():
    """One unfitted model per family the allow-list names, and its data: (id, model, data)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA, TruncatedSVD
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
    from sklearn.ensemble import (AdaBoostClassifier, BaggingClassifier, ExtraTreesClassifier,
                                  GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier,
                                  StackingClassifier, VotingClassifier)
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
    from sklearn.feature_selection import SelectKBest, VarianceThreshold, chi2
    from sklearn.impute import KNNImputer, SimpleImputer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
    from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid, RadiusNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MaxAbsScaler, MinMaxScaler,
                                       Normalizer, OneHotEncoder, PowerTransformer, QuantileTransformer, RobustScaler,
                                       StandardScaler)
    from sklearn.svm import SVC, LinearSVC, NuSVC
    from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

    tabular = {
        "logistic": LogisticRegression(max_iter=500),
        "sgd-log": SGDClassifier(loss="log_loss", random_state=0),
        "tree": DecisionTreeClassifier(random_state=0), "extra-tree": ExtraTreeClassifier(random_state=0),
        "forest": RandomForestClassifier(n_estimators=5, random_state=0),
        "extra-trees": ExtraTreesClassifier(n_estimators=5, random_state=0),
        "gradient-boosting": GradientBoostingClassifier(n_estimators=5, random_state=0),
        "hist-gradient-boosting": HistGradientBoostingClassifier(max_iter=5, random_state=0),
        "hist-gradient-boosting-categorical": HistGradientBoostingClassifier(
            max_iter=5, categorical_features=[0], random_state=0),
        "adaboost": AdaBoostClassifier(n_estimators=5, random_state=0),
        "bagging": BaggingClassifier(n_estimators=3, random_state=0),
        "gaussian-nb": GaussianNB(), "multinomial-nb": MultinomialNB(), "complement-nb": ComplementNB(),
        "bernoulli-nb": BernoulliNB(), "categorical-nb": CategoricalNB(),
        "knn-brute": KNeighborsClassifier(algorithm="brute"), "knn-kd-tree": KNeighborsClassifier(algorithm="kd_tree"),
        "knn-ball-tree": KNeighborsClassifier(algorithm="ball_tree", p=1),
        "radius-neighbours": RadiusNeighborsClassifier(radius=5.0), "nearest-centroid": NearestCentroid(),
        "svc": SVC(probability=True, random_state=0), "nu-svc": NuSVC(probability=True, random_state=0),
        "calibrated-linear-svc": CalibratedClassifierCV(LinearSVC(), cv=3),
        "calibrated-isotonic": CalibratedClassifierCV(LinearSVC(), cv=3, method="isotonic"),
        "mlp": MLPClassifier(max_iter=50, random_state=0),
        "lda": LinearDiscriminantAnalysis(), "qda": QuadraticDiscriminantAnalysis(),
        "one-vs-rest": OneVsRestClassifier(LogisticRegression()),
        "one-vs-one": OneVsOneClassifier(LogisticRegression()),
        "voting": VotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], voting="soft"),
        "stacking": StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], cv=3),
        "scalers": make_pipeline(make_union(MinMaxScaler(), MaxAbsScaler(), RobustScaler(), Normalizer()),
                                 StandardScaler(), PCA(3), LogisticRegression()),
        "transformers": make_pipeline(SimpleImputer(), KNNImputer(), QuantileTransformer(n_quantiles=10),
                                      PowerTransformer(), KBinsDiscretizer(encode="ordinal"), TruncatedSVD(2),
                                      VarianceThreshold(), LogisticRegression()),
        "log1p-chi2": make_pipeline(FunctionTransformer(np.log1p), SelectKBest(chi2, k=2), LogisticRegression()),
    }
    for name, model in tabular.items():
        yield name, model, "iris"
    text = {
        "tfidf": make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression()),
        "counts": make_pipeline(CountVectorizer(), TfidfTransformer(), ComplementNB()),
        "hashing": make_pipeline(HashingVectorizer(n_features=64), LogisticRegression()),
        "words-and-characters": make_pipeline(
            make_union(TfidfVectorizer(), TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3))),
            LogisticRegression()),
    }
    for name, model in text.items():
        yield name, model, "texts"
    columns = make_pipeline(ColumnTransformer([("num", StandardScaler(), list("abcd")),
                                               ("cat", OneHotEncoder(), ["kind"])]), LogisticRegression())
    yield "column-transformer", columns, "frame"


def _data(kind: str):
    import pandas as pd
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    if kind == "texts":
        return ["good film", "bad film", "great movie", "awful movie", "nice", "terrible"] * 5, [1, 0, 1, 0, 1, 0] * 5
    if kind == "frame":
        return pd.DataFrame(X, columns=list("abcd")).assign(kind=["x", "y", "z"] * 50), y
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("name, model, data", list(_families()), ids=[f[0] for f in _families()])
def test_each_family_on_the_list_loads_and_predicts_as_scikit_learn(name, model, data):
    X, y = _data(data)
    model.fit(X, y)
    loaded = load_skops(f"{name}.skops", data=sio.dumps(model))
    method = "predict_proba" if hasattr(model, "predict_proba") else "decision_function"
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(model, method)(X), rtol=1e-12, atol=1e-12)


def test_a_type_outside_the_list_loads_once_allowed_by_name(monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    data = sio.dumps(make_pipeline(PolynomialFeatures(), LogisticRegression()).fit(np.eye(4), [0, 1, 0, 1]))
    name = "sklearn.preprocessing._polynomial.PolynomialFeatures"
    with pytest.raises(EnsembleInputError, match=rf"allow-list: {re.escape(name)} \(if you made this file or trust "
                                                 rf"its author, allow them by name with "
                                                 rf"ENSEMBLE_EXPLORER_TRUST_TYPES={re.escape(name)}\)$"):
        load_skops("poly.skops", data=data)
    monkeypatch.setenv("ENSEMBLE_EXPLORER_TRUST_TYPES", f"numpy.memmap, {name}")
    assert load_skops("poly.skops", data=data).predict_proba(np.eye(4)).shape == (4, 2)


def test_the_list_names_real_objects_and_nothing_that_touches_files():
    import importlib

    from ensemble_core.models import skops_types

    for name in skops_types.TYPES | skops_types.FUNCTIONS:
        module, _, attr = name.rpartition(".")
        assert getattr(importlib.import_module(module), attr) is not None, name
    assert len(skops_types.INTERNALS) == len(skops_types.INTERNAL_NAMES)  # none moved in this scikit-learn
    forbidden = {"numpy.memmap", "numpy.lib._npyio_impl.NpzFile", "numpy.lib._datasource.DataSource",
                 "numpy.load", "numpy.save", "numpy.fromfile", "numpy.loadtxt", "numpy.genfromtxt",
                 "numpy.lib._npyio_impl.load", "scipy.sparse._matrix_io.load_npz", "builtins.open", "builtins.eval",
                 "joblib.memory.Memory", "functools.reduce", "operator.methodcaller", "operator.attrgetter"}
    everything = skops_types.TYPES | skops_types.FUNCTIONS | skops_types.ARRAY_TYPES | skops_types.BIT_GENERATORS
    assert not forbidden & everything
    assert not any(name.endswith(".*") or name.count(".") == 0 for name in everything)  # names, never modules
