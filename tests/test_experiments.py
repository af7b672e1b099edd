"""Tests of the experiment runner, the results store and the reports.

The runs use tiny configurations (3 folds, 1-2 repeats, one hidden layer of 16
units, a few epochs) so that each takes a few seconds.
"""

import json
import os
import platform

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet.experiments import (
    Corpus,
    ExperimentInputError,
    default_train_folds,
    load_corpus,
    load_results,
    render_report,
    run_cross_corpus,
    run_paralinguistic,
)
from sklearn_prognet.experiments._execution import check_execution, threads_per_fit
from sklearn_prognet.experiments._fits import (
    FitData,
    FitTask,
    derive_seed,
    make_estimator,
)
from sklearn_prognet.experiments._folds import make_folds
from sklearn_prognet.experiments._format import footer
from sklearn_prognet.experiments._inputs import corpus_to_frame, parse_spec
from sklearn_prognet.experiments._stats import curve_statistics
from sklearn_prognet.experiments._store import (
    ResultsStore,
    read_records,
    write_atomic,
)

TINY = {"hidden_layer_sizes": (16,), "max_epochs": 4, "patience": 4}
QUIET = {"verbose": False, "progress": False}


@pytest.fixture(scope="module")
def emodb():
    return load_corpus("emodb")


@pytest.fixture(scope="module")
def small_table(tmp_path_factory, emodb):
    """A feature table of 120 EmoDB utterances (6 speakers, 4 emotions)."""
    keep = np.isin(emodb.speaker, ["03", "08", "09", "10", "11", "13"])
    rng = np.random.RandomState(0)
    index = np.flatnonzero(keep)
    index = np.sort(rng.choice(index, 120, replace=False))
    mask = np.zeros(emodb.n_samples, dtype=bool)
    mask[index] = True
    path = tmp_path_factory.mktemp("table") / "small.csv"
    corpus_to_frame(emodb.select(mask)).to_csv(path, index=False)
    return path


def _tiny_para(out, corpus, **kwargs):
    params = {
        "n_splits": 3,
        "n_repeats": 1,
        "sources": ["gender"],
        "network": TINY,
        **QUIET,
    }
    params.update(kwargs)
    return run_paralinguistic(out, corpus, **params)


# -- seeds, corpora, folds -------------------------------


def test_derive_seed_is_deterministic_and_distinct():
    seeds = {
        derive_seed(0, repeat, fold, method)
        for repeat in range(3)
        for fold in range(3)
        for method in ("dnn", "ptft", "prognet")
    }
    assert len(seeds) == 27
    assert derive_seed(0, 1, 2, "dnn") == derive_seed(0, 1, 2, "dnn")
    assert derive_seed(0, 1, 2, "dnn") != derive_seed(1, 1, 2, "dnn")
    assert all(0 <= s < 2**31 - 1 for s in seeds)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("emodb", ("embedded", "emodb", None)),
        ("EmoDB-embedded", ("embedded", "emodb", None)),
        ("urdu:/data/urdu", ("audio", "urdu", "/data/urdu")),
        ("msp_improv:/d", ("audio", "msp-improv", "/d")),
        ("features.csv", ("table", "features", "features.csv")),
    ],
)
def test_parse_spec(spec, expected):
    kind, name, path = parse_spec(spec)
    assert (kind, name) == expected[:2]
    assert (None if path is None else str(path)) == expected[2]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nope", "Unknown corpus 'nope'"),
        ("nope:/x", "Unknown corpus 'nope'"),
        ("urdu", "needs the path"),
        ("urdu:/does/not/exist", "does not exist"),
        ("/does/not/exist.csv", "does not exist"),
        ("", "empty"),
    ],
)
def test_load_corpus_bad_spec(spec, message):
    with pytest.raises(ExperimentInputError, match=message):
        load_corpus(spec)


