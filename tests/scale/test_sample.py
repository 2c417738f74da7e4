"""A store's stratified sample: each label's share kept, rows drawn without replacement, and the
sampled prediction rows exactly the store's rows at the rows drawn."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble_core._validation import EnsembleInputError
from ensemble_core.scale.sample import allocate, sample_store, stratified_rows


@given(st.lists(st.integers(1, 500), min_size=1, max_size=6), st.integers(1, 3000))
@settings(max_examples=200, deadline=None)
def test_allocation_sums_to_size_keeps_shares_and_every_label(counts, size):
    if size < len(counts):
        with pytest.raises(EnsembleInputError):
            allocate(counts, size)
        return
    take = allocate(counts, size)
    assert take.sum() == min(size, sum(counts))
    assert (take >= 1).all() and (take <= np.array(counts)).all()
    if size < sum(counts):  # within one row of the proportional share, but for the labels raised to one
        share = np.array(counts) * size / sum(counts)
        assert (np.abs(take - share) < 1 + (share < 1).sum()).all()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """2,000 rows with labels of 80%, 15%, 5%; two models; row groups of 128."""
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("sample")
    n = 2000
    y = rng.choice(np.array(["neg", "pos", "rare"]), size=n, p=[0.8, 0.15, 0.05])
    ids = [f"r{i}" for i in range(n)]
    pd.DataFrame({"id": ids, "label": y, "text": ["t"] * n}).to_csv(d / "labels.csv", index=False)
    files = []
    for m in range(2):
        p = rng.dirichlet(np.ones(3), size=n).astype(np.float32)
        path = d / f"m{m}.parquet"
        pq.write_table(pa.table({"id": ids, **{c: p[:, j] for j, c in enumerate(["neg", "pos", "rare"])}}), path,
                       row_group_size=128)
        files.append(path)
    return d / "labels.csv", files, y


def test_the_sample_keeps_each_label_s_share_and_the_store_s_rows(store):
    labels, files, y = store
    sample = sample_store(labels, files, 200, batch_rows=300)
    assert (sample.n_sampled, sample.n_rows) == (200, 2000)
    assert len(np.unique(sample.rows)) == 200 and (np.diff(sample.rows) > 0).all()
    counts = pd.Series(y).value_counts()
    got = pd.Series(y[sample.rows]).value_counts()
    for label in counts.index:
        assert abs(got[label] - 200 * counts[label] / 2000) < 1, label
    sampled_labels = pd.read_parquet(io.BytesIO(sample.labels))
    assert list(sampled_labels.columns) == ["id", "label"]  # only the key columns
    assert list(sampled_labels["label"]) == list(y[sample.rows])
    for path, (name, data) in zip(files, sample.predictions):
        assert name == path.name
        want = pq.read_table(path).take(pa.array(sample.rows))
        assert pq.read_table(io.BytesIO(data)).equals(want)


def test_the_draw_depends_on_the_seed_and_a_small_file_is_taken_whole(store):
    labels, _, _ = store
    a, n = stratified_rows(labels, 100, seed=0, batch_rows=300)
    b, _ = stratified_rows(labels, 100, seed=0, batch_rows=1000)
    c, _ = stratified_rows(labels, 100, seed=1, batch_rows=300)
    assert n == 2000 and np.array_equal(a, b) and not np.array_equal(a, c)
    whole, _ = stratified_rows(labels, 5000)
    assert np.array_equal(whole, np.arange(2000))


def test_a_prediction_file_of_other_rows_is_refused(store, tmp_path):
    labels, files, _ = store
    short = tmp_path / "m0.parquet"
    pq.write_table(pq.read_table(files[0]).slice(0, 1999), short)
    with pytest.raises(EnsembleInputError, match="m0.parquet: 1999 rows; labels.csv has 2000"):
        sample_store(labels, [short, files[1]], 100)
