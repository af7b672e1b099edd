"""Tests of the runner's training engines: batched (the default) and per fit.

The runs use tiny configurations (3 folds, 1-2 repeats, one hidden layer of 16
units, a few epochs) so that each takes a few seconds.
"""

import json
import re
import warnings
from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import (
    DNNClassifier,
    MultiCorpusClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
    _batched,
    _batched_fit,
)
from sklearn_prognet.experiments import (
    ExperimentInputError,
    _engine,
    _execution,
    load_corpus,
    render_report,
    run_multi_corpus,
    run_paralinguistic,
)
from sklearn_prognet.experiments._multi_corpus import JointNetwork
from sklearn_prognet.experiments._store import read_records
from sklearn_prognet.experiments.cli import _run_settings, build_parser, main
from sklearn_prognet.networks._batched_fit import batch_refusal

TINY = {"hidden_layer_sizes": (16,), "max_epochs": 4, "patience": 4}
QUIET = {"verbose": False, "progress": False}


@pytest.fixture(scope="module")
def emodb():
    return load_corpus("emodb")


def _tiny_para(out, corpus, **kwargs):
    params = {"n_splits": 3, "n_repeats": 1, "sources": ["gender"], "network": TINY,
              **QUIET, **kwargs}  # fmt: skip
    return run_paralinguistic(out, corpus, **params)


class _Spy:
    """Records the calls of a function, then calls it."""

    def __init__(self, function):
        self.function = function
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.function(*args, **kwargs)


@pytest.fixture
def spies(monkeypatch):
    """Spies on the batched engine (the runner's call, then the sources'), run_fit."""
    batched = _Spy(_batched_fit.fit_batched_as_trained)
    per_fit = _Spy(_execution.run_fit)
    monkeypatch.setattr(_batched_fit, "fit_batched_as_trained", batched)
    monkeypatch.setattr(_execution, "run_fit", per_fit)
    return batched, per_fit


def _lines(path):
    return path.read_bytes().splitlines(keepends=True)


# -- the default engine, and the fits it refuses --------------------------------


def test_batched_is_the_default_and_trains_sources_batched(tmp_path, emodb, spies):
    batched, per_fit = spies
    out = tmp_path / "run"
    scores = _tiny_para(out, emodb, baselines=["logreg"]).scores
    networks = scores[scores["method"] != "logreg"]
    assert len(networks) == 9 and set(networks["engine"]) == {"batched"}
    # the linear baseline cannot be batched: it is fitted on its own
    assert list(scores.loc[scores["method"] == "logreg", "engine"]) == ["per-fit"] * 3
    assert sorted(args[0].method for args, _ in per_fit.calls) == ["logreg"] * 3
    # one call for the repeat's 9 networks, one (from inside it) for the
    # gender sources: PT/FT and ProgNet of a fold share theirs, so 3 not 6
    # (the sources' own call for their sources is empty)
    sizes = sorted(len(args[0]) for args, _ in batched.calls)
    assert [n for n in sizes if n] == [3, 9]
    saved = json.loads((out / "config.json").read_text())
    assert saved["runtime"]["engine"] == "batched"
    assert "engine" not in saved["config"]
    text = (out / "report.md").read_text()
    assert "Fits by training engine: 9 batched, 3 per-fit" in text


def test_batched_fits_get_each_fold_in_its_own_role(tmp_path, emodb, spies,
                                                    monkeypatch):  # fmt: skip
    batched, _ = spies
    chunks = _Spy(_engine.fit_tasks_batched)
    monkeypatch.setattr(_execution, "fit_tasks_batched", chunks)
    _tiny_para(tmp_path / "run", emodb)
    (((tasks, *_), _),) = chunks.calls
    (_, fits), _ = batched.calls[0]  # the runner's call (then its sources')
    X, y = emodb.X, np.asarray(emodb.emotion)
    assert len(tasks) == len(fits) == 9
    for task, fit in zip(tasks, fits, strict=True):
        # the network trains on the training folds, stops early on the
        # validation fold, and never sees the test fold
        np.testing.assert_array_equal(fit["X"], X[task.train])
        np.testing.assert_array_equal(fit["y"], y[task.train])
        np.testing.assert_array_equal(fit["X_val"], X[task.validation])
        np.testing.assert_array_equal(fit["y_val"], y[task.validation])
        assert not np.isin(task.test, np.r_[task.train, task.validation]).any()