def test_resample_applies_to_audio_only():
    assert load_corpus("emodb", resample=16000).n_samples == 339
    with pytest.raises(ExperimentInputError, match="extracted at 16000 Hz"):
        load_corpus("emodb", resample=8000)


def test_load_embedded_corpus(emodb):
    assert emodb.X.shape == (339, 88)
    assert sorted(set(emodb.emotion)) == ["angry", "happy", "neutral", "sad"]
    assert len(set(emodb.speaker)) == 10
    assert set(emodb.gender) == {"female", "male"}
    two = load_corpus("emodb", emotions=["angry", "sad"])
    assert two.n_samples == 127 + 62


def test_missing_emotion_is_an_input_error():
    with pytest.raises(ExperimentInputError, match=r"no utterance with emotion.*fear"):
        load_corpus("emodb", emotions=["angry", "fear"])


def test_feature_table_round_trip(tmp_path, emodb):
    path = tmp_path / "emodb.csv"
    corpus_to_frame(emodb).to_csv(path, index=False)
    table = load_corpus(str(path))
    assert table.fingerprint() == emodb.fingerprint()
    assert table.name == "emodb"
    assert list(table.speaker[:3]) == list(emodb.speaker[:3])  # '03' stays '03'


def test_feature_table_errors(tmp_path, emodb):
    frame = corpus_to_frame(emodb)
    no_speaker = tmp_path / "no_speaker.csv"
    frame.drop(columns="speaker").to_csv(no_speaker, index=False)
    with pytest.raises(ExperimentInputError, match="no 'speaker' column"):
        load_corpus(str(no_speaker))
    text = tmp_path / "text.csv"
    frame.assign(note="x").to_csv(text, index=False)
    with pytest.raises(ExperimentInputError, match="not numeric"):
        load_corpus(str(text))
    nan = tmp_path / "nan.csv"
    frame.assign(**{emodb.feature_names[0]: np.nan}).to_csv(nan, index=False)
    with pytest.raises(ExperimentInputError, match="missing or infinite"):
        load_corpus(str(nan))


def test_too_few_speakers_for_speaker_independent_folds(emodb):
    with pytest.raises(ExperimentInputError, match="10 speaker.*fewer than the 12"):
        make_folds(
            emodb, protocol="speaker_independent", n_splits=12, n_repeats=1, seed=0
        )


def test_folds_are_the_papers_roles(emodb):
    folds, notes = make_folds(
        emodb, protocol="speaker_stratified", n_splits=5, n_repeats=2, seed=0
    )
    assert len(folds) == 10 and notes == []
    for f in folds:
        parts = [f.train, f.validation, f.test]
        assert sum(len(p) for p in parts) == emodb.n_samples
        assert len(np.unique(np.concatenate(parts))) == emodb.n_samples
        # speaker-stratified: every speaker is in every test fold
        assert len(np.unique(emodb.speaker[f.test])) == 10
    again, _ = make_folds(
        emodb, protocol="speaker_stratified", n_splits=5, n_repeats=2, seed=0
    )
    assert all(
        np.array_equal(a.test, b.test) for a, b in zip(folds, again, strict=True)
    )


def test_source_is_trained_on_the_training_folds_only(emodb):
    folds, _ = make_folds(
        emodb, protocol="speaker_stratified", n_splits=3, n_repeats=1, seed=0
    )
    f = folds[0]
    task = FitTask(
        "k", "prognet", 0, 0, 1, f.train, f.validation, f.test, 1,
        source_task="speaker", source_random_state=2,
    )  # fmt: skip
    data = FitData(
        X=emodb.X,
        y=emodb.emotion,
        network={**TINY, "device": "cpu"},
        source_task_labels={"speaker": emodb.speaker},
    )
    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        pipe, fit_params = make_estimator(task, data)
    assert len(fit_params["source_y"]) == len(f.train)
    np.testing.assert_array_equal(fit_params["source_y"], emodb.speaker[f.train])
    net = pipe[-1]
    assert net.sources[0].random_state == 2 and net.random_state == 1
    assert pipe.transform_input == ["X_val"]


