# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loader of the speech part of RAVDESS."""

import re

from sklearn_prognet.datasets import _base
from sklearn_prognet.utils._compat import validate_params

__all__ = ["load_ravdess"]

_CORPUS = _base.Corpus(
    id="ravdess",
    name="RAVDESS",
    rule="Actor_XX/03-01-EE-II-SS-RR-AA.wav",
    columns=(("intensity", "int64"),),
)
_FILE_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_ACTOR_FOLDER = re.compile(r"^Actor_\d\d$")
_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}


def _why_not_speech(fields, folder):
    """Why a well-formed name is not a speech file of this actor, or None."""
    modality, channel, code, intensity, statement, repetition, actor = fields
    if modality != "03" or channel != "01":
        return f"modality-channel {modality}-{channel} is not 03-01"
    if code not in _EMOTIONS:
        return f"unknown emotion code {code!r}"
    if f"Actor_{actor}" != folder.name:
        return f"actor {actor} is not the folder's actor"
    # Each of these is 01 or 02 in the corpus: anything else is another file.
    if not (
        intensity in ("01", "02")
        and statement in ("01", "02")
        and repetition in ("01", "02")
        and 1 <= int(actor) <= 24
    ):
        return "intensity, statement, repetition or actor out of range"
    return None


@validate_params(_base.COMMON_PARAMS, prefer_skip_nested_validation=True)
@_base.fill_loader_doc(
    _CORPUS,
    extra="""\
- ``intensity`` (int64): the emotional intensity the actor was
          asked for, 1 (normal) or 2 (strong), an ordinal level
          (new in 0.1);
        """,
)
def load_ravdess(path, *, emotions=_base.DEFAULT_EMOTIONS, strict=False):
    """Load the utterance table of the RAVDESS speech recordings.

    Lists the audio-only speech files of the Ryerson Audio-Visual Database
    of Emotional Speech and Song (Livingstone & Russo, 2018), with emotion,
    actor and gender decoded from their file names.

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The folder holding ``Actor_01/`` ... ``Actor_24/`` (e.g. the unpacked
        ``Audio_Speech_Actors_01-24``). Files are named
        ``03-01-EE-II-SS-RR-AA.wav``: modality (03 audio-only), vocal channel
        (01 speech), emotion (01 neutral, 02 calm, 03 happy, 04 sad,
        05 angry, 06 fearful, 07 disgust, 08 surprised), intensity,
        statement, repetition and actor.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'neutral'``, ``'calm'``, ``'happy'``,
        ``'sad'``, ``'angry'``, ``'fear'``, ``'disgust'`` and ``'surprise'``.
        None keeps all.

    strict : bool, default=False
        If True, a ``.wav`` file whose name does not follow the naming rule or
        names another actor than its folder raises a :class:`ValueError`;
        otherwise such files are skipped with one :class:`UserWarning` that
        lists them.

    {returns}

    {raises}
    ValueError
        If ``path`` holds no ``Actor_XX`` folder or no usable file, or an
        emotion is not a RAVDESS emotion.

    See Also
    --------
    load_emodb : The same table for EmoDB.

    Notes
    -----
    The speaker id is the actor number (``'01'`` ... ``'24'``); odd-numbered
    actors are male, even-numbered female. Song files (vocal channel 02) are
    not speech and are left out.

    ``intensity`` is the fourth field of the name: 1 normal, 2 strong
    (neutral has normal intensity only). It is an ordinal level, usable as a
    dimensional target of multi-task learning (:ref:`multitask`).

    References
    ----------
    .. [1] S. R. Livingstone, F. A. Russo, "The Ryerson Audio-Visual Database
       of Emotional Speech and Song (RAVDESS)", PLoS ONE 13(5), 2018.

    Examples
    --------
    The loader only lists files: empty ones in two actor folders show how it
    works:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_ravdess
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["Actor_01/03-01-05-02-01-01-01.wav",
    ...              "Actor_01/03-01-03-01-02-01-01.wav",
    ...              "Actor_02/03-01-04-01-01-02-02.wav",
    ...              "Actor_02/03-01-01-01-01-01-02.wav",
    ...              "Actor_02/03-01-02-01-01-01-02.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir(exist_ok=True)
    ...     (Path(tmp.name) / name).touch()
    >>> load_ravdess(tmp.name).drop(columns="file")
       emotion speaker  gender  intensity   corpus
    0    happy      01    male          1  ravdess
    1    angry      01    male          2  ravdess
    2  neutral      02  female          1  ravdess
    3      sad      02  female          1  ravdess
    >>> tmp.cleanup()
    """
    emotions = _base.check_emotions(emotions, list(_EMOTIONS.values()), _CORPUS.name)
    root = _base.check_dir(path, _CORPUS.name)
    expected = f"the RAVDESS layout {str(root)!r}/Actor_XX/03-01-EE-II-SS-RR-AA.wav"
    actors = sorted(
        p for p in root.iterdir() if p.is_dir() and _ACTOR_FOLDER.match(p.name)
    )
    if not actors:
        raise _base.layout_error(_CORPUS.name, "Actor_XX folder", root, expected)
    records, problems = [], []
    for actor_dir in actors:
        for file in _base.visible_files(actor_dir):
            name = f"{actor_dir.name}/{file.name}"
            match = _FILE_NAME.match(file.stem)
            if match is None:
                problems.append((name, "name is not like 03-01-05-01-02-01-12.wav"))
                continue
            fields = match.groups()
            if fields[1] == "02":
                continue  # song, not speech: documented, so not a problem
            reason = _why_not_speech(fields, actor_dir)
            if reason is not None:
                problems.append((name, reason))
                continue
            actor = fields[-1]
            # RAVDESS's documented rule: odd actors male, even female.
            gender = "male" if int(actor) % 2 else "female"
            emotion, intensity = _EMOTIONS[fields[2]], int(fields[3])
            records.append(
                _base.record(file, emotion, actor, gender, intensity=intensity)
            )
    return _base.finish_table(
        records, problems, _CORPUS, root, expected, emotions=emotions, strict=strict
    )
