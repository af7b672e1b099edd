"""Reliability of the experiments and the command line (issue #18).

Results folders with foreign or repeated records, paths that cannot be
written, workers after ``kill -9``, messages about bad input, results that
do not depend on the number of workers, reports without matplotlib, and the
spelling of the protocols.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet.experiments import (
    ExperimentInputError,
    load_corpus,
    load_results,
    render_report,
    run_paralinguistic,
)
from sklearn_prognet.experiments._folds import PROTOCOLS
from sklearn_prognet.experiments._options import in_flags
from sklearn_prognet.experiments._store import read_records
from sklearn_prognet.experiments.cli import main
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
from sklearn_prognet.networks import _estimators
from sklearn_prognet.utils._messages import Message, Param

DATA = Path(__file__).parent / "data"
TINY = {"hidden_layer_sizes": (16,), "max_epochs": 4, "patience": 4}
QUIET = {"verbose": False, "progress": False}
TINY_FLAGS = [
    "--n-splits", "3", "--n-repeats", "1", "--hidden-layer-sizes", "16",
    "--max-epochs", "4", "--patience", "4", "--no-progress",
]  # fmt: skip


@pytest.fixture(scope="module")
def emodb():
    return load_corpus("emodb")


def _tiny_para(out, corpus, **kwargs):
    params = {"n_splits": 3, "n_repeats": 1, "sources": ["gender"], "network": TINY}
    return run_paralinguistic(out, corpus, **{**params, **QUIET, **kwargs})


def _run(args, capsys):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def _copy_results(tmp_path, extra_lines=()):
    """tests/data/results_confusion (3 folds x 1 repeat, DNN, PT/FT, ProgNet)."""
    folder = tmp_path / "results"
    folder.mkdir(parents=True)
    for name in ("config.json", "fits.jsonl"):
        shutil.copy(DATA / "results_confusion" / name, folder / name)
    with open(folder / "fits.jsonl", "a") as f:
        for line in extra_lines:
            f.write(json.dumps(line) + "\n")
    return folder


def _records(folder):
    return [
        json.loads(line)
        for line in (folder / "fits.jsonl").read_text().split("\n")
        if line
    ]


# -- 1. records outside the plan, duplicated records ----------------------------------


def _dnn_mean(report):
    """The DNN's cell of Table 2 (its first row that starts so)."""
    return next(r for r in report.splitlines() if r.startswith("| N/A | DNN |"))


def test_report_leaves_out_records_outside_the_plan(tmp_path):
    clean = _copy_results(tmp_path / "clean")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = render_report(clean).read_text()
    assert not [w for w in caught if "plan" in str(w.message)]
    # r09/f09 does not exist in a 3 x 1 run: e.g. hand-merged from another run
    foreign = {**_records(clean)[0], "key": "r09/f09/dnn", "repeat": 9, "fold": 9}
    foreign["uar"] = 0.0
    folder = _copy_results(tmp_path / "merged", [foreign])
    with pytest.warns(UserWarning, match=r"not part of this run's plan.*r09/f09/dnn"):
        text = render_report(folder).read_text()
    assert "9 of 9" in text and "10 of 9" not in text
    assert _dnn_mean(text) == _dnn_mean(expected) == "| N/A | DNN | 0.750±0.217 |"
    assert text == expected
    with pytest.warns(UserWarning, match="r09/f09/dnn"):
        _, scores, histories = load_results(folder)
    assert "r09/f09/dnn" not in set(scores["key"]) and "r09/f09/dnn" not in histories
    scores = pd.read_csv(folder / "scores.csv")
    assert len(scores) == 9


def test_report_keeps_the_first_of_duplicated_records(tmp_path):
    first = _records(_copy_results(tmp_path / "clean"))[0]
    assert first["key"] == "r00/f00/dnn"
    again = {**first, "uar": 0.0}
    folder = _copy_results(tmp_path / "dup", [again, again])
    with pytest.warns(UserWarning, match=r"2 later record.*r00/f00/dnn.*first"):
        _, scores, _ = load_results(folder)
    assert len(scores) == 9
    assert scores.set_index("key").loc["r00/f00/dnn", "uar"] == first["uar"]


def test_cli_report_prints_the_warning_on_one_line(tmp_path, capsys):
    clean = _copy_results(tmp_path / "clean")
    foreign = {**_records(clean)[0], "key": "r09/f09/dnn"}
    folder = _copy_results(tmp_path / "merged", [foreign])
    status, _, err = _run(["report", folder], capsys)
    assert status == 0
    (line,) = [line for line in err.splitlines() if "r09/f09/dnn" in line]
    assert line.startswith("sklearn-prognet: warning: ")
    assert "Traceback" not in err and "warnings.warn" not in err


