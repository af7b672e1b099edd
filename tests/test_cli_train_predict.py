"""sklearn-prognet train and predict: from a manifest to a model file to labels."""

import glob
import re
import shlex
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet import load_model
from sklearn_prognet.datasets import load_emodb, load_urdu
from sklearn_prognet.experiments.cli import main
from tests.conftest import ROOT

NETWORK = ["--hidden-layer-sizes", "16", "--max-epochs", "12", "--patience", "5"]


def _run(args, capsys):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def emodb_list(corpora_dir, tmp_path_factory):
    """A manifest of 12 EmoDB utterances per speaker, with relative paths."""
    folder = tmp_path_factory.mktemp("lists")
    (folder / "emodb").symlink_to(corpora_dir / "emodb")
    table = load_emodb(corpora_dir / "emodb").groupby("speaker").head(12)
    relative = table["file"].str.replace(str(corpora_dir), ".", regex=False)
    table.assign(file=relative)[["file", "emotion", "speaker", "gender"]].to_csv(
        folder / "emodb.csv", index=False
    )
    return folder / "emodb.csv", table


@pytest.mark.slow
@pytest.mark.corpora
def test_train_save_and_predict_in_a_fresh_process(emodb_list, tmp_path, capsys):
    manifest, table = emodb_list
    model_path = tmp_path / "emodb.skops"
    args = ["train", manifest, "--out", model_path, "--method", "prognet",
            "--sources", "speaker,gender", "--cv", "3", "--cache-dir",
            tmp_path / "cache", *NETWORK]  # fmt: skip
    status, out, err = _run(args, capsys)
    assert status == 0, err
    assert "Cross-validated UAR: " in out and "3 speaker-independent folds" in out
    card = model_path.with_suffix(".md").read_text()
    for fact in ("ProgNet", "speaker, gender", "as stated by the owners", "angry"):
        assert fact in card
    # the new recordings: four files of the test data and one damaged file
    damaged = tmp_path / "damaged.wav"
    damaged.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt nonsense")
    files = sorted(str(p) for p in (ROOT / "tests" / "data").glob("*.wav"))
    out_csv = tmp_path / "labels.csv"
    command = [sys.executable, "-m", "sklearn_prognet", "predict", str(model_path),
               *files, str(damaged), "--out", str(out_csv), "--on-error", "nan",
               "--no-progress"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 could not be analysed" in done.stdout
    labels = pd.read_csv(out_csv, keep_default_na=False)
    assert list(labels["file"]) == [*files, str(damaged)]
    assert list(labels["status"][:4]) == ["ok"] * 4
    assert "damaged.wav" in labels["status"][4]
    # the same labels and probabilities as the model in memory
    model = load_model(model_path)
    proba = labels[[f"p_{c}" for c in model.classes_]].to_numpy()[:4].astype(float)
    np.testing.assert_allclose(proba, model.predict_proba(files), rtol=1e-5)
    assert list(labels["emotion"][:4]) == list(model.predict(files))
    # without --on-error nan, the damaged file stops the command
    status, _, err = _run(
        ["predict", model_path, *files, damaged, "--out", tmp_path / "x.csv"], capsys
    )
    assert status == 2 and "damaged.wav" in err


@pytest.mark.slow
@pytest.mark.corpora
def test_a_speaker_normalised_model_needs_a_list_with_speakers(
    emodb_list, tmp_path, capsys, corpora_dir
):
    manifest, table = emodb_list
    model_path = tmp_path / "speaker.skops"
    args = ["train", manifest, "--out", model_path, "--normalization", "speaker",
            "--features", "egemaps+dvector", "--cache-dir", tmp_path / "c",
            *NETWORK]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 0, err
    files = list(table["file"][:24])  # two speakers, 12 files each
    status, _, err = _run(["predict", model_path, *files, "--out", tmp_path / "a.csv"],
                          capsys)  # fmt: skip
    assert status == 2 and "speaker of every file" in err
    listed = tmp_path / "new.csv"
    pd.DataFrame({"file": files, "speaker": list(table["speaker"][:24])}).to_csv(
        listed, index=False
    )
    status, _, err = _run(
        ["predict", model_path, "--list", listed, "--out", tmp_path / "b.csv"], capsys
    )
    assert status == 0, err
    labels = pd.read_csv(tmp_path / "b.csv")
    model = load_model(model_path)
    frame = pd.read_csv(listed, dtype=str)
    np.testing.assert_allclose(
        labels.filter(like="p_").to_numpy(), model.predict_proba(frame), rtol=1e-5
    )


@pytest.mark.slow
@pytest.mark.corpora
def test_a_model_of_emodb_labels_urdu_audio(emodb_list, tmp_path, capsys, corpora_dir):
    manifest, _ = emodb_list
    model_path = tmp_path / "emodb.skops"
    args = ["train", manifest, "--out", model_path, "--resample", "16000",
            "--cache-dir", tmp_path / "c", *NETWORK]  # fmt: skip
    assert _run(args, capsys)[0] == 0
    urdu = corpora_dir / "urdu" / "Sad"
    status, out, err = _run(
        ["predict", model_path, "--folder", urdu, "--out", tmp_path / "u.csv"], capsys
    )
    assert status == 0, err
    labels = pd.read_csv(tmp_path / "u.csv")
    assert len(labels) == len(load_urdu(corpora_dir / "urdu", emotions=["sad"]))
    assert (labels["status"] == "ok").all()
    assert set(labels["emotion"]) <= {"angry", "happy", "neutral", "sad"}


def test_predict_refuses_a_file_that_is_not_a_model(tmp_path, capsys):
    fake = tmp_path / "model.skops"
    fake.write_bytes(b"\x80\x04not a model")
    wav = ROOT / "tests" / "data" / "03a02Ta.wav"
    status, _, err = _run(["predict", fake, wav, "--out", tmp_path / "o.csv"], capsys)
    assert status == 2 and "model.skops" in err


@pytest.mark.slow
@pytest.mark.corpora
def test_the_use_a_trained_model_page_runs_as_written(
    tmp_path, monkeypatch, corpora_dir, capsys
):
    """Every block of the page, in page order, in a folder laid out as it says."""
    page = (ROOT / "docs" / "user_guide" / "use_a_trained_model.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: (bash|python)\n\n((?:    .*\n|\n)+)", page)
    assert [kind for kind, _ in blocks].count("bash") >= 3
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKLEARN_PROGNET_CACHE", str(tmp_path / "cache"))
    (tmp_path / "path" / "to" / "new").mkdir(parents=True)
    (tmp_path / "path" / "to" / "emodb").symlink_to(corpora_dir / "emodb")
    for wav in (ROOT / "tests" / "data").glob("*.wav"):
        shutil.copy(wav, tmp_path / "path" / "to" / "new")
    namespace, printed = {}, []
    for kind, block in blocks:
        code = textwrap.dedent(block)
        if kind == "python":
            exec(code, namespace)
            printed.append(capsys.readouterr().out)
            continue
        if code.startswith("pip install"):
            continue
        words = shlex.split(code.replace("\\\n", " "))
        assert words[0] == "sklearn-prognet"
        args = [w for word in words[1:] for w in (sorted(glob.glob(word)) or [word])]
        status, _, err = _run(args, capsys)
        assert status == 0, err
    # The first block saves a model with its card in a temporary folder.
    assert printed[0].splitlines()[0] == "['emodb.md', 'emodb.skops']"
    labels = pd.read_csv(tmp_path / "labels.csv")
    assert len(labels) == 4 and (labels["status"] == "ok").all()
    assert (tmp_path / "emodb.md").read_text().count("speaker-independent") >= 1
