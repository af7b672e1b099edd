"""Tests of the multitask experiment: ratings beside the classes (issue #17).

The corpora are fake IEMOCAP and MSP-IMPROV trees (empty wav files in the
real layouts, with label files) whose features are patched in: every file's
features are its emotion's centre plus noise seeded by its name, so no
audio is analysed. The networks are tiny; a run takes a few seconds.
"""

import gzip
import json
import re
import shutil
import zlib

import numpy as np
import pandas as pd
import pytest
import sklearn
from scipy import stats

from sklearn_prognet import DNNClassifier
from sklearn_prognet.datasets import load_iemocap, load_msp_improv
from sklearn_prognet.experiments import (
    ExperimentInputError,
    load_corpus,
    render_report,
    run_multitask,
)
from sklearn_prognet.experiments._feature_sets import FeatureSet
from sklearn_prognet.experiments._fits import (
    FitData,
    FitTask,
    fit_arguments,
    fit_record,
    make_estimator,
    run_fit,
)
from sklearn_prognet.experiments._inputs import corpus_to_frame
from sklearn_prognet.experiments._multitask import RatedNetworks
from sklearn_prognet.experiments.cli import main
from sklearn_prognet.metrics import uar_score

EMOTIONS = ["angry", "happy", "neutral", "sad"]
TINY = {"hidden_layer_sizes": (8,), "max_epochs": 6, "patience": 6, "lr": 0.02}
QUIET = {"verbose": False, "progress": False, "cache_dir": "none"}
N_FEATURES = 5
# Arousal and valence of each emotion, 1 to 5 as in IEMOCAP and MSP-IMPROV.
AROUSAL = {"angry": 4.2, "happy": 3.8, "neutral": 2.5, "sad": 1.8}
VALENCE = {"angry": 1.8, "happy": 4.3, "neutral": 3.0, "sad": 1.7}


# -- fake corpora --------------------------------------------------------------


def _ratings(emotion, k):
    """Arousal, valence, dominance of utterance ``k`` of an emotion."""
    wobble = 0.3 * np.sin(k)
    return AROUSAL[emotion] + wobble, VALENCE[emotion] - wobble, 3.0 + 0.2 * (k % 3)


def _iemocap_tree(root, per_speaker=12):
    """Two sessions, two speakers each; 4 emotions in turn; VAD per utterance."""
    codes = {"angry": "ang", "happy": "hap", "neutral": "neu", "sad": "sad"}
    for session in (1, 2):
        session_dir = root / f"Session{session}"
        evaluation = session_dir / "dialog" / "EmoEvaluation"
        evaluation.mkdir(parents=True)
        dialog = f"Ses0{session}F_impro01"
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        wav_dir = session_dir / "sentences" / "wav" / dialog
        wav_dir.mkdir(parents=True)
        for gender in "FM":
            for k in range(per_speaker):
                emotion = EMOTIONS[k % 4]
                arousal, valence, dominance = _ratings(emotion, k)
                utterance = f"{dialog}_{gender}{k:03d}"
                lines += [
                    f"[{10.0 * k:.4f} - {10.0 * k + 2:.4f}]\t{utterance}\t"
                    f"{codes[emotion]}\t[{valence:.4f}, {arousal:.4f}, "
                    f"{dominance:.4f}]",
                    "",
                ]
                (wav_dir / f"{utterance}.wav").touch()
        (evaluation / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
    return root


def _msp_tree(root, per_speaker=12, unrated_dominance=3):
    """Speakers F01, M01, F02, M02; the first utterances lack a D rating."""
    letters = {"angry": "A", "happy": "H", "neutral": "N", "sad": "S"}
    root.mkdir(parents=True)
    lines, n = [], 0
    for speaker in ("F01", "M01", "F02", "M02"):
        for k in range(per_speaker):
            emotion = EMOTIONS[k % 4]
            letter = letters[emotion]
            name = f"S{k + 1:02d}{letter}-{speaker}-S-FM{k + 1:02d}"
            arousal, valence, dominance = _ratings(emotion, k)
            d = "" if n < unrated_dominance else f"; D:{dominance:.6f}"
            lines += [
                f"UTD-IMPROV-{name}.avi; {letter}; A:{arousal:.6f}; "
                f"V:{valence:.6f}{d} ; N:3.0;",
                "",
            ]
            n += 1
            folder = root / "Audio" / f"session{int(speaker[1:])}" / name[:4] / "S"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"MSP-IMPROV-{name}.wav").touch()
    (root / "Evaluation.txt").write_text("\n".join(lines))
    return root