def test_threads_per_fit_is_one_unless_asked(monkeypatch):
    import joblib

    monkeypatch.setattr(joblib, "cpu_count", lambda: 8)
    # one thread whatever n_jobs is: results do not depend on the workers
    assert threads_per_fit(None) == 1
    assert threads_per_fit(3) == 3
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ExperimentInputError, match="torch_threads"):
            check_execution(1, "loky", None, bad)


def test_default_train_folds():
    assert default_train_folds(10) == [8, 4, 2, 1]
    assert default_train_folds(5) == [3, 2, 1]
    assert default_train_folds(3) == [1]


def test_curve_statistics_handles_early_stopping():
    epochs, mean, std, n = curve_statistics([[0.2, 0.4, 0.6], [0.4, 0.6]])
    np.testing.assert_array_equal(epochs, [1, 2, 3])
    np.testing.assert_allclose(mean, [0.3, 0.5, 0.6])
    np.testing.assert_array_equal(n, [2, 2, 1])
    epochs, *_ = curve_statistics([[0.2, 0.4, 0.6], [0.4]], min_fraction=1.0)
    np.testing.assert_array_equal(epochs, [1])


# -- results store ---------------------------------------


def test_store_appends_whole_lines_and_ignores_a_torn_one(tmp_path):
    config = {"a": 1}
    with ResultsStore(tmp_path, config) as store:
        store.append({"key": "one", "uar": 0.5})
        store.append({"key": "two", "uar": float("nan")})
    fits = tmp_path / "fits.jsonl"
    with open(fits, "ab") as f:  # what kill -9 in the middle of a write leaves
        f.write(b'{"key":"three","ua')
    records, n_bad = read_records(fits)
    assert [r["key"] for r in records] == ["one", "two"] and n_bad == 1
    assert records[1]["uar"] is None  # strict JSON, no NaN
    with ResultsStore(tmp_path, config) as store:
        store.append({"key": "three", "uar": 0.7})
    records, n_bad = read_records(fits)
    assert [r["key"] for r in records] == ["one", "two", "three"] and n_bad == 1
    assert fits.read_bytes().endswith(b"\n")


def test_store_refuses_other_settings(tmp_path):
    with ResultsStore(tmp_path, {"n_repeats": 10, "seed": 0}):
        pass
    with pytest.raises(
        ExperimentInputError, match="n_repeats: 10 in the folder, 2 now"
    ):
        with ResultsStore(tmp_path, {"n_repeats": 2, "seed": 0}):
            pass
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["config"] == {"n_repeats": 10, "seed": 0}


def test_store_refuses_a_second_writer(tmp_path):
    pytest.importorskip("fcntl")
    with ResultsStore(tmp_path, {"a": 1}):
        with pytest.raises(ExperimentInputError, match="Another run is writing"):
            with ResultsStore(tmp_path, {"a": 1}):
                pass
    with ResultsStore(tmp_path, {"a": 1}):  # the lock was released
        pass


# -- paralinguistic --------------------------------------


