"""Tests that the experiments do what they promise, checked independently.

Each test states one mechanism of :mod:`sklearn_prognet.experiments` and
checks it against a computation written out here: the rows every network of a
fit is given (spied on, not inferred), the scaler's statistics computed with
numpy, the folds' roles rebuilt from the plan's own test folds, the report's
numbers and t-tests computed with numpy and scipy from a fixed results file.
Their mutants are in ``scripts/mutants.py`` (see docs/contributing.rst).

Corpora are synthetic and tiny, networks small: every test takes a few
seconds at most.
"""

import json

import numpy as np
import pytest
from scipy import stats as scipy_stats

from sklearn_prognet.experiments import (
    Corpus,
    ExperimentInputError,
    _execution,
    _fits,
    render_report,
)
from sklearn_prognet.experiments._cross_corpus import CrossCorpus
from sklearn_prognet.experiments._fits import FitData, FitTask, network_params
from sklearn_prognet.experiments._folds import make_folds
from sklearn_prognet.experiments._paralinguistic import Paralinguistic
from sklearn_prognet.experiments._skeleton import RunOptions
from sklearn_prognet.experiments._store import ResultsStore, read_records

EMOTIONS = np.array(["angry", "happy", "neutral", "sad"])
TINY = {"hidden_layer_sizes": (16,), "max_epochs": 4, "patience": 4}


def toy_corpus(name="toy", n_speakers=6, per_cell=3, seed=0):
    """A corpus of ``per_cell`` utterances per speaker and emotion.

    Feature 0 carries the emotion (5 standard deviations apart), the others
    are noise; the rows are in random order.
    """
    rng = np.random.RandomState(seed)
    cells = [(e, s) for s in range(n_speakers) for e in range(4)] * per_cell
    cells = [cells[i] for i in rng.permutation(len(cells))]
    emotion_index = np.array([e for e, _ in cells])
    speaker_index = np.array([s for _, s in cells])
    X = rng.normal(size=(len(cells), 5))
    X[:, 0] += 5.0 * emotion_index
    return Corpus(
        name=name,
        X=X,
        emotion=EMOTIONS[emotion_index].astype(object),
        speaker=np.array([f"{name}{s:02d}" for s in speaker_index], dtype=object),
        gender=np.where(speaker_index % 2, "male", "female").astype(object),
        feature_names=[f"f{i}" for i in range(X.shape[1])],
    )


def _options(**kwargs):
    params = {"n_splits": 3, "n_repeats": 1, "verbose": False, "network": TINY}
    return RunOptions(**{**params, **kwargs})


def _by_step(tasks):
    """(repeat, fold) -> the tasks of that step."""
    steps = {}
    for task in tasks:
        steps.setdefault((task.repeat, task.fold), []).append(task)
    return steps


# -- one fit: the rows each network is given -------------------------------------


NET_CLASS = {"dnn": "DNNClassifier", "prognet": "ProgressiveNetClassifier"}