class FakeFeatures:
    """Features of a file: its emotion's centre plus noise seeded by its name.

    The emotion is read from the fake trees' names (IEMOCAP: turn number
    modulo 4; MSP-IMPROV: the sentence's letter).
    """

    def __init__(self, **kwargs):
        pass

    @staticmethod
    def _emotion(stem):
        msp = re.match(r"MSP-IMPROV-S\d\d([AHNS])-", stem)
        if msp:
            return "AHNS".index(msp.group(1))
        return EMOTIONS.index(EMOTIONS[int(stem[-3:]) % 4])

    def fit_transform(self, files):
        rows = []
        for file in files:
            stem = str(file).rsplit("/", 1)[-1][: -len(".wav")]
            rng = np.random.RandomState(zlib.crc32(stem.encode()))
            centre = np.zeros(N_FEATURES)
            centre[self._emotion(stem)] = 1.5
            rows.append(centre + rng.normal(size=N_FEATURES))
        return np.array(rows)

    def get_feature_names_out(self):
        return np.array([f"f{i}" for i in range(N_FEATURES)], dtype=object)


@pytest.fixture(autouse=True)
def _fake_features(monkeypatch):
    monkeypatch.setattr(FeatureSet, "extractor", lambda self, **kw: FakeFeatures())


@pytest.fixture
def iemocap(tmp_path):
    return _iemocap_tree(tmp_path / "IEMOCAP_full_release")


@pytest.fixture
def msp(tmp_path):
    return _msp_tree(tmp_path / "MSP-IMPROV")


def _records(folder):
    lines = (folder / "fits.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _lin_ccc(t, p):
    """Lin (1989) with population moments, by hand."""
    cov = np.mean((t - t.mean()) * (p - p.mean()))
    return 2 * cov / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)


def _uar_from_correct(y_true, correct):
    """UAR from the saved right/wrong flags: the mean of per-class recalls."""
    return np.mean([correct[y_true == c].mean() for c in np.unique(y_true)])


def _table_cells(report, arm):
    """The cells of an arm's row of the report's first table."""
    row = next(line for line in report.splitlines() if line.startswith(f"| {arm} |"))
    return [c.strip() for c in row.strip("|").split("|")][1:]


def _mean_within_std(records, column):
    """The report's numbers by hand: mean and mean within-repeat std."""
    frame = pd.DataFrame(records)
    stds = frame.groupby("repeat")[column].std(ddof=1)
    return frame[column].mean(), stds.mean()


# -- end to end ----------------------------------------------------------------


def test_iemocap_report_against_records(tmp_path, iemocap):
    out = tmp_path / "run"
    result = run_multitask(
        out, f"iemocap:{iemocap}", n_splits=3, n_repeats=2,
        dimensional_weights=[2.0, 0.5], network=TINY, **QUIET,
    )  # fmt: skip
    records = _records(out)
    assert sorted(r["key"] for r in records) == sorted(
        f"r{r:02d}/f{f:02d}/{arm}"
        for r in range(2) for f in range(3) for arm in ("dnn", "mtl-0.5", "mtl-2")
    )  # fmt: skip
    # The truth, from the loader (not from the run's config.json).
    table = load_iemocap(iemocap, emotions=None)
    table = table[table["emotion"].isin(EMOTIONS)].reset_index(drop=True)
    y = table["emotion"].to_numpy()
    report = result.report.read_text()
    for record in records:
        test = np.asarray(record["test_index"])
        correct = np.array([c == "1" for c in record["test_correct"]])
        assert record["uar"] == pytest.approx(_uar_from_correct(y[test], correct))
        # every arm of a step starts from the same random state
        assert record["random_state"] == next(
            r["random_state"] for r in records
            if (r["repeat"], r["fold"]) == (record["repeat"], record["fold"])
        )  # fmt: skip
        if record["method"] == "dnn":
            assert "dimensions_pred" not in record
            continue
        for name in ("arousal", "valence", "dominance"):
            truth = table[name].to_numpy()[test]
            pred = np.asarray(record["dimensions_pred"][name])
            record[f"ccc_{name}"] = _lin_ccc(truth, pred)
    for arm, title in [("dnn", "Single-task DNN"), ("mtl-0.5", "Multi-task w=0.5"),
                       ("mtl-2", "Multi-task w=2")]:  # fmt: skip
        mine = [r for r in records if r["key"].endswith(f"/{arm}")]
        cells = _table_cells(report, title)
        mean, std = _mean_within_std(mine, "uar")
        assert cells[0].rstrip("*") == f"{mean:.3f}±{std:.3f}"
        for k, name in enumerate(("arousal", "valence", "dominance"), start=1):
            if arm == "dnn":
                assert cells[k] == "–"
            else:
                mean, std = _mean_within_std(mine, f"ccc_{name}")
                assert cells[k] == f"{mean:.3f}±{std:.3f}"
    scores = pd.read_csv(out / "scores.csv")
    assert {"ccc_arousal", "ccc_valence", "ccc_dominance"} <= set(scores)
    for png in ("uar.png", "ccc.png", "learning_curves.png"):
        assert (out / png).is_file()
    assert "![Test CCC per dimension and weight](ccc.png)" in report