def test_paralinguistic_tiny_run_report_and_resume(tmp_path, emodb):
    out = tmp_path / "run"
    result = _tiny_para(out, emodb, sources=["speaker", "gender"])
    scores = result.scores
    assert len(scores) == 3 * 5
    assert sorted(scores["arm"].unique()) == [
        "dnn",
        "prognet-gender",
        "prognet-speaker",
        "ptft-gender",
        "ptft-speaker",
    ]
    assert scores["uar"].between(0, 1).all()
    assert (scores["n_train"] + scores["n_val"] + scores["n_test"] == 339).all()
    # one learning curve per fit, one value per epoch
    _, _, histories = load_results(out)
    for _, row in scores.iterrows():
        assert len(histories[row["key"]]["valid_uar"]) == row["n_epochs"]
    # the speaker source is scored on test folds holding the same speakers
    assert scores.loc[scores["source"] == "speaker", "source_test_uar"].notna().all()
    report = result.report.read_text()
    assert "| Speaker | ProgNet |" in report and "**complete**: 15 of 15" in report
    for name in ("learning_curves_speaker.png", "learning_curves_gender.png"):
        assert (out / name).stat().st_size > 10_000
    assert (out / "scores.csv").exists() and (out / "learning_curves.csv").exists()
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["n_splits"] == 3 and "torch" in saved["versions"]

    # a rerun, with the sources in another order, recomputes nothing; its
    # statistics settings are saved for the report command
    before = (out / "fits.jsonl").read_bytes()
    _tiny_para(out, emodb, sources=["gender", "speaker"], ttest_df=4)
    assert (out / "fits.jsonl").read_bytes() == before
    saved = json.loads((out / "config.json").read_text())
    assert saved["analysis"]["ttest_df"] == 4
    assert "| 4 |" in render_report(out).read_text()


def test_paralinguistic_same_seed_same_results(tmp_path, emodb):
    a = _tiny_para(tmp_path / "a", emodb, seed=3).scores.sort_values("key")
    b = _tiny_para(tmp_path / "b", emodb, seed=3).scores.sort_values("key")
    np.testing.assert_array_equal(a["uar"], b["uar"])
    np.testing.assert_array_equal(a["random_state"], b["random_state"])
    c = _tiny_para(tmp_path / "c", emodb, seed=4).scores.sort_values("key")
    assert not np.array_equal(a["random_state"], c["random_state"])


def test_atomic_writes_get_the_mode_of_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "report.md", "text")
        (tmp_path / "plain.md").write_text("text")
    finally:
        os.umask(old)
    mode = (tmp_path / "report.md").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.md").stat().st_mode & 0o777 == 0o644


def test_resume_after_lost_lines_recomputes_only_those(tmp_path, emodb):
    out = tmp_path / "run"
    _tiny_para(out, emodb, n_repeats=2)
    fits = out / "fits.jsonl"
    lines = fits.read_bytes().splitlines(keepends=True)
    assert len(lines) == 18
    # keep 10 lines, then half a line: as if killed in the middle of a write
    fits.write_bytes(b"".join(lines[:10]) + lines[10][:25])
    _tiny_para(out, emodb, n_repeats=2)
    after = fits.read_bytes().splitlines(keepends=True)
    assert after[:10] == lines[:10]  # the saved fits were kept as they were
    records, n_bad = read_records(fits)
    assert len(records) == 18 and n_bad == 1
    # the recomputed fits equal the lost ones (same seeds)
    old = {json.loads(x)["key"]: json.loads(x)["uar"] for x in lines}
    assert {r["key"]: r["uar"] for r in records} == old


def test_partial_results_give_a_partial_report(tmp_path, emodb):
    out = tmp_path / "run"
    _tiny_para(out, emodb)
    fits = out / "fits.jsonl"
    lines = fits.read_bytes().splitlines(keepends=True)
    fits.write_bytes(b"".join(lines[:4]))
    text = render_report(out).read_text()
    assert "**partial**: 4 of 9 fits" in text


def test_paralinguistic_speaker_independent(tmp_path, small_table):
    result = _tiny_para(
        tmp_path / "si",
        str(small_table),
        sources=["speaker", "gender"],
        protocol="speaker_independent",
    )
    scores = result.scores
    assert len(scores) == 15
    corpus = load_corpus(str(small_table))
    folds, _ = make_folds(
        corpus, protocol="speaker_independent", n_splits=3, n_repeats=1, seed=0
    )
    for f in folds:
        assert not set(corpus.speaker[f.test]) & set(corpus.speaker[f.train])
    # unseen test speakers: no speaker-ID score
    assert scores.loc[scores["source"] == "speaker", "source_test_uar"].isna().all()
    # gender: scored only on test folds that hold both genders
    gender = scores[scores["source"] == "gender"]
    both = [len(set(corpus.gender[f.test])) == 2 for f in folds]
    assert gender["source_test_uar"].notna().tolist() == [both[i] for i in gender.fold]