# -- 8. one spelling of the protocols -------------------------------------------------


def test_protocol_names_are_those_of_the_splitter():
    y = np.array(["a", "b"] * 4)
    groups = np.repeat(["s1", "s2", "s3", "s4"], 2)
    for protocol in PROTOCOLS:
        cv = RepeatedStratifiedGroupKFold(n_splits=2, n_repeats=1, protocol=protocol)
        assert len(list(cv.split(np.zeros((8, 1)), y, groups))) == 2


def test_python_api_refuses_the_hyphen_and_says_which_name(tmp_path, emodb):
    with pytest.raises(
        ExperimentInputError, match="did you mean 'speaker_independent'"
    ):
        _tiny_para(tmp_path / "x", emodb, protocol="speaker-independent")
    assert not (tmp_path / "x").exists()


def test_cli_keeps_the_hyphen_in_flags_and_messages():
    message = Message(
        "Use ",
        Param("n_splits", 3),
        ", or ",
        Param("protocol", "speaker_stratified"),
        ".",
    )
    assert message == "Use n_splits=3, or protocol='speaker_stratified'."
    assert in_flags(message) == "Use --n-splits 3, or --protocol 'speaker-stratified'."
    # a message without parameters is left as it is, even if it reads like one
    assert in_flags("Use n_splits=3.") == "Use n_splits=3."


def test_folder_saved_with_the_hyphen_loads_and_resumes(tmp_path, emodb):
    out = tmp_path / "run"
    _tiny_para(out, emodb)
    path, fits = out / "config.json", out / "fits.jsonl"
    saved = json.loads(path.read_text())
    assert saved["config"]["protocol"] == "speaker_stratified"
    # as written before the names were unified, with one fit lost
    saved["config"]["protocol"] = "speaker-stratified"
    path.write_text(json.dumps(saved, indent=2) + "\n")
    lines = fits.read_bytes().splitlines(keepends=True)
    fits.write_bytes(b"".join(lines[:-1]))
    result = _tiny_para(out, emodb)
    assert len(result.scores) == 9
    assert fits.read_bytes().startswith(b"".join(lines[:-1]))
    assert len(fits.read_bytes().splitlines()) == 9  # only the lost fit was run
    assert result.config["config"]["protocol"] == "speaker_stratified"
    assert "speaker-stratified folds" in result.report.read_text()


# -- 9. the device check has one home ------------------------------------------------


def test_estimators_keep_no_alias_of_the_device_check():
    assert not hasattr(_estimators, "_check_device")


# -- 2. paths that cannot be written --------------------------------------------------
# The tests run as root, whom chmod does not stop: an unwritable path is a path
# under a regular file, or os.open made to raise PermissionError as it would.


def _refuse_open(monkeypatch, suffix):
    """Make os.open raise PermissionError for paths ending with ``suffix``."""
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if str(path).endswith(suffix):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


