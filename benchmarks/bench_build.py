"""The Build lab on the digits demo: how long until the bagging and boosting curves are drawn.

Two measurements, each method at the page's default of 50 members (decision trees; AdaBoost's become stumps):

- **core**: ``growth_curve`` as the page runs it (member by member, asking whether to stop after each), the
  same curve from one fit (what a run that cannot be stopped costs), and scikit-learn's ensemble fitted once
  with the same seed (the baseline: the least any curve costs), alternating (A B C A B C …), median (min–max)
  of the repeats;
- **page**: the Build lab in Streamlit's AppTest, from the Build button's click to the curve drawn (the
  background training waited for, then the page run that draws it), finished-curve cache emptied first.

Run: ``python benchmarks/bench_build.py [--repeats 3] [--busy]`` from the repository root.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _timing import alternate, busy, conditions

from ensemble_core.build.features import content_features
from ensemble_core.build.lab import growth_curve, make_ensemble
from ensemble_core.demo import DEMOS
from ensemble_core.io import LabelsFile

APP = Path(__file__).resolve().parents[1] / "app.py"
METHODS = ("bagging", "adaboost")
MEMBERS = 50


def core(repeats: int) -> None:
    spec = DEMOS["digits"]
    test = LabelsFile(spec.split_labels_path("test"))
    train = LabelsFile(spec.split_labels_path("train"), classes=test.classes)
    f = content_features(train.content, test.content)
    print(f"digits: {len(train.y_true):,} training rows, {len(test.y_true):,} held out, {MEMBERS} members")
    print("| method | curve, member by member (page) | curve, one fit | scikit-learn fit alone | page / one fit | "
          "page / fit |\n|---|---|---|---|---|---|")
    for method in METHODS:
        t = alternate({
            "curve": lambda: growth_curve(method, f.train, train.y_true, f.test, test.y_true, n_members=MEMBERS,
                                          should_stop=lambda k: False),
            "one fit": lambda: growth_curve(method, f.train, train.y_true, f.test, test.y_true, n_members=MEMBERS),
            "fit": lambda: make_ensemble(method, "tree", MEMBERS).fit(f.train, train.y_true),
        }, repeats, warmup=1)
        print(f"| {method} | {t['curve'].describe()} | {t['one fit'].describe()} | {t['fit'].describe()} | "
              f"{t['curve'].median / t['one fit'].median:.2f}× | {t['curve'].median / t['fit'].median:.2f}× |")


def page(repeats: int) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboard import build
    from dashboard import keys as K
    from dashboard.navigation import BUILD_LAB

    print("| method | Build clicked → curve drawn (s) |\n|---|---|")
    for method in METHODS:
        seconds = []
        for _ in range(repeats):
            at = AppTest.from_file(str(APP), default_timeout=120)
            at.query_params["data"] = "digits"
            at.run()
            at.switch_page(BUILD_LAB.path).run()
            at.selectbox(key="lab_method").set_value(method)
            at.slider(key="lab_members").set_value(MEMBERS).run()
            build._finished.clear()
            started = time.perf_counter()
            at.button(key="lab_build").click().run()
            at.session_state[K.LAB_JOB].wait()
            at.run()
            seconds.append(time.perf_counter() - started)
            assert not at.exception and any(m.label == "Held-out accuracy" for m in at.metric)
        print(f"| {method} | {min(seconds):.2f} – {max(seconds):.2f} (median {sorted(seconds)[len(seconds) // 2]:.2f}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="a CPU-bound neighbour on every core")
    args = parser.parse_args()
    with busy(args.busy):
        print(conditions(args.busy))
        core(args.repeats)
        page(args.repeats)
        print(conditions(args.busy))


if __name__ == "__main__":
    main()
