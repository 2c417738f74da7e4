"""Slider latency of the dashboard in a real Chromium: key press on a focused weight
slider -> the Ensemble page's accuracy text changes.

Three data sets: the bundled sentiment and digits demos, and a generated one of
100,000 examples x 10 models x 10 classes, written as prediction files to a temporary folder and read
through the app's own-data path ("Files on this machine" on Data & models).

Each move presses End or Home on the focused slider, alternately (weight 3 <-> 0):
such a move always changes the shown accuracy, whereas a single arrow step can leave
it unchanged and then there is no update to time. The time is taken in the browser:
from the keydown event to the first DOM mutation that shows a new accuracy text.

Usage (from the repository root; needs Chromium, see README):

    python benchmarks/bench_slider.py [--moves 20] [--rows 100000] [--models 10]

Not part of the tests. Results go in BENCHMARKS.md ("Dashboard").
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ensemble_core import write_predictions  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
METRIC_JS = """() => {
  const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .find(e => e.innerText.startsWith('Ensemble accuracy'));
  return m ? m.querySelector('[data-testid="stMetricValue"]').innerText : null;
}"""
INSTALL_JS = """(metricJs) => {
  const read = eval(metricJs);
  window.__bench = {t0: 0, t1: 0, prev: read()};
  document.addEventListener('keydown', () => { window.__bench.t0 = performance.now(); window.__bench.t1 = 0; }, true);
  new MutationObserver(() => {
    const b = window.__bench;
    if (b.t0 && !b.t1) { const now = read(); if (now !== null && now !== b.prev) { b.t1 = performance.now(); b.prev = now; } }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def write_large_set(folder: Path, n: int, n_models: int, n_classes: int, seed: int = 0) -> tuple[Path, Path]:
    """Labels and one prediction file per model, models of varied skill."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    classes = np.array([f"c{k}" for k in range(n_classes)])
    import pandas as pd

    pd.DataFrame({"id": np.arange(n), "label": classes[y]}).to_csv(folder / "labels.csv", index=False)
    preds = folder / "predictions"
    for m in range(n_models):
        logits = rng.normal(size=(n, n_classes)).astype(np.float32)
        logits[np.arange(n), y] += 0.6 + 0.25 * m
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        write_predictions(preds / f"model_{m}.csv", classes, probas=p, ids=np.arange(n))
    return folder / "labels.csv", preds


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    """The app on a free local port, allowed to read files under ``root`` (the generated set)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1", "--server.port",
         str(port), "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", "ENSEMBLE_EXPLORER_ROOT": str(root)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def settle(page) -> None:
    page.wait_for_selector('[data-testid="stMain"]')
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=600_000)


def server_cpu_ms(pid: int) -> float:
    """CPU time (user + system, every thread) the server process has used, in ms (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def time_moves(page, slider_label: str, moves: int, pid: int) -> tuple[list[float], list[float]]:
    """Latencies in ms of ``moves`` End/Home presses on the named weight slider, and the
    server's CPU time per move (from the key press until the app is idle again: the whole
    fragment rerun, not only the part before the accuracy shows). The CPU time hardly
    depends on what else the machine runs; the latency does."""
    page.wait_for_function(METRIC_JS, timeout=600_000)
    settle(page)
    page.evaluate(INSTALL_JS, METRIC_JS)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text=slider_label).get_by_role("slider")
    thumb.focus()
    out, cpu = [], []
    for i in range(moves + 2):  # the first two warm up (first render of each state)
        before = server_cpu_ms(pid)
        page.keyboard.press("End" if i % 2 == 0 else "Home")
        page.wait_for_function("() => window.__bench.t1 > 0", timeout=60_000)
        latency = page.evaluate("() => window.__bench.t1 - window.__bench.t0")
        settle(page)
        time.sleep(0.5)
        if i >= 2:
            out.append(latency)
            cpu.append(server_cpu_ms(pid) - before)
    return out, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        labels, preds = write_large_set(Path(tmp), args.rows, args.models, args.classes)
        print(f"wrote {args.rows:,} x {args.models} models x {args.classes} classes in {time.perf_counter() - t:.1f} s")
        proc, url = start_server(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                for demo, size, slider in [("sentiment", "3,827 x 5 models x 2 classes", "tfidf_forest"),
                                           ("digits", "540 x 5 models x 10 classes", "naive_bayes")]:
                    page = browser.new_page(viewport={"width": 1400, "height": 1400})
                    page.goto(f"{url}/Ensemble?data={demo}")
                    results.append((f"{demo} demo ({size})", 200, *time_moves(page, slider, args.moves, proc.pid)))

                page = browser.new_page(viewport={"width": 1400, "height": 1400})
                page.goto(f"{url}/Data_and_models")
                settle(page)
                page.get_by_role("tab", name="Files on this machine").click()
                page.get_by_label("Labels file path").fill(str(labels))
                page.get_by_label("Folder of prediction files").fill(str(preds))
                t = time.perf_counter()
                page.get_by_role("button", name="Read these files").click()
                page.get_by_text(f"Loaded {args.rows:,} examples").wait_for(timeout=600_000)
                print(f"loaded through the app in {time.perf_counter() - t:.1f} s")
                page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Ensemble").click()
                results.append((f"generated ({args.rows:,} x {args.models} models x {args.classes} classes)", 500,
                                *time_moves(page, f"model_{args.models - 1}", args.moves, proc.pid)))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"\nslider move -> updated accuracy text, {args.moves} moves each "
          f"({platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'data':<48} {'median ms':>10} {'p90 ms':>8} {'min':>7} {'max':>7} {'target':>7}  ok"
          f"  {'server CPU ms/move (median)':>28}")
    for name, target, lat, cpu in results:
        med = statistics.median(lat)
        p90 = float(np.percentile(lat, 90))
        print(f"{name:<48} {med:>10.0f} {p90:>8.0f} {min(lat):>7.0f} {max(lat):>7.0f} {target:>7}  "
              f"{'yes' if med <= target else 'NO '} {statistics.median(cpu):>28.0f}")


if __name__ == "__main__":
    main()