@pytest.fixture(scope="module")
def spied_fit():
    """A DNN fit and a ProgNet fit with a speaker source, every network spied on.

    Returns, per method, the inputs of every network's fit and predict, the
    fit's pipeline and its record. Speaker-independent folds; the test fold's
    feature 1 is shifted by 1e6 (a planted leak: whatever sees the test fold
    sees it). Fitted once: never refit them in a test.
    """
    corpus = toy_corpus()
    folds, _ = make_folds(
        corpus, protocol="speaker_independent", n_splits=3, n_repeats=1, seed=0
    )
    fold = folds[0]
    X = corpus.X.copy()
    X[fold.test, 1] += 1e6
    data = FitData(
        X=X,
        y=np.asarray(corpus.emotion),
        network=network_params(TINY),
        source_task_labels={"speaker": np.asarray(corpus.speaker)},
    )
    from sklearn_prognet.networks._estimators import _BaseNetwork

    original_fit, original_make = _BaseNetwork._fit, _fits.make_estimator
    original_predict = _BaseNetwork.predict
    spied = {"fold": fold, "data": data, "corpus": corpus}

    def spy_fit(self, X, y, groups, source_y, X_val, y_val, dimensions=None):
        calls.append(
            {
                "cls": type(self).__name__,
                "X": np.array(X, dtype=float),
                "y": np.asarray(y),
                "X_val": None if X_val is None else np.array(X_val, dtype=float),
                "y_val": None if y_val is None else np.asarray(y_val),
            }
        )
        return original_fit(self, X, y, groups, source_y, X_val, y_val, dimensions)

    def spy_predict(self, X):
        predicted.append((type(self).__name__, np.array(X, dtype=float)))
        return original_predict(self, X)

    def spy_make(task, data):
        pipe, fit_params = original_make(task, data)
        pipes.append(pipe)
        return pipe, fit_params

    for method in ("dnn", "prognet"):
        calls, predicted, pipes = [], [], []
        source = {"source_task": "speaker", "source_random_state": 2}
        task = FitTask(
            "k", method, 0, 0, 1, fold.train, fold.validation, fold.test, 1,
            **(source if method == "prognet" else {}),
        )  # fmt: skip
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_BaseNetwork, "_fit", spy_fit)
            mp.setattr(_BaseNetwork, "predict", spy_predict)
            mp.setattr(_fits, "make_estimator", spy_make)
            record = _fits.run_fit(task, data)
        (pipe,) = pipes
        spied[method] = {"calls": calls, "predicted": predicted, "pipe": pipe,
                         "record": record}  # fmt: skip
    return spied


def _scaled_by_hand(spied):
    """The features z-normalised with the training folds' mean and std."""
    X = spied["data"].X
    train = X[spied["fold"].train]
    return (X - train.mean(axis=0)) / train.std(axis=0)


def _call(spied, method, cls):
    """The one recorded fit of class ``cls`` in the fit of ``method``."""
    (call,) = [c for c in spied[method]["calls"] if c["cls"] == cls]
    return call


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["dnn", "prognet"])
def test_the_scaler_is_fitted_on_the_training_folds_only(spied_fit, method):
    fold, X = spied_fit["fold"], spied_fit["data"].X
    expected = _scaled_by_hand(spied_fit)
    # the planted shift of the test fold is not in the statistics
    assert np.abs(expected[fold.train]).max() < 10
    _close(spied_fit[method]["pipe"][:-1].transform(X), expected)


@pytest.mark.parametrize("method", ["dnn", "prognet"])
def test_each_fold_reaches_the_network_in_its_own_role(spied_fit, method):
    fold, y = spied_fit["fold"], spied_fit["data"].y
    scaled = _scaled_by_hand(spied_fit)
    net = _call(spied_fit, method, NET_CLASS[method])
    _close(net["X"], scaled[fold.train])
    np.testing.assert_array_equal(net["y"], y[fold.train])
    _close(net["X_val"], scaled[fold.validation])
    np.testing.assert_array_equal(net["y_val"], y[fold.validation])
    record = spied_fit[method]["record"]
    n = (len(fold.train), len(fold.validation), len(fold.test))
    assert (record["n_train"], record["n_val"], record["n_test"]) == n


def _uar_by_hand(y_true, y_pred):
    return np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)])


@pytest.mark.parametrize("method", ["dnn", "prognet"])
def test_the_record_scores_the_test_fold(spied_fit, method):
    fold, data = spied_fit["fold"], spied_fit["data"]
    spied = spied_fit[method]
    # the fitted network predicted the test fold, and that alone
    (X_pred,) = [X for cls, X in spied["predicted"] if cls == NET_CLASS[method]]
    _close(X_pred, _scaled_by_hand(spied_fit)[fold.test])
    y_test, y_pred = data.y[fold.test], spied["pipe"].predict(data.X[fold.test])
    assert spied["record"]["uar"] == pytest.approx(_uar_by_hand(y_test, y_pred))
    labels = np.unique(data.y)
    confusion = [[np.sum((y_test == t) & (y_pred == p)) for p in labels]
                 for t in labels]  # fmt: skip
    np.testing.assert_array_equal(spied["record"]["confusion"], confusion)


