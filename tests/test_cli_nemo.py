"""nemo:PATH, the nEMO folder read by load_nemo, wherever the CLI takes a corpus.

../shared/corpora/nemo holds nEMO's data.tsv, 18 of its recordings in
samples/ (3 speakers x 6 emotions) and the published eGeMAPS table of the
whole corpus: the features extracted here are checked against that table.
"""

import os

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet.experiments._inputs import load_corpus, parse_spec
from sklearn_prognet.experiments.cli import main

TINY = ["--n-splits", "3", "--n-repeats", "1", "--hidden-layer-sizes", "16",
        "--max-epochs", "4", "--patience", "4"]  # fmt: skip


def _run(args, capsys):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_nemo_is_a_named_corpus(tmp_path):
    assert parse_spec(f"nemo:{tmp_path}") == ("audio", "nemo", tmp_path)
    assert parse_spec("NEMO:/data/nemo")[:2] == ("audio", "nemo")


@pytest.mark.corpora
def test_extract_nemo_matches_the_published_features(corpora_dir, tmp_path, capsys):
    nemo = corpora_dir / "nemo"
    output = tmp_path / "nemo.csv"
    args = ["extract", f"nemo:{nemo}", "-o", output, "--cache-dir", "none",
            "--emotions", "angry,happy,neutral,sad"]  # fmt: skip
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    table = pd.read_csv(output)
    assert table.shape == (12, 5 + 88)
    assert set(table["corpus"]) == {"nemo"}
    assert sorted(table["speaker"].unique()) == ["EB0", "KS0", "WR0"]
    # the published table: the same labels and, to float precision, the same
    # openSMILE values for these 12 recordings
    published = pd.read_csv(nemo / "nemo_egemaps.csv.gz")
    published = published.set_index(published["file"].map(os.path.basename))
    expected = published.loc[table["file"].map(os.path.basename)]
    assert list(table["emotion"]) == list(expected["emotion"])
    assert list(table["speaker"]) == list(expected["speaker"])
    features = table.columns[5:]
    np.testing.assert_allclose(
        table[features], expected[features], rtol=1e-5, atol=1e-6
    )


@pytest.mark.corpora
def test_train_and_an_experiment_on_nemo_audio(corpora_dir, tmp_path, capsys):
    nemo = corpora_dir / "nemo"
    cache = tmp_path / "cache"
    model = tmp_path / "nemo.skops"
    args = ["train", f"nemo:{nemo}", "--out", model, "--cache-dir", cache,
            "--hidden-layer-sizes", "16", "--max-epochs", "4"]  # fmt: skip
    status, _, err = _run(args, capsys)
    assert status == 0, err
    card = model.with_suffix(".md").read_text()
    assert "CC BY-NC-SA 4.0 (nEMO" in card and "12 utterances of 3 speakers" in card
    # 18 recordings are too few for most protocols; EmoDB -> nEMO with one
    # speaker per fold runs
    args = ["cross-corpus", "--source", "emodb", "--target", f"nemo:{nemo}",
            "--resample", "16000", "--protocol", "speaker-independent",
            "--train-folds", "1", "--cache-dir", cache, "--out", tmp_path / "run",
            "--no-progress", *TINY]  # fmt: skip
    status, stdout, err = _run(args, capsys)
    assert status == 0, err
    assert "| ProgNet |" in stdout
    assert "nemo audio at" in err


@pytest.mark.corpora
@pytest.mark.parametrize("folder", ["emodb", "nemo/samples"])
def test_nemo_in_a_wrong_folder_says_what_is_missing(
    corpora_dir, folder, tmp_path, capsys
):
    args = ["extract", f"nemo:{corpora_dir / folder}", "-o", tmp_path / "x.csv"]
    status, _, err = _run(args, capsys)
    assert status == 2 and "Traceback" not in err
    assert "data.tsv not found" in err and "samples/EB0_anger_57.wav" in err


def test_load_corpus_names_a_missing_nemo_folder(tmp_path):
    from sklearn_prognet.experiments import ExperimentInputError

    with pytest.raises(ExperimentInputError, match="does not exist"):
        load_corpus(f"nemo:{tmp_path / 'nope'}")
