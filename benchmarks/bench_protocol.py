"""The paper's whole protocol through the experiment runner, with both engines.

Run it with ``python benchmarks/bench_protocol.py`` (``make bench``). It runs
``sklearn-prognet paralinguistic`` as a user would: the embedded EmoDB
features, the paper's network (Table 1, early stopping on the validation
fold), the five methods (DNN; PT/FT and ProgNet from a speaker and from a
gender source network trained inside every fold), ``--n-jobs 2``:

- ``batched``: the default engine, all ``--batched-repeats`` repeats (10: the
  paper's whole 10 x 10 protocol);
- ``per-fit``: every fit on its own, two at a time, for ``--per-fit-repeats``
  repeats (the first ones; same seed, so the same folds and random states).

Both run back to back in one process, so their ratio (seconds per repeat)
is what this machine gives, whatever else it was doing. The share of peak
divides the arithmetic of training (matrix products of every distinct
network trained, forward and backward passes on its training rows, forward
passes on its validation rows, for the epochs it ran) by the seconds and by
this machine's fp32 matrix-product rate; "workers busy" the share of the
workers' time spent training (:func:`busy`). The last table pairs the two
engines' UARs fold by fold over the per-fit repeats (corrected repeated-CV
t-test): since 0.2.0 both engines train in the same loop from the same
seeds, so the UARs are equal (up to the last digits of float sums); with
0.1.0 the per-fit engine used skorch's loop and other random streams.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from sklearn_prognet.experiments import run_paralinguistic
from sklearn_prognet.stats import corrected_repeated_cv_ttest

sys.path.insert(0, str(Path(__file__).parent))
from bench_batched import peak_gflops  # noqa: E402

# The paper's network: 88 eGeMAPS features, 4 x 256 hidden units.
WIDTHS = (88, 256, 256, 256, 256)
# Classes of the source tasks on the embedded EmoDB (10 speakers, 2 genders).
SOURCE_CLASSES = {"speaker": 10, "gender": 2}
N_EMOTIONS = 4


def _macs(n_classes, lateral=False):
    """Multiply-adds of one row through a column (and its laterals)."""
    widths = (*WIDTHS, n_classes)
    own = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    # laterals from each frozen hidden layer into the next layer and the output
    return own + (sum(WIDTHS[-1] * b for b in widths[2:]) if lateral else 0)


def training_flop(scores):
    """FLOP of the networks a run trained, each distinct source counted once.

    A step costs 6 FLOP per multiply-add and training row (forward, input and
    weight gradients) and 2 per validation row. A source network holds out a
    tenth of its rows for early stopping.
    """
    total = 0.0
    for row in scores.itertuples():
        macs = _macs(N_EMOTIONS, lateral=row.method == "prognet")
        total += row.n_epochs * macs * (6 * row.n_train + 2 * row.n_val)
    sources = scores.dropna(subset=["source"]).drop_duplicates(
        ["repeat", "fold", "source"]
    )
    for row in sources.itertuples():
        macs = _macs(SOURCE_CLASSES[row.source])
        total += row.source_n_epochs * macs * row.n_train * (6 * 0.9 + 2 * 0.1)
    return total


def busy(scores, seconds, n_jobs):
    """The share of the workers' time spent training networks.

    A fit's ``fit_time`` is its share of its stack's training time (sources
    included), so their sum is the time the workers trained; the rest of
    ``n_jobs * seconds`` is the runner's own work and workers waiting for
    the last stack of a group (the sources before the networks that use
    them, a repeat before the next).
    """
    return scores["fit_time"].sum() / (n_jobs * seconds)


def _run(folder, engine, n_repeats, n_jobs):
    start = time.perf_counter()
    result = run_paralinguistic(
        folder, n_repeats=n_repeats, engine=engine, n_jobs=n_jobs, verbose=False
    )
    return time.perf_counter() - start, result.scores


def _paired(batched, per_fit):
    """Per arm: mean UARs, their mean difference and the corrected t-test."""
    keys = ["arm", "repeat", "fold"]
    first = batched[batched["repeat"] < per_fit["repeat"].max() + 1]
    both = first.merge(per_fit, on=keys, suffixes=("_b", "_p"))
    lines = []
    for arm, rows in both.groupby("arm"):
        rows = rows.sort_values(["repeat", "fold"])
        n_repeats = rows["repeat"].nunique()
        a = rows["uar_b"].to_numpy().reshape(n_repeats, -1)
        b = rows["uar_p"].to_numpy().reshape(n_repeats, -1)
        n_test = int(rows["n_test_b"].mean())
        n_train = int(rows["n_train_b"].mean())
        test = corrected_repeated_cv_ttest(a, b, n_train=n_train, n_test=n_test)
        lines.append(
            f"| {arm} | {a.mean():.3f} | {b.mean():.3f} | "
            f"{a.mean() - b.mean():+.3f} | {test.pvalue:.2f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batched-repeats", type=int, default=10)
    parser.add_argument("--per-fit-repeats", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    print("$ python benchmarks/bench_protocol.py " + " ".join(given) + "\n")
    peak = peak_gflops()
    print(
        f"torch {torch.__version__}, {args.n_jobs} jobs; fp32 matrix-product "
        f"peak {peak:.0f} GFLOP/s (2048 x 2048)\n\nThe paralinguistic "
        "experiment on the embedded EmoDB: the paper's network and protocol "
        "(10 folds), five methods, their source networks trained in every "
        f"fold, --n-jobs {args.n_jobs}\n"
    )
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine, n_repeats in (
            ("batched", args.batched_repeats),
            ("per-fit", args.per_fit_repeats),
        ):
            seconds, scores = _run(Path(tmp) / engine, engine, n_repeats, args.n_jobs)
            runs[engine] = (seconds, n_repeats, scores)
    per_repeat = {engine: s / r for engine, (s, r, _) in runs.items()}
    print(
        "| engine | repeats | fits | minutes | minutes per repeat | ratio "
        "| GFLOP/s | share of peak | workers busy | 10 x 10 protocol (min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for engine, (seconds, n_repeats, scores) in runs.items():
        rate = training_flop(scores) / seconds / 1e9
        share = busy(scores, seconds, args.n_jobs)
        print(
            f"| {engine} | {n_repeats} | {len(scores)} | {seconds / 60:.1f} | "
            f"{per_repeat[engine] / 60:.2f} | "
            f"{per_repeat['per-fit'] / per_repeat[engine]:.2f}x | {rate:.1f} | "
            f"{100 * rate / peak:.1f} % | {100 * share:.0f} % "
            f"| {10 * per_repeat[engine] / 60:.1f} |"
        )
    n_paired = min(args.per_fit_repeats, args.batched_repeats)
    print(
        f"\nTest UAR of the first {n_paired} repeats, paired by fold "
        "(corrected repeated-CV t-test, two-sided)\n\n"
        "| arm | batched | per-fit | difference | p |\n|---|---|---|---|---|"
    )
    print("\n".join(_paired(runs["batched"][2], runs["per-fit"][2])))
    print("\nMean test UAR of the batched run, all repeats\n")
    means = runs["batched"][2].groupby("arm")["uar"].agg(["mean", "std"])
    print("| arm | UAR |\n|---|---|")
    for arm, row in means.iterrows():
        print(f"| {arm} | {row['mean']:.3f}±{row['std']:.3f} |")


if __name__ == "__main__":
    main()