def test_paralinguistic_input_errors(tmp_path, small_table, emodb):
    frame = pd.read_csv(small_table, dtype={"speaker": str})
    no_gender = tmp_path / "no_gender.csv"
    frame.drop(columns="gender").to_csv(no_gender, index=False)
    with pytest.raises(ExperimentInputError, match="no gender labels"):
        _tiny_para(tmp_path / "x", str(no_gender), sources=["gender"])
    with pytest.raises(ExperimentInputError, match="Unknown source task"):
        _tiny_para(tmp_path / "x", emodb, sources=["age"])
    with pytest.raises(ExperimentInputError, match="6 speaker.*fewer than the 8"):
        _tiny_para(
            tmp_path / "x", str(small_table), protocol="speaker_independent", n_splits=8
        )
    lonely = tmp_path / "lonely_speaker.csv"
    frame.assign(speaker=["zz"] + list(frame["speaker"][1:])).to_csv(
        lonely, index=False
    )
    with pytest.raises(ExperimentInputError, match="'zz' has a single utterance"):
        _tiny_para(tmp_path / "x", str(lonely), sources=["speaker"])
    with pytest.raises(ExperimentInputError, match="Unknown network setting"):
        _tiny_para(tmp_path / "x", emodb, network={"layers": 3})
    assert not (tmp_path / "x" / "fits.jsonl").exists()


# -- cross-corpus ----------------------------------------


@pytest.fixture(scope="module")
def other_speakers(tmp_path_factory, emodb):
    """The EmoDB speakers that small_table leaves out, as a source corpus."""
    keep = np.isin(emodb.speaker, ["12", "14", "15", "16"])
    path = tmp_path_factory.mktemp("table") / "other.csv"
    corpus_to_frame(emodb.select(keep)).to_csv(path, index=False)
    return str(path)


def test_cross_corpus_tiny_run(tmp_path, other_speakers, small_table):
    out = tmp_path / "cross"
    params = {"n_splits": 4, "n_repeats": 1, "network": TINY, **QUIET}
    result = run_cross_corpus(out, other_speakers, str(small_table), **params)
    scores = result.scores
    fits = scores[scores["method"] != "source"]
    assert sorted(fits["n_train_folds"].unique()) == [1, 2]
    assert len(fits) == 2 * 4 * 3
    # nested training folds, same test folds for every number of folds
    one = fits[fits["n_train_folds"] == 1].set_index("key")
    two = fits[fits["n_train_folds"] == 2]
    assert (one["n_train"].to_numpy() < two["n_train"].to_numpy()).all()
    assert fits.groupby(["repeat", "fold"])["n_test"].nunique().eq(1).all()
    assert (scores["method"] == "source").sum() == 1
    assert (out / "source_model.joblib").exists()
    assert (out / "cross_corpus.png").stat().st_size > 10_000
    text = result.report.read_text()
    assert "| ProgNet |" in text and "Source model, not adapted" in text
    # resuming loads the saved source model instead of training it again
    before = (out / "fits.jsonl").read_bytes()
    run_cross_corpus(out, other_speakers, str(small_table), **params)
    assert (out / "fits.jsonl").read_bytes() == before


