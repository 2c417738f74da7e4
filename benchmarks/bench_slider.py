"""Slider latency of the dashboard in a real Chromium: key press on a focused weight
slider -> the Ensemble page's accuracy text changes (with ``--lm``: the LM fusion page's
fused perplexity, on the demo's two language models).

Three data sets: the bundled sentiment and digits demos, and a generated one of
100,000 examples x 10 models x 10 classes, written as prediction files to a temporary folder and read
through the app's own-data path ("Files on this machine" on Data & models).

Each move presses End or Home on the focused slider, alternately (weight 3 <-> 0):
such a move always changes the shown accuracy, whereas a single arrow step can leave
it unchanged and then there is no update to time. The time is taken in the browser:
from the keydown event to the first DOM mutation that shows a new accuracy text.

On the LM fusion page (``--lm``: the demo's fresh and rotten models score the first
``--lm-tokens`` tokens of the sentiment test reviews, copied under the server's root) the
fresh weight moves by one slider step, right then left (1.0 <-> 1.1, rotten at 1.0): an
End/Home move would reach weight 0, one model alone, which the page computes without a pass.
Both pools.

Usage (from the repository root; needs Chromium, see README):

    python benchmarks/bench_slider.py [--moves 20] [--rows 100000] [--models 10] [--lm [--lm-only] [--lm-tokens 2000]]

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
    .find(e => e.innerText.startsWith('LABEL'));
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


def time_moves(page, slider_label: str, moves: int, pid: int, metric: str = "Ensemble accuracy",
               keys: tuple[str, str] = ("End", "Home")) -> tuple[list[float], list[float]]:
    """Latencies in ms of ``moves`` presses of ``keys`` (alternately) on the named weight slider,
    until the text of the metric labelled ``metric`` changes, and the server's CPU time per move
    (from the key press until the app is idle again: the whole fragment rerun, not only the part
    before the number shows). The CPU time hardly depends on what else the machine runs; the
    latency does."""
    metric_js = METRIC_JS.replace("LABEL", metric)
    page.wait_for_function(metric_js, timeout=600_000)
    settle(page)
    page.evaluate(INSTALL_JS, metric_js)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text=slider_label).get_by_role("slider")
    thumb.focus()
    out, cpu = [], []
    for i in range(moves + 2):  # the first two warm up (first render of each state)
        before = server_cpu_ms(pid)
        page.keyboard.press(keys[i % 2])
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
    parser.add_argument("--lm", action="store_true", help="also the LM fusion page on the demo's language models")
    parser.add_argument("--lm-only", action="store_true", help="only the LM fusion page")
    parser.add_argument("--lm-tokens", type=int, default=2000, help="tokens the LM page scores (its default: 2,000)")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        if not args.lm_only:
            labels, preds = write_large_set(Path(tmp), args.rows, args.models, args.classes)
            print(f"wrote {args.rows:,} x {args.models} models x {args.classes} classes in "
                  f"{time.perf_counter() - t:.1f} s")
        if args.lm or args.lm_only:
            for name in ("fresh", "rotten"):
                shutil.copytree(ROOT / "demo_data" / "lm" / name, Path(tmp) / name)
            shutil.copy(ROOT / "demo_data" / "sentiment" / "test.csv", Path(tmp) / "reviews.csv")
        proc, url = start_server(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                if args.lm or args.lm_only:
                    results.extend(time_lm_page(browser, url, args.moves, args.lm_tokens, proc.pid))
                if args.lm_only:
                    browser.close()
                    return _print(results, args.moves)
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
    _print(results, args.moves)


def time_lm_page(browser, url: str, moves: int, tokens: int, pid: int) -> list[tuple]:
    """The LM fusion page scores the demo's text with the demo's two models, then each pool is timed."""
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{url}/LM_fusion")
    settle(page)
    page.get_by_role("textbox", name="Model directories, one per line").fill("fresh\nrotten")
    page.get_by_role("textbox", name="Evaluation text").fill("reviews.csv")
    page.get_by_role("textbox", name="Text column").fill("text")
    page.get_by_role("spinbutton", name="Tokens at most").fill(str(tokens))
    t = time.perf_counter()
    page.get_by_role("button", name="Score").click()
    page.get_by_text("tokens scored").wait_for(timeout=600_000)
    settle(page)
    print(f"LM page: models loaded and {tokens:,} tokens scored in {time.perf_counter() - t:.1f} s")
    out = []
    for pool, label in (("linear", "Linear pool (mixture)"), ("loglinear", "Log-linear pool (product of experts)")):
        page.get_by_text(label, exact=True).click()
        settle(page)
        out.append((f"LM fusion, demo, {pool} ({tokens:,} tokens x 2 models x 1,000 words)", 200,
                    *time_moves(page, "fresh", moves, pid, "Fused perplexity", ("ArrowRight", "ArrowLeft"))))
    page.close()
    return out


def _print(results, moves: int) -> None:
    print(f"\nslider move -> updated number, {moves} moves each "
          f"({platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'data':<64} {'median ms':>10} {'p90 ms':>8} {'min':>7} {'max':>7} {'target':>7}  ok"
          f"  {'server CPU ms/move (median)':>28}")
    for name, target, lat, cpu in results:
        med = statistics.median(lat)
        p90 = float(np.percentile(lat, 90))
        print(f"{name:<64} {med:>10.0f} {p90:>8.0f} {min(lat):>7.0f} {max(lat):>7.0f} {target:>7}  "
              f"{'yes' if med <= target else 'NO '} {statistics.median(cpu):>28.0f}")


if __name__ == "__main__":
    main()
