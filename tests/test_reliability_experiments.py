"""Reliability of the experiments' runs and reports (issue #32).

Reports that state the settings a run used, per-speaker normalisation with
speaker-stratified folds, a dask backend checked before anything is
written, runs without early stopping, the hub's offline errors, messages
about bad input, and the engine of the multitask experiment's arms.
"""

import dataclasses
import errno
import json
import os
import re
import shutil
import socket
import sys
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sklearn_prognet.experiments import (
    ExperimentInputError,
    _skeleton,
    load_corpus,
    run_multi_corpus,
    run_paralinguistic,
)
from sklearn_prognet.experiments._inputs import corpus_to_frame
from sklearn_prognet.experiments.cli import main
from sklearn_prognet.presets import SMALL_CORPUS

DATA = Path(__file__).parent / "data"
QUIET = {"verbose": False, "progress": False}
TINY = {"hidden_layer_sizes": (8,), "max_epochs": 2, "patience": 2}
SPEAKERS = {"a": ["03", "08", "09"], "b": ["10", "11", "13", "14"]}


@pytest.fixture(scope="module")
def emodb():
    return load_corpus("emodb")


@pytest.fixture(scope="module")
def two_tables(tmp_path_factory, emodb):
    """Two feature tables of disjoint EmoDB speakers, named a and b."""
    folder = tmp_path_factory.mktemp("corpora")
    paths = []
    for name, speakers in SPEAKERS.items():
        frame = corpus_to_frame(emodb.select(np.isin(emodb.speaker, speakers)))
        frame["corpus"] = name
        frame.to_csv(folder / f"{name}.csv", index=False)
        paths.append(str(folder / f"{name}.csv"))
    return paths


def _line(report, start):
    return next(line for line in report.splitlines() if line.startswith(start))


# -- item 1: the report states the settings of config.json ---------------------


def _cli_run(out, *flags):
    args = ["paralinguistic", "--sources", "gender", "--n-splits", "3",
            "--n-repeats", "1", "--hidden-layer-sizes", "16,8", "--max-epochs", "3",
            "--no-progress", "--out", str(out), *flags]  # fmt: skip
    assert main(args) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    return config, (out / "report.md").read_text()


def test_report_states_the_preset_settings_of_config_json(tmp_path, capsys):
    config, report = _cli_run(
        tmp_path / "run", "--preset", "small-corpus", "--dropout", "0.2",
        "--lr", "0.003",
    )  # fmt: skip
    net = config["network"]
    # what the run used: the preset, with the options given explicitly
    assert net["early_stopping"] is False
    assert (net["weight_decay"], net["label_smoothing"]) == (0.1, 0.1)
    assert (net["dropout"], net["lr"], net["max_epochs"]) == (0.2, 0.003, 3)
    networks = _line(report, "- Networks")
    assert "2 × " not in networks and "16-8 tanh hidden units" in networks
    assert f"dropout {net['dropout']}," in networks
    assert f"Adam lr {net['lr']} with decoupled weight decay 0.1" in networks
    assert f"label smoothing {net['label_smoothing']}" in networks
    assert f"batch {net['batch_size']}" in networks
    assert f"{net['max_epochs']} epochs without early stopping" in networks
    # nothing the run did not do: no stopping, no held-out share, no best epoch
    for claim in ("patience", "early stopping on", "held out", "10%", "30%",
                  "stop early"):  # fmt: skip
        assert claim not in report, claim
    assert "one validation fold (scored only)" in _line(report, "- Protocol")
    assert "best epoch" not in report.lower().replace("no best epoch", "")


def test_report_states_early_stopping_when_it_ran(tmp_path, capsys):
    config, report = _cli_run(tmp_path / "run", "--patience", "2")
    net = config["network"]
    assert "early_stopping" not in net  # the estimators' default: True
    networks = _line(report, "- Networks")
    assert f"at most {net['max_epochs']} epochs, early stopping" in networks
    assert f"patience {net['patience']}" in networks
    assert "weight decay" not in networks and "label smoothing" not in networks
    assert "10% of the training folds held out" in networks
    assert "| best epoch |" in report