def test_iemocap_t_test_against_hand_computation(tmp_path, iemocap):
    out = tmp_path / "run"
    result = run_multitask(
        out, f"iemocap:{iemocap}", n_splits=3, n_repeats=2, dimensional_weights=[1],
        network=TINY, ttest_df=None, **QUIET,
    )  # fmt: skip
    records = _records(out)
    by = {(r["repeat"], r["fold"], r["key"].rsplit("/")[-1]): r for r in records}
    steps = sorted({(r, f) for r, f, _ in by})
    diff = np.array(
        [by[s + ("mtl-1",)]["uar"] - by[s + ("dnn",)]["uar"] for s in steps]
    )
    n_train, n_test = (
        by[steps[0] + ("dnn",)]["n_train"],
        by[steps[0] + ("dnn",)]["n_test"],
    )
    # Nadeau & Bengio's corrected variance, n - 1 degrees of freedom
    t = diff.mean() / np.sqrt((1 / len(diff) + n_test / n_train) * diff.var(ddof=1))
    p = 2 * stats.t.sf(abs(t), len(diff) - 1)
    row = next(
        line for line in result.report.read_text().splitlines()
        if "Multi-task w=1 vs DNN" in line
    )  # fmt: skip
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == f"{diff.mean():+.3f}"
    assert cells[3] == f"{t:.2f}"
    assert float(cells[5]) == pytest.approx(p, abs=1e-3)


