"""Tests of the ``sklearn-prognet`` command line (``python -m sklearn_prognet``)."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet.experiments._store import read_records
from sklearn_prognet.experiments.cli import _run_settings, build_parser, main

TINY = [
    "--n-splits", "3", "--n-repeats", "1", "--hidden-layer-sizes", "16",
    "--max-epochs", "4", "--patience", "4", "--no-progress",
]  # fmt: skip


@pytest.fixture(scope="module")
def emodb_table(tmp_path_factory):
    """The embedded EmoDB features written by ``extract`` (a feature table)."""
    path = tmp_path_factory.mktemp("tables") / "emodb.csv"
    assert main(["extract", "emodb", "-o", str(path)]) == 0
    return path


def _run(args, capsys):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


# -- help and entry points ----------------------------------------------------------


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("paralinguistic", "cross-corpus", "extract", "report"):
        assert command in out


@pytest.mark.parametrize(
    "command, options",
    [
        (
            "paralinguistic",
            ["--corpus", "--sources", "--protocol", "--n-splits", "--n-repeats",
             "--quick", "--n-jobs", "--backend", "--scheduler", "--out", "--seed",
             "--max-epochs", "--patience", "--ttest-df", "--no-progress"],
        ),
        ("cross-corpus", ["--source", "--target", "--train-folds", "--quick"]),
        ("extract", ["--output", "--cache-dir", "--n-jobs"]),
        ("report", ["--alpha", "--ttest-df"]),
    ],
)  # fmt: skip
def test_every_command_explains_its_options(command, options, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in options:
        assert option in out


def test_lateral_is_offered_only_where_a_prognet_is_trained(capsys):
    for command, shown in [("paralinguistic", True), ("multitask", False)]:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        # the option's own line (the --engine help mentions it in passing)
        out = capsys.readouterr().out
        assert bool(re.search(r"^\s+--lateral ", out, re.MULTILINE)) is shown, command


@pytest.mark.parametrize("module", ["sklearn_prognet", "sklearn_prognet.experiments"])
def test_python_dash_m(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sklearn-prognet ")


def test_quick_defaults_and_explicit_options_win():
    parser = build_parser()
    args = parser.parse_args(["paralinguistic", "--quick"])
    settings = _run_settings(args)
    assert (settings["n_splits"], settings["n_repeats"]) == (5, 2)
    assert settings["network"] == {"max_epochs": 150, "patience": 30}
    assert settings["n_jobs"] == -1
    args = parser.parse_args(
        ["paralinguistic", "--quick", "--n-repeats", "3", "--n-jobs", "1"]
    )
    settings = _run_settings(args)
    assert (settings["n_splits"], settings["n_repeats"], settings["n_jobs"]) == (
        5,
        3,
        1,
    )
    paper = _run_settings(parser.parse_args(["paralinguistic"]))
    assert (paper["n_splits"], paper["n_repeats"], paper["network"]) == (10, 10, {})
    assert paper["protocol"] == "speaker_stratified" and paper["ttest_df"] == 10
    args = parser.parse_args(["paralinguistic", "--hidden-layer-sizes", "64x3"])
    assert _run_settings(args)["network"]["hidden_layer_sizes"] == (64, 64, 64)


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["paralinguistic", "--corpus", "nope"], "Unknown corpus 'nope'"),
        (["paralinguistic", "--corpus", "urdu"], "needs the path"),
        (["paralinguistic", "--corpus", "urdu:/no/such/dir"], "does not exist"),
        (["paralinguistic", "--corpus", "/no/such/table.csv"], "does not exist"),
        (
            ["paralinguistic", "--protocol", "speaker-independent", "--n-splits", "11"],
            "10 speaker(s), fewer than the 11 folds",
        ),
        (["paralinguistic", "--emotions", "angry,fear"], "emotion(s) ['fear']"),
        (["paralinguistic", "--sources", "age"], "Unknown source task"),
        (["paralinguistic", "--scheduler", "tcp://x:1"], "only used with --backend"),
        (["paralinguistic", "--device", "gpu0"], "device='gpu0' is not a torch"),
        (["cross-corpus", "--source", "emodb", "--target", "nope:/x"], "Unknown"),
        (
            ["multitask", "--corpus", "emodb", "--lateral", "adapter"],
            "lateral='adapter': the multitask experiment trains no progressive",
        ),
        (["report", "/no/such/folder"], "not a results folder"),
    ],
)
def test_bad_input_is_a_clear_message(args, message, capsys, tmp_path):
    if args[0] != "report":
        args = [*args, "--out", str(tmp_path / "out"), *TINY[-1:]]
    status, _, err = _run(args, capsys)
    assert status == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "fits.jsonl").exists()
    assert not (tmp_path / "out" / "config.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["paralinguistic", "--protocol", "leave-one-out"],
        ["paralinguistic", "--n-jobs", "0"],
        ["paralinguistic", "--n-splits", "two"],
        ["paralinguistic", "--hidden-layer-sizes", "big"],
        ["cross-corpus", "--source", "emodb"],
    ],
)
def test_bad_option_values_exit_with_usage(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err


def test_too_few_speakers_in_a_table(tmp_path, emodb_table, capsys):
    frame = pd.read_csv(emodb_table, dtype={"speaker": str})
    two = tmp_path / "two_speakers.csv"
    frame[frame["speaker"].isin(["03", "08"])].to_csv(two, index=False)
    args = ["paralinguistic", "--corpus", two, "--protocol", "speaker-independent",
            "--out", tmp_path / "out", *TINY]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 2 and "2 speaker(s), fewer than the 3 folds" in err


# -- runs ---------------------------------------------------------------------------


def test_run_resume_refuse_and_report(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["paralinguistic", "--sources", "gender", "--out", out, *TINY]
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    assert f"Report: {out / 'report.md'}" in stdout
    assert "| Gender | ProgNet |" in stdout
    assert "9 fits to run" in err
    # the same command again: nothing to do
    status, _, err = _run(args, capsys)
    assert status == 0 and "9 of 9 fits are already saved" in err
    # other arguments in the same folder: refused, nothing written
    before = (out / "fits.jsonl").read_bytes()
    status, _, err = _run([*args, "--seed", "1"], capsys)
    assert status == 2
    assert "holds a run with other settings" in err and "seed: 0" in err
    assert (out / "fits.jsonl").read_bytes() == before
    # report alone, with another significance level
    status, stdout, _ = _run(["report", out, "--alpha", "0.1"], capsys)
    assert status == 0 and "p < 0.1" in (out / "report.md").read_text()


def test_extract_then_use_the_table(tmp_path, emodb_table, capsys):
    table = pd.read_csv(emodb_table, dtype={"speaker": str})
    assert table.shape == (339, 5 + 88)
    assert list(table.columns[:5]) == ["file", "emotion", "speaker", "gender", "corpus"]
    out = tmp_path / "run"
    args = ["paralinguistic", "--corpus", emodb_table, "--sources", "speaker",
            "--out", out, *TINY]  # fmt: skip
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    assert "Report:" in stdout


def test_cross_corpus_default_out_folder(tmp_path, emodb_table, monkeypatch, capsys):
    frame = pd.read_csv(emodb_table, dtype={"speaker": str})
    female = frame["gender"] == "female"  # disjoint speakers
    source, target = tmp_path / "source.csv", tmp_path / "target.csv"
    frame[female].to_csv(source, index=False)
    frame[~female].to_csv(target, index=False)
    monkeypatch.chdir(tmp_path)
    args = ["cross-corpus", "--source", source, "--target", target,
            "--train-folds", "1", *TINY]  # fmt: skip
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    folder = tmp_path / "results" / "cross-corpus-source-to-target"
    assert (folder / "report.md").exists()
    assert "| 1 training fold |" in stdout


@pytest.mark.slow
def test_kill_minus_nine_and_resume(tmp_path, capsys):
    """A run killed with SIGKILL loses no saved fit and recomputes none."""
    out = tmp_path / "run"
    args = ["paralinguistic", "--sources", "gender", "--n-splits", "3",
            "--n-repeats", "3", "--hidden-layer-sizes", "16", "--max-epochs", "40",
            "--patience", "40", "--no-progress", "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "sklearn_prognet", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fits = out / "fits.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if fits.exists() and fits.read_bytes().count(b"\n") >= 3:
                break
            if process.poll() is not None:
                pytest.fail("the run ended before it could be killed")
            time.sleep(0.02)
        else:
            pytest.fail("no fit was saved in time")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    saved, _ = read_records(fits)
    n_saved = len(saved)
    assert 3 <= n_saved < 27
    # as if the kill had also cut a line in two
    with open(fits, "ab") as f:
        f.write(b'{"key":"r09/f09/dnn","uar":0.')
    before = fits.read_bytes()

    status, _, err = _run(args, capsys)
    assert status == 0, err
    assert f"Resuming: {n_saved} of 27 fits are already saved" in err
    assert f"{27 - n_saved} to run" in err
    after = fits.read_bytes()
    assert after.startswith(before)  # append-only: nothing saved was rewritten
    records, n_bad = read_records(fits)
    assert len(records) == 27 and n_bad == 1
    assert [r["key"] for r in records[:n_saved]] == [r["key"] for r in saved]
    new = after[len(before) :].splitlines()
    assert len([line for line in new if line.strip()]) == 27 - n_saved


def test_dask_local_cluster_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("distributed")
    out = tmp_path / "run"
    args = ["paralinguistic", "--sources", "gender", "--backend", "dask",
            "--n-jobs", "1", "--out", out, *TINY]  # fmt: skip
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["runtime"]["backend"] == "dask"
    records, _ = read_records(out / "fits.jsonl")
    assert len(records) == 9


# -- real corpora ---------------------------------------------------------------------


def _urdu_subset(corpora_dir, folder, per_class=6):
    """A small URDU tree (links to the real files): 6 clips per emotion."""
    for emotion in ("Angry", "Happy", "Neutral", "Sad"):
        files = sorted((corpora_dir / "urdu" / emotion).glob("*.wav"))
        (folder / emotion).mkdir(parents=True)
        for file in files[:: max(1, len(files) // per_class)][:per_class]:
            (folder / emotion / file.name).symlink_to(file)
    return folder


@pytest.mark.corpora
def test_extract_real_corpus(corpora_dir, tmp_path, capsys):
    urdu = _urdu_subset(corpora_dir, tmp_path / "urdu")
    output = tmp_path / "urdu.csv"
    args = ["extract", f"urdu:{urdu}", "-o", output, "--cache-dir", tmp_path / "c"]
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    table = pd.read_csv(output)
    assert table.shape == (24, 5 + 88)
    assert sorted(table["emotion"].unique()) == ["angry", "happy", "neutral", "sad"]
    assert np.isfinite(table.iloc[:, 5:].to_numpy()).all()
    # the cache makes a second extraction cheap and identical
    again = tmp_path / "again.csv"
    args = ["extract", f"urdu:{urdu}", "-o", again, "--cache-dir", tmp_path / "c"]
    assert _run(args, capsys)[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), table)
    # the values are openSMILE's own, computed here without the package
    np.testing.assert_allclose(
        table.iloc[:, 5:], _opensmile_features(table["file"]), rtol=1e-6
    )
    # --resample converts URDU's 44.1 kHz audio before extraction
    at_16k = tmp_path / "urdu16k.csv"
    args = ["extract", f"urdu:{urdu}", "-o", at_16k, "--resample", "16000",
            "--cache-dir", "none"]  # fmt: skip
    assert _run(args, capsys)[0] == 0
    resampled = pd.read_csv(at_16k)
    expected = _opensmile_features(resampled["file"], sampling_rate=16000)
    np.testing.assert_allclose(resampled.iloc[:, 5:], expected, rtol=1e-6)
    assert not np.allclose(resampled.iloc[:, 5:], table.iloc[:, 5:])


def _opensmile_features(files, sampling_rate=None):
    """eGeMAPSv02 functionals of ``files`` by openSMILE itself.

    With ``sampling_rate``, each file's first channel is resampled with
    audresample and clipped to full scale (the overshoot openSMILE's int16
    conversion would wrap around), then given to openSMILE.
    """
    opensmile = pytest.importorskip("opensmile")
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    if sampling_rate is None:
        return np.vstack([smile.process_file(str(f)).to_numpy() for f in files])
    import audresample
    import soundfile

    rows = []
    for f in files:
        signal, rate = soundfile.read(str(f), dtype="float32", always_2d=True)
        signal = audresample.resample(signal.T[:1], rate, sampling_rate)
        signal = np.clip(signal.astype(np.float64), -1.0, 32767 / 32768)
        rows.append(smile.process_signal(signal, sampling_rate).to_numpy())
    return np.vstack(rows)


@pytest.mark.corpora
@pytest.mark.slow
def test_cross_corpus_emodb_to_real_urdu(corpora_dir, tmp_path, capsys):
    urdu = _urdu_subset(corpora_dir, tmp_path / "urdu", per_class=12)
    out = tmp_path / "run"
    # EmoDB is 16 kHz, URDU 44.1 kHz: compared at EmoDB's rate
    args = ["cross-corpus", "--source", "emodb", "--target", f"urdu:{urdu}",
            "--resample", "16000", "--cache-dir", tmp_path / "c", "--out", out,
            "--train-folds", "1", *TINY]  # fmt: skip
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    assert "| ProgNet |" in stdout
    assert (out / "cross_corpus.png").exists()


@pytest.mark.corpora
def test_wrong_loader_for_a_real_folder(corpora_dir, tmp_path, capsys):
    args = ["paralinguistic", "--corpus", f"emodb:{corpora_dir / 'urdu'}",
            "--out", tmp_path / "out", *TINY]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 2 and "No EmoDB utterance found" in err and "Traceback" not in err


def test_ctrl_c_says_how_to_resume(monkeypatch, capsys, tmp_path):
    import sklearn_prognet.experiments as experiments

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "run_paralinguistic", interrupted)
    status, _, err = _run(["paralinguistic", "--out", tmp_path, *TINY], capsys)
    assert status == 130
    assert "Run the same command again to resume" in err