def test_cross_corpus_refuses_overlapping_corpora(tmp_path, emodb, small_table):
    # small_table is a part of EmoDB: its files are in the source
    with pytest.raises(ExperimentInputError, match="holds 120 utterances of"):
        run_cross_corpus(tmp_path / "x", emodb, str(small_table), **QUIET)
    # the same rows under other file names
    frame = pd.read_csv(small_table, dtype={"speaker": str})
    renamed = tmp_path / "renamed.csv"
    frame.assign(file="x.wav", corpus="other").to_csv(renamed, index=False)
    with pytest.raises(ExperimentInputError, match=r"\['row 0', 'row 1'"):
        run_cross_corpus(tmp_path / "x", emodb, str(renamed), **QUIET)
    # the same corpus name and shared speakers, without shared utterances
    jittered = tmp_path / "jittered.csv"
    frame.assign(file="x.wav").assign(
        **{name: frame[name] * 1.001 for name in emodb.feature_names}
    ).to_csv(jittered, index=False)
    with pytest.raises(ExperimentInputError, match="both 'emodb' and share speakers"):
        run_cross_corpus(tmp_path / "x", emodb, str(jittered), **QUIET)
    assert not (tmp_path / "x").exists()


def test_cross_corpus_needs_common_emotions_and_features(tmp_path, emodb, small_table):
    frame = pd.read_csv(small_table, dtype={"speaker": str})
    three = tmp_path / "three.csv"
    frame[frame["emotion"] != "sad"].to_csv(three, index=False)
    with pytest.raises(ExperimentInputError, match="no utterance with emotion.*sad"):
        run_cross_corpus(tmp_path / "x", emodb, str(three), network=TINY, **QUIET)
    other = tmp_path / "other.csv"
    frame.drop(columns=[emodb.feature_names[0]]).to_csv(other, index=False)
    with pytest.raises(ExperimentInputError, match="different features"):
        run_cross_corpus(tmp_path / "x", emodb, str(other), network=TINY, **QUIET)
    with pytest.raises(ExperimentInputError, match="train_folds"):
        run_cross_corpus(
            tmp_path / "x", emodb, emodb, n_splits=4, train_folds=[3], **QUIET
        )


def test_cross_corpus_reorders_target_features(tmp_path, emodb, small_table):
    frame = pd.read_csv(small_table, dtype={"speaker": str})
    shuffled = tmp_path / "shuffled.csv"
    meta = ["file", "emotion", "speaker", "gender", "corpus"]
    frame[meta + emodb.feature_names[::-1]].to_csv(shuffled, index=False)
    from sklearn_prognet.experiments._transfer import align_features

    aligned = align_features(emodb, load_corpus(str(shuffled)))
    assert aligned.feature_names == emodb.feature_names
    np.testing.assert_allclose(aligned.X, load_corpus(str(small_table)).X)


# -- scale-out -------------------------------------------


@pytest.mark.slow
def test_dask_backend(tmp_path, emodb):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
    ) as cluster:
        result = _tiny_para(
            tmp_path / "dask",
            emodb,
            backend="dask",
            scheduler=cluster.scheduler_address,
            engine="per-fit",  # the batched engine does not use dask
        )
    local = _tiny_para(tmp_path / "local", emodb, engine="per-fit")
    a = result.scores.sort_values("key")
    b = local.scores.sort_values("key")
    assert len(a) == 9
    np.testing.assert_array_equal(a["uar"], b["uar"])  # same seeds, same fits


@pytest.mark.slow
def test_loky_parallel_equals_sequential(tmp_path, emodb):
    # per fit: the batched engine builds every record in this process
    options = {"corpus": emodb, "engine": "per-fit"}
    par = _tiny_para(tmp_path / "par", n_jobs=2, **options).scores.sort_values("key")
    seq = _tiny_para(tmp_path / "seq", n_jobs=1, **options).scores.sort_values("key")
    np.testing.assert_array_equal(par["uar"], seq["uar"])
    # n_jobs=1 fits in this process; n_jobs=2 in worker processes, at most two
    main = f"{platform.node()}:{os.getpid()}"
    assert set(seq["worker"]) == {main}
    assert main not in set(par["worker"]) and par["worker"].nunique() <= 2