def test_the_source_trains_on_the_training_rows_only(spied_fit):
    fold, corpus = spied_fit["fold"], spied_fit["corpus"]
    source = _call(spied_fit, "prognet", "DNNClassifier")
    _close(source["X"], _scaled_by_hand(spied_fit)[fold.train])
    np.testing.assert_array_equal(source["y"], corpus.speaker[fold.train])
    # speaker-independent folds: no test-fold speaker reaches the source
    assert not set(source["y"]) & set(corpus.speaker[fold.test])
    # the ProgNet and its source, nothing else
    assert len(spied_fit["prognet"]["calls"]) == 2
    assert [c["cls"] for c in spied_fit["dnn"]["calls"]] == ["DNNClassifier"]


# -- the plan: fold roles of every task ------------------------------------------


@pytest.mark.parametrize("protocol", ["speaker_stratified", "speaker_independent"])
def test_paralinguistic_tasks_use_the_papers_fold_roles(protocol):
    corpus = toy_corpus(n_speakers=8)
    options = _options(n_splits=4, n_repeats=2, protocol=protocol)
    plan = Paralinguistic(corpus, ("speaker", "gender")).plan(options, {})
    steps = _by_step(plan.tasks)
    assert len(steps) == 8 and {len(t) for t in steps.values()} == {5}
    n = corpus.n_samples
    for repeat in range(2):
        tests = [steps[repeat, k][0].test for k in range(4)]
        # the test folds of a repeat partition the corpus
        np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(n))
        for k in range(4):
            for task in steps[repeat, k]:
                np.testing.assert_array_equal(task.test, tests[k])
                # validation: the next fold; training: all the others
                np.testing.assert_array_equal(task.validation, tests[(k + 1) % 4])
                others = np.setdiff1d(
                    np.arange(n), np.union1d(tests[k], task.validation)
                )
                np.testing.assert_array_equal(np.sort(task.train), others)
                assert task.n_train_folds == 2
    if protocol == "speaker_independent":
        speaker = corpus.speaker
        for task in plan.tasks:
            test_speakers = set(speaker[task.test])
            assert not test_speakers & set(speaker[task.train])
            assert not test_speakers & set(speaker[task.validation])
            assert not set(speaker[task.train]) & set(speaker[task.validation])


def test_cross_corpus_training_folds_are_nested():
    # 10 folds: the paper's 8, 4, 2 and 1 training folds
    source, target = toy_corpus("src", seed=1), toy_corpus("tgt", n_speakers=10)
    plan = CrossCorpus(source, target).plan(_options(n_splits=10, n_repeats=2), {})
    assert plan.settings["train_folds"] == [8, 4, 2, 1]
    n = target.n_samples
    steps = _by_step(plan.tasks)
    for repeat in range(2):
        tests = [steps[repeat, k][0].test for k in range(10)]
        np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(n))
        for k in range(10):
            trains = {}
            for task in steps[repeat, k]:
                np.testing.assert_array_equal(task.test, tests[k])
                np.testing.assert_array_equal(task.validation, tests[(k + 1) % 10])
                trains.setdefault(task.n_train_folds, []).append(np.sort(task.train))
            # the three methods of a size train on the same rows
            for rows in trains.values():
                assert all(np.array_equal(rows[0], r) for r in rows)
            kept = {
                size: {j for j in range(10) if np.isin(tests[j], rows[0]).all()}
                for size, rows in trains.items()
            }
            for size, folds in kept.items():
                # whole folds, as many as named, never the test or validation fold
                assert len(folds) == size and not folds & {k, (k + 1) % 10}
                union = np.sort(np.concatenate([tests[j] for j in folds]))
                np.testing.assert_array_equal(trains[size][0], union)
            assert kept[1] <= kept[2] <= kept[4] <= kept[8]