@pytest.mark.parametrize("experiment", ["cross-corpus", "multitask"])
def test_every_report_states_the_preset_settings(tmp_path, emodb, experiment):
    from sklearn_prognet.experiments import run_cross_corpus, run_multitask

    network = {**SMALL_CORPUS, "hidden_layer_sizes": (8,), "max_epochs": 2}
    run = {"n_splits": 3, "n_repeats": 1, "network": network, **QUIET}
    if experiment == "cross-corpus":
        source = emodb.select(np.isin(emodb.speaker, ["03", "08", "09", "10"]))
        target = emodb.select(~np.isin(emodb.speaker, ["03", "08", "09", "10"]))
        result = run_cross_corpus(tmp_path / "run", source, target,
                                  train_folds=[1], **run)  # fmt: skip
    else:
        frame = corpus_to_frame(emodb)
        frame["arousal"] = np.random.RandomState(0).normal(3, 1, len(frame))
        frame.to_csv(tmp_path / "rated.csv", index=False)
        result = run_multitask(tmp_path / "run", str(tmp_path / "rated.csv"),
                               dimensional_weights=[1.0], **run)  # fmt: skip
    net = result.config["config"]["network"]
    report = result.report.read_text()
    networks = _line(report, "- Networks")
    assert "8 tanh hidden units" in networks
    assert f"weight decay {net['weight_decay']}" in networks
    assert f"label smoothing {net['label_smoothing']}" in networks
    assert f"{net['max_epochs']} epochs without early stopping" in networks
    for claim in ("patience", "early stopping on", "held out", "Early stopping"):
        assert claim not in report, claim
    if experiment == "cross-corpus":
        assert "utterances of" in _line(report, "- Source model")
        assert "without early stopping: 2 epochs" in _line(report, "- Source model")


# -- item 10: no best epoch without early stopping ----------------------------


@pytest.mark.parametrize("engine", ["per-fit", "batched"])
def test_multi_corpus_without_early_stopping_warns_nothing(
    tmp_path, two_tables, engine
):
    network = {**SMALL_CORPUS, "hidden_layer_sizes": (8,), "max_epochs": 2}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_multi_corpus(
            tmp_path / "run", two_tables, train_folds=[1], n_splits=3,
            n_repeats=1, network=network, engine=engine, **QUIET,
        )  # fmt: skip
    assert [str(w.message) for w in caught] == []
    joint = result.scores[result.scores["method"] == "multicorpus"]
    assert len(joint) and joint["best_valid_uar"].isna().all()
    report = result.report.read_text()
    assert "No early stopping: every fit trained for 2 epochs" in report
    training = report[report.index("## Training") :]
    assert "best epoch (mean)" not in training
    for claim in ("patience", "held out", "early stopping on"):
        assert claim not in report, claim
    assert re.search(r"trains on all of its training rows", report)


# -- item 2: per-speaker normalisation with speaker-stratified folds ----------


def _spy_on_training(monkeypatch, caught):
    """Record the warnings given before training, and the tasks trained."""
    seen = {}
    real = _skeleton.execute

    def spy(store, tasks, data, **kwargs):
        seen["warnings"] = [str(w.message) for w in caught]
        seen["tasks"], seen["speaker"] = tasks, data.speaker
        return real(store, tasks, data, **kwargs)

    monkeypatch.setattr(_skeleton, "execute", spy)
    return seen


def _fallback_by_hand(tasks, speaker, min_samples=10):
    n = 0
    for task in tasks:
        counts = Counter(speaker[task.test])
        n += sum(1 for s in speaker[task.test] if counts[s] < min_samples)
    return n, sum(len(task.test) for task in tasks)


def test_speaker_normalization_on_stratified_folds_warns_before_training(
    tmp_path, emodb, monkeypatch
):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = _spy_on_training(monkeypatch, caught)
        result = run_paralinguistic(
            tmp_path / "run", emodb, normalization="speaker", n_splits=5,
            n_repeats=1, sources=["gender"], baselines=["logreg"], network=TINY,
            **QUIET,
        )  # fmt: skip
    n_fallback, n_test = _fallback_by_hand(seen["tasks"], seen["speaker"])
    # five speaker-stratified folds: most speakers have < 10 test rows a fold
    assert n_fallback / n_test > 0.5
    before = [m for m in seen["warnings"] if "normalization='speaker'" in m]
    assert len(before) == 1
    assert f"{n_fallback} of {n_test} test rows" in before[0]
    assert "speaker_independent" in before[0]
    report = result.report.read_text()
    assert f"{100 * n_fallback / n_test:.1f}% of the test rows" in report
    assert f"({n_fallback} of {n_test}, over all fits)" in report


