"""Tests of the multi-corpus experiment: leakage, report numbers, CLI, resume.

The corpora are disjoint groups of EmoDB speakers saved as feature tables
with different corpus names; the networks are tiny (one hidden layer of 8
units, 3 epochs), so that a run takes a few seconds.
"""

import json
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.preprocessing import StandardScaler

from sklearn_prognet.experiments import (
    ExperimentInputError,
    load_corpus,
    render_report,
    run_multi_corpus,
)
from sklearn_prognet.experiments._fits import FitData, FitTask, run_fit
from sklearn_prognet.experiments._inputs import corpus_to_frame
from sklearn_prognet.experiments._multi_corpus import (
    JointNetworks,
    own_scaled,
    pooled_source_corpus,
)
from sklearn_prognet.experiments._stats import mcnemar_by_repeat
from sklearn_prognet.experiments.cli import main

TINY = {"hidden_layer_sizes": (8,), "max_epochs": 3, "patience": 3}
QUIET = {"verbose": False, "progress": False}
SPEAKERS = {"a": ["03", "08", "09"], "b": ["10", "11", "13", "14"], "c": ["12", "15"]}
FIXTURE = os.path.join(os.path.dirname(__file__), "data", "results_multi_corpus")


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Three feature tables of disjoint EmoDB speakers, named a, b and c."""
    emodb = load_corpus("emodb")
    folder = tmp_path_factory.mktemp("corpora")
    paths = {}
    for name, speakers in SPEAKERS.items():
        frame = corpus_to_frame(emodb.select(np.isin(emodb.speaker, speakers)))
        frame["corpus"] = name
        paths[name] = str(folder / f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tables):
    """One tiny run on the three tables (fit once, never refit: it is shared)."""
    out = tmp_path_factory.mktemp("runs") / "multi"
    params = {"n_splits": 3, "n_repeats": 1, "network": TINY, **QUIET}
    corpora = [tables[n] for n in "abc"]
    return out, run_multi_corpus(out, corpora, **params), (corpora, params)


def _records(folder):
    lines = (folder / "fits.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_tiny_run_writes_report_plots_and_resumes(tiny_run):
    out, result, (corpora, params) = tiny_run
    fits = result.scores[result.scores["method"] != "source"]
    # 3 targets x 1 training size (3 folds: 1 training fold) x 5 methods x 3
    assert len(fits) == 3 * 5 * 3
    assert set(fits["method"]) == {"dnn", "ptft", "prognet", "adapter", "multicorpus"}
    assert (fits["n_trainable_params"] > 0).all()
    assert (result.scores["method"] == "source").sum() == 3
    text = result.report.read_text()
    for target in "abc":
        assert f"## Target: {target}" in text
        assert (out / f"source_model_{target}.joblib").exists()
        assert (out / f"multi_corpus_{target}.png").stat().st_size > 10_000
        assert (out / f"params_{target}.png").stat().st_size > 10_000
    assert "| Adapters vs ProgNet |" in text and "McNemar" in text
    # resuming runs nothing again and trains no source network again
    before = (out / "fits.jsonl").read_bytes()
    run_multi_corpus(out, corpora, **params)
    assert (out / "fits.jsonl").read_bytes() == before


def test_resume_after_lost_lines_recomputes_only_those(tmp_path, tiny_run):
    out, _, (corpora, params) = tiny_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    os.unlink(copy / ".lock") if (copy / ".lock").exists() else None
    records = _records(copy)
    lost = {records[0]["key"], records[10]["key"]}  # a source and a fit
    kept = [r for r in records if r["key"] not in lost]
    (copy / "fits.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    run_multi_corpus(copy, corpora, **params)
    again = _records(copy)
    assert {r["key"] for r in again} == {r["key"] for r in records}
    assert [r for r in again if r["key"] not in lost] == kept


def test_source_networks_never_see_their_target(tiny_run):
    out, result, _ = tiny_run
    sizes = {c["name"]: c["n_samples"] for c in result.config["config"]["corpora"]}
    sources = [r for r in _records(out) if r["method"] == "source"]
    assert sorted(r["target"] for r in sources) == ["a", "b", "c"]
    for r in sources:
        others = {n: s for n, s in sizes.items() if n != r["target"]}
        assert r["n_train_by_corpus"] == others
        assert r["n_train"] == sum(others.values())
        assert r["source"] == "+".join(others)


def test_multi_corpus_network_sees_target_training_folds_only(tiny_run):
    out, result, _ = tiny_run
    sizes = {c["name"]: c["n_samples"] for c in result.config["config"]["corpora"]}
    joint = [r for r in _records(out) if r["method"] == "multicorpus"]
    assert len(joint) == 9
    for r in joint:
        target = r["target"]
        expected = {n: s for n, s in sizes.items() if n != target}
        expected[target] = r["n_train"]  # the target's training folds only
        assert r["n_train_by_corpus"] == expected
        assert r["n_train_joint"] == sum(expected.values())
        assert r["n_train"] + r["n_val"] + r["n_test"] == sizes[target]


def test_pooled_source_holds_the_other_corpora_only(tables):
    corpora = [load_corpus(tables[n]) for n in "abc"]
    pooled = pooled_source_corpus(corpora, "b")
    assert pooled.name == "a+c"
    assert pooled.n_samples == corpora[0].n_samples + corpora[2].n_samples
    assert {s.split(":")[0] for s in pooled.speaker} == {"a", "c"}
    # each corpus normalised on its own rows
    a_rows = pooled.X[: corpora[0].n_samples]
    np.testing.assert_allclose(a_rows.mean(axis=0), 0, atol=1e-9)
    expected = StandardScaler().fit_transform(corpora[0].X)
    np.testing.assert_allclose(a_rows, expected, atol=1e-9)


@pytest.mark.parametrize("engine", ["per-fit", "batched"])
@pytest.mark.parametrize("validation", ["pooled", "target"])
def test_joint_fit_gets_exactly_the_target_rows(
    tables, monkeypatch, validation, engine
):
    # The target's training rows, scaled on themselves, beside all of the
    # other corpus's. Early stopping data: pooled, no X_val (the classifier
    # holds out 10% of its rows); target, exactly the target's validation
    # fold, scaled on the training rows, as the other methods stop on it.
    from sklearn_prognet import MultiCorpusClassifier
    from sklearn_prognet.experiments._engine import batchable, fit_tasks_batched

    corpora = [load_corpus(tables[n]) for n in "ab"]
    X = np.vstack([c.X for c in corpora])
    y = np.concatenate([c.emotion for c in corpora])
    corpus_of_row = np.repeat(["a", "b"], [c.n_samples for c in corpora])
    seen = {}
    original = MultiCorpusClassifier._prepare_fit  # what both engines call

    def spy(self, X, y, groups=None, X_val=None, y_val=None):
        seen.update(X=X.copy(), X_val=X_val, y_val=y_val)
        return original(self, X, y, groups, X_val, y_val)

    monkeypatch.setattr(MultiCorpusClassifier, "_prepare_fit", spy)
    offset = corpora[0].n_samples
    train, val_rows = offset + np.arange(0, 60), offset + np.arange(60, 75)
    task = FitTask(
        key="b/t1/r00/f00/multicorpus", method="multicorpus", repeat=0, fold=0,
        n_train_folds=1, train=train, validation=val_rows,
        test=offset + np.arange(75, corpora[1].n_samples), random_state=0,
        source_corpus="a", target="b",
    )  # fmt: skip
    networks = JointNetworks(own_scaled(X, corpus_of_row), y, corpus_of_row, validation)
    data = FitData(
        X=X, y=y, network={**TINY, "device": "cpu"}, networks=networks,
        record_predictions=True,
    )  # fmt: skip
    if engine == "per-fit":
        record = run_fit(task, data)
    else:
        together, built, _ = batchable([task], data)
        (record,) = fit_tasks_batched(together, data, built)
    frame = seen["X"]
    target_rows = frame[frame["corpus"] == "b"].drop(columns="corpus").to_numpy()
    expected = StandardScaler().fit_transform(X[train])
    np.testing.assert_allclose(target_rows, expected, atol=1e-6)
    assert (frame["corpus"] == "a").sum() == corpora[0].n_samples
    assert record["test_index"] == task.test.tolist()
    assert len(record["test_correct"]) == len(task.test)
    if validation == "pooled":
        assert seen["X_val"] is None and seen["y_val"] is None
        return
    assert (seen["X_val"]["corpus"] == "b").all()
    expected = StandardScaler().fit(X[train]).transform(X[val_rows])
    np.testing.assert_allclose(
        seen["X_val"].drop(columns="corpus").to_numpy(), expected, atol=1e-6
    )
    np.testing.assert_array_equal(seen["y_val"], y[val_rows])


def test_a_run_saved_before_joint_validation_resumes(tmp_path, tiny_run):
    # config.json of a run before the option: it was a pooled run
    source, _, (corpora, params) = tiny_run
    folder = tmp_path / "old"
    shutil.copytree(source, folder)
    path = folder / "config.json"
    saved = json.loads(path.read_text())
    del saved["config"]["joint_validation"]
    path.write_text(json.dumps(saved))
    before = (folder / "fits.jsonl").read_bytes()
    run_multi_corpus(folder, corpora, **params)
    assert (folder / "fits.jsonl").read_bytes() == before
    with pytest.raises(ExperimentInputError, match="joint_validation"):
        run_multi_corpus(folder, corpora, joint_validation="target", **params)
    with pytest.raises(ExperimentInputError, match="joint_validation='last'"):
        run_multi_corpus(tmp_path / "x", corpora, joint_validation="last", **params)


def test_overlapping_or_single_corpora_are_refused(tmp_path, tables):
    frame = pd.read_csv(tables["a"])
    frame["corpus"] = "copy"
    copy = tmp_path / "copy.csv"
    frame.iloc[:20].to_csv(copy, index=False)
    with pytest.raises(ExperimentInputError, match="utterances of"):
        run_multi_corpus(tmp_path / "x", [tables["a"], str(copy)], **QUIET)
    with pytest.raises(ExperimentInputError, match="at least 2 corpora"):
        run_multi_corpus(tmp_path / "x", [tables["a"]], **QUIET)
    with pytest.raises(ExperimentInputError, match="each name"):
        run_multi_corpus(tmp_path / "x", [tables["a"], tables["a"]], **QUIET)


# -- the report's numbers against an independent computation ---------------


def _fixture_folder(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(FIXTURE, folder)
    return folder


def _table_rows(text, heading, first_header):
    """Rows (lists of cells) of the first table after ``heading``."""
    lines = text.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _by_hand(records, target, method):
    """Fold UARs (repeat x fold), by hand."""
    fits = [r for r in records if r.get("target") == target and r["method"] == method]
    n_repeats = max(r["repeat"] for r in fits) + 1
    n_splits = max(r["fold"] for r in fits) + 1
    uar = np.full((n_repeats, n_splits), np.nan)
    for r in fits:
        uar[r["repeat"], r["fold"]] = r["uar"]
    return uar, fits


def _mcnemar_by_hand(fits_a, fits_b, repeat):
    a, b = {}, {}
    for fits, out in ((fits_a, a), (fits_b, b)):
        for r in fits:
            if r["repeat"] == repeat:
                out.update(zip(r["test_index"], r["test_correct"], strict=True))
    n_a = sum(a[i] == "1" and b[i] == "0" for i in a)
    n_b = sum(a[i] == "0" and b[i] == "1" for i in a)
    if n_a + n_b < 25:
        p = min(1.0, 2 * stats.binom.cdf(min(n_a, n_b), n_a + n_b, 0.5))
    else:
        chi2 = max(abs(n_a - n_b) - 1, 0) ** 2 / (n_a + n_b)
        p = stats.chi2.sf(chi2, 1)
    return n_a, n_b, p


def _fmt_p(p):
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


@pytest.mark.parametrize("target", ["a", "c"])
def test_report_numbers_against_hand_computation(tmp_path, target):
    # tests/data/results_multi_corpus: corpora a (111) and c (95), 3 folds x 2
    # repeats, 1 training fold, every method.
    folder = _fixture_folder(tmp_path)
    records = [json.loads(line) for line in open(folder / "fits.jsonl")]
    text = render_report(folder).read_text()
    heading = f"## Target: {target}"
    table = {row[0]: row for row in _table_rows(text, heading, "| Method |")}
    labels = {"dnn": "DNN", "ptft": "PT/FT", "prognet": "ProgNet",
              "adapter": "Adapters", "multicorpus": "Multi-corpus"}  # fmt: skip
    for method, label in labels.items():
        uar, fits = _by_hand(records, target, method)
        mean, std = uar.mean(), uar.std(axis=1, ddof=1).mean()
        assert table[label][2].rstrip("*†") == f"{mean:.3f}±{std:.3f}"
        params = sorted(r["n_trainable_params"] for r in fits)[len(fits) // 2]
        assert table[label][1] == f"{params:,}"
    tests = _table_rows(text, heading, "| Training folds |")
    n_checked = 0
    for row in tests:
        a_label, b_label = row[1].split(" vs ")
        a = next(m for m, lab in labels.items() if lab == a_label)
        b = next(m for m, lab in labels.items() if lab == b_label)
        uar_a, fits_a = _by_hand(records, target, a)
        uar_b, fits_b = _by_hand(records, target, b)
        d = (uar_a - uar_b).ravel()
        ratio = sum(r["n_test"] for r in fits_a) / sum(r["n_train"] for r in fits_a)
        t = d.mean() / np.sqrt((1 / len(d) + ratio) * d.var(ddof=1))
        df = len(d) - 1  # the paper's 10 is more than the 6 pairs - 1
        p = 2 * stats.t.sf(abs(t), df)
        assert row[2:6] == [f"{d.mean():+.3f}", f"{t:.2f}", f"{df:g}", _fmt_p(p)]
        by_hand = [_mcnemar_by_hand(fits_a, fits_b, r) for r in (0, 1)]
        assert row[7] == f"{sum(x[0] for x in by_hand)}:{sum(x[1] for x in by_hand)}"
        assert row[8] == ", ".join(_fmt_p(x[2]) for x in by_hand)
        n_checked += 1
    assert n_checked == 5


def test_mcnemar_by_repeat_pools_folds_and_matches_utterances():
    a = pd.DataFrame({
        "repeat": [0, 0, 1],
        "fold": [0, 1, 0],
        "test_index": [[1, 2, 3], [4, 5], [5, 4, 3, 2, 1]],
        "test_correct": ["110", "11", "11111"],
    })  # fmt: skip
    b = pd.DataFrame({
        "repeat": [0, 0, 1],
        "fold": [0, 1, 0],
        "test_index": [[3, 1, 2], [5, 4], [1, 2, 3, 4, 5]],
        "test_correct": ["101", "00", "00000"],
    })  # fmt: skip
    first, second = mcnemar_by_repeat(a, b)
    # repeat 0 by utterance: a = 1,1,0,1,1; b (re-ordered) = 0,1,1,0,0
    assert (first.n_a_only, first.n_b_only) == (3, 1)
    assert first.pvalue == pytest.approx(2 * stats.binom.cdf(1, 4, 0.5))
    assert (second.n_a_only, second.n_b_only) == (5, 0)
    assert second.pvalue == pytest.approx(2 * 0.5**5)
    assert mcnemar_by_repeat(a.drop(columns="test_correct"), b) == []


# -- the command line ------------------------------------------------------


def test_cli_smoke_and_errors(tmp_path, tables, capsys):
    out = tmp_path / "cli"
    argv = ["multi-corpus", "--corpora", f"{tables['a']},{tables['c']}",
            "--n-splits", "3", "--n-repeats", "1", "--hidden-layer-sizes", "8",
            "--max-epochs", "2", "--patience", "2", "--no-progress",
            "--joint-validation", "target", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "**Target a**" in printed and "| Multi-corpus |" in printed
    assert re.search(r"\| Adapters \| [\d,]+ \| 0\.\d{3}", printed)
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["joint_validation"] == "target"
    assert (
        "stops early on the target's validation fold" in (out / "report.md").read_text()
    )
    assert main(["multi-corpus", "--corpora", tables["a"], "--out", str(out)]) == 2
    assert "--corpora" in capsys.readouterr().err


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "multi-corpus" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["multi-corpus", "--help"])
    out = capsys.readouterr().out
    for option in ("--corpora", "--train-folds", "--quick", "--resample", "--n-jobs"):
        assert option in out


def test_methods_with_equal_parameter_counts_are_drawn_apart(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from sklearn_prognet.experiments import _plots

    axes, make_figure = [], _plots._figure

    def figure(figsize):  # the real figure, its axes kept for the test
        fig, ax = make_figure(figsize)
        axes.append(ax)
        return fig, ax

    monkeypatch.setattr(_plots, "_figure", figure)
    rows = [
        {"label": label, "n_train_folds": n, "mean": 0.7, "std": 0.1, "params": p}
        for label, p in [("DNN", 1000), ("PT/FT", 1000), ("ProgNet", 2000)]
        for n in (8, 1)
    ]
    _plots.plot_uar_vs_params(rows, tmp_path / "p.png", title="t")
    x = [c.lines[0].get_xdata()[0] for c in axes[0].containers]
    dnn, ptft, prognet = x[0:2], x[2:4], x[4:6]
    # DNN and PT/FT apart, on either side of their shared count; ProgNet alone
    assert dnn[0] == dnn[1] < 1000 < ptft[0] == ptft[1] < 1100
    np.testing.assert_allclose(dnn[0] * ptft[0], 1000**2)
    assert prognet == [2000, 2000]


def test_confusion_panels_put_one_method_in_each_column(
    tmp_path, tiny_run, monkeypatch
):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    folder = tmp_path / "copy"
    shutil.copytree(tiny_run[0], folder)
    figures = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: figures.append(fig))
    render_report(folder)
    (figure,) = [f for f in figures if "confusion" in f.get_suptitle()]
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) == 3 * 5  # 3 targets x 5 methods, 1 training size
    columns = {}
    for ax in panels:
        target, method = ax.get_title().split(", ")[0].split(": ")
        column = ax.get_subplotspec().colspan.start
        columns.setdefault(column, set()).add(method)
    assert sorted(len(methods) for methods in columns.values()) == [1] * 5