def test_per_fit_engine_never_batches(tmp_path, emodb, spies):
    batched, per_fit = spies
    scores = _tiny_para(tmp_path / "run", emodb, engine="per-fit").scores
    assert set(scores["engine"]) == {"per-fit"} and len(scores) == 9
    assert batched.calls == [] and len(per_fit.calls) == 9


def test_adapter_laterals_train_batched(tmp_path, emodb, spies):
    # every network trains in the one loop: nothing falls back per fit
    _, per_fit = spies
    scores = _tiny_para(tmp_path / "run", emodb, lateral="adapter").scores
    engines = dict(zip(scores["method"], scores["engine"], strict=False))
    assert engines == {"dnn": "batched", "ptft": "batched", "prognet": "batched"}
    assert not per_fit.calls


@pytest.mark.slow
def test_multi_corpus_batches_every_method_one_target_at_a_time(
    tmp_path, emodb, monkeypatch
):
    speakers = {"a": ["03", "08", "09"], "b": ["10", "11", "13", "14"]}
    corpora = [replace(emodb.select(np.isin(emodb.speaker, ids)), name=name)
               for name, ids in speakers.items()]  # fmt: skip
    # nothing random after the initial weights (no dropout, one batch per
    # epoch): both engines must give the same predictions
    network = {**TINY, "max_epochs": 8, "patience": 8, "dropout": 0.0,
               "batch_size": 100_000, "lr": 0.01}  # fmt: skip
    chunks = _Spy(_engine.fit_tasks_batched)
    monkeypatch.setattr(_execution, "fit_tasks_batched", chunks)
    scores = {
        engine: run_multi_corpus(
            tmp_path / engine,
            corpora,
            n_splits=3,
            n_repeats=1,
            network=network,
            engine=engine,
            **QUIET,
        ).scores  # fmt: skip
        for engine in ("batched", "per-fit")
    }
    engines = {
        method: set(frame["engine"].fillna("none"))
        for method, frame in scores["batched"].groupby("method")
    }
    assert engines == {
        "dnn": {"batched"}, "ptft": {"batched"}, "prognet": {"batched"},
        "adapter": {"batched"}, "multicorpus": {"batched"},
        # the pooled source networks are single fits before the folds
        "source": {"none"},
    }  # fmt: skip
    # one chunk per (repeat, target), each with all of its methods' fits
    assert [{(t.repeat, t.target) for t in args[0]} for args, _ in chunks.calls] == [
        {(0, "a")},
        {(0, "b")},
    ]
    assert [len(args[0]) for args, _ in chunks.calls] == [15, 15]
    both = scores["batched"].merge(scores["per-fit"], on="key")
    fits = both[both["method_x"] != "source"]
    assert len(fits) == 30
    np.testing.assert_allclose(fits["uar_x"], fits["uar_y"])
    assert fits["uar_x"].mean() > 0.4  # chance: 0.25


class _WrapsLogReg:
    """A wrapper whose inner estimator the engine does not train."""

    def inner_estimator(self):
        return LogisticRegression()

    def inner_fit_arguments(self, X, y):
        return {"X": X, "y": y}

    def set_inner_fitted(self, network, arguments):
        return self