def test_speaker_normalization_on_whole_speakers_does_not_warn(
    tmp_path, emodb, monkeypatch
):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = _spy_on_training(monkeypatch, caught)
        result = run_paralinguistic(
            tmp_path / "run", emodb, normalization="speaker", n_splits=5,
            n_repeats=1, sources=["gender"], network=TINY,
            protocol="speaker_independent", **QUIET,
        )  # fmt: skip
    assert _fallback_by_hand(seen["tasks"], seen["speaker"])[0] == 0
    assert not [m for m in seen["warnings"] if "normalization='speaker'" in m]
    assert "fell back to global statistics for **0.0% of the test rows**" in (
        result.report.read_text()
    )


# -- item 9: the dask backend is checked before anything is written ----------


def _closed_port():
    """A local port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("problem", ["no distributed", "unreachable scheduler"])
def test_dask_backend_is_checked_before_anything_is_written(
    tmp_path, emodb, monkeypatch, problem
):
    out = tmp_path / "run"
    options = {"backend": "dask"}
    if problem == "no distributed":
        monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
        match = "needs dask.distributed"
    else:
        options["scheduler"] = f"tcp://127.0.0.1:{_closed_port()}"
        match = "Cannot connect to the dask scheduler"
    run = {"n_splits": 3, "n_repeats": 1, "sources": ["gender"], "network": TINY}
    with pytest.raises(ExperimentInputError, match=match):
        run_paralinguistic(out, emodb, **run, **options, **QUIET)
    assert not out.exists() or not any(out.iterdir())
    # the corrected command runs in the same folder
    result = run_paralinguistic(out, emodb, **run, **QUIET)
    assert len(result.scores) == 3 * 3


# -- item 11: an unreachable Hub fails after one try ---------------------------


@pytest.fixture
def counting_endpoint(monkeypatch):
    """A local "Hub" that hangs up on every request; keeps their request lines."""
    huggingface_hub = pytest.importorskip("huggingface_hub")
    pytest.importorskip("transformers")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    attempts, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:  # the timeout: look at stop again
                continue
            with connection:
                connection.settimeout(1)
                try:
                    attempts.append(connection.recv(4096).split(b"\r\n")[0])
                except OSError:
                    attempts.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(flag, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", "/nonexistent")
    yield attempts
    stop.set()
    thread.join()
    server.close()


def test_unreachable_hub_fails_after_one_try(counting_endpoint):
    from sklearn_prognet import SpeechEmbeddingTransformer

    start = time.perf_counter()
    with pytest.raises(OSError, match="cannot be reached") as error:
        SpeechEmbeddingTransformer(model="sklearn-prognet-tests/no-such-model").fit(
            [str(DATA / "03a02Ta.wav")]
        )
    model_requests = [r for r in counting_endpoint if b"no-such-model" in r]
    assert len(model_requests) == 1, counting_endpoint
    assert time.perf_counter() - start < 10
    # the current command-line client of the Hub, not the removed one
    assert "`hf download sklearn-prognet-tests/no-such-model" in str(error.value)
    assert "huggingface-cli" not in str(error.value)


# -- item 12: messages about bad input and failed writes ----------------------


def test_feature_table_without_rows_says_so(tmp_path, emodb):
    path = tmp_path / "empty.csv"
    corpus_to_frame(emodb).head(0).to_csv(path, index=False)  # the header only
    with pytest.raises(ExperimentInputError, match="has no rows") as error:
        load_corpus(str(path))
    assert str(path) in str(error.value)
    assert "not numeric" not in str(error.value)


def _fail_writes_to(monkeypatch, suffix):
    """Make os.write fail with ENOSPC on files whose path ends with ``suffix``."""
    real_write = os.write

    def write(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(suffix):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_full_disk_names_the_file_of_the_results(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    _fail_writes_to(monkeypatch, "fits.jsonl")
    status = main(["paralinguistic", "--sources", "gender", "--n-splits", "3",
                   "--n-repeats", "1", "--hidden-layer-sizes", "8", "--max-epochs",
                   "2", "--no-progress", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert "No space left on device" in line
    assert str(out / "fits.jsonl") in line


def test_full_disk_names_the_file_of_a_report(tmp_path, monkeypatch):
    from sklearn_prognet.experiments import render_report

    folder = tmp_path / "results"
    folder.mkdir()
    for name in ("config.json", "fits.jsonl"):
        shutil.copy(DATA / "results_confusion" / name, folder / name)

    def fsync(fd):  # the disk fills up while a file of the report is written
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="No space left on device") as error:
        render_report(folder)
    assert error.value.filename is not None
    assert Path(error.value.filename).parent == folder
    assert str(folder) in str(error.value)
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind


def test_numeric_strings_among_ratings_are_refused(tmp_path):
    from sklearn_prognet import DNNClassifier

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), np.repeat(["a", "b"], 20)
    ratings = np.array([1.0, "2.0"] * 20, dtype=object)  # numbers and text
    clf = DNNClassifier(dimensional_weight=1.0, hidden_layer_sizes=(4,),
                        max_epochs=1, early_stopping=False)  # fmt: skip
    with pytest.raises(ValueError, match="numeric ratings.*'2.0'"):
        clf.fit(X, y, dimensions=ratings)


def test_numeric_strings_among_a_corpus_ratings_are_refused(tmp_path, emodb):
    from sklearn_prognet.experiments import run_multitask

    arousal = np.array([3.0] * emodb.n_samples, dtype=object)
    arousal[5] = "2.0"  # reads as a number, but is text
    corpus = dataclasses.replace(emodb, ratings={"arousal": arousal})
    with pytest.raises(ExperimentInputError, match="1 are not, e.g. '2.0'"):
        run_multitask(tmp_path / "run", corpus, network=TINY, **QUIET)
    assert not (tmp_path / "run").exists()


# -- item 13: all arms of the multitask experiment train per fit --------------


def test_multitask_arms_train_batched_and_equal_a_fit_alone(tmp_path, emodb):
    from sklearn_prognet.experiments import run_multitask
    from sklearn_prognet.experiments._fits import FitData, FitTask, run_fit
    from sklearn_prognet.experiments._folds import make_folds

    frame = corpus_to_frame(emodb)
    frame["arousal"] = np.random.RandomState(0).normal(3, 1, len(frame))
    path = tmp_path / "rated.csv"
    frame.to_csv(path, index=False)
    result = run_multitask(
        tmp_path / "run",
        str(path),
        dimensional_weights=[1.0],
        n_splits=3,
        n_repeats=1,
        network=TINY,
        **QUIET,
    )  # fmt: skip (the default engine: 'batched')
    records = [json.loads(line) for line in (result.folder / "fits.jsonl").open()]
    # every arm, the multi-task ones included, trains in the batched engine
    assert {r["engine"] for r in records} == {"batched"}
    # the single-task arm is a plain DNN fit with the step's seed: trained on
    # its own (a stack of one) it ends the same, to float tolerance
    corpus = load_corpus(str(path))
    folds, _ = make_folds(corpus, protocol="speaker_stratified", n_splits=3,
                          n_repeats=1, seed=0)  # fmt: skip
    network = {**result.config["config"]["network"]}
    network["hidden_layer_sizes"] = tuple(network["hidden_layer_sizes"])
    data = FitData(X=corpus.X, y=np.asarray(corpus.emotion), network=network)
    for fold in folds:
        (dnn,) = [r for r in records if r["method"] == "dnn" and r["fold"] == fold.fold]
        task = FitTask(key="plain", method="dnn", repeat=0, fold=fold.fold,
                       n_train_folds=1, train=fold.train, validation=fold.validation,
                       test=fold.test, random_state=dnn["random_state"])  # fmt: skip
        plain = run_fit(task, data)
        np.testing.assert_allclose(
            plain["history"]["valid_uar"], dnn["history"]["valid_uar"], atol=1e-6
        )
        assert plain["uar"] == pytest.approx(dnn["uar"], abs=1e-6)


def test_cli_warns_about_the_fallback_in_flags(tmp_path, capsys):
    status = main(["paralinguistic", "--normalization", "speaker", "--sources",
                   "gender", "--n-splits", "5", "--n-repeats", "1",
                   "--hidden-layer-sizes", "8", "--max-epochs", "2",
                   "--no-progress", "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 0
    (line,) = [line for line in err.splitlines() if "test rows" in line]
    assert line.startswith("sklearn-prognet: warning: --normalization 'speaker'")
    assert "--protocol 'speaker-independent'" in line
    # said before training starts
    assert err.index(line) < err.index("fits to run")