# -- cross-corpus: source and target must be disjoint ----------------------------


def test_cross_corpus_refuses_a_source_that_holds_target_rows():
    target = toy_corpus("tgt")
    other = toy_corpus("src", seed=1)
    source = Corpus(
        name="src",
        X=np.vstack([other.X, target.X[[3, 7]]]),
        emotion=np.concatenate([other.emotion, target.emotion[[3, 7]]]),
        speaker=np.concatenate([other.speaker, ["x", "x"]]),
        gender=np.concatenate([other.gender, ["male", "male"]]),
        feature_names=other.feature_names,
    )
    with pytest.raises(ExperimentInputError, match=r"holds 2 utterances.*row 3"):
        CrossCorpus(source, target).plan(_options(), {})


def test_cross_corpus_refuses_same_corpus_shared_speakers():
    target = toy_corpus("same")
    source = toy_corpus("same", seed=1)  # other rows, the same speaker names
    with pytest.raises(ExperimentInputError, match="share speakers"):
        CrossCorpus(source, target).plan(_options(), {})


# -- resume: saved fits are skipped, each record is written as its fit ends ------


def _fake_tasks(n):
    empty = np.array([], dtype=int)
    return [FitTask(f"t{i}", "dnn", 0, i, 1, empty, empty, empty, i)
            for i in range(n)]  # fmt: skip


def test_execute_runs_only_unsaved_fits_and_saves_each_at_once(tmp_path, monkeypatch):
    seen = []

    def fake_run_fit(task, data, torch_threads):
        saved = [r["key"] for r in read_records(tmp_path / "fits.jsonl")[0]]
        seen.append((task.key, saved))
        return {"key": task.key, "uar": 0.5}

    monkeypatch.setattr(_execution, "run_fit", fake_run_fit)
    tasks = _fake_tasks(5)
    with ResultsStore(tmp_path, {"a": 1}) as store:
        store.append({"key": "t1", "uar": 0.1})
        store.append({"key": "t3", "uar": 0.3})
        n_run = _execution.execute(store, tasks, None, engine="per-fit", verbose=False)
    assert n_run == 3
    assert [key for key, _ in seen] == ["t0", "t2", "t4"]
    # every fit finds the records of the fits before it already saved
    assert [saved for _, saved in seen] == [
        ["t1", "t3"],
        ["t1", "t3", "t0"],
        ["t1", "t3", "t0", "t2"],
    ]
    before = (tmp_path / "fits.jsonl").read_bytes()
    with ResultsStore(tmp_path, {"a": 1}) as store:
        assert (
            _execution.execute(store, tasks, None, engine="per-fit", verbose=False) == 0
        )
    assert len(seen) == 3 and (tmp_path / "fits.jsonl").read_bytes() == before


def test_a_resumed_cross_corpus_run_loads_its_source_model(tmp_path, monkeypatch):
    from sklearn_prognet.experiments import _cross_corpus

    source = toy_corpus("src", seed=1)
    network = network_params({**TINY, "max_epochs": 2})
    settings = ("speaker_stratified", "global")  # protocol, normalization
    args = (source, network, 0, settings, (1, "loky", None, 1))
    with ResultsStore(tmp_path, {"a": 1}) as store:
        fitted = _cross_corpus._source_model(store, *args)
    before = (tmp_path / "fits.jsonl").read_bytes()
    assert [r["key"] for r in read_records(tmp_path / "fits.jsonl")[0]] == ["source"]

    def refuse(*args, **kwargs):
        raise AssertionError("the resumed run fitted the source model again")

    monkeypatch.setattr(_cross_corpus, "fit_source_model", refuse)
    with ResultsStore(tmp_path, {"a": 1}) as store:
        loaded = _cross_corpus._source_model(store, *args)
    assert (tmp_path / "fits.jsonl").read_bytes() == before
    np.testing.assert_array_equal(
        loaded.predict_proba(source.X), fitted.predict_proba(source.X)
    )