def test_batch_refusal_names_only_what_is_not_a_network():
    assert batch_refusal(DNNClassifier()) is None
    assert batch_refusal(make_pipeline(StandardScaler(), DNNClassifier())) is None
    source = DNNClassifier()
    assert "LogisticRegression" in batch_refusal(
        make_pipeline(StandardScaler(), LogisticRegression())
    )
    assert batch_refusal(ResidualAdapterClassifier(source=source)) is None
    # a wrapper that declares the network it trains is judged by that network
    joint = JointNetwork(other_X=None, other_y=None, other_corpus=None,
                         target="t", network={})  # fmt: skip
    assert batch_refusal(make_pipeline(StandardScaler(), joint)) is None
    assert batch_refusal(MultiCorpusClassifier()) is None
    assert "got LogisticRegression" in batch_refusal(_WrapsLogReg())
    # every network of the package trains in the loop
    adapters = ProgressiveNetClassifier(sources=[source], lateral="adapter")
    assert batch_refusal(adapters) is None
    assert batch_refusal(DNNClassifier(dimensional_weight=0.5)) is None


def test_n_jobs_goes_to_the_batched_engine(tmp_path, emodb, monkeypatch):
    seen = []

    def one_process(estimators, fits, *, n_jobs=None):
        seen.append(n_jobs)
        return original(estimators, fits, n_jobs=None)

    original = _batched_fit.fit_batched_as_trained
    monkeypatch.setattr(_batched_fit, "fit_batched_as_trained", one_process)
    _tiny_para(tmp_path / "run", emodb, n_jobs=2)
    assert seen[0] == 2  # the call of the runner (the others: its sources)


# -- saved as they go, resumed -------------------------------------------------


def test_each_repeat_is_saved_when_trained_and_a_rerun_resumes(
    tmp_path, emodb, monkeypatch
):
    out = tmp_path / "run"
    trained = []

    def second_repeat_fails(tasks, data, *args):
        saved = [r["key"] for r in read_records(out / "fits.jsonl")[0]]
        trained.append(([task.key for task in tasks], saved))
        if len(trained) == 2:
            raise RuntimeError("killed")
        return original(tasks, data, *args)

    original = _engine.fit_tasks_batched
    monkeypatch.setattr(_execution, "fit_tasks_batched", second_repeat_fails)
    with pytest.raises(RuntimeError, match="killed"):
        _tiny_para(out, emodb, n_repeats=2)
    (first, _), (second, saved) = trained
    assert {key[:3] for key in first} == {"r00"} and len(first) == 9
    assert {key[:3] for key in second} == {"r01"}
    # the first repeat was saved before the second started, and is kept
    assert sorted(saved) == sorted(first)
    kept = _lines(out / "fits.jsonl")
    assert len(kept) == 9

    monkeypatch.setattr(_execution, "fit_tasks_batched", original)
    spy = _Spy(original)
    monkeypatch.setattr(_execution, "fit_tasks_batched", spy)
    scores = _tiny_para(out, emodb, n_repeats=2).scores
    (((tasks, *_), _),) = spy.calls
    assert sorted(task.key for task in tasks) == sorted(second)
    assert _lines(out / "fits.jsonl")[:9] == kept and len(scores) == 18


def test_each_group_is_saved_when_trained_and_a_rerun_trains_the_rest(
    tmp_path, emodb, monkeypatch
):
    whole = _tiny_para(tmp_path / "whole", emodb).scores
    out = tmp_path / "run"
    train_group = _batched._train_group
    stacks = []

    def third_stack_fails(jobs):
        # the 3 gender sources, then the DNNs and PT/FTs of the 3 folds (one
        # configuration: one column each), then the 3 ProgNets
        stacks.append(len(jobs))
        if len(stacks) == 3:
            raise RuntimeError("killed")
        return train_group(jobs)

    monkeypatch.setattr(_batched, "_train_group", third_stack_fails)
    with pytest.raises(RuntimeError, match="killed"):
        _tiny_para(out, emodb)
    # the repeat's first group of networks was saved before the next failed
    saved = [json.loads(line) for line in _lines(out / "fits.jsonl")]
    assert stacks == [3, 6, 3] and len(saved) == 6
    assert {record["method"] for record in saved} == {"dnn", "ptft"}

    monkeypatch.setattr(_batched, "_train_group", train_group)
    spy = _Spy(_engine.fit_tasks_batched)
    monkeypatch.setattr(_execution, "fit_tasks_batched", spy)
    resumed = _tiny_para(out, emodb).scores
    (((tasks, *_), _),) = spy.calls
    assert {task.method for task in tasks} == {"prognet"} and len(tasks) == 3
    assert not {task.key for task in tasks} & {record["key"] for record in saved}
    # the same models as an uninterrupted run
    both = whole.merge(resumed, on="key")
    assert len(both) == 9
    np.testing.assert_array_equal(both["uar_x"], both["uar_y"])
    assert (both["fit_time_y"] > 0).all()