def test_msp_improv_cli_missing_ratings_and_resume(tmp_path, msp, capsys):
    out = tmp_path / "run"
    argv = [
        "multitask", "--corpus", f"msp-improv:{msp}", "--n-splits", "3",
        "--n-repeats", "1", "--dimensional-weights", "1", "--dimensional-loss",
        "ccc", "--hidden-layer-sizes", "8", "--max-epochs", "3", "--patience", "3",
        "--out", str(out), "--cache-dir", "none",
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| Multi-task w=1 |" in printed and "CCC dominance" in printed
    records = _records(out)
    assert len(records) == 6
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["dimensional_loss"] == "ccc"
    table = load_msp_improv(msp, emotions=EMOTIONS)
    dominance = table["dominance"].to_numpy()
    assert np.isnan(dominance).sum() == 3
    for record in (r for r in records if r["method"] == "multitask"):
        test = np.asarray(record["test_index"])
        pred = np.asarray(record["dimensions_pred"]["dominance"])
        assert len(pred) == len(test) and np.isfinite(pred).all()
        rated = ~np.isnan(dominance[test])
        expected = _lin_ccc(dominance[test][rated], pred[rated])
        scores = pd.read_csv(out / "scores.csv").set_index("key")
        assert scores.loc[record["key"], "ccc_dominance"] == pytest.approx(expected)
        # the unrated training utterances are not counted
        train_rated = record["n_rated_train"]
        assert train_rated["arousal"] == record["n_train"]
        assert train_rated["dominance"] < record["n_train"]
    # Resume: two lost fits are recomputed, identically; the others are kept.
    lines = (out / "fits.jsonl").read_text().splitlines()
    (out / "fits.jsonl").write_text("\n".join(lines[:-2]) + "\n")
    assert main(argv) == 0
    again = {r["key"]: r for r in _records(out)}
    assert len(again) == 6
    for record in records:
        assert again[record["key"]]["uar"] == record["uar"]
        assert again[record["key"]].get("dimensions_pred") == record.get(
            "dimensions_pred"
        )
    assert "Resuming: 4 of 6 fits are already saved" in capsys.readouterr().err


def test_ratings_are_kept_beside_config_and_old_folders_still_report(tmp_path, msp):
    out = tmp_path / "run"
    run_multitask(
        out, f"msp-improv:{msp}", n_splits=3, n_repeats=1, dimensional_weights=[1],
        network=TINY, **QUIET,
    )  # fmt: skip
    saved = json.loads((out / "config.json").read_text())
    assert "ratings" not in saved  # config.json stays small
    # the file holds the loader's ratings, in the corpus's order, missing empty
    names = ["arousal", "valence", "dominance"]
    truth = load_msp_improv(msp, emotions=EMOTIONS)[names].to_numpy()
    with gzip.open(out / "ratings.csv.gz", "rt") as f:
        lines = f.read().splitlines()
    assert lines[0] == ",".join(names)
    cells = [[float(c) if c else np.nan for c in line.split(",")] for line in lines[1:]]
    np.testing.assert_array_equal(np.array(cells), truth)
    assert np.isnan(truth).sum() == 3
    ccc = [f"ccc_{name}" for name in names]
    scores = pd.read_csv(out / "scores.csv")
    assert np.isfinite(
        scores.loc[scores["method"] == "multitask", ccc].to_numpy()
    ).all()
    # A folder of an older run: the ratings in config.json, no ratings file.
    old = tmp_path / "old"
    shutil.copytree(out, old)
    (old / "ratings.csv.gz").unlink()
    (old / "scores.csv").unlink()
    ratings = {n: [None if np.isnan(v) else v for v in truth[:, j]]
               for j, n in enumerate(names)}  # fmt: skip
    (old / "config.json").write_text(json.dumps({**saved, "ratings": ratings}))
    render_report(old)
    pd.testing.assert_frame_equal(pd.read_csv(old / "scores.csv")[ccc], scores[ccc])
    # A ratings file of other ratings is refused, not scored against.
    changed = truth.copy()
    changed[5, 0] += 0.5
    with gzip.open(out / "ratings.csv.gz", "wt") as f:
        f.write(",".join(names) + "\n")
        f.writelines(
            ",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n"
            for row in changed
        )
    with pytest.raises(ExperimentInputError, match="does not hold the ratings"):
        render_report(out)
    (out / "ratings.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(ExperimentInputError, match="not a readable ratings file"):
        render_report(out)


# -- no leakage ----------------------------------------------------------------


def _mtl_task():
    """A multitask fit of 60 rows: 40 training, 10 validation, 10 test."""
    rows = np.arange(60)
    return FitTask(
        key="r00/f00/mtl-1", method="multitask", repeat=0, fold=0, n_train_folds=1,
        train=rows[:40], validation=rows[40:50], test=rows[50:], random_state=3,
    )  # fmt: skip


def test_network_sees_training_ratings_only_and_test_ratings_change_nothing():
    """Garbage test-fold ratings must leave the fit and its predictions alone."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.array(["a", "b", "c"] * 20)
    ratings = np.c_[rng.normal(size=60), rng.normal(size=60)]
    task = _mtl_task()
    builder = RatedNetworks(ratings, ["arousal", "valence"], {"mtl-1": 1.0}, "mse")
    network = builder(task, dict(TINY))
    np.testing.assert_array_equal(network.ratings, ratings[:40])

    def record(values):
        networks = RatedNetworks(values, ["arousal", "valence"], {"mtl-1": 1.0}, "mse")
        data = FitData(X=X, y=y, network={**TINY, "device": "cpu"},
                       networks=networks)  # fmt: skip
        out = run_fit(task, data)
        return out["uar"], out["dimensions_pred"], out["history"]

    garbage = ratings.copy()
    garbage[40:] = rng.normal(loc=100, size=(20, 2))  # validation and test rows
    assert record(ratings) == record(garbage)
    changed = ratings.copy()
    changed[:40] = changed[:40] * -1.0  # the training rows matter
    assert record(changed)[1] != record(ratings)[1]


def test_record_holds_the_ratings_predicted_for_the_scaled_test_fold():
    # The record's ratings come from the network's record_fields hook, given
    # the test fold after the pipeline's scaler, whatever predict saw last.
    rng = np.random.RandomState(1)
    X = rng.normal(loc=5.0, scale=3.0, size=(60, 4))  # far from standardised
    y = np.array(["a", "b", "c"] * 20)
    ratings = np.c_[X[:, 0] + rng.normal(size=60), rng.normal(size=60)]
    task = _mtl_task()
    networks = RatedNetworks(ratings, ["arousal", "valence"], {"mtl-1": 1.0}, "mse")
    data = FitData(X=X, y=y, network={**TINY, "device": "cpu"}, networks=networks)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe, fit_params = make_estimator(task, data)
        pipe.fit(**fit_arguments(task, data, fit_params))
    pipe.predict(X[:40])  # another fold predicted last
    record = fit_record(task, data, pipe, "per-fit")
    # the test fold standardised by hand with the training folds' statistics
    train = X[:40]
    scaled = (X[50:] - train.mean(axis=0)) / train.std(axis=0)
    expected = pipe[-1].net_.predict_dimensions(scaled)
    for j, name in enumerate(["arousal", "valence"]):
        np.testing.assert_allclose(
            record["dimensions_pred"][name], expected[:, j], atol=1e-4
        )
    assert record["n_rated_train"] == {"arousal": 40, "valence": 40}
    assert record["dimensional_weight"] == 1.0
    assert record["dimensional_loss"] == "mse"


# -- errors ----------------------------------------------------------------------


def _table_with(tmp_path, **columns):
    """The embedded EmoDB features as a table, with extra columns."""
    frame = corpus_to_frame(load_corpus("emodb"))
    for name, values in columns.items():
        frame[name] = values(frame) if callable(values) else values
    path = tmp_path / "emo.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_corpus_without_ratings_is_refused(tmp_path, capsys):
    with pytest.raises(ExperimentInputError, match="no rating columns.*iemocap"):
        run_multitask(tmp_path / "a", "emodb", network=TINY, **QUIET)
    assert not (tmp_path / "a").exists()  # refused before anything is written
    code = main(["multitask", "--corpus", "emodb", "--out", str(tmp_path / "b")])
    assert code == 2
    assert "no rating columns" in capsys.readouterr().err


def test_non_numeric_ratings_are_refused(tmp_path, capsys):
    table = _table_with(tmp_path, arousal=lambda f: ["high"] + [3.0] * (len(f) - 1))
    with pytest.raises(
        ExperimentInputError, match="'arousal' ratings must be numbers.*'high'"
    ):
        run_multitask(tmp_path / "a", table, network=TINY, **QUIET)
    code = main(["multitask", "--corpus", table, "--out", str(tmp_path / "b")])
    assert code == 2
    err = capsys.readouterr().err
    assert "must be numbers" in err and "Traceback" not in err


def test_rating_missing_in_a_training_fold_is_refused(tmp_path, capsys):
    # valence is rated for one speaker only: with whole speakers per fold,
    # some step trains without any valence rating
    def valence(frame):
        return np.where(frame["speaker"] == frame["speaker"].iloc[0], 3.0, np.nan)

    table = _table_with(tmp_path, arousal=2.0, valence=valence)
    argv = ["multitask", "--corpus", table, "--protocol", "speaker-independent",
            "--n-splits", "5", "--n-repeats", "1",
            "--out", str(tmp_path / "b")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(r"repeat 0, fold \d have no \['valence'\] rating", err), err
    assert "--dimensions" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dimensional_weights": [0]}, "dimensional_weights=.*positive"),
        ({"dimensional_weights": [-1, 1]}, "dimensional_weights=.*positive"),
        ({"dimensional_weights": []}, "dimensional_weights=.*positive"),
        ({"dimensional_weights": [1, 1.0]}, "repeats a weight"),
        ({"dimensional_loss": "mae"}, "dimensional_loss='mae'"),
        ({"dimensions": ["intensity"]}, r"dimensions=\['intensity'\].*arousal"),
    ],
)
def test_bad_options(tmp_path, kwargs, match):
    table = _table_with(tmp_path, arousal=2.0, valence=3.0)
    with pytest.raises(ExperimentInputError, match=match):
        run_multitask(tmp_path / "a", table, network=TINY, **QUIET, **kwargs)


def test_cli_help_and_bad_weights(capsys):
    with pytest.raises(SystemExit):
        main(["multitask", "--help"])
    text = capsys.readouterr().out
    assert "--dimensional-weights" in text and "--dimensional-loss" in text
    with pytest.raises(SystemExit):
        main(["multitask", "--corpus", "x.csv", "--dimensional-weights", "a,b"])
    assert "comma-separated list of numbers" in capsys.readouterr().err


# -- the science -----------------------------------------------------------------


def _latent_quadrants(seed, n_train=40, n_test=1000, n_nuisance=30):
    """Classes from the quadrant of a latent (arousal, valence); features hide it.

    The features are a random rotation of the two latent dimensions and 30
    nuisance ones of the same spread, plus noise: with 40 labelled rows a
    classifier must find the 2 relevant directions among 32. The ratings are
    the latent dimensions (plus noise), so a network that regresses them
    finds those directions from every row, beyond what 4 labels tell.
    """
    rng = np.random.RandomState(seed)
    n = n_train + n_test
    latent = rng.normal(size=(n, 2))
    mixed = np.c_[latent, rng.normal(size=(n, n_nuisance))]
    rotation, _ = np.linalg.qr(rng.normal(size=(mixed.shape[1],) * 2))
    X = (mixed @ rotation + 0.3 * rng.normal(size=mixed.shape)).astype(np.float32)
    y = 2 * (latent[:, 0] > 0) + (latent[:, 1] > 0)
    ratings = latent + 0.2 * rng.normal(size=latent.shape)
    return (X[:n_train], y[:n_train], ratings[:n_train]), (X[n_train:], y[n_train:])


@pytest.mark.slow
def test_ratings_help_classification():
    """Multi-task beats single-task on held-out UAR, paired over seeds.

    Both networks of a seed get the same data, settings and random state;
    only ``dimensional_weight`` differs. Fails if the dimensional loss is
    dropped or ignored: then the two are the same network up to noise.
    """
    params = {"hidden_layer_sizes": (32,), "lr": 0.02, "max_epochs": 30,
              "dropout": 0.1, "batch_size": 32, "early_stopping": False}  # fmt: skip
    gains = []
    for seed in range(5):
        (X, y, ratings), (X_test, y_test) = _latent_quadrants(seed)
        single = DNNClassifier(**params, random_state=seed).fit(X, y)
        multi = DNNClassifier(**params, dimensional_weight=5.0, random_state=seed)
        multi.fit(X, y, dimensions=ratings)
        gains.append(
            uar_score(y_test, multi.predict(X_test))
            - uar_score(y_test, single.predict(X_test))
        )
    gains = np.array(gains)
    # measured: gains of 0.05 to 0.10 UAR (mean about 0.08) on every seed
    assert (gains > 0.02).all(), gains
    assert gains.mean() > 0.05, gains
    assert stats.ttest_1samp(gains, 0.0, alternative="greater").pvalue < 0.01


def test_rating_columns_are_labels_not_features(tmp_path):
    arousal = np.linspace(1, 5, 339)
    table = _table_with(tmp_path, arousal=arousal, intensity=2)
    corpus = load_corpus(table, emotions=None)
    assert "arousal" not in corpus.feature_names and len(corpus.feature_names) == 88
    np.testing.assert_array_equal(corpus.ratings["arousal"], arousal)
    assert set(corpus.ratings) == {"arousal", "intensity"}
    sad = corpus.select(corpus.emotion == "sad")
    np.testing.assert_array_equal(
        sad.ratings["arousal"], arousal[corpus.emotion == "sad"]
    )
    # what `sklearn-prognet extract` writes keeps them
    frame = corpus_to_frame(sad)
    np.testing.assert_array_equal(frame["arousal"], sad.ratings["arousal"])
    # without ratings, nothing changes: no column, the same fingerprint
    plain = load_corpus("emodb", emotions=None)
    assert plain.ratings is None and "arousal" not in corpus_to_frame(plain)
    assert corpus.fingerprint() == plain.fingerprint()
