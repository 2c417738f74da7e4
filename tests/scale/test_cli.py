"""``score`` with several models or ``--engine ray``: a store evaluate reads; joining a Ray cluster."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ensemble_core.cli import main

from .conftest import ROOT


def _score(capsys, *argv):
    status = main(["score", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _models(text_pipelines, *names):
    return [x for n in names for x in ("--model", text_pipelines[n][1])]


def test_several_models_write_a_store_that_evaluate_reads(capsys, data_files, text_pipelines, tmp_path):
    store = tmp_path / "store"
    status, out, _ = _score(capsys, *_models(text_pipelines, "tfidf_lr", "tfidf_cnb"),
                            "--data", data_files / "reviews.csv", "--out", store, "--shard-rows", "10")
    assert status == 0, out
    assert "tfidf_lr: 24 rows, scored 3 of 3 shards; wrote" in out
    assert "2 models, 24 rows on the local engine" in out
    # evaluate on the store equals evaluate on files scored one at a time.
    singles = []
    for name in ("tfidf_lr", "tfidf_cnb"):
        singles.append(tmp_path / f"{name}.parquet")
        assert _score(capsys, "--model", text_pipelines[name][1], "--data", data_files / "reviews.csv",
                      "--out", singles[-1], "--no-cache")[0] == 0
    assert main(["evaluate", "--labels", str(data_files / "reviews.csv"), "--predictions",
                 *map(str, sorted(store.glob("*.parquet"))), "--json"]) == 0
    from_store = capsys.readouterr().out
    assert main(["evaluate", "--labels", str(data_files / "reviews.csv"), "--predictions",
                 *map(str, sorted(singles)), "--json"]) == 0
    assert from_store == capsys.readouterr().out


def test_a_rerun_of_a_finished_store_scores_nothing(capsys, data_files, text_pipelines, tmp_path):
    argv = [*_models(text_pipelines, "tfidf_lr", "tfidf_cnb"), "--data", data_files / "reviews.csv",
            "--out", tmp_path, "--shard-rows", "10"]
    assert _score(capsys, *argv)[0] == 0
    status, out, _ = _score(capsys, *argv)
    assert status == 0 and "scored 0 of 3 shards (3 done by an earlier run)" in out


@pytest.mark.parametrize("extra, match", [
    (["--name", "x"], "--name names one model"),
    (["--out", "store.parquet"], "write a prediction store: give a folder"),
    (["--address", "auto"], "--address is for --engine ray"),
    (["--workers", "2"], "--workers is for --engine ray"),
    (["--shard-rows", "0"], "--shard-rows must be at least 1"),
])
def test_bad_store_arguments_exit_2_with_one_line(capsys, data_files, text_pipelines, tmp_path, extra, match):
    argv = [*_models(text_pipelines, "tfidf_lr", "tfidf_cnb"), "--data", data_files / "reviews.csv"]
    if "--out" not in extra:
        argv += ["--out", tmp_path / "store"]
    status, _, err = _score(capsys, *argv, *extra)
    assert status == 2 and match in err and err.count("\n") == 1


def test_shard_rows_is_for_a_store(capsys, data_files, text_pipelines, tmp_path):
    status, _, err = _score(capsys, *_models(text_pipelines, "tfidf_lr"), "--data", data_files / "reviews.csv",
                            "--out", tmp_path / "a.csv", "--shard-rows", "5")
    assert status == 2 and "--shard-rows is for a prediction store" in err


_LOADED = """
import sys
{body}
print("ray" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize("body", [
    "import ensemble_core",
    "from ensemble_core.cli import main\ntry:\n    main(['score', '--help'])\nexcept SystemExit:\n    pass",
    "from ensemble_core.cli import main\ntry:\n    main(['evaluate', '--help'])\nexcept SystemExit:\n    pass",
], ids=["import", "score-help", "evaluate-help"])
def test_nothing_imports_ray_unless_the_ray_engine_runs(body):
    proc = subprocess.run([sys.executable, "-c", _LOADED.format(body=body)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "False"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A one-CPU Ray head on 127.0.0.1 started with ``ray start --head --block``: (its address,
    the environment a client needs: this checkout on PYTHONPATH, the head's auth token).

    Stopped by signalling the process this fixture started (``--block`` makes it stop the
    Ray processes it launched), not by ``ray stop``, which would stop every Ray on the machine."""
    pytest.importorskip("ray")
    port = _free_port()
    # Ray's token authentication, with a token of this test's own (not ~/.ray/auth_token).
    env = {**os.environ, "PYTHONPATH": ROOT, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    ray_bin = Path(sys.executable).with_name("ray")
    log = open(tmp_path_factory.mktemp("ray_head") / "head.log", "w")
    proc = subprocess.Popen(
        [str(ray_bin), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
         "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"ray start exited with {proc.returncode}; see {log.name}"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, f"the Ray head did not listen on {port} in 120 s"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything of this head's left behind
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()


@pytest.mark.slow
def test_ray_engine_joins_a_cluster_and_writes_the_local_engines_store(ray_cluster, capsys, data_files,
                                                                       text_pipelines, tmp_path):
    address, env = ray_cluster
    models = _models(text_pipelines, "tfidf_lr", "tfidf_rf")
    data = data_files / "reviews.csv"
    assert _score(capsys, *models, "--data", data, "--out", tmp_path / "local", "--shard-rows", "10")[0] == 0
    proc = subprocess.run(
        [sys.executable, "-m", "ensemble_core.cli", "score", "--engine", "ray", "--address", address,
         *map(str, models), "--data", str(data), "--out", str(tmp_path / "ray"), "--shard-rows", "10"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 models, 24 rows on the ray engine" in proc.stdout
    for name in ("tfidf_lr", "tfidf_rf"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ray" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "local" / f"{name}.parquet"))