def test_a_batched_fit_time_is_its_share_of_its_stack(tmp_path, emodb, monkeypatch):
    timed_group = _batched._timed_group

    def a_minute_per_model(jobs):
        nets, _ = timed_group(jobs)
        return nets, 60.0 * len(jobs)

    monkeypatch.setattr(_batched, "_timed_group", a_minute_per_model)
    scores = _tiny_para(tmp_path / "run", emodb).scores
    # stacks of 6 (DNN and PT/FT) and 3 (ProgNet) networks: a minute each,
    # plus a share of the sources' stack, the preparation and its evaluation
    assert len(scores) == 9
    assert scores["fit_time"].between(60.0, 70.0).all()


def test_resume_with_the_other_engine_and_from_an_old_folder(tmp_path, emodb):
    out = tmp_path / "run"
    _tiny_para(out, emodb, engine="per-fit")
    fits = out / "fits.jsonl"
    # an old results folder: its records and config.json name no engine
    old = [json.loads(line) for line in _lines(fits)[:4]]
    for record in old:
        del record["engine"]
    fits.write_text("".join(json.dumps(r) + "\n" for r in old))
    saved = json.loads((out / "config.json").read_text())
    del saved["runtime"]["engine"]
    (out / "config.json").write_text(json.dumps(saved))

    scores = _tiny_para(out, emodb).scores  # batched, by default
    assert len(scores) == 9
    assert scores["engine"].isna().sum() == 4
    assert (scores["engine"] == "batched").sum() == 5
    text = render_report(out).read_text()
    assert (
        "Fits by training engine: 4 per-fit, 5 batched (results from the same" in text
    )


def test_a_folder_trained_per_fit_loads_and_resumes_batched(tmp_path, emodb):
    # a folder of the engine that --backend dask once forced: its records
    # and config.json say 'per-fit'
    out = tmp_path / "run"
    whole = _tiny_para(out, emodb, engine="per-fit").scores
    assert set(whole["engine"]) == {"per-fit"}
    assert json.loads((out / "config.json").read_text())["runtime"]["engine"] == (
        "per-fit"
    )
    fits = out / "fits.jsonl"
    kept = _lines(fits)[:4]
    fits.write_bytes(b"".join(kept))

    scores = _tiny_para(out, emodb).scores  # batched, by default
    assert _lines(fits)[:4] == kept  # the saved fits are kept as they were
    engines = scores.set_index("key")["engine"]
    first = [json.loads(line)["key"] for line in kept]
    assert (engines[first] == "per-fit").all() and len(engines) == 9
    assert (engines.drop(first) == "batched").all()
    # the per-fit records keep their scores
    merged = whole.merge(scores, on="key")
    merged = merged[merged["key"].isin(first)]
    np.testing.assert_array_equal(merged["uar_x"], merged["uar_y"])
    assert "Fits by training engine: 4 per-fit, 5 batched" in (
        render_report(out).read_text()
    )


# -- the same distribution -----------------------------------------------------


