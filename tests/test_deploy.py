"""From a corpus to a final model, and from the model to labels of new audio."""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from sklearn_prognet.datasets import load_emodb, load_urdu
from sklearn_prognet.experiments._deploy import (
    predict_files,
    read_file_list,
    train_model,
)
from sklearn_prognet.experiments._errors import ExperimentInputError
from sklearn_prognet.preprocessing import SpeakerStandardScaler

TINY = {"hidden_layer_sizes": (16,), "max_epochs": 12, "patience": 5}


@pytest.fixture(scope="module")
def emodb_manifest(corpora_dir, tmp_path_factory):
    """Twelve utterances of every EmoDB speaker, listed in a manifest.

    At least ``min_samples=10`` per speaker, so that per-speaker
    normalisation uses every speaker's own statistics.
    """
    folder = tmp_path_factory.mktemp("manifest")
    table = load_emodb(corpora_dir / "emodb").groupby("speaker").head(12)
    table[["file", "emotion", "speaker", "gender"]].to_csv(
        folder / "emodb.csv", index=False
    )
    return folder / "emodb.csv", table


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


def _train(manifest, cache, **options):
    return train_model(manifest, network=TINY, cache_dir=cache, **options)


@pytest.mark.corpora
def test_final_model_takes_audio_and_is_trained_on_every_file(emodb_manifest, cache):
    manifest, table = emodb_manifest
    trained = _train(manifest, cache, method="prognet", sources=["speaker"], cv=3)
    model = trained.model
    assert [name for name, _ in model.steps] == ["features", "scale", "net"]
    scaler = model.named_steps["scale"]
    assert isinstance(scaler, StandardScaler)
    assert scaler.n_samples_seen_ == len(table)  # the whole corpus, no hold-out
    assert list(model.classes_) == sorted(set(table["emotion"]))
    # predict_files splits extraction from the rest; the plain pipeline agrees
    files = list(table["file"][::7])
    out = predict_files(model, files)
    assert list(out["emotion"]) == list(model.predict(files))
    proba = out[[f"p_{c}" for c in model.classes_]].to_numpy()
    np.testing.assert_allclose(proba, model.predict_proba(files), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (out["status"] == "ok").all()
    card = trained.card
    counts = table["emotion"].value_counts().sort_index().to_dict()
    assert card["class_counts"] == counts
    folds = card["cv_uar_per_fold"]
    assert len(folds) == 3 and "3 speaker-independent folds" in card["cv_uar"]
    assert card["cv_uar"].startswith(f"{np.mean(folds):.3f} +/- {np.std(folds):.3f}")
    assert card["licence"].startswith("as stated by the owners")  # a manifest
    assert card["settings"]["hidden_layer_sizes"] == (16,)
    assert "ProgNet" in card["method"] and "speaker" in card["method"]


@pytest.mark.corpora
def test_a_damaged_file_is_a_row_with_its_error(emodb_manifest, cache, tmp_path):
    manifest, table = emodb_manifest
    model = _train(manifest, cache).model
    damaged = tmp_path / "damaged.wav"
    damaged.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    files = [table["file"].iloc[0], str(damaged), table["file"].iloc[1]]
    out = predict_files(model, files, on_error="nan")
    assert list(out["status"] == "ok") == [True, False, True]
    assert "damaged.wav" in out["status"][1]
    assert out["emotion"][1] == "" and np.isnan(out.filter(like="p_").iloc[1]).all()
    # the good files are predicted as they are on their own
    alone = predict_files(model, [files[0], files[2]])
    np.testing.assert_allclose(
        out.filter(like="p_").to_numpy()[[0, 2]], alone.filter(like="p_").to_numpy()
    )
    with pytest.raises(ExperimentInputError, match="damaged.wav"):
        predict_files(model, files)


@pytest.mark.corpora
def test_a_speaker_normalised_model_needs_every_speaker(emodb_manifest, cache):
    manifest, table = emodb_manifest
    model = _train(manifest, cache, normalization="speaker").model
    assert isinstance(model.named_steps["scale"], SpeakerStandardScaler)
    files = list(table["file"][:24])  # two speakers, 12 files each
    with pytest.raises(ExperimentInputError, match="speaker of every file"):
        predict_files(model, files)
    speakers = list(table["speaker"][:24])
    assert len(set(speakers)) == 2
    out = predict_files(model, files, speakers=speakers)
    frame = pd.DataFrame({"file": files, "speaker": speakers})
    assert list(out["emotion"]) == list(model.predict(frame))
    # each speaker is standardised with their own files: a speaker's
    # predictions change when that speaker is given other files
    other = predict_files(model, files[:10], speakers=speakers[:10])
    assert not np.allclose(
        other.filter(like="p_").to_numpy(), out.filter(like="p_").to_numpy()[:10]
    )


@pytest.mark.corpora
def test_a_model_of_one_corpus_labels_another_corpus(
    emodb_manifest, cache, corpora_dir
):
    manifest, _ = emodb_manifest
    model = _train(manifest, cache, resample=16000).model
    assert model.named_steps["features"].resample == 16000
    urdu = load_urdu(corpora_dir / "urdu").groupby("emotion").head(2)  # 44.1 kHz
    out = predict_files(model, list(urdu["file"]))
    assert (out["status"] == "ok").all()
    assert set(out["emotion"]) <= set(model.classes_)


def test_feature_table_models_refuse_audio():
    trained = train_model("emodb", network=TINY)
    assert trained.model.steps[0][0] == "scale"
    assert trained.card["licence"].startswith("CC0-1.0")  # the embedded EmoDB
    with pytest.raises(ExperimentInputError, match="takes feature rows"):
        predict_files(trained.model, ["a.wav"])


@pytest.mark.parametrize(
    "options, match",
    [
        ({"method": "ptft"}, "needs sources"),
        ({"method": "dnn", "sources": ["speaker"]}, "a DNN has none"),
        ({"method": "adapters", "sources": ["speaker", "gender"]}, "one source"),
        ({"method": "prognet", "sources": ["accent"]}, "unknown"),
        ({"method": "svm"}, "choose among"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(ExperimentInputError, match=match):
        train_model("emodb", network=TINY, **options)


def test_file_lists(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("sub/b.wav", "a.flac", "notes.txt"):
        (tmp_path / name).touch()
    listed = tmp_path / "list.csv"
    listed.write_text("file,speaker\nsub/b.wav,s1\n/abs/c.wav,s2\n")
    files, speakers = read_file_list([], listed)
    assert files == [str(tmp_path / "sub" / "b.wav"), "/abs/c.wav"]
    assert speakers == ["s1", "s2"]
    files, speakers = read_file_list(["x.wav"], folder=tmp_path)
    assert files == ["x.wav", str(tmp_path / "a.flac"), str(tmp_path / "sub/b.wav")]
    assert speakers is None
    with pytest.raises(ExperimentInputError, match="1 file"):
        read_file_list(["x.wav"], listed)  # x.wav has no speaker, the list has
    with pytest.raises(ExperimentInputError, match="No audio"):
        read_file_list([])
    (tmp_path / "bad.csv").write_text("path\nx.wav\n")
    with pytest.raises(ExperimentInputError, match="no 'file' column"):
        read_file_list([], tmp_path / "bad.csv")
