"""The bare script ``bench_files.py`` compares ``evaluate`` with: pandas reads each file,
``Index.get_indexer`` aligns its rows to the labels file's by id, NumPy averages, and the
soft vote's accuracy is printed. No validation beyond an id that does not match.

Run: ``python benchmarks/_bare_align.py LABELS PREDICTIONS...``.
"""

import json
import sys

import numpy as np
import pandas as pd


def read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith((".parquet", ".pq")) else pd.read_csv(path)


def main(labels_path: str, *predictions: str) -> None:
    labels = read(labels_path)
    y = labels["label"].to_numpy()
    classes = np.unique(y)
    columns = [str(c) for c in classes]
    probas = np.empty((len(predictions), len(labels), len(classes)), dtype=np.float32)
    for m, path in enumerate(predictions):
        df = read(path)
        order = pd.Index(df["id"]).get_indexer(labels["id"])
        if (order < 0).any():
            raise SystemExit(f"{path}: an id of the labels file is missing")
        probas[m] = df[columns].to_numpy(dtype=np.float32)[order]
    predicted = classes[probas.mean(axis=0).argmax(axis=1)]
    print(json.dumps({"accuracy": float((predicted == y).mean())}))


if __name__ == "__main__":
    main(*sys.argv[1:])
