"""Per-speaker normalisation, the logistic-regression baseline and the
Bayesian columns of the experiments' reports (issue #14).
"""

import json
import os
import shutil

import joblib
import numpy as np
import pytest
from scipy import stats as sps

from sklearn_prognet.experiments import (
    ExperimentInputError,
    load_corpus,
    load_results,
    render_report,
    run_cross_corpus,
    run_paralinguistic,
)
from sklearn_prognet.experiments._fits import FitData, FitTask, make_estimator, run_fit
from sklearn_prognet.experiments.cli import _run_settings, build_parser, main

TINY = {"hidden_layer_sizes": (16,), "max_epochs": 4, "patience": 4}
QUIET = {"verbose": False, "progress": False}
DATA = os.path.join(os.path.dirname(__file__), "data")


def _offset_speakers(n_speakers=6, n_per_class=10, seed=0):
    """Two classes that only per-speaker statistics separate.

    Feature 0 is the speaker's offset (spread over +-20) plus +1 for class 1
    and -1 for class 0; each speaker has both classes equally often, so the
    speaker's mean is the offset. Feature 1 is noise.
    """
    rng = np.random.RandomState(seed)
    offsets = np.linspace(-20, 20, n_speakers)
    rng.shuffle(offsets)
    X, y, speaker = [], [], []
    for s, offset in enumerate(offsets):
        labels = np.repeat([0, 1], n_per_class)
        x0 = offset + (2 * labels - 1) + rng.normal(0, 0.2, len(labels))
        X.append(np.column_stack([x0, rng.normal(0, 1, len(labels))]))
        y.append(np.where(labels == 1, "angry", "sad"))
        speaker += [f"s{s}"] * len(labels)
    return np.vstack(X), np.concatenate(y), np.asarray(speaker)


def _speaker_task(method, speaker, train_speakers, validation_speakers):
    rows = np.arange(len(speaker))
    train = rows[np.isin(speaker, train_speakers)]
    validation = rows[np.isin(speaker, validation_speakers)]
    test = rows[~np.isin(speaker, [*train_speakers, *validation_speakers])]
    return FitTask(key=method, method=method, repeat=0, fold=0, n_train_folds=1,
                   train=train, validation=validation, test=test,
                   random_state=0)  # fmt: skip


@pytest.mark.parametrize("method", ["logreg", "dnn"])
def test_speaker_normalization_uses_each_speakers_statistics(method):
    # Unseen test speakers whose offsets dwarf the class signal: only their
    # own statistics reveal the class.
    X, y, speaker = _offset_speakers()
    task = _speaker_task(method, speaker, ["s0", "s1", "s2", "s3"], ["s4"])
    network = {"hidden_layer_sizes": (8,), "activation": "relu", "dropout": 0.0,
               "lr": 0.05, "batch_size": 16, "max_epochs": 40, "patience": 40,
               "device": "cpu"}  # fmt: skip
    uar = {}
    for normalization in ("global", "speaker"):
        data = FitData(X=X, y=y, network=network, normalization=normalization,
                       speaker=speaker)  # fmt: skip
        uar[normalization] = run_fit(task, data)["uar"]
    assert uar["speaker"] == 1.0
    assert uar["global"] < 0.8


def test_speaker_normalization_transforms_test_rows_with_their_speakers():
    X, y, speaker = _offset_speakers()
    task = _speaker_task("logreg", speaker, ["s0", "s1", "s2", "s3"], ["s4"])
    data = FitData(X=X, y=y, network={}, normalization="speaker", speaker=speaker)
    pipe, _ = make_estimator(task, data)
    pipe.fit(data.rows(task.train), y[task.train])
    test = data.rows(task.test)
    assert list(test.columns) == ["x0", "x1", "speaker"]
    rows = X[task.test]
    expected = (rows - rows.mean(axis=0)) / rows.std(axis=0)  # one speaker: s5
    np.testing.assert_allclose(pipe[0].transform(test), expected)


def _tiny(out, corpus, **kwargs):
    params = {"n_splits": 3, "n_repeats": 1, "sources": ["gender"],
              "network": TINY, "protocol": "speaker_independent", **QUIET}  # fmt: skip
    params.update(kwargs)
    return run_paralinguistic(out, corpus, **params)


@pytest.fixture(scope="module")
def emodb():
    return load_corpus("emodb")