@pytest.mark.slow
def test_both_engines_give_the_same_uars_on_average(tmp_path, emodb):
    network = {"hidden_layer_sizes": (32,), "max_epochs": 40, "patience": 10,
               "lr": 0.005}  # fmt: skip
    mean = {}
    for engine in ("batched", "per-fit"):
        scores = _tiny_para(tmp_path / engine, emodb, n_splits=5, n_repeats=2,
                            network=network, engine=engine).scores  # fmt: skip
        mean[engine] = scores.groupby("method")["uar"].mean()
    # well above chance (0.25) for every method, and within 0.05 of each other
    assert (mean["batched"] > 0.6).all() and (mean["per-fit"] > 0.6).all()
    assert (mean["batched"] - mean["per-fit"]).abs().max() < 0.05


# -- options ------------------------------------------------------------------


def test_engine_is_checked_before_anything_is_written(tmp_path, emodb):
    with pytest.raises(ExperimentInputError, match=r"engine='fast' is not one of"):
        _tiny_para(tmp_path / "run", emodb, engine="fast")
    assert not (tmp_path / "run").exists()


def test_cli_engine_flag(capsys):
    parser = build_parser()
    assert _run_settings(parser.parse_args(["paralinguistic"]))["engine"] == "batched"
    args = parser.parse_args(["paralinguistic", "--engine", "per-fit"])
    assert _run_settings(args)["engine"] == "per-fit"
    with pytest.raises(SystemExit) as exc:
        main(["paralinguistic", "--engine", "fast"])
    assert exc.value.code == 2
    assert "--engine: invalid choice: 'fast'" in capsys.readouterr().err


def test_dask_keeps_the_engine_asked_for():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _engine.resolve_engine("batched", "dask") == "batched"
        assert _engine.resolve_engine("per-fit", "dask") == "per-fit"
        assert _engine.resolve_engine("batched", "loky") == "batched"
    # a dask cluster's workers share their cores as the batched engine's
    # worker processes do
    with pytest.warns(UserWarning, match=r"torch_threads=2 is not used.*'dask'"):
        assert _engine.resolve_engine("batched", "dask", 1, 2) == "batched"


def test_dask_trains_the_batched_stacks_on_the_cluster(tmp_path, emodb, monkeypatch):
    distributed = pytest.importorskip("distributed")
    local = _tiny_para(tmp_path / "local", emodb, n_jobs=2).scores
    trained_in = []
    train_group = _batched._train_group

    def where(jobs):
        trained_in.append(distributed.get_worker().address)
        return train_group(jobs)

    # an in-process cluster of two single-threaded workers: the same cut
    # (two stacks per group) and torch threads (the cores shared by two) as
    # the two local processes above
    monkeypatch.setattr(_batched, "_train_group", where)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        address = cluster.scheduler_address
        result = _tiny_para(tmp_path / "dask", emodb, backend="dask", scheduler=address)
        workers = set(cluster.scheduler_info["workers"])
    # no fallback to per-fit training, nor any other word about the engine
    assert not [w for w in caught if re.search("engine|per-fit", str(w.message))]
    scores = result.scores
    # the sources, then the DNN and PT/FT group, then the ProgNets: two
    # stacks each, every one trained by a worker of the cluster
    assert len(trained_in) == 6 and set(trained_in) <= workers
    assert len(set(trained_in)) == 2
    assert set(scores["engine"]) == {"batched"} and len(scores) == 9
    both = local.merge(scores, on="key")
    assert len(both) == 9
    np.testing.assert_array_equal(both["uar_x"], both["uar_y"])
    # to the last bit: the same learning curves
    curves = [
        {r["key"]: r["history"] for r in read_records(out / "fits.jsonl")[0]}
        for out in (tmp_path / "local", tmp_path / "dask")
    ]
    assert curves[0] == curves[1]


def test_torch_threads_unused_by_batched_workers_is_a_warning():
    with pytest.warns(UserWarning, match=r"torch_threads=2 is not used.*n_jobs=2"):
        assert _engine.resolve_engine("batched", "loky", 2, 2) == "batched"
    # used: in this process, or by every fit
    assert _engine.resolve_engine("batched", "loky", 1, 2) == "batched"
    assert _engine.resolve_engine("per-fit", "loky", 2, 2) == "per-fit"
