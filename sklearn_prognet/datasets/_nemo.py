# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loader of nEMO (emotional speech in Polish) with its ``data.tsv`` labels."""

import csv
import re

from sklearn_prognet.datasets import _base
from sklearn_prognet.utils._compat import validate_params

__all__ = ["load_nemo"]

_CORPUS = _base.Corpus(
    id="nemo",
    name="nEMO",
    rule="data.tsv rows for samples/EB0_anger_57.wav",
    what="file(s) or row(s)",
)
_EMOTIONS = {
    "anger": "angry",
    "fear": "fear",
    "happiness": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprised": "surprise",
}
_GENDERS = ("female", "male")
_COLUMNS = ("file_id", "emotion", "speaker_id", "gender")
# samples/{speaker}_{emotion}_{sentence}.wav, e.g. EB0_anger_57.wav
_FILE_NAME = re.compile(r"^([A-Z]+\d+)_([a-z]+)_(\d+)$")


def _read_labels(tsv):
    """The rows of data.tsv by file name, and the problems met.

    A row with an unknown emotion or gender maps to None: it is reported
    here, so its audio is skipped without being reported a second time.
    """
    with open(tsv, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(
                f"{str(tsv)!r} has no column(s) {missing}; nEMO's data.tsv has "
                f"the columns {list(_COLUMNS)} among others."
            )
        labels, problems = {}, []
        for line_no, row in enumerate(reader, start=2):
            name = (row["file_id"] or "").strip()
            # The published file pads the speaker ids with spaces.
            speaker = (row["speaker_id"] or "").strip()
            emotion, gender = row["emotion"], (row["gender"] or "").strip()
            if emotion not in _EMOTIONS or gender not in _GENDERS:
                problems.append(
                    (f"data.tsv:{line_no}", f"emotion {emotion!r}, gender {gender!r}")
                )
                labels[name] = None
                continue
            labels[name] = {"emotion": emotion, "speaker": speaker, "gender": gender}
    return labels, problems


def _why_not(file, label):
    """Why a wav file cannot be used with its data.tsv row, or None."""
    if label is None:
        return None  # a bad row, already reported
    match = _FILE_NAME.match(file.stem)
    if match is None:
        return "name is not like EB0_anger_57.wav"
    speaker, emotion, _ = match.groups()
    if (speaker, emotion) != (label["speaker"], label["emotion"]):
        return (
            f"its name says {speaker} {emotion}, data.tsv says "
            f"{label['speaker']} {label['emotion']}"
        )
    return None


@validate_params(_base.COMMON_PARAMS, prefer_skip_nested_validation=True)
@_base.fill_loader_doc(_CORPUS, label_file="``data.tsv``")
def load_nemo(path, *, emotions=_base.DEFAULT_EMOTIONS, strict=False):
    r"""Load the utterance table of nEMO, emotional speech in Polish.

    Lists the recordings of nEMO (Christop, 2024) in ``samples/`` with the
    emotion, speaker and gender that the corpus's ``data.tsv`` gives them.

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The nEMO folder, holding ``data.tsv`` and ``samples/`` as published.
        The recordings are named ``samples/{speaker}_{emotion}_{sentence}.wav``
        (e.g. ``EB0_anger_57.wav``); ``data.tsv`` is tab-separated, with the
        columns ``file_id``, ``emotion``, ``speaker_id`` and ``gender``
        among others.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'angry'``, ``'fear'``, ``'happy'``, ``'neutral'``, ``'sad'``
        and ``'surprise'``. None keeps all.

    strict : bool, default=False
        If True, a ``.wav`` file without a row in ``data.tsv``, whose name
        does not follow the naming rule or contradicts its row, or a row
        with an unknown emotion or gender raises a :class:`ValueError`;
        otherwise these are skipped with one :class:`UserWarning` that lists
        them.

    {returns}

    {raises}
    ValueError
        If ``path`` has no ``samples/`` folder or no usable recording,
        ``data.tsv`` lacks a column, or an emotion is not a nEMO emotion.

    See Also
    --------
    load_emodb : The same table for EmoDB.

    Notes
    -----
    The emotions of ``data.tsv`` (anger, fear, happiness, neutral, sadness,
    surprised) are renamed to the package's (``'angry'``, ``'fear'``,
    ``'happy'``, ``'neutral'``, ``'sad'``, ``'surprise'``). ``data.tsv``
    pads the speaker ids with spaces; they are stripped, so that the speaker
    is also the first part of the file name (``'EB0'``). Rows of
    ``data.tsv`` whose recording is not in ``samples/`` are not an error: a
    folder may hold part of the corpus. The corpus's licence (CC BY-NC-SA
    4.0) forbids commercial use; the package ships nothing from it.

    References
    ----------
    .. [1] I. Christop, "nEMO: Dataset of Emotional Speech in Polish", Proc.
       LREC-COLING, 2024.

    Examples
    --------
    A miniature copy of the layout: ``data.tsv`` and two empty recordings:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_nemo
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = Path(tmp.name)
    >>> header = "file_id\temotion\tspeaker_id\tgender"
    >>> rows = ["EB0_anger_57.wav\tanger\t        EB0\tfemale",
    ...         "KS0_sadness_44.wav\tsadness\t        KS0\tmale"]
    >>> _ = (root / "data.tsv").write_text("\n".join([header, *rows]) + "\n")
    >>> (root / "samples").mkdir()
    >>> for name in ["EB0_anger_57.wav", "KS0_sadness_44.wav"]:
    ...     (root / "samples" / name).touch()
    >>> load_nemo(root, emotions=["angry", "sad"]).drop(columns="file")
      emotion speaker  gender corpus
    0   angry     EB0  female   nemo
    1     sad     KS0    male   nemo
    >>> tmp.cleanup()
    """
    emotions = _base.check_emotions(emotions, list(_EMOTIONS.values()), _CORPUS.name)
    root = _base.check_dir(path, _CORPUS.name)
    expected = f"{str(root)!r}/data.tsv and {str(root)!r}/samples/EB0_anger_57.wav"
    tsv = root / "data.tsv"
    if not tsv.is_file():
        raise FileNotFoundError(
            f"nEMO label file data.tsv not found in {str(root)!r}: expected {expected}."
        )
    if not (root / "samples").is_dir():
        raise _base.layout_error(_CORPUS.name, "samples/ folder", root, expected)
    labels, problems = _read_labels(tsv)
    records = []
    for file in _base.visible_files(root / "samples"):
        if file.name not in labels:
            problems.append((f"samples/{file.name}", "no row in data.tsv"))
            continue
        label = labels[file.name]
        reason = _why_not(file, label)
        if reason is not None:
            problems.append((f"samples/{file.name}", reason))
        if label is None or reason is not None:
            continue
        emotion = _EMOTIONS[label["emotion"]]
        records.append(_base.record(file, emotion, label["speaker"], label["gender"]))
    return _base.finish_table(
        records, problems, _CORPUS, root, expected, emotions=emotions, strict=strict
    )