@pytest.fixture(scope="module")
def global_run(tmp_path_factory, emodb):
    out = tmp_path_factory.mktemp("global") / "run"
    _tiny(out, emodb)
    return out


def test_report_says_which_normalization(tmp_path, emodb, global_run):
    text = (global_run / "report.md").read_text()
    assert "StandardScaler fitted on the training folds" in text
    assert "normalised per speaker" not in text
    out = tmp_path / "speaker"
    result = _tiny(out, emodb, normalization="speaker", baselines=["logreg"])
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["normalization"] == "speaker"
    assert saved["config"]["baselines"] == ["logreg"]
    text = result.report.read_text()
    assert "normalised per speaker (SpeakerStandardScaler" in text
    assert "test speakers with their test utterances" in text
    assert "transductive" in text
    # the baseline arm: its row, its fits and every network compared with it
    assert sorted(result.scores["arm"].unique()) == [
        "dnn", "logreg", "prognet-gender", "ptft-gender"]  # fmt: skip
    assert "| N/A | LogReg |" in text and "Baseline: LogReg" in text
    for row in ("| N/A | DNN vs LogReg |", "| Gender | PT/FT vs LogReg |",
                "| Gender | ProgNet vs LogReg |"):  # fmt: skip
        assert row in text
    assert "**complete**: 12 of 12" in text
    # the speaker-normalised fits differ from the global ones
    scores = load_results(global_run)[1].set_index("key")["uar"]
    other = result.scores.set_index("key")["uar"].reindex(scores.index)
    assert not np.allclose(scores, other)


def test_old_results_folder_resumes_as_global(tmp_path, emodb, global_run):
    out = tmp_path / "old"
    shutil.copytree(global_run, out)
    path = out / "config.json"
    saved = json.loads(path.read_text())
    # what a results folder of the previous version holds
    del saved["config"]["normalization"], saved["config"]["baselines"]
    path.write_text(json.dumps(saved))
    before = (out / "fits.jsonl").read_bytes()
    _tiny(out, emodb)  # resumes: nothing to run, nothing refused
    assert (out / "fits.jsonl").read_bytes() == before
    assert load_results(out)[0]["config"]["normalization"] == "global"
    assert "global normalisation" in render_report(out).read_text()
    with pytest.raises(ExperimentInputError, match="'global' in the folder"):
        _tiny(out, emodb, normalization="speaker")
    with pytest.raises(ExperimentInputError, match="baselines"):
        _tiny(out, emodb, baselines=["logreg"])


def test_bad_normalization_and_baseline(tmp_path, emodb):
    with pytest.raises(ExperimentInputError, match="normalization='z'"):
        _tiny(tmp_path / "a", emodb, normalization="z")
    with pytest.raises(ExperimentInputError, match=r"baselines=\['svm'\]"):
        _tiny(tmp_path / "b", emodb, baselines=["svm"])
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_cross_corpus_normalises_the_source_model_per_speaker(tmp_path, emodb):
    source = emodb.select(np.isin(emodb.speaker, ["03", "08", "09", "10"]))
    target = emodb.select(np.isin(emodb.speaker, ["11", "12", "13", "14", "15"]))
    # speaker-stratified folds of 4: some test speakers have < 10 rows a fold
    with pytest.warns(UserWarning, match="normalization='speaker' with protocol"):
        result = run_cross_corpus(tmp_path, source, target, n_splits=4,
                                  n_repeats=1, train_folds=[1], network=TINY,
                                  normalization="speaker", **QUIET)  # fmt: skip
    model = joblib.load(tmp_path / "source_model.joblib")
    assert type(model[0]).__name__ == "SpeakerStandardScaler"
    assert "per speaker, in both corpora" in result.report.read_text()


# -- the CLI --------------------------------------------------------------------


def test_cli_normalization_and_baselines(tmp_path, capsys):
    parser = build_parser()
    settings = _run_settings(parser.parse_args(["paralinguistic"]))
    assert settings["normalization"] == "global"
    args = parser.parse_args(["cross-corpus", "--source", "a", "--target", "b",
                              "--normalization", "speaker"])  # fmt: skip
    assert _run_settings(args)["normalization"] == "speaker"
    with pytest.raises(SystemExit):
        parser.parse_args(["paralinguistic", "--normalization", "corpus"])
    capsys.readouterr()
    out = tmp_path / "run"
    status = main(["paralinguistic", "--sources", "gender", "--baselines", "logreg",
                   "--normalization", "speaker", "--protocol", "speaker-independent",
                   "--n-splits", "3", "--n-repeats", "1", "--hidden-layer-sizes",
                   "16", "--max-epochs", "2", "--patience", "2", "--no-progress",
                   "--out", str(out)])  # fmt: skip
    assert status == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert (config["normalization"], config["baselines"]) == ("speaker", ["logreg"])
    status = main(["paralinguistic", "--baselines", "svm", "--out", str(tmp_path)])
    assert status == 2 and "--baselines ['svm']" in capsys.readouterr().err


