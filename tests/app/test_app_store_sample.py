"""AppTest: a store over the memory budget opens in the explorer on a stratified sample, its size
shown, and the streamed button still gives every row's numbers; under the budget it opens whole."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard.navigation import ENSEMBLE, PREDICTION_STORE
from ensemble_core import EnsembleEvaluator, load_prediction_set

pytestmark = pytest.mark.xdist_group("app")

N, CLASSES = 1000, ["neg", "pos", "rare"]


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A store of two models over 1,000 rows (labels 70%, 25%, 5%) written directly."""
    rng = np.random.default_rng(11)
    y = rng.choice(np.array(CLASSES), size=N, p=[0.7, 0.25, 0.05])
    ids = [f"r{i}" for i in range(N)]
    pd.DataFrame({"id": ids, "label": y}).to_csv(tmp_path / "test.csv", index=False)
    (tmp_path / "store").mkdir()
    for m in ("lr", "nb"):
        logits = rng.normal(size=(N, 3))
        logits[np.arange(N), pd.Categorical(y, CLASSES).codes] += 1.5
        p = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
        pq.write_table(pa.table({"id": ids, **{c: p[:, j] for j, c in enumerate(CLASSES)}}),
                       tmp_path / "store" / f"{m}.parquet", row_group_size=100)
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    monkeypatch.setenv("ENSEMBLE_EXPLORER_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _button(at, start):
    return next(b for b in at.button if b.label.startswith(start))


def _store_page(run_page, budget_mb):
    at = run_page(PREDICTION_STORE.path)
    at.text_input(key="w_store_labels").input("test.csv")
    return at.number_input(key="w_store_budget_mb").set_value(budget_mb).run()


def test_a_store_over_the_budget_opens_on_a_stratified_sample(run_page, root):
    # 1,000 rows x 2 models x 3 classes x 4 bytes = 24,000 bytes; 0.0048 MB holds 200 rows.
    at = _store_page(run_page, 0.0048)
    assert not at.exception and not at.error
    assert any("stratified sample of 200 of 1,000 examples" in c.value for c in at.caption)
    at = _button(at, "Open a sample in the explorer").click().run(timeout=60)
    assert not at.exception and not at.error
    assert at.title[0].value == ENSEMBLE.title
    assert "A stratified sample (by label): 200 of 1,000 examples" in at.success[0].value
    source = at.session_state["source"]
    assert source.title.startswith("Sample of 200 of 1,000 examples") and source.model_names == ("lr", "nb")
    from dashboard.caches import prediction_set

    pset = prediction_set(source)
    full = pd.read_csv(root / "test.csv")
    counts, got = full["label"].value_counts(), pd.Series(pset.classes[pset.y_true]).value_counts()
    assert pset.n_samples == 200 and all(abs(got[c] - counts[c] / 5) < 1 for c in CLASSES)
    # The sampled rows are the store's rows with those ids.
    store = pd.read_parquet(root / "store" / "lr.parquet").set_index("id").loc[list(pset.ids)]
    np.testing.assert_array_equal(pset.probas[0], store[CLASSES].to_numpy())


def test_over_the_budget_the_streamed_numbers_are_every_row_s(run_page, root):
    at = _store_page(run_page, 0.0048)
    at = _button(at, "Exact numbers, streamed").click().run(timeout=60)
    assert not at.exception and not at.error
    numbers = at.dataframe[-1].value
    evaluator = EnsembleEvaluator(load_prediction_set(root / "test.csv", [root / "store" / f"{m}.parquet"
                                                                          for m in ("lr", "nb")]))
    assert numbers["accuracy"].iloc[-1] == evaluator.evaluate("soft").metrics.accuracy
    assert any(c.value.startswith("1,000 examples") for c in at.caption)


def test_a_store_under_the_budget_opens_whole(run_page, root):
    at = _store_page(run_page, 0.024)
    assert not any("stratified sample" in c.value for c in at.caption)
    at = _button(at, "Open in the explorer").click().run(timeout=60)
    assert not at.exception and not at.error
    assert not at.session_state["source"].title.startswith("Sample")
    from dashboard.caches import prediction_set

    assert prediction_set(at.session_state["source"]).n_samples == N