# -- the report's numbers, by hand from a fixed results file --------------------

# UAR of each arm in repeat r (rows), fold f (columns): 2 repeats of 3 folds.
DNN = np.array([[0.50, 0.55, 0.60], [0.52, 0.58, 0.54]])
FIXED_UARS = {
    "dnn": DNN,
    # much better than the DNN and than PT/FT: a dagger
    "prognet-gender": DNN + [[0.20, 0.25, 0.19], [0.24, 0.20, 0.26]],
    # better than the DNN: a star
    "ptft-gender": DNN + [[0.10, 0.12, 0.09], [0.11, 0.10, 0.13]],
    # not significantly different from the DNN: no mark
    "prognet-speaker": DNN + [[0.05, -0.04, 0.02], [-0.03, 0.04, -0.01]],
    # significantly *worse* than the DNN: no mark
    "ptft-speaker": DNN - [[0.10, 0.12, 0.09], [0.11, 0.10, 0.13]],
}
FIXED_UARS = {arm: uars.round(6) for arm, uars in FIXED_UARS.items()}  # as saved
N_TRAIN, N_TEST, ALPHA, DF = 40, 20, 0.05, 3


def _fixed_record(arm, repeat, fold, uar):
    method, _, source = arm.partition("-")
    record = {
        "key": f"r{repeat:02d}/f{fold:02d}/{arm}", "experiment": "paralinguistic",
        "method": method, "source": source or None, "repeat": repeat, "fold": fold,
        "n_train_folds": 1, "uar": float(uar), "n_train": N_TRAIN,
        "n_val": N_TEST, "n_test": N_TEST, "random_state": 0, "best_epoch": 2,
        "n_epochs": 3, "best_valid_uar": 0.5,
        "history": {"valid_uar": [0.4, 0.5, 0.5], "train_loss": [1, 1, 1],
                    "valid_loss": [1, 1, 1]},
        "fit_time": 0.1, "worker": "x",
    }  # fmt: skip
    if source:
        record.update(source_n_epochs=3, source_best_epoch=2)
    return record


def _fixed_results(folder, extra_lines=()):
    config = {
        "experiment": "paralinguistic", "format_version": 1,
        "emotions": list(EMOTIONS),
        "corpus": {"name": "toy", "fingerprint": "0", "n_samples": 100},
        "sources": ["speaker", "gender"], "protocol": "speaker_stratified",
        "n_splits": 3, "n_repeats": 2, "seed": 0,
        "network": {"hidden_layer_sizes": [16], "activation": "sigmoid",
                    "dropout": 0.5, "lr": 0.0005, "batch_size": 64, "max_epochs": 3,
                    "patience": 3, "device": "cpu"},
        "lateral": "linear",
    }  # fmt: skip
    saved = {"config": config, "config_hash": "0", "notes": [], "versions": {},
             "analysis": {"alpha": ALPHA, "ttest_df": DF},
             "corpus_info": {"name": "toy", "spec": "toy.csv", "n_samples": 100,
                             "n_speakers": 10, "emotions": {}}}  # fmt: skip
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(saved))
    lines = [
        json.dumps(_fixed_record(arm, r, f, uars[r, f]))
        for arm, uars in FIXED_UARS.items()
        for r in range(2)
        for f in range(3)
    ]
    (folder / "fits.jsonl").write_text("\n".join([*lines, *extra_lines]) + "\n")
    return folder


def _corrected_ttest_by_hand(a, b):
    """Nadeau & Bengio's corrected t-test of a - b, two-sided, DF degrees."""
    d = (np.asarray(a) - np.asarray(b)).ravel()
    t = d.mean() / np.sqrt((1 / d.size + N_TEST / N_TRAIN) * d.var(ddof=1))
    return d.mean(), t, 2 * scipy_stats.t.sf(abs(t), DF)


