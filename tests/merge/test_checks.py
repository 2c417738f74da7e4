"""What cannot be merged is refused in one line naming the first mismatch."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from ensemble_core._validation import EnsembleInputError
from ensemble_core.merge.checks import read_merge_input, read_merge_inputs

INTERMEDIATE = "bert.encoder.layer.0.intermediate.dense.weight"


def _copy(src, dst, *, config=None, tensors=None):
    shutil.copytree(src, dst)
    if config is not None:
        data = json.loads((dst / "config.json").read_text())
        config(data)
        (dst / "config.json").write_text(json.dumps(data))
    if tensors is not None:
        values = load_file(dst / "model.safetensors")
        tensors(values)
        save_file(values, dst / "model.safetensors", metadata={"format": "pt"})
    return dst


def _swap_labels(c):
    c["id2label"] = {"0": "rotten", "1": "fresh"}
    c["label2id"] = {"rotten": 0, "fresh": 1}


@pytest.fixture(scope="module")
def bad(tiny_models, tmp_path_factory):
    """Variants of model ``a`` that must not merge with it."""
    root = tmp_path_factory.mktemp("bad")
    a = tiny_models["a"]
    pickled = _copy(a, root / "pickled")
    (pickled / "model.safetensors").unlink()
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    return {
        "heads": _copy(a, root / "heads", config=lambda c: c.update(num_attention_heads=4)),
        "type": _copy(a, root / "type", config=lambda c: c.update(model_type="roberta")),
        "labels": _copy(a, root / "labels", config=_swap_labels),
        "shape": _copy(a, root / "shape", tensors=lambda t: t.update({INTERMEDIATE: t[INTERMEDIATE][:48]})),
        "dtype": _copy(a, root / "dtype",
                       tensors=lambda t: t.update({INTERMEDIATE: t[INTERMEDIATE].astype(np.float16)})),
        "missing": _copy(a, root / "missing", tensors=lambda t: t.pop(INTERMEDIATE)),
        "remote": _copy(a, root / "remote", config=lambda c: c.update(auto_map={"AutoModel": "x.Model"})),
        "pickled": pickled,
    }


def test_fine_tunes_of_one_and_of_another_initialisation_all_merge(tiny_models):
    inputs = read_merge_inputs([tiny_models[k] for k in ("a", "b", "c")], base=tiny_models["base"])
    assert [m.folder for m in inputs] == [tiny_models[k] for k in ("a", "b", "c", "base")]
    assert inputs[0].classes == ("fresh", "rotten")
    info = inputs[0].tensors[INTERMEDIATE]
    assert (info.shape, info.dtype, info.floating) == ((64, 32), "F32", True)


@pytest.mark.parametrize(("variant", "message"), [
    ("heads", "different architectures: config num_attention_heads is 2 and 4"),
    ("type", "different architectures: config model_type is 'bert' and 'roberta'"),
    ("labels", r"different label maps: id2label\[0\] is 'fresh' and 'rotten'"),
    ("shape", f"tensor '{INTERMEDIATE}' has shape \\[64, 32\\] and \\[48, 32\\]"),
    ("dtype", f"tensor '{INTERMEDIATE}' has dtype F32 and F16"),
    ("missing", f"has no tensor '{INTERMEDIATE}'"),
    ("remote", "auto_map names code"),
    ("pickled", "refused to load pytorch_model.bin"),
])
def test_mismatches_are_refused_naming_the_first(tiny_models, bad, variant, message):
    with pytest.raises(EnsembleInputError, match=message) as caught:
        read_merge_inputs([tiny_models["a"], bad[variant]])
    assert "\n" not in str(caught.value)


def test_an_extra_tensor_is_named(tiny_models, bad):
    with pytest.raises(EnsembleInputError, match=f"has a tensor '{INTERMEDIATE}' that"):
        read_merge_inputs([bad["missing"], tiny_models["a"]])


def test_one_model_or_the_same_twice_is_refused(tiny_models):
    with pytest.raises(EnsembleInputError, match="at least two models"):
        read_merge_inputs([tiny_models["a"]])
    with pytest.raises(EnsembleInputError, match="given twice"):
        read_merge_inputs([tiny_models["a"], tiny_models["a"]])


def test_a_missing_directory_and_a_broken_weights_file(tmp_path, tiny_models):
    with pytest.raises(EnsembleInputError, match="no such model directory"):
        read_merge_input(tmp_path / "nothing")
    broken = _copy(tiny_models["a"], tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(EnsembleInputError, match="not a readable safetensors file"):
        read_merge_input(broken)