def test_corpus_summary_and_select():
    corpus = Corpus(
        name="toy",
        X=np.arange(8.0).reshape(4, 2),
        emotion=np.array(["angry", "sad", "angry", "sad"], dtype=object),
        speaker=np.array(["a", "a", "b", "b"], dtype=object),
        gender=np.array(["f", "f", "m", "m"], dtype=object),
        feature_names=["f0", "f1"],
    )
    info = corpus.summary()
    assert info["n_speakers"] == 2 and info["genders"] == {"f": 2, "m": 2}
    sub = corpus.select(corpus.speaker == "a")
    assert sub.n_samples == 2 and sub.fingerprint() != corpus.fingerprint()
    assert os.fspath(parse_spec("x.csv")[2]) == "x.csv"


# -- confusion matrices ----------------------------------


def _copy_results(tmp_path, drop_confusion=False):
    source = os.path.join(os.path.dirname(__file__), "data", "results_confusion")
    folder = tmp_path / "results"
    folder.mkdir()
    for name in ("config.json", "fits.jsonl"):
        text = open(os.path.join(source, name)).read()
        if drop_confusion and name == "fits.jsonl":
            records = [json.loads(line) for line in text.splitlines()]
            text = "".join(
                json.dumps({k: v for k, v in r.items() if k != "confusion"}) + "\n"
                for r in records
            )
        (folder / name).write_text(text)
    return folder


def test_confusion_matrices_against_hand_computed_values(tmp_path):
    # tests/data/results_confusion: 3 folds of dnn, ptft-gender, prognet-gender
    # on angry/sad. DNN counts [[3,1],[0,2]] + [[2,2],[1,1]] + [[4,0],[1,3]]
    # = [[9,3],[2,6]]: recalls 9/12 and 6/8.
    folder = _copy_results(tmp_path)
    text = render_report(folder).read_text()
    assert "## Confusion matrices" in text and "confusion_matrices.png" in text
    assert (folder / "confusion_matrices.png").stat().st_size > 10_000
    table = pd.read_csv(folder / "confusion_matrices.csv").set_index(["arm", "true"])
    np.testing.assert_allclose(
        table.loc["dnn"][["angry", "sad"]].to_numpy(), [[0.75, 0.25], [0.25, 0.75]]
    )
    assert table.loc[("dnn", "angry"), "n"] == 12
    # ptft-gender: [[10,2],[2,6]]; prognet-gender: [[12,0],[1,7]]
    np.testing.assert_allclose(
        table.loc["ptft-gender"][["angry", "sad"]].to_numpy(),
        [[10 / 12, 2 / 12], [2 / 8, 6 / 8]],
        atol=1e-5,  # the CSV keeps 5 decimals
    )
    np.testing.assert_allclose(
        table.loc["prognet-gender"][["angry", "sad"]].to_numpy(),
        [[1.0, 0.0], [1 / 8, 7 / 8]],
        atol=1e-5,
    )


def test_results_without_confusion_counts_still_render(tmp_path):
    folder = _copy_results(tmp_path, drop_confusion=True)
    text = render_report(folder).read_text()
    assert "saved without their confusion counts" in text
    assert not (folder / "confusion_matrices.csv").exists()
    assert "| Gender | ProgNet |" in text
    assert "| N/A | DNN | 0." in text  # the DNN, shared by every source task
    assert "| Gender | ProgNet vs DNN | +" in text


def test_speaker_stratified_note_names_the_other_protocol_for_both_interfaces():
    # Reports are read by library users and CLI users alike: the note names
    # the keyword argument and the flag, each as that interface spells it.
    notes = footer({"config": {"protocol": "speaker_stratified"}}, [])
    (note,) = [line for line in notes if line.startswith("- Speaker-stratified")]
    assert "protocol='speaker_independent'" in note
    assert "--protocol speaker-independent" in note
    independent = footer({"config": {"protocol": "speaker_independent"}}, [])
    assert "## Notes" not in independent
