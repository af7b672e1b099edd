"""Tests of the corpus loaders and the embedded EmoDB features."""

import gzip
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_prognet.datasets import (
    DEFAULT_EMOTIONS,
    DIMENSIONS,
    _embedded,
    load_emodb,
    load_emodb_features,
    load_iemocap,
    load_msp_improv,
    load_nemo,
    load_ravdess,
    load_urdu,
)

DATA = Path(__file__).resolve().parent / "data"
EMODB_LETTERS = {
    "W": "angry",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
}
EMODB_FEMALE = {"08", "09", "13", "14", "16"}


def touch(root, *names):
    """Create empty files (the loaders only list files, they read no audio)."""
    for name in names:
        path = Path(root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return Path(root)


# -- fake corpora copying the real layouts -----------------------------------


@pytest.fixture
def emodb_full(tmp_path):
    """EmoDB with all seven emotions, as in the official download."""
    names = [
        f"{speaker}{text}{letter}{take}.wav"
        for speaker in ["03", "08", "16"]
        for text, take in [("a01", "a"), ("b10", "c")]
        for letter in EMODB_LETTERS
    ]
    touch(tmp_path / "emodb" / "wav", *names)
    touch(tmp_path / "emodb" / "lablaut", "03a01Wa.lab")  # other EmoDB folders
    return tmp_path / "emodb"


@pytest.fixture
def urdu_dir(tmp_path):
    return touch(
        tmp_path / "urdu",
        "Angry/SM1_F10_A010.wav",
        "Angry/SM27_F3_A002.wav",
        "Happy/SF2_F1_H001.wav",
        "Neutral/SM1_F11_N011.wav",
        "Sad/SF2_F2_S002.wav",
    )


@pytest.fixture
def ravdess_dir(tmp_path):
    names = [
        f"Actor_{actor:02d}/03-01-{emotion:02d}-{intensity:02d}-01-01-{actor:02d}.wav"
        for actor in (1, 2, 24)
        for emotion in range(1, 9)
        for intensity in ((1,) if emotion == 1 else (1, 2))
    ]
    names.append("Actor_01/03-02-03-01-01-01-01.wav")  # song: not speech
    return touch(tmp_path / "Audio_Speech_Actors_01-24", *names)


def _iemocap_header(start, utterance, label, vad="[2.5000, 3.0000, 3.5000]"):
    times = f"[{start:.4f} - {start + 2:.4f}]"
    return f"{times}\t{utterance}\t{label}\t{vad}"


IEMOCAP_LABELS = {
    1: {
        "Ses01F_impro01": [("F000", "neu"), ("M000", "exc"), ("F001", "xxx")],
        "Ses01F_script01_1": [("M000", "ang"), ("F000", "hap"), ("M001", "oth")],
        "Ses01M_impro02": [("F000", "sad"), ("M000", "fru"), ("F001", "sur")],
    },
    2: {
        "Ses02F_impro01": [("F000", "fea"), ("M000", "dis"), ("M001", "neu")],
    },
}


@pytest.fixture
def iemocap_dir(tmp_path):
    root = tmp_path / "IEMOCAP_full_release"
    for session, dialogs in IEMOCAP_LABELS.items():
        session_dir = root / f"Session{session}"
        evaluation = session_dir / "dialog" / "EmoEvaluation"
        evaluation.mkdir(parents=True)
        (evaluation / "Categorical").mkdir()  # per-evaluator files, not read
        (evaluation / "Categorical" / "x_e1_cat.txt").write_text("junk\n")
        for dialog, turns in dialogs.items():
            lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
            for k, (turn, label) in enumerate(turns):
                utterance = f"{dialog}_{turn}"
                lines += [
                    _iemocap_header(10.0 * k, utterance, label),
                    "C-E1:\tNeutral state;\t()",
                    "A-E3:\tval 3; act 2; dom  2;\t()",
                    "",
                ]
                touch(session_dir / "sentences" / "wav" / dialog, f"{utterance}.wav")
            (evaluation / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
        # macOS metadata files found in some copies of the release
        touch(session_dir / "sentences" / "wav" / dialog, f"._{dialog}_F000.wav")
    return root


MSP_LABELS = [
    ("S01A-F01-S-FM01", "A"),
    ("S01A-M01-R-MF01", "A"),
    ("S02H-F01-P-FM03", "H"),
    ("S03S-M03-T-MF02", "S"),
    ("S04N-F06-S-FM01", "N"),
    ("S05A-M06-R-MF01", "O"),
    ("S06H-F02-P-FM04", "X"),
]


@pytest.fixture
def msp_dir(tmp_path):
    root = tmp_path / "MSP-IMPROV"
    root.mkdir()
    lines = []
    for k, (name, letter) in enumerate(MSP_LABELS):
        # distinct ratings per utterance: A 2.0, 2.1, ...; V 3.0, ...; D 4.0, ...
        lines += [
            f"UTD-IMPROV-{name}.avi; {letter}; A:{2 + k / 10:.6f}; "
            f"V:{3 + k / 10:.6f}; D:{4 + k / 10:.6f} ; N:3.166667;",
            f"MSP-IMPROV-{name}; Angry; Frustrated; A:3.0; V:2.0; D:4.0; N:3.0;",
            "",
        ]
    (root / "Evaluation.txt").write_text("\n".join(lines))
    for name, _ in MSP_LABELS:
        session = int(name.split("-")[1][1:])
        touch(
            root / "Audio" / f"session{session}" / name[:4] / name.split("-")[2],
            f"MSP-IMPROV-{name}.wav",
        )
    touch(root / "Video" / "session1", "MSP-IMPROV-S01A-F01-S-FM01.avi")
    return root


NEMO_ROWS = [
    # file, emotion, speaker as data.tsv pads it, gender
    ("EB0_anger_57.wav", "anger", "        EB0", "female"),
    ("EB0_happiness_76.wav", "happiness", "        EB0", "female"),
    ("EB0_fear_35.wav", "fear", "        EB0", "female"),
    ("KS0_sadness_44.wav", "sadness", "        KS0", "male"),
    ("KS0_neutral_22.wav", "neutral", "        KS0", "male"),
    ("KS0_surprised_10.wav", "surprised", "        KS0", "male"),
    ("WR0_anger_86.wav", "anger", "        WR0", "male"),  # no audio: a subset
]


def write_nemo_tsv(root, rows):
    header = "file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage"
    lines = [header]
    lines += [f"{f}\t{e}\tTak.\ttak\t{s}\t{g}\t23" for f, e, s, g in rows]
    (root / "data.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def nemo_dir(tmp_path):
    root = tmp_path / "nemo"
    touch(root / "samples", *[row[0] for row in NEMO_ROWS[:-1]])
    write_nemo_tsv(root, NEMO_ROWS)
    return root


# the columns each loader adds between session (if any) and corpus
EXTRA_COLUMNS = {
    "ravdess": ["intensity"],
    "iemocap": ["arousal", "valence", "dominance"],
    "msp_improv": ["arousal", "valence", "dominance"],
}

LOADERS = {
    "emodb": (load_emodb, "emodb_full", False),
    "urdu": (load_urdu, "urdu_dir", False),
    "ravdess": (load_ravdess, "ravdess_dir", False),
    "iemocap": (load_iemocap, "iemocap_dir", True),
    "msp_improv": (load_msp_improv, "msp_dir", True),
    "nemo": (load_nemo, "nemo_dir", False),
}


# -- the table's form, shared by every loader ---------------------------------


@pytest.mark.parametrize("corpus", list(LOADERS))
def test_table_form(corpus, request):
    loader, fixture, has_session = LOADERS[corpus]
    root = request.getfixturevalue(fixture)
    table = loader(root, emotions=None)
    columns = ["file", "emotion", "speaker", "gender"]
    columns += ["session"] if has_session else []
    columns += [*EXTRA_COLUMNS.get(corpus, []), "corpus"]
    assert list(table.columns) == columns
    assert isinstance(table.index, pd.RangeIndex) and table.index[0] == 0
    for column in ["file", "emotion", "speaker", "gender", "corpus"]:
        assert pd.api.types.is_string_dtype(table[column]), column
    if has_session:
        assert table["session"].dtype == np.int64
    for column in EXTRA_COLUMNS.get(corpus, []):
        expected = np.int64 if column == "intensity" else np.float64
        assert table[column].dtype == expected, column
    assert table["file"].is_monotonic_increasing
    assert all(Path(f).is_absolute() and Path(f).is_file() for f in table["file"])
    assert set(table["gender"]) == {"female", "male"}
    assert set(table["corpus"]) == {corpus}
    default = loader(root)
    assert set(default["emotion"]) == set(DEFAULT_EMOTIONS)
    chosen = loader(root, emotions=["sad", "angry"])
    assert set(chosen["emotion"]) == {"sad", "angry"}


@pytest.mark.parametrize("corpus", list(LOADERS))
def test_emotion_not_in_corpus(corpus, request):
    loader, fixture, _ = LOADERS[corpus]
    root = request.getfixturevalue(fixture)
    with pytest.raises(ValueError, match=r"\['joy'\] not in the .* corpus, whose"):
        loader(root, emotions=["angry", "joy"])
    with pytest.raises(ValueError, match="duplicates"):
        loader(root, emotions=["angry", "angry"])
    with pytest.raises(ValueError, match="emotions is empty"):
        loader(root, emotions=[])


@pytest.mark.parametrize("corpus", list(LOADERS))
def test_missing_and_empty_folder(corpus, tmp_path):
    loader = LOADERS[corpus][0]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        loader(tmp_path / "nowhere")
    touch(tmp_path / "other", "readme.txt", "a.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a.wav is reported too (EmoDB)
        with pytest.raises((ValueError, FileNotFoundError), match="expected") as info:
            loader(tmp_path / "other")
    assert str(tmp_path / "other") in str(info.value)


# What each loader looks for and misses in a folder of strangers, and a piece
# of the layout its message must show.
NOT_FOUND = {
    "emodb": ("EmoDB", "utterance found", "03a01Wa.wav"),
    "urdu": ("URDU", "emotion folder", "{Angry,Happy,Neutral,Sad}/*.wav"),
    "ravdess": ("RAVDESS", "Actor_XX folder", "Actor_XX/03-01-EE-II-SS-RR-AA.wav"),
    "iemocap": (
        "IEMOCAP",
        "SessionN/dialog/EmoEvaluation folder",
        "SessionN/dialog/EmoEvaluation/*.txt",
    ),
}


@pytest.mark.parametrize("corpus", list(NOT_FOUND))
def test_nothing_found_is_worded_alike(corpus, tmp_path):
    # One wording for every loader: the corpus, what is missing, the folder
    # that was read, and what it should hold.
    name, missing, layout = NOT_FOUND[corpus]
    folder = touch(tmp_path / "other", "readme.txt", "a.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a.wav is reported too (EmoDB)
        with pytest.raises(ValueError) as info:
            LOADERS[corpus][0](folder, emotions=None)
    message = str(info.value)
    head = f"No {name} {missing} in {str(folder)!r}: expected "
    assert message.startswith(head), message
    assert layout in message[len(head) :]
    assert message.endswith(".")


@pytest.mark.parametrize("corpus", list(LOADERS))
def test_path_is_a_file(corpus, request):
    # Issue #18: load_emodb("03a01Wa.wav") said the folder did not exist.
    loader, fixture, _ = LOADERS[corpus]
    root = request.getfixturevalue(fixture)
    file = next(p for p in sorted(root.rglob("*")) if p.is_file())
    with pytest.raises(NotADirectoryError) as info:
        loader(file)
    message = str(info.value)
    assert "is a file, not a folder" in message
    assert repr(str(file)) in message
    assert "does not exist" not in message


@pytest.mark.parametrize("corpus", list(LOADERS))
def test_parameter_validation(corpus, tmp_path):
    loader = LOADERS[corpus][0]
    with pytest.raises(InvalidParameterError, match="path"):
        loader(3)
    with pytest.raises(InvalidParameterError, match="strict"):
        loader(tmp_path, strict="yes")
    with pytest.raises(InvalidParameterError, match="emotions"):
        loader(tmp_path, emotions=3)


# -- EmoDB --------------------------------------------------------------------


def test_emodb_full_corpus(emodb_full):
    table = load_emodb(emodb_full, emotions=None)
    assert len(table) == 3 * 2 * 7
    assert set(table["emotion"]) == set(EMODB_LETTERS.values())
    for row in table.itertuples():
        name = Path(row.file).name
        assert row.emotion == EMODB_LETTERS[name[5]]
        assert row.speaker == name[:2]
        assert row.gender == ("female" if row.speaker in EMODB_FEMALE else "male")
    # the wav folder itself works too
    assert load_emodb(emodb_full / "wav", emotions=None).equals(table)
    four = load_emodb(emodb_full)
    assert len(four) == 3 * 2 * 4
    assert list(four["file"]) == sorted(four["file"])


def test_emodb_subset_without_other_emotions(tmp_path):
    # the four-class subset has no boredom/disgust/fear: fine, no warning
    root = touch(tmp_path, "wav/03a01Wa.wav", "wav/03a01Fa.wav", "wav/16b10Tc.wav")
    touch(root, "wav/08a01Nb.wav")
    assert len(load_emodb(root, emotions=None)) == 4
    # asking for an emotion the folder lacks warns (and none at all errors)
    with pytest.warns(UserWarning, match=r"emotion\(s\) \['fear'\]"):
        assert len(load_emodb(root, emotions=["angry", "fear"])) == 1
    with pytest.raises(
        ValueError, match=r"No EmoDB utterance with emotions \['fear'\]"
    ):
        load_emodb(root, emotions=["fear"])


def test_emodb_bad_names_reported(emodb_full):
    wav = emodb_full / "wav"
    touch(wav, "notes.wav", "99a01Wa.wav", "03a01Xa.wav", "readme.txt", ".03a01Wa.wav")
    with pytest.warns(UserWarning) as record:
        table = load_emodb(emodb_full, emotions=None)
    assert len(record) == 1
    message = str(record[0].message)
    assert "3 file(s)" in message
    for name in ["notes.wav", "99a01Wa.wav", "03a01Xa.wav"]:
        assert name in message
    assert "unknown EmoDB speaker '99'" in message
    assert "readme.txt" not in message and ".03a01Wa" not in message
    assert len(table) == 42
    with pytest.raises(ValueError, match="(?s)notes.wav.*strict=True"):
        load_emodb(emodb_full, strict=True)


def test_emodb_test_data():
    table = load_emodb(DATA)
    assert [Path(f).name for f in table["file"]] == [
        "03a02Ta.wav",
        "03a02Wc.wav",
        "09a04Fd.wav",
        "14a02Nc.wav",
    ]
    assert list(table["emotion"]) == ["sad", "angry", "happy", "neutral"]


@pytest.mark.corpora
def test_emodb_real_corpus(corpora_dir):
    table = load_emodb(corpora_dir / "emodb")
    assert len(table) == 339
    counts = table.groupby(["gender", "emotion"]).size()
    assert counts["female"][["angry", "happy", "sad", "neutral"]].tolist() == [
        67,
        44,
        37,
        40,
    ]
    assert counts["male"][["angry", "happy", "sad", "neutral"]].tolist() == [
        60,
        27,
        25,
        39,
    ]
    assert table["speaker"].nunique() == 10
    assert load_emodb(corpora_dir / "emodb" / "wav", emotions=None).equals(table)


# -- URDU ---------------------------------------------------------------------


def test_urdu(urdu_dir):
    table = load_urdu(urdu_dir)
    assert list(table["speaker"]) == ["SM1", "SM27", "SF2", "SM1", "SF2"]
    assert list(table["gender"]) == ["male", "male", "female", "male", "female"]
    assert list(table["emotion"]) == ["angry", "angry", "happy", "neutral", "sad"]


def test_urdu_bad_files_reported(urdu_dir):
    touch(urdu_dir, "Happy/SM1_F10_A010.wav", "Sad/clip.wav", "Other/SM1_F1_A001.wav")
    with pytest.warns(UserWarning, match="2 file") as record:
        table = load_urdu(urdu_dir)
    message = str(record[0].message)
    assert (
        "Happy/SM1_F10_A010.wav: emotion letter 'A' contradicts folder Happy" in message
    )
    assert "Sad/clip.wav" in message
    assert len(table) == 5
    with pytest.raises(ValueError, match="strict=True"):
        load_urdu(urdu_dir, strict=True)


def test_urdu_missing_folder_warns(tmp_path):
    root = touch(tmp_path, "Angry/SM1_F10_A010.wav", "Sad/SF2_F2_S002.wav")
    with pytest.warns(UserWarning, match=r"\['happy', 'neutral'\]"):
        load_urdu(root)
    with pytest.raises(ValueError, match=r"Angry,Happy,Neutral,Sad"):
        load_urdu(tmp_path / "Angry")


@pytest.mark.corpora
def test_urdu_real_corpus(corpora_dir):
    table = load_urdu(corpora_dir / "urdu")
    assert table["emotion"].value_counts().to_dict() == dict.fromkeys(
        ["angry", "happy", "neutral", "sad"], 100
    )
    assert table["gender"].value_counts().to_dict() == {"male": 344, "female": 56}
    assert table["speaker"].nunique() == 29


# -- RAVDESS ------------------------------------------------------------------


def test_ravdess(ravdess_dir):
    table = load_ravdess(ravdess_dir, emotions=None)
    assert len(table) == 3 * 15  # the song file is left out
    assert set(table["emotion"]) == {
        "neutral",
        "calm",
        "happy",
        "sad",
        "angry",
        "fear",
        "disgust",
        "surprise",
    }
    genders = dict(zip(table["speaker"], table["gender"], strict=True))
    assert genders == {"01": "male", "02": "female", "24": "female"}
    names = table["file"].map(lambda f: Path(f).name)
    assert (names.str[6:8].map({"05": "angry"}).dropna() == "angry").all()
    assert set(table.loc[names.str[6:8] == "05", "emotion"]) == {"angry"}


def test_ravdess_intensity(ravdess_dir):
    # the fourth field of the name: 01 normal, 02 strong
    table = load_ravdess(ravdess_dir, emotions=None)
    names = table["file"].map(lambda f: Path(f).name)
    assert table["intensity"].dtype == np.int64
    assert set(table["intensity"]) == {1, 2}
    assert (table["intensity"] == names.str[9:11].astype(int)).all()


def test_ravdess_bad_files_reported(ravdess_dir):
    touch(
        ravdess_dir,
        "Actor_01/03-01-09-01-01-01-01.wav",  # no emotion 09
        "Actor_01/03-01-05-01-01-01-02.wav",  # actor 02 in Actor_01
        "Actor_01/01-01-05-01-01-01-01.wav",  # audio-video modality
        "Actor_02/03-01-05-01-01.wav",
        "Actor_02/03-01-05-03-01-01-02.wav",  # intensity 03
    )
    with pytest.warns(UserWarning, match="5 file") as record:
        load_ravdess(ravdess_dir)
    message = str(record[0].message)
    for reason in [
        "unknown emotion code '09'",
        "actor 02 is not the folder's actor",
        "modality-channel 01-01 is not 03-01",
        "name is not like",
        "out of range",
    ]:
        assert reason in message
    with pytest.raises(ValueError, match="strict=True"):
        load_ravdess(ravdess_dir, strict=True)


# -- IEMOCAP ------------------------------------------------------------------


def test_iemocap_majority_labels(iemocap_dir):
    table = load_iemocap(iemocap_dir, emotions=None)
    # xxx and oth are dropped; exc is merged into happy
    assert len(table) == 12 - 2
    names = table["file"].map(lambda f: Path(f).stem)
    labels = dict(zip(names, table["emotion"], strict=True))
    assert labels["Ses01F_impro01_F000"] == "neutral"
    assert labels["Ses01F_impro01_M000"] == "happy"
    assert labels["Ses01F_script01_1_F000"] == "happy"
    assert labels["Ses01M_impro02_M000"] == "frustration"
    assert (
        "Ses01F_impro01_F001" not in labels and "Ses01F_script01_1_M001" not in labels
    )
    speakers = dict(zip(names, table["speaker"], strict=True))
    assert speakers["Ses01M_impro02_F000"] == "Ses01F"  # the utterance's speaker
    assert speakers["Ses02F_impro01_M000"] == "Ses02M"
    assert dict(zip(names, table["session"], strict=True))["Ses02F_impro01_M001"] == 2
    assert set(table["session"]) == {1, 2}
    for row in table.itertuples():
        assert row.gender == ("female" if row.speaker.endswith("F") else "male")
    # the parent folder of IEMOCAP_full_release works too
    assert load_iemocap(iemocap_dir.parent, emotions=None).equals(table)


def test_iemocap_dimensional_ratings(iemocap_dir):
    # The label line's last brackets are [V, A, D]: valence first.
    evaluation = iemocap_dir / "Session2" / "dialog" / "EmoEvaluation"
    with open(evaluation / "Ses02F_impro01.txt", "a") as f:
        for k, vad in enumerate(["[1.5000, 4.0000, 2.5000]", "[]", "[x, 2, 3]"]):
            utterance = f"Ses02F_impro01_F10{k}"
            f.write(_iemocap_header(90.0 + k, utterance, "ang", vad) + "\n")
            touch(
                iemocap_dir / "Session2" / "sentences" / "wav" / "Ses02F_impro01",
                f"{utterance}.wav",
            )
    table = load_iemocap(iemocap_dir, emotions=None)
    table.index = table["file"].map(lambda f: Path(f).stem)
    ratings = table[["valence", "arousal", "dominance"]]
    assert ratings.loc["Ses02F_impro01_F100"].tolist() == [1.5, 4.0, 2.5]
    assert ratings.loc["Ses01F_impro01_F000"].tolist() == [2.5, 3.0, 3.5]
    # empty or unreadable brackets: the utterance is kept, its ratings NaN
    assert (
        ratings.loc[["Ses02F_impro01_F101", "Ses02F_impro01_F102"]]
        .isna()
        .all(axis=None)
    )


def test_iemocap_default_four_classes(iemocap_dir):
    table = load_iemocap(iemocap_dir)
    assert table["emotion"].value_counts().to_dict() == {
        "neutral": 2,
        "happy": 2,
        "angry": 1,
        "sad": 1,
    }


def test_iemocap_excited(iemocap_dir):
    table = load_iemocap(iemocap_dir, emotions=["excited"], merge_excited=False)
    assert [Path(f).stem for f in table["file"]] == ["Ses01F_impro01_M000"]
    with pytest.raises(ValueError, match="'excited'"):
        load_iemocap(iemocap_dir, emotions=["excited"])


def test_a_missing_emotion_is_reported_in_the_corpus_name(ravdess_dir):
    # a corpus with further columns (RAVDESS's intensity, IEMOCAP's ratings)
    # once named its last column instead ("No intensity utterance ...")
    for fear in ravdess_dir.glob("Actor_*/03-01-06-*.wav"):
        fear.unlink()
    with pytest.warns(
        UserWarning, match=r"^No RAVDESS file with emotion\(s\) \['fear'\]"
    ):
        load_ravdess(ravdess_dir, emotions=["angry", "fear"])
    with pytest.raises(
        ValueError, match=r"^No RAVDESS utterance with emotions \['fear'\]"
    ):
        load_ravdess(ravdess_dir, emotions=["fear"])


def test_iemocap_problems_reported(iemocap_dir):
    evaluation = iemocap_dir / "Session1" / "dialog" / "EmoEvaluation"
    with open(evaluation / "Ses01F_impro01.txt", "a") as f:
        f.write(_iemocap_header(90.0, "Ses01F_impro01_F009", "neu") + "\n")  # no wav
        f.write(_iemocap_header(95.0, "Ses01F_impro01_F010", "joy") + "\n")
        f.write("[12.0 - oops]\tSes01F_impro01_F011\tneu\n")
    with pytest.warns(UserWarning, match=r"3 label line\(s\)") as record:
        table = load_iemocap(iemocap_dir, emotions=None)
    message = str(record[0].message)
    assert "Ses01F_impro01_F009: audio" in message and "not found" in message
    assert "unknown label 'joy'" in message
    assert "malformed label line" in message
    assert len(table) == 10
    with pytest.raises(ValueError, match="strict=True"):
        load_iemocap(iemocap_dir, strict=True)


# -- MSP-IMPROV ---------------------------------------------------------------


def test_msp_improv(msp_dir):
    table = load_msp_improv(msp_dir, emotions=None)
    names = [Path(f).stem for f in table["file"]]
    # O (other) and X (no agreement) are dropped
    assert len(table) == 5
    assert "MSP-IMPROV-S05A-M06-R-MF01" not in names
    labels = dict(zip(names, table["emotion"], strict=True))
    assert labels == {
        "MSP-IMPROV-S01A-F01-S-FM01": "angry",
        "MSP-IMPROV-S01A-M01-R-MF01": "angry",
        "MSP-IMPROV-S02H-F01-P-FM03": "happy",
        "MSP-IMPROV-S03S-M03-T-MF02": "sad",
        "MSP-IMPROV-S04N-F06-S-FM01": "neutral",
    }
    # sorted by path: Audio/session1/S01A/R/... comes before .../S01A/S/...
    assert list(table["speaker"]) == ["M01", "F01", "F01", "M03", "F06"]
    assert list(table["session"]) == [1, 1, 1, 3, 6]
    assert list(table["gender"]) == ["male", "female", "female", "male", "female"]


def test_msp_improv_dimensional_ratings(msp_dir):
    # A: arousal, V: valence, D: dominance of the utterance line (the fixture
    # writes 2 + k / 10, 3 + k / 10, 4 + k / 10 for the k-th utterance), not
    # those of the evaluator lines below it
    table = load_msp_improv(msp_dir, emotions=None)
    names = [Path(f).stem.removeprefix("MSP-IMPROV-") for f in table["file"]]
    order = [name for name, _ in MSP_LABELS]
    k = np.array([order.index(name) for name in names])
    np.testing.assert_allclose(table["arousal"], 2 + k / 10)
    np.testing.assert_allclose(table["valence"], 3 + k / 10)
    np.testing.assert_allclose(table["dominance"], 4 + k / 10)


@pytest.mark.parametrize("corpus", ["iemocap", "msp_improv"])
def test_ratings_are_dimensions_to_learn(corpus, request):
    # The loaders' ratings go straight into fit(..., dimensions=...).
    from sklearn_prognet import DNNClassifier  # imports torch: only here

    loader, fixture, _ = LOADERS[corpus]
    table = loader(request.getfixturevalue(fixture), emotions=None)
    X = np.random.RandomState(0).normal(size=(len(table), 3))
    clf = DNNClassifier(
        hidden_layer_sizes=(4,),
        max_epochs=2,
        early_stopping=False,
        dimensional_weight=1.0,
        random_state=0,
    ).fit(X, table["emotion"], dimensions=table[list(DIMENSIONS)])
    assert tuple(clf.dimension_names_) == DIMENSIONS
    assert clf.predict_dimensions(X).shape == (len(table), 3)


def test_msp_improv_missing_rating_is_nan(msp_dir):
    text = (msp_dir / "Evaluation.txt").read_text()
    text = text.replace("D:4.000000 ;", "", 1)  # the first utterance's D
    (msp_dir / "Evaluation.txt").write_text(text)
    table = load_msp_improv(msp_dir, emotions=None)
    first = table["file"].str.endswith("MSP-IMPROV-S01A-F01-S-FM01.wav")
    assert np.isnan(table.loc[first, "dominance"]).all()
    assert table.loc[first, "arousal"].tolist() == [2.0]
    assert table.loc[~first, "dominance"].notna().all()


def test_msp_improv_problems_reported(msp_dir):
    with open(msp_dir / "Evaluation.txt", "a") as f:
        f.write("\nUTD-IMPROV-S07N-F04-R-FM01.avi; N; A:3.0; V:3.0; D:3.0 ; N:3.0;\n")
    touch(
        msp_dir / "Audio" / "session5" / "S08H" / "R",
        "MSP-IMPROV-S08H-M05-R-MF01.wav",  # no label
        "MSP-IMPROV-S08H.wav",  # bad name
    )
    with pytest.warns(UserWarning, match="3 file") as record:
        table = load_msp_improv(msp_dir)
    message = str(record[0].message)
    assert "MSP-IMPROV-S07N-F04-R-FM01: labelled in Evaluation.txt" in message
    assert "MSP-IMPROV-S08H-M05-R-MF01.wav: no label" in message
    assert "MSP-IMPROV-S08H.wav: name is not like" in message
    assert len(table) == 5
    with pytest.raises(ValueError, match="strict=True"):
        load_msp_improv(msp_dir, strict=True)


def test_msp_improv_bad_label_reported_once(msp_dir):
    # One bad label line is one problem, not one more for its audio file.
    with open(msp_dir / "Evaluation.txt", "a") as f:
        f.write("\nUTD-IMPROV-S01A-F01-S-FM01.avi; N; A:3.0; V:3.0; D:3.0 ; N:3.0;")
        f.write("\nUTD-IMPROV-S02H-F01-P-FM03.avi; Z; A:3.0; V:3.0; D:3.0 ; N:3.0;\n")
    with pytest.warns(UserWarning, match=r"^2 file\(s\) or label\(s\)") as record:
        table = load_msp_improv(msp_dir, emotions=None)
    message = str(record[0].message)
    assert "MSP-IMPROV-S01A-F01-S-FM01: two different labels" in message
    assert "unknown label 'Z'" in message
    assert "no label" not in message
    assert len(table) == 3


def test_msp_improv_label_file(msp_dir, tmp_path):
    # The release's own spelling, one level below the given folder
    (msp_dir / "Evaluation.txt").rename(msp_dir / "Audio" / "Evalution.txt")
    assert len(load_msp_improv(msp_dir)) == 5
    (msp_dir / "Audio" / "Evalution.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"Evalution.txt \(or Evaluation"):
        load_msp_improv(msp_dir)


# -- embedded EmoDB features --------------------------------------------------


def test_embedded_features():
    emodb = load_emodb_features()
    assert emodb.data.shape == (339, 88)
    assert emodb.data.dtype == np.float64 and np.isfinite(emodb.data).all()
    assert list(emodb.target_names) == list(DEFAULT_EMOTIONS)
    counts = pd.Series(emodb.target).value_counts().to_dict()
    assert counts == {"angry": 127, "neutral": 79, "happy": 71, "sad": 62}
    assert sorted(set(emodb.speaker)) == sorted(
        ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]
    )
    for speaker, gender in zip(emodb.speaker, emodb.gender, strict=True):
        assert gender == ("female" if speaker in EMODB_FEMALE else "male")
    assert list(emodb.file) == sorted(emodb.file) and len(set(emodb.file)) == 339
    assert len(emodb.feature_names) == 88
    assert emodb.feature_names[0] == "F0semitoneFrom27.5Hz_sma3nz_amean"
    assert "CC0" in emodb.DESCR and "Burkhardt" in emodb.DESCR
    assert "frame" not in emodb


def test_embedded_feature_names_match_transformer():
    pytest.importorskip("opensmile")
    from sklearn_prognet import EGeMAPSTransformer

    names = list(EGeMAPSTransformer().get_feature_names_out())
    assert load_emodb_features().feature_names == names


def test_embedded_as_frame_and_return_X_y():
    emodb = load_emodb_features(as_frame=True)
    assert isinstance(emodb.data, pd.DataFrame)
    assert list(emodb.data.columns) == emodb.feature_names
    assert emodb.target.name == "emotion"
    assert list(emodb.frame.columns) == [
        *emodb.feature_names,
        "emotion",
        "speaker",
        "gender",
        "file",
    ]
    assert isinstance(emodb.frame.index, pd.RangeIndex)
    X, y = load_emodb_features(return_X_y=True)
    np.testing.assert_array_equal(X, emodb.data.to_numpy())
    np.testing.assert_array_equal(y, emodb.target.to_numpy())
    X, y = load_emodb_features(as_frame=True, return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)


def test_embedded_emotions():
    X, y = load_emodb_features(emotions=["sad", "angry"], return_X_y=True)
    assert X.shape == (189, 88) and set(y) == {"sad", "angry"}
    assert load_emodb_features(emotions=None).data.shape == (339, 88)
    assert list(load_emodb_features(emotions="sad").target_names) == ["sad"]
    for bad in (["boredom"], ["sad", "sad"], []):
        with pytest.raises(ValueError, match="embedded EmoDB table"):
            load_emodb_features(emotions=bad)
    with pytest.raises(InvalidParameterError, match="as_frame"):
        load_emodb_features(as_frame="yes")


def test_embedded_returns_copies():
    first = load_emodb_features()
    first.data[:] = 0
    first.target[:] = "x"
    frame = load_emodb_features(as_frame=True)
    frame.data.iloc[:, :] = 0
    frame.frame["emotion"] = "x"
    again = load_emodb_features()
    assert np.abs(again.data).sum() > 0 and "x" not in set(again.target)


def test_embedded_file_is_small_and_reproducible(tmp_path):
    shipped = Path(_embedded.__file__).parent / "data" / _embedded.DATA_FILE
    assert shipped.stat().st_size < 1_000_000
    table = pd.read_csv(shipped, dtype=dict.fromkeys(_embedded.META_COLUMNS, str))
    _embedded.write_table(table, tmp_path / "again.csv.gz")
    # same bytes: no timestamp in the gzip header, same float format
    assert (tmp_path / "again.csv.gz").read_bytes() == shipped.read_bytes()
    with gzip.open(shipped, "rt") as f:
        header = f.readline().rstrip("\n").split(",")
    assert header[:4] == _embedded.META_COLUMNS


def test_embedded_matches_extraction_of_test_files():
    pytest.importorskip("opensmile")
    from sklearn_prognet import EGeMAPSTransformer

    emodb = load_emodb_features(as_frame=True)
    table = load_emodb(DATA)
    rows = emodb.frame.set_index("file").loc[[Path(f).name for f in table["file"]]]
    assert list(rows["emotion"]) == list(table["emotion"])
    assert list(rows["speaker"]) == list(table["speaker"])
    extracted = EGeMAPSTransformer().fit_transform(table["file"])
    np.testing.assert_allclose(
        rows[emodb.feature_names].to_numpy(), extracted, rtol=1e-6, atol=1e-12
    )


def test_embedded_dvectors_align_with_egemaps():
    egemaps = load_emodb_features(as_frame=True)
    dvector = load_emodb_features(features="dvector", as_frame=True)
    fused = load_emodb_features(features="egemaps+dvector", as_frame=True)
    assert dvector.data.shape == (339, 256)
    assert dvector.feature_names == [f"dvector_{j}" for j in range(256)]
    # the same recordings, in the same rows, with the same labels
    for column in ("file", "emotion", "speaker", "gender"):
        assert list(dvector.frame[column]) == list(egemaps.frame[column])
    with gzip.open(
        Path(_embedded.__file__).parent / "data" / _embedded.DVECTOR_FILE
    ) as f:
        shipped = pd.read_csv(f)
    assert list(shipped["file"]) == list(egemaps.file)
    # fused: eGeMAPS then d-vectors, side by side
    assert fused.feature_names == egemaps.feature_names + dvector.feature_names
    np.testing.assert_array_equal(
        fused.data.to_numpy(),
        np.hstack([egemaps.data.to_numpy(), dvector.data.to_numpy()]),
    )
    # d-vectors: in [0, 1] and of unit norm, up to the 6 stored decimals
    X = dvector.data.to_numpy()
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-4)
    X, y = load_emodb_features(features="dvector", emotions=["sad"], return_X_y=True)
    assert X.shape == (62, 256) and set(y) == {"sad"}
    with pytest.raises(InvalidParameterError, match="features"):
        load_emodb_features(features="mfcc")


def test_embedded_dvector_file_is_small_and_reproducible(tmp_path):
    shipped = Path(_embedded.__file__).parent / "data" / _embedded.DVECTOR_FILE
    assert shipped.stat().st_size < 600_000
    table = pd.read_csv(shipped)
    _embedded.write_dvector_table(table, tmp_path / "again.csv.gz")
    assert (tmp_path / "again.csv.gz").read_bytes() == shipped.read_bytes()


@pytest.fixture(scope="module")
def emodb_cache(tmp_path_factory):
    # Shared with tests/test_features.py through the session's base temp dir.
    return str(tmp_path_factory.getbasetemp() / "emodb_egemaps_cache")


@pytest.mark.corpora
@pytest.mark.slow
def test_embedded_matches_rebuild(corpora_dir, emodb_cache, tmp_path):
    pytest.importorskip("opensmile")
    rebuilt = _embedded.build_emodb_table(
        corpora_dir / "emodb", n_jobs=2, memory=emodb_cache
    )
    # through the same CSV writer, then compared at the stored precision
    _embedded.write_table(rebuilt, tmp_path / "rebuilt.csv.gz")
    buffer = io.BytesIO((tmp_path / "rebuilt.csv.gz").read_bytes())
    rebuilt = pd.read_csv(
        buffer, compression="gzip", dtype=dict.fromkeys(_embedded.META_COLUMNS, str)
    )
    shipped = load_emodb_features(as_frame=True).frame
    meta = _embedded.META_COLUMNS
    pd.testing.assert_frame_equal(rebuilt[meta], shipped[meta][meta], check_dtype=False)
    names = [c for c in rebuilt.columns if c not in meta]
    assert names == list(shipped.columns[:88])
    np.testing.assert_allclose(
        rebuilt[names].to_numpy(), shipped[names].to_numpy(), rtol=1e-6, atol=1e-12
    )


# -- nEMO ---------------------------------------------------------------------


def test_nemo(nemo_dir):
    table = load_nemo(nemo_dir, emotions=None)
    names = [Path(f).name for f in table["file"]]
    assert names == sorted(row[0] for row in NEMO_ROWS[:-1])
    by_name = dict(zip(names, table.itertuples(), strict=True))
    assert by_name["EB0_happiness_76.wav"].emotion == "happy"
    assert by_name["KS0_surprised_10.wav"].emotion == "surprise"
    # the padded speaker ids of data.tsv are stripped
    assert set(table["speaker"]) == {"EB0", "KS0"}
    assert by_name["EB0_fear_35.wav"].gender == "female"
    assert by_name["KS0_neutral_22.wav"].gender == "male"
    assert set(load_nemo(nemo_dir)["emotion"]) == set(DEFAULT_EMOTIONS)


def test_nemo_bad_files_and_rows_reported(nemo_dir):
    rows = [
        *NEMO_ROWS,
        ("KS0_anger_9.wav", "anger", "        EB0", "male"),  # wrong speaker
        ("EB0_joy_1.wav", "joy", "        EB0", "female"),  # unknown emotion
    ]
    write_nemo_tsv(nemo_dir, rows)
    touch(nemo_dir / "samples", "KS0_anger_9.wav", "EB0_joy_1.wav", "extra.wav")
    with pytest.warns(UserWarning, match="3 file") as record:
        table = load_nemo(nemo_dir, emotions=None)
    message = str(record[0].message)
    assert "samples/extra.wav: no row in data.tsv" in message
    assert "its name says KS0 anger, data.tsv says EB0 anger" in message
    assert "data.tsv:10: emotion 'joy'" in message
    assert len(table) == 6
    with pytest.raises(ValueError, match="strict=True"):
        load_nemo(nemo_dir, strict=True)


def test_nemo_layout_errors(nemo_dir):
    (nemo_dir / "data.tsv").write_text("file_id\temotion\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no column\(s\) \['speaker_id', 'gender'\]"):
        load_nemo(nemo_dir)
    (nemo_dir / "data.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="data.tsv not found"):
        load_nemo(nemo_dir)
    write_nemo_tsv(nemo_dir, NEMO_ROWS)
    for file in (nemo_dir / "samples").iterdir():
        file.unlink()
    (nemo_dir / "samples").rmdir()
    with pytest.raises(ValueError, match="No nEMO samples/ folder"):
        load_nemo(nemo_dir)


@pytest.mark.corpora
def test_nemo_real_corpus(corpora_dir):
    # 18 of the 4481 recordings: 3 speakers x 6 emotions; data.tsv lists all
    table = load_nemo(corpora_dir / "nemo", emotions=None, strict=True)
    assert len(table) == 18
    assert table["emotion"].value_counts().to_dict() == dict.fromkeys(
        ["angry", "fear", "happy", "neutral", "sad", "surprise"], 3
    )
    assert sorted(table["speaker"].unique()) == ["EB0", "KS0", "WR0"]
    genders = table.groupby("speaker")["gender"].first().to_dict()
    assert genders == {"EB0": "female", "KS0": "male", "WR0": "male"}
    for file, speaker in zip(table["file"], table["speaker"], strict=True):
        assert Path(file).name.startswith(speaker + "_")
    assert len(load_nemo(corpora_dir / "nemo")) == 12