def _bayesian_by_hand(a, b, rope=0.01):
    """P(a better), P(rope), P(b better) of Corani & Benavoli's posterior.

    A Student t with J - 1 degrees of freedom, located at the mean difference,
    scaled by the corrected standard error; written as the report writes a
    probability (3 decimals, ``<0.001`` / ``>0.999`` at the ends).
    """
    d = (np.asarray(a) - np.asarray(b)).ravel()
    scale = np.sqrt((1 / d.size + N_TEST / N_TRAIN) * d.var(ddof=1))
    posterior = scipy_stats.t(d.size - 1, loc=d.mean(), scale=scale)
    p_a, p_b = posterior.sf(rope), posterior.cdf(-rope)
    probs = (p_a, 1 - p_a - p_b, p_b)
    return [
        "<0.001" if q < 0.001 else ">0.999" if q > 0.999 else f"{q:.3f}" for q in probs
    ]


def _expected_report_lines():
    """The table and t-test rows of the report, computed here."""
    table, tests = {}, []
    for source, label in (("speaker", "Speaker"), ("gender", "Gender")):
        arms = {"dnn": "dnn", "ptft": f"ptft-{source}", "prognet": f"prognet-{source}"}
        uar = {m: FIXED_UARS[arm] for m, arm in arms.items()}
        result = {(a, b): _corrected_ttest_by_hand(uar[a], uar[b])
                  for a in uar for b in uar if a != b}  # fmt: skip

        def better(a, b, result=result):
            diff, _, p = result[a, b]
            return p < ALPHA and diff > 0

        for method, other in (("ptft", "prognet"), ("prognet", "ptft")):
            mark = ""
            if better(method, "dnn"):
                mark = "†" if better(method, other) else "*"
            u = uar[method]
            cell = f"{u.mean():.3f}±{u.std(axis=1, ddof=1).mean():.3f}"
            table[label, method] = (cell, mark)
        for a, b, name in (("prognet", "dnn", "ProgNet vs DNN"),
                           ("ptft", "dnn", "PT/FT vs DNN"),
                           ("prognet", "ptft", "ProgNet vs PT/FT")):  # fmt: skip
            diff, t, p = result[a, b]
            p_text = f"{p:.1e}" if p < 0.001 else f"{p:.3f}"
            yes = "yes" if p < ALPHA else ""
            probs = _bayesian_by_hand(uar[a], uar[b])
            cells = [label, name, f"{diff:+.3f}", f"{t:.2f}", f"{DF}", p_text,
                     *probs, yes]  # fmt: skip
            tests.append("| " + " | ".join(cells) + " |")
    dnn = FIXED_UARS["dnn"]
    dnn_cell = f"{dnn.mean():.3f}±{dnn.std(axis=1, ddof=1).mean():.3f}"
    return table, tests, dnn_cell


def _check_report(text):
    table, tests, dnn_cell = _expected_report_lines()
    # the designed marks, so that every kind is checked
    assert [mark for _, mark in table.values()] == ["", "", "*", "†"]
    assert f"| N/A | DNN | {dnn_cell} |" in text
    names = {"ptft": "PT/FT", "prognet": "ProgNet"}
    for (label, method), (cell, mark) in table.items():
        best = (label, method) == ("Gender", "prognet")
        cell = f"**{cell}**" if best else cell
        assert f"| {label} | {names[method]} | {cell}{mark} |" in text
    for row in tests:
        assert row in text


def test_report_numbers_and_marks_equal_a_computation_by_hand(tmp_path):
    folder = _fixed_results(tmp_path / "results")
    _check_report(render_report(folder).read_text())


def test_report_leaves_out_records_outside_the_plan(tmp_path):
    # a fit of a repeat the run does not have, and of an unknown arm
    foreign = [
        json.dumps(_fixed_record("dnn", 7, 0, 0.0)),
        json.dumps(_fixed_record("ptft-age", 0, 0, 0.0)),
    ]
    folder = _fixed_results(tmp_path / "results", foreign)
    with pytest.warns(UserWarning, match="2 record.*not part of this run's plan"):
        text = render_report(folder).read_text()
    _check_report(text)