# -- the report's numbers against a computation by hand -------------------------


def _results_with_baseline(tmp_path):
    """tests/data/results_confusion plus a LogReg arm, in an old-style config."""
    folder = tmp_path / "results"
    shutil.copytree(os.path.join(DATA, "results_confusion"), folder)
    path = folder / "config.json"
    saved = json.loads(path.read_text())
    saved["config"]["baselines"] = ["logreg"]
    path.write_text(json.dumps(saved))
    sizes = [(6, 6), (6, 6), (6, 8)]
    with open(folder / "fits.jsonl", "a") as f:
        for fold, (uar, (n_train, n_test)) in enumerate(
            zip([0.625, 0.75, 0.875], sizes, strict=True)
        ):
            f.write(json.dumps({"key": f"r00/f{fold:02d}/logreg", "method": "logreg",
                                "source": None, "repeat": 0, "fold": fold,
                                "uar": uar, "n_train": n_train, "n_test": n_test,
                                "fit_time": 0.1}) + "\n")  # fmt: skip
    return folder


def _by_hand(a, b, n_train, n_test, rope=0.01):
    d = np.subtract(a, b)
    j = len(d)
    se = np.sqrt((1 / j + sum(n_test) / sum(n_train)) * np.var(d, ddof=1))
    t = d.mean() / se
    p = 2 * sps.t.sf(abs(t), j - 1)  # df 10 > 3 pairs: j - 1
    p_a = sps.t.sf(rope, j - 1, loc=d.mean(), scale=se)
    p_b = sps.t.cdf(-rope, j - 1, loc=d.mean(), scale=se)
    return d.mean(), t, p, p_a, 1 - p_a - p_b, p_b


def _row(text, comparison):
    line = next(x for x in text.splitlines() if f"| {comparison} |" in x)
    return [c.strip() for c in line.strip("|").split("|")]


# the fixed results have more test than training utterances in one fold
@pytest.mark.filterwarnings("ignore:n_train is smaller than n_test")
def test_report_numbers_against_hand_computation(tmp_path):
    # UARs of tests/data/results_confusion (folds 0, 1, 2): DNN .875 .5 .875,
    # PT/FT 1 .875 .625, ProgNet .75 1 1; LogReg added here: .625 .75 .875.
    folder = _results_with_baseline(tmp_path)
    text = render_report(folder).read_text()
    n_train, n_test = [6, 6, 6], [6, 6, 8]
    uars = {"DNN": [0.875, 0.5, 0.875], "PT/FT": [1.0, 0.875, 0.625],
            "ProgNet": [0.75, 1.0, 1.0], "LogReg": [0.625, 0.75, 0.875]}  # fmt: skip
    pairs = [("ProgNet", "DNN"), ("PT/FT", "DNN"), ("ProgNet", "PT/FT"),
             ("DNN", "LogReg"), ("PT/FT", "LogReg"), ("ProgNet", "LogReg")]  # fmt: skip
    for a, b in pairs:
        mean, t, p, p_a, p_rope, p_b = _by_hand(uars[a], uars[b], n_train, n_test)
        cells = _row(text, f"{a} vs {b}")
        assert cells[2] == f"{mean:+.3f}"
        assert cells[3] == f"{t:.2f}" and cells[4] == "2"
        assert cells[5] == f"{p:.3f}"
        assert cells[6:9] == [f"{p_a:.3f}", f"{p_rope:.3f}", f"{p_b:.3f}"]
    # LogReg's row in Table 2: mean and within-repeat standard deviation
    logreg = _row(text, "N/A | LogReg")
    mean, std = np.mean(uars["LogReg"]), np.std(uars["LogReg"], ddof=1)
    assert logreg[2] == f"{mean:.3f}±{std:.3f}"
    assert "within ±0.01" in text