@pytest.mark.parametrize("name", [".lock", "fits.jsonl"])
def test_unwritable_results_folder_is_a_one_line_error(
    name, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    _refuse_open(monkeypatch, name)
    status, _, err = _run(["paralinguistic", "--sources", "gender", "--out", out,
                           *TINY_FLAGS], capsys)  # fmt: skip
    assert status == 2, err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    assert "Cannot write" in line and name in line and "Permission denied" in line
    assert "--out" in line


def test_results_folder_under_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    args = ["paralinguistic", "--out", tmp_path / "file" / "out", *TINY_FLAGS]
    status, _, err = _run(args, capsys)
    assert status == 2 and "Traceback" not in err
    assert "Cannot create the results folder" in err


def test_report_into_an_unwritable_folder_is_a_one_line_error(
    tmp_path, monkeypatch, capsys
):
    folder = _copy_results(tmp_path)
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    status, _, err = _run(["report", folder], capsys)
    assert status == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("sklearn-prognet: error: ")
    assert "Permission denied" in err


@pytest.mark.parametrize("where", ["folder", "under a file", "unwritable"])
def test_extract_checks_its_output_before_extracting(
    where, tmp_path, monkeypatch, capsys
):
    from sklearn_prognet.experiments import cli

    (tmp_path / "file").write_text("")
    output = {"folder": tmp_path, "under a file": tmp_path / "file" / "x.csv",
              "unwritable": tmp_path / "x.csv"}[where]  # fmt: skip
    if where == "unwritable":
        import tempfile

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied", str(tmp_path))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)

    def no_extraction(*args, **kwargs):
        pytest.fail("the output must be checked before the extraction")

    monkeypatch.setattr(cli, "load_corpus", no_extraction)
    status, _, err = _run(["extract", "emodb", "-o", output], capsys)
    assert status == 2 and "Traceback" not in err
    assert "--output" in err and str(output) in err


# -- 4. messages that say what is wrong -----------------------------------------------


@pytest.fixture(scope="module")
def partly_gendered_table(tmp_path_factory, emodb):
    """120 EmoDB utterances of 6 speakers whose gender is missing in 5 rows."""
    from sklearn_prognet.experiments._inputs import corpus_to_frame

    keep = np.isin(emodb.speaker, ["03", "08", "09", "10", "11", "13"])
    index = np.sort(np.random.RandomState(0).choice(np.flatnonzero(keep), 120, False))
    frame = corpus_to_frame(emodb.select(np.isin(np.arange(emodb.n_samples), index)))
    frame.loc[[3, 10, 20, 40, 80], "gender"] = np.nan
    path = tmp_path_factory.mktemp("table") / "partly.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_few_empty_gender_cells_are_counted(tmp_path, partly_gendered_table):
    from sklearn_prognet.experiments._paralinguistic import Paralinguistic
    from sklearn_prognet.experiments._skeleton import RunOptions

    with pytest.raises(ExperimentInputError) as error:
        _tiny_para(tmp_path / "x", str(partly_gendered_table))
    message = str(error.value)
    assert "5 of 120 utterances have no gender" in message
    assert (
        "needs every utterance labelled" in message
        and "has no gender labels" not in message
    )
    assert not (tmp_path / "x").exists()
    # the speaker source task does not need them
    options = RunOptions(n_splits=3, n_repeats=1, verbose=False)
    plan = Paralinguistic(str(partly_gendered_table), ["speaker"]).plan(options, {})
    assert len(plan.tasks) == 9


def test_cli_message_names_the_count(tmp_path, partly_gendered_table, capsys):
    args = ["paralinguistic", "--corpus", partly_gendered_table, "--out",
            tmp_path / "x", *TINY_FLAGS]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 2 and "5 of 120 utterances have no gender" in err
    assert "--sources" in err and "Traceback" not in err


def _bad_corpus(folder):
    """An EmoDB folder of two good files and one that is not audio."""
    wav = folder / "wav"
    wav.mkdir(parents=True)
    for name in ("03a02Ta.wav", "03a02Wc.wav"):
        shutil.copy(DATA / name, wav / name)
    (wav / "09a04Fd.wav").write_bytes(b"RIFF not really a wave file" * 10)
    return folder


def test_extract_goes_on_past_a_bad_file_when_asked(tmp_path, capsys):
    pytest.importorskip("opensmile")
    corpus = _bad_corpus(tmp_path / "emodb")
    output = tmp_path / "x.csv"
    args = ["extract", f"emodb:{corpus}", "-o", output, "--emotions", "sad,angry,happy",
            "--cache-dir", "none"]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 2 and "Traceback" not in err
    assert "--on-error 'nan'" in err and "on_error=" not in err
    assert not output.exists()

    status, out, err = _run([*args, "--on-error", "nan"], capsys)
    assert status == 0, err
    assert "sklearn-prognet: warning: " in err and "09a04Fd.wav" in err
    table = pd.read_csv(output)
    assert len(table) == 3
    bad = table["file"].str.endswith("09a04Fd.wav")
    features = table.drop(columns=["file", "emotion", "speaker", "gender", "corpus"])
    assert features[bad].isna().all(axis=None)
    assert features[~bad].notna().all(axis=None)


# -- 7. a report without matplotlib ---------------------------------------------------


def test_report_without_matplotlib_says_how_to_get_the_figures(tmp_path, monkeypatch):
    # as after a plain ``pip install sklearn-prognet``: import matplotlib fails
    for name in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    folder = _copy_results(tmp_path)
    with pytest.warns(UserWarning, match=r"pip install 'sklearn-prognet\[plot\]'"):
        text = render_report(folder).read_text()
    assert "matplotlib is not installed" in text
    assert "pip install 'sklearn-prognet[plot]'" in text
    assert "![" not in text and not list(folder.glob("*.png"))
    assert (folder / "confusion_matrices.csv").exists()
    assert "| N/A | DNN | 0.750±0.217 |" in text


@pytest.mark.slow
def test_cli_run_without_matplotlib_writes_the_report(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from sklearn_prognet.experiments.cli import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    args = ["paralinguistic", "--sources", "gender", "--out", out, *TINY_FLAGS]
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "sklearn-prognet: warning: The figures are left out" in result.stderr
    assert "sklearn-prognet[plot]" in (out / "report.md").read_text()


# -- 3. no worker outlives a killed run -----------------------------------------------


def _children(pid):
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_after_kill_minus_nine(tmp_path):
    out = tmp_path / "run"
    args = ["paralinguistic", "--quick", "--n-jobs", "2", "--sources", "gender",
            "--n-splits", "3", "--n-repeats", "3", "--hidden-layer-sizes", "16",
            "--max-epochs", "300", "--patience", "300", "--no-progress",
            "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "sklearn_prognet", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        workers = []
        while len(workers) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "the run ended before it could be killed"
            workers = [
                pid
                for pid in _children(process.pid)
                if b"loky" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
            time.sleep(0.2)
        assert len(workers) >= 2, "no loky worker started in time"
        workers = _children(process.pid)  # the resource tracker too
        time.sleep(1)  # the workers are fitting
    finally:
        process.kill()  # SIGKILL: no cleanup code of the run can run
        process.wait()
    assert process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived the killed run"


# -- 6. results do not depend on the number of workers --------------------------------


@pytest.mark.slow
def test_n_jobs_does_not_change_any_record(tmp_path, emodb, monkeypatch):
    import joblib

    # a machine with more cores than workers, where a thread count derived
    # from n_jobs would differ between the two runs
    monkeypatch.setattr(joblib, "cpu_count", lambda *args, **kwargs: 8)
    network = {"hidden_layer_sizes": (64,), "max_epochs": 6, "patience": 6}
    for n_jobs in (1, 2):
        _tiny_para(tmp_path / str(n_jobs), emodb, network=network, n_jobs=n_jobs)
    runs = {}
    for n_jobs in (1, 2):
        saved = json.loads((tmp_path / str(n_jobs) / "config.json").read_text())
        assert saved["runtime"]["torch_threads"] == 1
        records, _ = read_records(tmp_path / str(n_jobs) / "fits.jsonl")
        runs[n_jobs] = {
            r["key"]: {k: v for k, v in r.items() if k not in ("fit_time", "worker")}
            for r in records
        }
    assert len(runs[1]) == 9
    assert runs[1] == runs[2]  # scores, learning curves, confusion counts


# -- 5. corpora recorded at different sampling rates ----------------------------------


def _two_corpora(emodb, source_rates, target_rates):
    from dataclasses import replace

    first = np.isin(emodb.speaker, ["03", "08", "09", "10", "11"])
    source = replace(emodb.select(first), name="a", sampling_rates=source_rates)
    target = replace(emodb.select(~first), name="b", sampling_rates=target_rates)
    return source, target


def _plan_cross_corpus(source, target, **options):
    from sklearn_prognet.experiments._cross_corpus import CrossCorpus
    from sklearn_prognet.experiments._skeleton import RunOptions

    options = RunOptions(n_splits=3, n_repeats=1, verbose=False, **options)
    return CrossCorpus(source, target).plan(options, {})


def test_cross_corpus_warns_about_different_sampling_rates(emodb):
    source, target = _two_corpora(emodb, (16000,), (44100,))
    with pytest.warns(UserWarning, match=r"16000 Hz.*44100 Hz.*resample=16000"):
        _plan_cross_corpus(source, target)


@pytest.mark.parametrize(
    "source_rates, target_rates, resample",
    [((16000,), (16000,), None), ((16000,), None, None), ((16000,), (44100,), 16000)],
)
def test_no_rate_warning_when_rates_agree_or_are_unknown(
    emodb, source_rates, target_rates, resample
):
    source, target = _two_corpora(emodb, source_rates, target_rates)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _plan_cross_corpus(source, target, resample=resample)
    assert not [w for w in caught if "sampling rate" in str(w.message)]


def test_corpora_know_their_sampling_rate(tmp_path, emodb):
    pytest.importorskip("opensmile")
    assert emodb.sampling_rates == (16000,)
    wav = tmp_path / "emodb" / "wav"
    wav.mkdir(parents=True)
    for name in ("03a02Ta.wav", "03a02Wc.wav", "09a04Fd.wav", "14a02Nc.wav"):
        shutil.copy(DATA / name, wav / name)
    corpus = load_corpus(f"emodb:{wav.parent}", cache_dir="none")
    assert corpus.sampling_rates == (16000,)
    assert corpus.select(corpus.emotion == "sad").sampling_rates == (16000,)
